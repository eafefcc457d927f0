"""Data for auxdet: VOC-XML-with-metadata I/O, IR image loading, datasets with per-image metadata.

Importing this package registers ``LoadIRImageFromFile`` (mmdet TRANSFORMS) and the datasets
``VOCMetaDataset``, ``WideIRSTDDataset``, ``SIRSTV2Dataset`` (mmdet DATASETS).
"""

from auxdet.data.datasets import METAINFO, VOCMetaDataset, image_size
from auxdet.data.loading import (
    IRImageError,
    LoadIRImageFromFile,
    decode_ir_image,
    load_gray,
    load_ir_image,
    load_mask,
    to_uint8,
)
from auxdet.data.sirst import SIRST_V2_SPLITS, SIRSTV2Dataset
from auxdet.data.statistics import STATISTICS_COLUMNS, match_split, read_statistics
from auxdet.data.voc_io import (
    VOCFormatError,
    VOCRecord,
    parse_voc_xml,
    read_split,
    read_voc_annotation,
    write_split,
    write_voc_annotation,
)
from auxdet.data.wideirstd import WideIRSTDDataset, convert_wideirstd_to_voc, mask_to_boxes

#: ``PackDetInputs`` meta keys: mmdet's defaults + the per-image metadata (width/height = original size)
#: + the true platform/band an image keeps under a test-time metadata counterfactual
#: (:mod:`auxdet.data.counterfactual`; absent otherwise — PackDetInputs skips missing keys).
META_KEYS_TO_PACK: tuple[str, ...] = (
    "img_id",
    "img_path",
    "ori_shape",
    "img_shape",
    "scale_factor",
    "flip",
    "flip_direction",
    "platform",
    "band",
    "width",
    "height",
    "true_platform",
    "true_band",
)

from auxdet.data import domains, synthetic  # noqa: F401,E402

__all__ = [
    "META_KEYS_TO_PACK",
    "METAINFO",
    "IRImageError",
    "LoadIRImageFromFile",
    "SIRSTV2Dataset",
    "SIRST_V2_SPLITS",
    "STATISTICS_COLUMNS",
    "VOCFormatError",
    "VOCMetaDataset",
    "VOCRecord",
    "WideIRSTDDataset",
    "convert_wideirstd_to_voc",
    "decode_ir_image",
    "image_size",
    "load_gray",
    "load_ir_image",
    "load_mask",
    "mask_to_boxes",
    "match_split",
    "parse_voc_xml",
    "read_split",
    "read_statistics",
    "read_voc_annotation",
    "to_uint8",
    "write_split",
    "write_voc_annotation",
]
