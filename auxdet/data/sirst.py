"""SIRST-V2 (NUDT/NUAA "SIRST" v2): 514 real infrared images with VOC boxes and masks.

Layout (``data_root``)::

    images/<id>.png   masks/<id>.png   annotations/<id>.xml   splits/{train,val,test}.txt

Its XML carries no ``<view>``/``<band_type>``: every image is ground-based long-wave infrared, so
the metadata is ``platform='Land'``, ``band='LWIR'`` and the image's own size (read from the PNG).
The images come in mixed PNG modes (RGB, L, RGBA, P); use ``LoadIRImageFromFile`` to load them
all as ``H×W×3 uint8``. Its XML boxes follow the convention of :mod:`auxdet.data.voc_io` (they equal
the masks' 8-connected component boxes for 513 of 514 images).

Besides the mmdet dataset: :func:`sirst_v2_ids` / :func:`sirst_v2_samples` (gray images + masks for
the contrast analysis of :mod:`auxdet.analysis.contrast`) and :func:`land_lwir_images` (a few
real Land/LWIR images for the notebooks, synthetic ones when SIRST-V2 is absent).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from mmdet.registry import DATASETS

from auxdet import paths
from auxdet.data.datasets import VOCMetaDataset
from auxdet.data.loading import load_gray, load_ir_image, load_mask
from auxdet.data.voc_io import read_split
from auxdet.metadata import ImageMeta, Vocabulary

__all__ = ["SIRSTV2Dataset", "SIRST_V2_SPLITS", "land_lwir_images", "sirst_v2_ids", "sirst_v2_samples"]

SIRST_V2_SPLITS: tuple[str, ...] = ("train", "val", "test")


@DATASETS.register_module()
class SIRSTV2Dataset(VOCMetaDataset):
    """SIRST-V2 with AuxDet metadata (``Land`` / ``LWIR`` / the image's size).

    Args:
        data_root: the ``sirst-v2`` folder.
        split: ``'train'`` | ``'val'`` | ``'test'`` (``splits/<split>.txt``).
        platform, band: metadata of every image (defaults ``'Land'``, ``'LWIR'``); an XML that has
            ``<view>``/``<band_type>`` keeps its own values.
        vocabulary: vocabulary config; the platform/band must be in it.
        **kwargs: ``VOCMetaDataset`` / mmdet dataset arguments (pipeline, test_mode, …).
    """

    def __init__(
        self,
        data_root: str = "",
        split: str = "train",
        platform: str = "Land",
        band: str = "LWIR",
        vocabulary: Mapping[str, Any] | Vocabulary | None = None,
        **kwargs: Any,
    ) -> None:
        if split not in SIRST_V2_SPLITS:
            raise ValueError(f"SIRST-V2 split must be one of {list(SIRST_V2_SPLITS)}, got {split!r}")
        vocab = Vocabulary.from_config(vocabulary)
        meta_defaults = {
            "platform": vocab.canonical("platform", platform),
            "band": vocab.canonical("band", band),
        }
        self.split = split
        kwargs.setdefault("ann_file", f"splits/{split}.txt")
        kwargs.setdefault("data_prefix", dict(img="images"))
        kwargs.setdefault("ann_subdir", "annotations")
        super().__init__(
            data_root=data_root,
            vocabulary=vocab,
            meta_defaults=meta_defaults,
            size_from_image=True,
            **kwargs,
        )


def sirst_v2_ids(root: str | Path | None = None, split: str | None = None) -> list[str]:
    """Image ids of SIRST-V2 (all images, or one split 'train'/'val'/'test'); root default :func:`auxdet.paths.sirst_v2_dir`."""
    root = Path(root) if root is not None else paths.sirst_v2_dir()
    if split is None:
        ids = sorted(p.stem for p in (root / "images").glob("*.png"))
    else:
        f = root / "splits" / f"{split}.txt"
        if not f.is_file():
            valid = sorted(p.stem for p in (root / "splits").glob("*.txt"))
            raise ValueError(f"unknown SIRST-V2 split {split!r} ('{f}' missing); valid: {valid}")
        ids = read_split(f)
    if not ids:
        raise FileNotFoundError(f"no SIRST-V2 images found under '{root}'")
    return ids


def sirst_v2_samples(
    root: str | Path | None = None, ids: list[str] | None = None, limit: int | None = None, seed: int = 0
) -> Iterator[dict[str, Any]]:
    """Yield SIRST-V2 samples (Land / LWIR) for :func:`auxdet.analysis.contrast_table`: image (gray [0,1]),
    mask, metadata. ``limit`` draws a reproducible random subset of ``ids`` (SMOKE runs)."""
    root = Path(root) if root is not None else paths.sirst_v2_dir()
    ids = list(ids) if ids is not None else sirst_v2_ids(root)
    if limit is not None and limit < len(ids):
        ids = sorted(random.Random(seed).sample(ids, limit))
    for image_id in ids:
        image = load_gray(root / "images" / f"{image_id}.png")
        mask = load_mask(root / "masks" / f"{image_id}.png")
        if mask.shape != image.shape:
            raise ValueError(f"SIRST-V2 '{image_id}': mask {mask.shape} and image {image.shape} differ in size")
        yield dict(image_id=image_id, platform="Land", band="LWIR", width=image.shape[1], height=image.shape[0],
                   source="real (SIRST-V2)", image=image, mask=mask)  # fmt: skip


def land_lwir_images(
    n: int, size: int, root: str | Path | None = None, seeds: tuple[int, ...] | None = None
) -> tuple[list[np.ndarray], str]:
    """``n`` Land/LWIR images (``H×W×3 uint8``) and a label saying where they come from.

    The first ``n`` SIRST-V2 images (sorted by name) when the folder has them (``root`` default
    :func:`auxdet.paths.sirst_v2_dir`), each at its own size; otherwise synthetic ``size × size`` images
    rendered with ``np.random.default_rng(seed)`` for each of ``seeds`` (default ``0 … n-1``).
    """
    from auxdet.data.synthetic import render_image

    folder = (Path(root) if root is not None else paths.sirst_v2_dir()) / "images"
    real = sorted(folder.glob("*.png"))[:n] if folder.is_dir() else []
    if len(real) == n:
        return [load_ir_image(p) for p in real], f"SIRST-V2 {', '.join(p.name for p in real)} (Land/LWIR)"
    seeds = tuple(range(n)) if seeds is None else tuple(seeds)
    if len(seeds) != n:
        raise ValueError(f"land_lwir_images: {len(seeds)} seeds for {n} images")
    meta = ImageMeta("Land", "LWIR", size, size)
    images = [np.repeat(render_image(meta, np.random.default_rng(s))[0][..., None], 3, -1) for s in seeds]
    return images, "synthetic Land/LWIR"
