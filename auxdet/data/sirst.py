"""SIRST-V2 (NUDT/NUAA "SIRST" v2): 514 real infrared images with VOC boxes and masks.

Layout (``data_root``)::

    images/<id>.png   masks/<id>.png   annotations/<id>.xml   splits/{train,val,test}.txt

Its XML carries no ``<view>``/``<band_type>``: every image is ground-based long-wave infrared, so
the metadata is ``platform='Land'``, ``band='LWIR'`` and the image's own size (read from the PNG).
The images come in mixed PNG modes (RGB, L, RGBA, P); use ``LoadIRImageFromFile`` to load them
all as ``H×W×3 uint8``. Its XML boxes follow the convention of :mod:`auxdet.data.voc_io` (they equal
the masks' 8-connected component boxes for 513 of 514 images).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmdet.registry import DATASETS

from auxdet.data.datasets import VOCMetaDataset
from auxdet.metadata import Vocabulary

__all__ = ["SIRSTV2Dataset", "SIRST_V2_SPLITS"]

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
