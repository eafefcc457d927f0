"""WideIRSTD-Full in its native layout, and its conversion to the VOC-XML-with-metadata layout.

Native layout (``src_root``)::

    images/<id>.png   masks/<id>.png (binary target masks)   train.txt / test.txt (ids)
    statistics.txt    tab-separated, no header: id, platform, band, width, height, target pixel area

Boxes are the bounding boxes of the masks' 8-connected components, 0-based xyxy with exclusive
x2/y2 (see :mod:`auxdet.data.voc_io`).

The shipped ``statistics.txt`` has 8851 rows (ids 00001–08851) while ``train.txt``/``test.txt`` list
9000 ids: 149 split ids have no metadata row. ``missing_metadata`` decides what happens to them:
``'warn'`` (default: dropped with a warning naming their count and first ids), ``'skip'`` (dropped
silently) or ``'error'``. The table is read by :func:`auxdet.data.statistics.read_statistics`.
"""

from __future__ import annotations

import os
import os.path as osp
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from scipy import ndimage
from tqdm import tqdm

from auxdet.data.datasets import (
    METAINFO,
    PROGRESS_MIN_IMAGES,
    boxes_to_instances,
    check_image_files,
    image_size,
)
from auxdet.data.loading import load_mask
from auxdet.data.statistics import MISSING_POLICIES, MissingPolicy, match_split, read_statistics
from auxdet.data.voc_io import VOCFormatError, parse_voc_xml, read_split, write_split, write_voc_annotation
from auxdet.fileio import atomic_path
from auxdet.metadata import ImageMeta, MetadataError, Vocabulary

__all__ = ["WideIRSTDDataset", "convert_wideirstd_to_voc", "mask_to_boxes"]


def mask_to_boxes(mask: np.ndarray) -> np.ndarray:
    """Boxes of the 8-connected components of a binary mask: ``[N, 4]`` float32 xyxy, exclusive x2/y2.

    A component covering columns ``c0..c1`` and rows ``r0..r1`` gives ``[c0, r0, c1 + 1, r1 + 1]``;
    boxes are ordered by component label (row-major scan order of their first pixel).
    """
    mask = np.asarray(mask).astype(bool)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return np.zeros((0, 4), dtype=np.float32)
    slices = ndimage.find_objects(labels)
    return np.array([[s[1].start, s[0].start, s[1].stop, s[0].stop] for s in slices], dtype=np.float32)


def _split_file(root: Path, split: str) -> Path:
    """``<root>/<split>.txt`` (``split`` may already end in ``.txt`` or be absolute)."""
    return root / (split if split.endswith(".txt") else f"{split}.txt")


def _mask_boxes_checked(mask_path: str | Path, meta: ImageMeta) -> np.ndarray:
    mask = load_mask(mask_path)
    if mask.shape != (meta.height, meta.width):
        raise MetadataError(
            f"mask '{mask_path}' is {mask.shape[1]}x{mask.shape[0]} but statistics say "
            f"{meta.width}x{meta.height}"
        )
    return mask_to_boxes(mask)


@DATASETS.register_module()
class WideIRSTDDataset(BaseDetDataset):
    """WideIRSTD-Full in its native layout (``images/``, ``masks/``, ``statistics.txt``, ``<split>.txt``).

    Boxes come from the masks (8-connected components), metadata from ``statistics.txt``. Reading every
    mask at construction takes time on the full set (progress bar); convert once with
    :func:`convert_wideirstd_to_voc` and use ``VOCMetaDataset`` for repeated training.

    Args:
        ann_file: split file relative to ``data_root`` (``train.txt``).
        statistics: metadata file relative to ``data_root`` (``statistics.txt``).
        data_prefix: ``dict(img='images', seg='masks')``.
        vocabulary: vocabulary config (unknown platform/band → :class:`MetadataError`).
        missing_metadata: ``'warn'`` | ``'skip'`` | ``'error'`` for split ids without a statistics row.
        check_files: raise at construction if a listed image is missing.
    """

    METAINFO = METAINFO

    def __init__(
        self,
        data_root: str = "",
        ann_file: str = "train.txt",
        statistics: str = "statistics.txt",
        data_prefix: dict | None = None,
        img_suffix: str = ".png",
        vocabulary: Mapping[str, Any] | Vocabulary | None = None,
        missing_metadata: MissingPolicy = "warn",
        check_files: bool = True,
        **kwargs: Any,
    ) -> None:
        if missing_metadata not in MISSING_POLICIES:
            raise ValueError(
                f"missing_metadata must be one of {list(MISSING_POLICIES)}, got {missing_metadata!r}"
            )
        self.vocabulary = Vocabulary.from_config(vocabulary)
        self.statistics = statistics
        self.img_suffix = img_suffix
        self.missing_metadata = missing_metadata
        self.check_files = check_files
        self.missing_ids: list[str] = []
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            data_prefix=dict(img="images", seg="masks") if data_prefix is None else data_prefix,
            **kwargs,
        )
        self._metainfo.update(platforms=self.vocabulary.platforms, bands=self.vocabulary.bands)

    def load_data_list(self) -> list[dict]:
        stats_path = (
            self.statistics if osp.isabs(self.statistics) else osp.join(self.data_root, self.statistics)
        )
        stats = read_statistics(stats_path, self.vocabulary)
        rows, self.missing_ids = match_split(
            stats, read_split(self.ann_file), self.missing_metadata, self.ann_file
        )
        img_dir, seg_dir = self.data_prefix.get("img", ""), self.data_prefix.get("seg", "")
        data_list = []
        for row in tqdm(
            rows.itertuples(index=False),
            total=len(rows),
            desc="WideIRSTD masks",
            disable=len(rows) < PROGRESS_MIN_IMAGES,
        ):
            meta = ImageMeta(str(row.platform), str(row.band), int(row.width), int(row.height))
            mask_path = osp.join(seg_dir, row.id + ".png")
            data_list.append(
                {
                    "img_path": osp.join(img_dir, row.id + self.img_suffix),
                    "img_id": str(row.id),
                    "mask_path": mask_path,
                    **meta.as_dict(),
                    "instances": boxes_to_instances(_mask_boxes_checked(mask_path, meta)),
                }
            )
        if self.check_files:
            check_image_files(data_list, self.ann_file)
        return data_list

    def filter_data(self) -> list[dict]:
        """Keep every image (empty ones too) unless ``filter_cfg=dict(filter_empty_gt=True)``."""
        if self.test_mode or not (self.filter_cfg or {}).get("filter_empty_gt", False):
            return self.data_list
        return [d for d in self.data_list if d["instances"]]


def convert_wideirstd_to_voc(
    src_root: str | os.PathLike,
    dst_root: str | os.PathLike,
    vocab: Vocabulary | Mapping[str, Any] | None = None,
    *,
    splits: Sequence[str] = ("train", "test"),
    statistics: str = "statistics.txt",
    missing_metadata: MissingPolicy = "warn",
    copy_masks: bool = True,
    link: bool = False,
) -> pd.DataFrame:
    """Convert native WideIRSTD-Full to the VOC-XML-with-metadata layout, and verify the result.

    Writes ``dst_root/PNGImages/<id>.png`` (copied, or hard-linked with ``link=True``),
    ``Annotations/<id>.xml``, ``Masks/<id>.png`` (``copy_masks``) and ``ImageSets/Main/<split>.txt``.
    Each written XML is read back and must equal the source boxes and metadata (else ``VOCFormatError``);
    each image's real size must equal its statistics row (else :class:`MetadataError`).
    Returns one row per converted image: ``id, split, platform, band, width, height, num_targets,
    target_area, mask_area`` (``mask_area`` = target pixels in the mask, to compare with ``target_area``).
    """
    src, dst = Path(src_root), Path(dst_root)
    vocab = Vocabulary.from_config(vocab)
    stats = read_statistics(src / statistics, vocab)
    plan: list[tuple[str, Any]] = []
    split_ids: dict[str, list[str]] = {}
    for split in splits:
        split_path = _split_file(src, split)
        rows, _ = match_split(stats, read_split(split_path), missing_metadata, str(split_path))
        split_ids[Path(split).stem] = [str(i) for i in rows["id"]]
        plan += [(split, r) for r in rows.itertuples(index=False)]
    for sub in ("PNGImages", "Annotations") + (("Masks",) if copy_masks else ()):
        (dst / sub).mkdir(parents=True, exist_ok=True)

    records = []
    for split, row in tqdm(plan, desc="WideIRSTD → VOC", disable=len(plan) < 50):
        img_id = str(row.id)
        img_src, mask_src = src / "images" / f"{img_id}.png", src / "masks" / f"{img_id}.png"
        meta = ImageMeta(str(row.platform), str(row.band), int(row.width), int(row.height))
        size = image_size(img_src)
        if size != (meta.width, meta.height):
            raise MetadataError(
                f"image '{img_src}' is {size[0]}x{size[1]} but '{src / statistics}' line {row.line} says "
                f"{meta.width}x{meta.height}"
            )
        mask = load_mask(mask_src)
        if mask.shape != (meta.height, meta.width):
            raise MetadataError(
                f"mask '{mask_src}' is {mask.shape[1]}x{mask.shape[0]}, image is {size[0]}x{size[1]}"
            )
        boxes = mask_to_boxes(mask)
        xml = dst / "Annotations" / f"{img_id}.xml"
        write_voc_annotation(xml, img_id, meta.width, meta.height, meta, boxes)
        back = parse_voc_xml(xml, vocab)
        if back.meta != meta or not np.array_equal(back.boxes, boxes):
            raise VOCFormatError(
                f"round trip failed for '{xml}': wrote {meta} {boxes.tolist()}, read {back.meta} {back.boxes.tolist()}"
            )
        _place(img_src, dst / "PNGImages" / f"{img_id}.png", link)
        if copy_masks:
            _place(mask_src, dst / "Masks" / f"{img_id}.png", link)
        records.append(
            (
                img_id,
                split,
                meta.platform,
                meta.band,
                meta.width,
                meta.height,
                len(boxes),
                int(row.target_area),
                int(mask.sum()),
            )
        )
    for split, ids in split_ids.items():
        write_split(dst, split, ids)
    return pd.DataFrame(
        records,
        columns=[
            "id",
            "split",
            "platform",
            "band",
            "width",
            "height",
            "num_targets",
            "target_area",
            "mask_area",
        ],
    )


def _place(src: Path, dst: Path, link: bool) -> None:
    """Copy (or hard-link) ``src`` to ``dst`` atomically (a link keeps the source's permissions)."""
    with atomic_path(dst, mode=None if link else 0o644) as tmp:
        if link:
            tmp.unlink()
            os.link(src, tmp)
        else:
            shutil.copyfile(src, tmp)
