"""Read and write the VOC-XML-with-metadata layout of the official AuxDet code.

Layout (see build/CONTRACTS.md)::

    <root>/PNGImages/<id>.png   <root>/Annotations/<id>.xml   <root>/ImageSets/Main/<split>.txt
    <root>/Masks/<id>.png (optional binary target masks)

XML: ``<annotation><filename>…</filename><size><width/><height/><depth/></size><view>…</view>
<band_type>…</band_type><object><name>Target</name><difficult>0</difficult><bndbox>…</bndbox></object>…``

Pixel convention. Boxes in numpy arrays are mmdet's 0-based ``xyxy`` with an *exclusive* right/bottom
edge: a target covering columns ``c0..c1`` (0-based, inclusive) has ``x1 = c0, x2 = c1 + 1`` — the box
of a mask component, its area the bounding-box pixel count. mmdet 3.3's ``XMLDataset`` subtracts 1 from
*all four* XML values (``minus_one=True``), so the XML stores ``numpy + 1`` for every coordinate:
``xmin = c0 + 1`` (the 1-based first column, as in VOC) and ``xmax = c1 + 2``. This is exactly how the
SIRST-V2 annotations relate to their masks (checked in tests/test_data.py), and it round-trips integer
boxes exactly through both :func:`read_voc_annotation` and mmdet's reader.
Non-integral coordinates are written as decimals (mmdet's own ``XMLDataset`` would truncate them;
:class:`auxdet.data.datasets.VOCMetaDataset` keeps them).

Every write is atomic (temporary file in the same folder + ``os.replace``).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from auxdet.data.box_checks import fit_boxes_to_image
from auxdet.fileio import atomic_write_text
from auxdet.metadata import ImageMeta, MetadataError, Vocabulary

__all__ = [
    "VOCRecord",
    "VOCFormatError",
    "parse_voc_xml",
    "read_voc_annotation",
    "write_voc_annotation",
    "write_split",
    "read_split",
]

#: XML tag of each metadata field.
META_TAGS: dict[str, str] = {"platform": "view", "band": "band_type"}


class VOCFormatError(ValueError):
    """A malformed VOC XML / split file (message names the file, the field and the bad value)."""


@dataclass
class VOCRecord:
    """Everything :func:`parse_voc_xml` reads from one annotation file."""

    path: Path
    filename: str | None
    meta: ImageMeta
    boxes: np.ndarray  # [N, 4] float32, 0-based xyxy (exclusive right/bottom edge)
    names: list[str] = field(default_factory=list)
    difficult: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def _fmt(v: float) -> str:
    """Integral values as integers (what mmdet's reader expects), others as short decimals."""
    return str(int(round(v))) if float(v).is_integer() else format(float(v), ".6g")


def _check_boxes(boxes: Any, width: int, height: int, where: str) -> np.ndarray:
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.size == 0:
        return arr.reshape(0, 4)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise VOCFormatError(f"{where}: boxes must have shape [N, 4] (xyxy), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise VOCFormatError(f"{where}: boxes contain NaN/inf: {arr[~np.isfinite(arr).all(1)].tolist()}")
    bad = (arr[:, 0] < 0) | (arr[:, 1] < 0) | (arr[:, 2] > width) | (arr[:, 3] > height)
    bad |= (arr[:, 2] <= arr[:, 0]) | (arr[:, 3] <= arr[:, 1])
    if bad.any():
        raise VOCFormatError(
            f"{where}: boxes must satisfy 0 <= x1 < x2 <= width={width} and 0 <= y1 < y2 <= height={height} "
            f"(0-based xyxy, exclusive x2/y2); bad boxes: {arr[bad].tolist()}"
        )
    return arr


def write_voc_annotation(
    path: str | os.PathLike,
    image_id: str,
    width: int,
    height: int,
    meta: ImageMeta,
    boxes: np.ndarray,
    class_name: str = "Target",
) -> Path:
    """Write one VOC XML with ``<view>``/``<band_type>`` metadata (atomic).

    ``boxes`` is ``[N, 4]`` 0-based xyxy with exclusive x2/y2 (see module docstring); ``N = 0`` writes
    an image without targets. ``meta.width/height`` must equal ``width``/``height``.
    """
    path = Path(path)
    where = f"annotation '{path}'"
    if (int(meta.width), int(meta.height)) != (int(width), int(height)):
        raise MetadataError(
            f"{where}: metadata size {meta.width}x{meta.height} differs from the image size {width}x{height}"
        )
    arr = _check_boxes(boxes, int(width), int(height), where)
    root = ET.Element("annotation")
    ET.SubElement(root, "filename").text = f"{image_id}.png"
    size = ET.SubElement(root, "size")
    ET.SubElement(size, "width").text = str(int(width))
    ET.SubElement(size, "height").text = str(int(height))
    ET.SubElement(size, "depth").text = "3"
    ET.SubElement(root, META_TAGS["platform"]).text = meta.platform
    ET.SubElement(root, META_TAGS["band"]).text = meta.band
    for box in arr:
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = class_name
        ET.SubElement(obj, "difficult").text = "0"
        bnd = ET.SubElement(obj, "bndbox")
        for tag, v in zip(("xmin", "ymin", "xmax", "ymax"), box + 1.0, strict=True):
            ET.SubElement(bnd, tag).text = _fmt(v)
    ET.indent(root)
    return atomic_write_text(path, ET.tostring(root, encoding="unicode") + "\n")


def _text(node: ET.Element | None, tag: str) -> str | None:
    child = node.find(tag) if node is not None else None
    if child is None or child.text is None or not child.text.strip():
        return None
    return child.text.strip()


def parse_voc_xml(
    path: str | os.PathLike,
    vocab: Vocabulary | Mapping[str, Any] | None = None,
    *,
    defaults: Mapping[str, Any] | None = None,
    classes: Iterable[str] | None = None,
) -> VOCRecord:
    """Parse one annotation file: metadata (validated by ``vocab``), boxes, names, difficult flags.

    Boxes are checked against the image size (:func:`auxdet.data.box_checks.fit_boxes_to_image`):
    clipped with a warning when at most 1 px outside, an error naming the file otherwise.

    ``defaults`` supplies fields an XML may lack (e.g. ``dict(platform='Land', band='LWIR')`` for
    SIRST-V2); without a default a missing ``<view>``/``<band_type>``/``<size>`` raises
    :class:`MetadataError` naming the file. ``classes`` keeps only objects with those names.
    """
    path = Path(path)
    vocab = Vocabulary.from_config(vocab)
    defaults = dict(defaults or {})
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise FileNotFoundError(f"annotation file not found: '{path}'") from None
    except ET.ParseError as e:
        raise VOCFormatError(f"annotation '{path}' is not valid XML: {e}") from None
    if root.tag != "annotation":
        raise VOCFormatError(f"annotation '{path}': root element is <{root.tag}>, expected <annotation>")

    values: dict[str, Any] = {}
    for name, tag in META_TAGS.items():
        values[name] = _text(root, tag)
    size = root.find("size")
    values["width"], values["height"] = _text(size, "width"), _text(size, "height")
    for name, value in values.items():
        if value is None:
            if name in defaults:
                values[name] = defaults[name]
                continue
            tag = META_TAGS.get(name, f"size/{name}")
            valid = f"; valid values: {list(vocab.values(name))}" if name in META_TAGS else ""
            raise MetadataError(f"annotation '{path}': metadata field '{name}' (<{tag}>) is missing{valid}")
    meta = vocab.parse(values["platform"], values["band"], values["width"], values["height"], image=str(path))

    keep = set(classes) if classes is not None else None
    boxes, names, difficult = [], [], []
    for i, obj in enumerate(root.findall("object")):
        name = _text(obj, "name")
        if keep is not None and name not in keep:
            continue
        bnd = obj.find("bndbox")
        coords = []
        for tag in ("xmin", "ymin", "xmax", "ymax"):
            raw = _text(bnd, tag)
            try:
                coords.append(float(raw))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise VOCFormatError(
                    f"annotation '{path}': object {i} field 'bndbox/{tag}' must be a number, got {raw!r}"
                ) from None
        boxes.append(coords)
        names.append(name or "")
        diff = _text(obj, "difficult")
        difficult.append(diff is not None and int(float(diff)) != 0)
    arr = (np.asarray(boxes, dtype=np.float32) - 1.0).reshape(-1, 4)
    arr = fit_boxes_to_image(arr, meta.width, meta.height, f"annotation '{path}'")  # clip ≤ 1 px, else raise
    return VOCRecord(path, _text(root, "filename"), meta, arr, names, np.asarray(difficult, dtype=bool))


def read_voc_annotation(
    path: str | os.PathLike,
    vocab: Vocabulary | Mapping[str, Any] | None = None,
    *,
    defaults: Mapping[str, Any] | None = None,
) -> tuple[ImageMeta, np.ndarray]:
    """Read ``(ImageMeta, boxes [N, 4] float32 0-based xyxy)`` from one VOC XML (all objects)."""
    rec = parse_voc_xml(path, vocab, defaults=defaults)
    return rec.meta, rec.boxes


def _split_path(root: str | os.PathLike, name: str) -> Path:
    return Path(root) / "ImageSets" / "Main" / f"{name}.txt"


def write_split(root: str | os.PathLike, name: str, ids: Iterable[str]) -> Path:
    """Write ``<root>/ImageSets/Main/<name>.txt`` (one id per line, atomic); returns its path."""
    ids = [str(i) for i in ids]
    path = _split_path(root, name)
    bad = [i for i in ids if not i.strip() or i != i.strip() or "/" in i or "\n" in i]
    if bad:
        raise VOCFormatError(f"split '{path}': invalid image ids {bad[:5]} (non-empty, no spaces or '/')")
    dup = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dup:
        raise VOCFormatError(f"split '{path}': duplicate image ids {dup[:5]}")
    return atomic_write_text(path, "".join(f"{i}\n" for i in ids))


def read_split(path: str | os.PathLike) -> list[str]:
    """Ids of a split file (blank lines ignored, surrounding whitespace stripped)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"split file not found: '{path}'")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
