"""``VOCMetaDataset``: the official AuxDet VOC-XML layout with per-image metadata, for mmdet.

Every ``data_info`` carries, besides mmdet's ``img_path``/``img_id``/``instances``:
``platform``, ``band`` (canonicalised by :class:`auxdet.metadata.Vocabulary`), ``width``, ``height``
(the *original* image size). Put them into ``DetDataSample.metainfo`` with
``dict(type='PackDetInputs', meta_keys=META_KEYS_TO_PACK)``.

Images without targets are kept (``filter_empty_gt`` is off unless ``filter_cfg`` turns it on); do not
copy mmdet's VOC ``filter_cfg=dict(filter_empty_gt=True, min_size=32)``, which would drop them (and
every image smaller than 32 px).
"""

from __future__ import annotations

import os.path as osp
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from mmdet.datasets import XMLDataset
from mmdet.registry import DATASETS
from tqdm import tqdm

from auxdet.data.box_checks import fit_boxes_to_image
from auxdet.data.counterfactual import apply_counterfactual, check_counterfactual
from auxdet.data.voc_io import VOCFormatError, parse_voc_xml, read_split
from auxdet.metadata import MetadataError, Vocabulary

__all__ = ["METAINFO", "VOCMetaDataset", "boxes_to_instances", "check_image_files"]

#: Dataset metainfo shared by the auxdet datasets (one class, "Target").
METAINFO: dict[str, Any] = {"classes": ("Target",), "palette": [(220, 20, 60)]}

#: Above this many images, loading annotations shows a progress bar.
PROGRESS_MIN_IMAGES = 1000


def boxes_to_instances(
    boxes: np.ndarray, labels: Sequence[int] | None = None, ignore: Sequence[bool] | None = None
) -> list[dict]:
    """mmdet ``instances`` (``bbox`` 0-based xyxy floats, ``bbox_label``, ``ignore_flag``) from ``[N, 4]`` boxes."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    n = len(boxes)
    labels = [0] * n if labels is None else list(labels)
    ignore = [False] * n if ignore is None else list(ignore)
    return [
        {"bbox": [float(v) for v in b], "bbox_label": int(lab), "ignore_flag": int(bool(ig))}
        for b, lab, ig in zip(boxes, labels, ignore, strict=True)
    ]


def check_image_files(data_list: Sequence[Mapping[str, Any]], split_file: str) -> None:
    """Raise ``FileNotFoundError`` naming the split, the first missing images and their count."""
    missing = [d["img_path"] for d in data_list if not osp.isfile(d["img_path"])]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} image file(s) listed in '{split_file}' do not exist, e.g. {missing[:3]}"
        )


@DATASETS.register_module()
class VOCMetaDataset(XMLDataset):
    """VOC-XML-with-metadata dataset (``PNGImages/``, ``Annotations/`` with ``<view>``/``<band_type>``).

    Args:
        ann_file: split file, relative to ``data_root`` (default ``ImageSets/Main/train.txt``).
        data_prefix: ``dict(img='PNGImages')`` — the image folder.
        ann_subdir: the annotation folder relative to ``data_root`` (``Annotations``).
        img_suffix: image file extension (``.png``).
        vocabulary: ``dict(platforms=..., bands=..., allow_unknown=False)`` or a ``Vocabulary``; an
            unknown platform/band raises :class:`MetadataError` naming the XML file (unless
            ``allow_unknown``, then it becomes ``'unknown'``).
        meta_defaults: values for metadata fields an XML lacks (e.g. ``dict(platform='Land', band='LWIR')``);
            ``None`` (default): a missing ``<view>``/``<band_type>`` is an error.
        size_from_image: take width/height from the image file's header instead of ``<size>``.
        check_files: raise at construction if an image file listed in the split is missing.
        metadata_counterfactual: ``None``, or ``dict(mode='swap' | 'shuffle', seed=0)``: show the model other
            metadata than the images' own (:mod:`auxdet.data.counterfactual`; a test-time intervention —
            the true platform/band stay in ``true_platform``/``true_band`` for grouping the results).
        **kwargs: mmdet ``XMLDataset`` / ``BaseDetDataset`` arguments (pipeline, test_mode, filter_cfg, …).
    """

    METAINFO = METAINFO

    def __init__(
        self,
        data_root: str = "",
        ann_file: str = "ImageSets/Main/train.txt",
        data_prefix: dict | None = None,
        ann_subdir: str = "Annotations",
        img_suffix: str = ".png",
        vocabulary: Mapping[str, Any] | Vocabulary | None = None,
        meta_defaults: Mapping[str, Any] | None = None,
        size_from_image: bool = False,
        check_files: bool = True,
        metadata_counterfactual: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.vocabulary = Vocabulary.from_config(vocabulary)
        self.metadata_counterfactual = check_counterfactual(metadata_counterfactual)
        self.img_suffix = img_suffix
        self.meta_defaults = dict(meta_defaults or {})
        self.size_from_image = size_from_image
        self.check_files = check_files
        unknown = set(self.meta_defaults) - {"platform", "band", "width", "height"}
        if unknown:
            raise MetadataError(f"meta_defaults has unknown fields {sorted(unknown)}; valid: platform, band")
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            data_prefix=dict(img="PNGImages") if data_prefix is None else data_prefix,
            img_subdir="",
            ann_subdir=ann_subdir,
            **kwargs,
        )
        self._metainfo.update(platforms=self.vocabulary.platforms, bands=self.vocabulary.bands)

    def _ann_dir(self) -> str:
        if osp.isabs(self.ann_subdir) or not self.data_root:
            return self.ann_subdir
        return osp.join(self.data_root, self.ann_subdir)

    def load_data_list(self) -> list[dict]:
        """One ``data_info`` per id of ``ann_file`` (parsing and validating its XML)."""
        ids = read_split(self.ann_file)
        if not ids:
            raise VOCFormatError(f"split file '{self.ann_file}' lists no images (one image id per line); check "
                                 "the dataset's data_root / ann_file")
        self.cat2label = {c: i for i, c in enumerate(self._metainfo["classes"])}
        ann_dir, img_dir = self._ann_dir(), self.data_prefix.get("img", "")
        data_list = []
        for img_id in tqdm(
            ids, desc=f"annotations {Path(self.ann_file).name}", disable=len(ids) < PROGRESS_MIN_IMAGES
        ):
            info = {
                "img_id": img_id,
                "file_name": osp.join(img_dir, img_id + self.img_suffix),
                "xml_path": osp.join(ann_dir, f"{img_id}.xml"),
            }
            data_list.append(self.parse_data_info(info))
        if self.check_files:
            check_image_files(data_list, self.ann_file)
        if self.metadata_counterfactual is not None:
            data_list = apply_counterfactual(data_list, **self.metadata_counterfactual)
        return data_list

    def parse_data_info(self, img_info: dict) -> dict:
        """Metadata + instances of one image (see :func:`auxdet.data.voc_io.parse_voc_xml`)."""
        xml_path = img_info["xml_path"]
        if not osp.isfile(xml_path):
            raise FileNotFoundError(
                f"annotation file not found: '{xml_path}' (image id '{img_info['img_id']}')"
            )
        defaults = dict(self.meta_defaults)
        img_path = img_info["file_name"]
        if self.size_from_image:
            defaults.update(zip(("width", "height"), image_size(img_path), strict=True))
        rec = parse_voc_xml(xml_path, self.vocabulary, defaults=defaults, classes=self._metainfo["classes"])
        meta = rec.meta
        if self.size_from_image:  # the image's own size wins over <size>
            meta = self.vocabulary.parse(
                meta.platform, meta.band, defaults["width"], defaults["height"], img_path
            )
            rec.boxes = fit_boxes_to_image(rec.boxes, meta.width, meta.height,
                                           f"annotation '{xml_path}' (size of image '{img_path}')")
        ignore = rec.difficult.copy()
        min_size = self.bbox_min_size
        if min_size is not None and len(rec.boxes):
            wh = rec.boxes[:, 2:] - rec.boxes[:, :2]
            ignore |= (wh < min_size).any(axis=1)
        return {
            "img_path": img_path,
            "img_id": img_info["img_id"],
            "xml_path": xml_path,
            **meta.as_dict(),
            "instances": boxes_to_instances(rec.boxes, [self.cat2label[n] for n in rec.names], ignore),
        }


def image_size(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` from an image file's header (no decoding)."""
    from PIL import Image, UnidentifiedImageError

    from auxdet.data.loading import IRImageError

    try:
        with Image.open(path) as im:
            return int(im.width), int(im.height)
    except FileNotFoundError:
        raise FileNotFoundError(f"image file not found: '{path}'") from None
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
        raise IRImageError(f"cannot read the size of image '{path}': {e}") from None
