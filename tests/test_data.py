"""Data layer: VOC-XML I/O, IR image loading, VOC/WideIRSTD/SIRST-V2 datasets, metadata packing."""

from __future__ import annotations

import collections
import io
import os
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from auxdet.analysis import platform_band_counts
from auxdet.data import (
    META_KEYS_TO_PACK,
    IRImageError,
    LoadIRImageFromFile,
    SIRSTV2Dataset,
    VOCFormatError,
    VOCMetaDataset,
    WideIRSTDDataset,
    convert_wideirstd_to_voc,
    decode_ir_image,
    load_ir_image,
    mask_to_boxes,
    match_split,
    parse_voc_xml,
    read_split,
    read_statistics,
    read_voc_annotation,
    write_split,
    write_voc_annotation,
)
from auxdet.metadata import ImageMeta, MetadataError, Vocabulary

VALID_BANDS = r"\['LWIR', 'NIR', 'SWIR'\]"


# --------------------------------------------------------------------------- helpers
def _png(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (Image.fromarray(array, mode) if mode else Image.fromarray(array)).save(path)
    return path


def _voc_tree(root: Path, items: dict[str, tuple[ImageMeta, np.ndarray]], split: str = "train") -> Path:
    """A VOC-with-metadata tree: one gray PNG + XML per item, and the split file."""
    for img_id, (meta, boxes) in items.items():
        img = np.full((meta.height, meta.width), 40, np.uint8)
        for x1, y1, x2, y2 in boxes.astype(int):
            img[y1:y2, x1:x2] = 250
        _png(root / "PNGImages" / f"{img_id}.png", img)
        write_voc_annotation(
            root / "Annotations" / f"{img_id}.xml", img_id, meta.width, meta.height, meta, boxes
        )
    write_split(root, split, list(items))
    return root


def _xml(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<annotation><size><width>32</width><height>24</height></size>{body}</annotation>")
    return path


# --------------------------------------------------------------------------- voc_io
def test_voc_round_trip_and_pixel_convention(tmp_path: Path) -> None:
    meta = ImageMeta("Space", "NIR", 64, 48)
    boxes = np.array([[0, 0, 3, 4], [10, 20, 11, 21], [60.5, 40.25, 64, 48]], np.float32)
    path = write_voc_annotation(tmp_path / "Annotations" / "a.xml", "a", 64, 48, meta, boxes)
    assert [p.name for p in path.parent.iterdir()] == ["a.xml"]  # no temporary file left behind
    root = ET.parse(path).getroot()
    assert root.findtext("view") == "Space" and root.findtext("band_type") == "NIR"
    assert root.findtext("filename") == "a.png" and root.findtext("size/depth") == "3"
    first = root.find("object/bndbox")
    # XML = numpy + 1 on all four coordinates (mmdet 3.3's XMLDataset subtracts 1 from each)
    assert [first.findtext(t) for t in ("xmin", "ymin", "xmax", "ymax")] == ["1", "1", "4", "5"]
    assert root.find("object/difficult").text == "0"
    meta2, boxes2 = read_voc_annotation(path, Vocabulary())
    assert meta2 == meta
    np.testing.assert_array_equal(boxes2, boxes)
    # empty image
    empty = write_voc_annotation(
        tmp_path / "e.xml", "e", 8, 8, ImageMeta("Air", "LWIR", 8, 8), np.zeros((0, 4))
    )
    assert read_voc_annotation(empty, Vocabulary())[1].shape == (0, 4)


def test_voc_matches_mmdet_xml_reader(tmp_path: Path) -> None:
    """mmdet's own XMLDataset parser reads back exactly the integer boxes we wrote."""
    from mmdet.datasets import XMLDataset

    boxes = np.array([[2, 3, 5, 9], [30, 0, 32, 1]], np.float32)
    root = _voc_tree(tmp_path, {"x": (ImageMeta("Land", "SWIR", 32, 16), boxes)})
    ds = VOCMetaDataset(data_root=str(root))
    inst = XMLDataset._parse_instance_info(ds, ET.parse(root / "Annotations" / "x.xml"), minus_one=True)
    np.testing.assert_array_equal([i["bbox"] for i in inst], boxes)
    np.testing.assert_array_equal([i["bbox"] for i in ds[0]["instances"]], boxes)


def test_voc_write_rejects_bad_boxes_and_ids(tmp_path: Path) -> None:
    meta = ImageMeta("Air", "LWIR", 16, 16)
    with pytest.raises(
        VOCFormatError, match=r"bad\.xml.*0 <= x1 < x2 <= width=16.*\[\[4\.0, 4\.0, 2\.0, 8\.0\]\]"
    ):
        write_voc_annotation(tmp_path / "bad.xml", "bad", 16, 16, meta, np.array([[4, 4, 2, 8]]))
    with pytest.raises(VOCFormatError, match=r"x2 <= width=16"):
        write_voc_annotation(tmp_path / "bad.xml", "bad", 16, 16, meta, np.array([[0, 0, 17, 8]]))
    with pytest.raises(MetadataError, match=r"size 16x16 differs from the image size 20x16"):
        write_voc_annotation(tmp_path / "bad.xml", "bad", 20, 16, meta, np.zeros((0, 4)))
    assert not (tmp_path / "bad.xml").exists()
    assert read_split(write_split(tmp_path, "val", ["b", "a"])) == ["b", "a"]
    with pytest.raises(VOCFormatError, match=r"duplicate image ids \['a'\]"):
        write_split(tmp_path, "val", ["a", "b", "a"])


def test_voc_read_errors_name_file_field_value(tmp_path: Path) -> None:
    with pytest.raises(
        MetadataError, match=rf"m\.xml.*'band' \(<band_type>\) is missing; valid values: {VALID_BANDS}"
    ):
        parse_voc_xml(_xml(tmp_path / "m.xml", "<view>Air</view>"))
    with pytest.raises(MetadataError, match=r"v\.xml.*'platform' \(<view>\) is missing"):
        parse_voc_xml(_xml(tmp_path / "v.xml", "<band_type>NIR</band_type>"))
    with pytest.raises(
        MetadataError, match=rf"u\.xml.*'band' has unknown value 'MWIR'; valid values: {VALID_BANDS}"
    ):
        parse_voc_xml(_xml(tmp_path / "u.xml", "<view>Air</view><band_type>MWIR</band_type>"))
    bad_box = "<view>Air</view><band_type>NIR</band_type><object><name>Target</name><bndbox><xmin>a</xmin></bndbox></object>"
    with pytest.raises(
        VOCFormatError, match=r"n\.xml.*object 0 field 'bndbox/xmin' must be a number, got 'a'"
    ):
        parse_voc_xml(_xml(tmp_path / "n.xml", bad_box))
    (tmp_path / "broken.xml").write_text("<annotation><size>")
    with pytest.raises(VOCFormatError, match=r"broken\.xml' is not valid XML"):
        parse_voc_xml(tmp_path / "broken.xml")
    # tolerant spelling is canonicalised; allow_unknown maps to the unknown bucket
    ok = _xml(tmp_path / "ok.xml", "<view> space </view><band_type>swir</band_type>")
    assert parse_voc_xml(ok).meta == ImageMeta("Space", "SWIR", 32, 24)
    odd = _xml(tmp_path / "odd.xml", "<view>Sea</view><band_type>MWIR</band_type>")
    assert parse_voc_xml(odd, dict(allow_unknown=True)).meta.band == "unknown"


# --------------------------------------------------------------------------- image loading
def _encode(array: np.ndarray, mode: str | None = None, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    (Image.fromarray(array, mode) if mode else Image.fromarray(array)).save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_every_png_mode_loads_as_hw3_uint8() -> None:
    g = (np.arange(12, dtype=np.uint8).reshape(3, 4) * 20).astype(np.uint8)
    rgb = np.stack([g, g // 2, 255 - g], axis=-1)
    gray3 = np.repeat(g[..., None], 3, axis=2)
    cases = {
        "L": (_encode(g, "L"), gray3),
        "LA": (_encode(np.stack([g, np.full_like(g, 7)], -1), "LA"), gray3),
        "RGB": (_encode(rgb, "RGB"), rgb[..., ::-1]),  # BGR like mmcv
        "RGBA": (_encode(np.dstack([rgb, np.full_like(g, 9)]), "RGBA"), rgb[..., ::-1]),
        "1": (_encode(g > 100), np.repeat(((g > 100) * 255).astype(np.uint8)[..., None], 3, 2)),
    }
    pal = Image.fromarray(rgb).quantize(colors=16)
    for name, kw in (("P", {}), ("P+tRNS", {"transparency": 0})):
        buf = io.BytesIO()
        pal.save(buf, format="PNG", **kw)
        cases[name] = (buf.getvalue(), np.array(pal.convert("RGB"))[..., ::-1])
    for name, (data, expected) in cases.items():
        img = decode_ir_image(data, name)
        assert img.dtype == np.uint8 and img.shape == (3, 4, 3), name
        np.testing.assert_array_equal(img, expected, err_msg=name)
    np.testing.assert_array_equal(decode_ir_image(cases["RGB"][0], channel_order="rgb"), rgb)


def test_16bit_and_float_are_scaled_not_clipped() -> None:
    raw = np.array([[1000, 2000], [3000, 5000]], np.uint16)
    data = _encode(raw)
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    img = decode_ir_image(data)
    # min/max scaling: 1000→0, 5000→255, linear in between (clipping would give 255 everywhere)
    np.testing.assert_array_equal(img[..., 0], [[0, 64], [128, 255]])
    assert (img[..., 0] == img[..., 2]).all()
    # dtype-range scaling: v * 255 / 65535
    full = np.array([[0, 257 * 3], [257 * 200, 65535]], np.uint16)
    np.testing.assert_array_equal(
        decode_ir_image(_encode(full), scaling="dtype")[..., 0], [[0, 3], [200, 255]]
    )
    # 16-bit colour (OpenCV keeps all 16 bits); min/max over all channels jointly
    ok, enc = cv2.imencode(".png", np.dstack([raw, raw * 2, raw * 3]))
    assert ok
    col = decode_ir_image(enc.tobytes())
    assert col[1, 1, 2] == 255 and col[0, 0, 0] == 0 and col[0, 1, 0] == round(1000 * 255 / 14000)
    # float TIFF: scaled by its own range; constant image → zeros
    flt = decode_ir_image(_encode(np.array([[-1.0, 0.0], [1.0, 3.0]], np.float32), fmt="TIFF"), "f.tif")
    np.testing.assert_array_equal(flt[..., 0], [[0, 64], [128, 255]])
    assert decode_ir_image(_encode(np.full((2, 2), 7, np.uint16))).max() == 0
    with pytest.raises(IRImageError, match=r"nan\.tif.*non-finite"):
        decode_ir_image(_encode(np.array([[np.nan, 1.0]], np.float32), fmt="TIFF"), "nan.tif")


def test_bad_image_files_name_the_file(tmp_path: Path) -> None:
    good = _encode((np.random.rand(32, 32) * 255).astype(np.uint8))
    (tmp_path / "trunc.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "garbage.png").write_bytes(b"this is not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    flipped = bytearray(good)
    flipped[60:70] = b"x" * 10
    (tmp_path / "crc.png").write_bytes(bytes(flipped))
    for name, pattern in [
        ("trunc", "corrupt or truncated PNG"),
        ("garbage", "not a recognised image format"),
        ("empty", "empty"),
        ("crc", "corrupt"),
    ]:
        with pytest.raises(IRImageError, match=rf"{name}\.png'.*{pattern}"):
            load_ir_image(tmp_path / f"{name}.png")
    with pytest.raises(FileNotFoundError, match=r"nothere\.png"):
        load_ir_image(tmp_path / "nothere.png")
    t = LoadIRImageFromFile()
    with pytest.raises(IRImageError, match=r"trunc\.png"):
        t(dict(img_path=str(tmp_path / "trunc.png")))
    assert LoadIRImageFromFile(ignore_empty=True)(dict(img_path=str(tmp_path / "nothere.png"))) is None


def test_load_transform_sets_shapes(tmp_path: Path) -> None:
    path = _png(tmp_path / "a.png", (np.arange(6 * 10) % 256).astype(np.uint16).reshape(6, 10) * 100)
    out = LoadIRImageFromFile(to_float32=True)(dict(img_path=str(path)))
    assert out["img"].shape == (6, 10, 3) and out["img"].dtype == np.float32
    assert out["img_shape"] == (6, 10) and out["ori_shape"] == (6, 10)
    assert out["img"].max() == 255.0


# --------------------------------------------------------------------------- SIRST-V2 (real data)
def test_all_sirst_v2_images_load_as_hw3_uint8(sirst_v2_dir: Path) -> None:
    ids = [i for s in ("train", "val", "test") for i in read_split(sirst_v2_dir / "splits" / f"{s}.txt")]
    assert len(ids) == len(set(ids)) == 514
    modes: collections.Counter = collections.Counter()
    for img_id in ids:
        path = sirst_v2_dir / "images" / f"{img_id}.png"
        with Image.open(path) as im:
            modes[im.mode] += 1
            size = im.size
        img = load_ir_image(path)
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape == (size[1], size[0], 3), img_id
    print("SIRST-V2 PNG modes:", dict(modes))
    assert sum(modes.values()) == 514 and len(modes) > 1  # genuinely mixed modes


def test_sirst_v2_dataset_metadata_and_boxes_match_masks(sirst_v2_dir: Path) -> None:
    sizes = {}
    agree = total = 0
    for split, n in (("train", 257), ("val", 132), ("test", 125)):
        ds = SIRSTV2Dataset(data_root=str(sirst_v2_dir), split=split)
        assert len(ds) == n
        sizes[split] = len(ds)
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            assert (info["platform"], info["band"]) == ("Land", "LWIR")
            if i < 5:
                with Image.open(info["img_path"]) as im:
                    assert (info["width"], info["height"]) == im.size
            mask = np.array(Image.open(sirst_v2_dir / "masks" / f"{info['img_id']}.png")) > 0
            mb = mask_to_boxes(mask)
            xb = np.array([inst["bbox"] for inst in info["instances"]], np.float32).reshape(-1, 4)
            srt = lambda b: b[np.lexsort(b.T[::-1])]  # noqa: E731
            total += 1
            agree += len(mb) == len(xb) and np.array_equal(srt(mb), srt(xb))
    print(f"SIRST-V2 splits {sizes}; XML boxes == mask component boxes for {agree}/{total} images")
    assert agree >= 513  # validates the +1 / exclusive-edge convention of voc_io
    with pytest.raises(ValueError, match=r"split must be one of \['train', 'val', 'test'\], got 'dev'"):
        SIRSTV2Dataset(data_root=str(sirst_v2_dir), split="dev")


# --------------------------------------------------------------------------- WideIRSTD metadata (real)
def test_wideirstd_statistics_and_train_split_counts(wideirstd_metadata_dir: Path) -> None:
    stats = read_statistics(wideirstd_metadata_dir / "statistics.txt")
    assert len(stats) == 8851 and stats["id"].is_unique
    assert str(stats["width"].dtype) == "int64" and isinstance(stats["platform"].dtype, pd.CategoricalDtype)
    assert stats.iloc[0].to_dict() == {
        "id": "00001", "platform": "Air", "band": "LWIR", "width": 256, "height": 256, "target_area": 9, "line": 1
    }  # fmt: skip
    train = read_split(wideirstd_metadata_dir / "train.txt")
    assert len(train) == 7000
    matched, missing = match_split(stats, train, missing="skip")
    counts = platform_band_counts(matched)
    print("\nWideIRSTD train split, platform × band (matched ids):\n", counts)
    print(f"{len(missing)} train ids without a statistics row: {missing[:5]} … {missing[-3:]}")
    assert counts["count"].sum() == len(matched) == 7000 - len(missing)
    assert len(missing) == 118 and all(int(i) > 8851 for i in missing)
    with pytest.raises(MetadataError, match=r"118 of 7000 ids in train have no metadata row.*'08915'"):
        match_split(stats, train, missing="error", source="train")
    with pytest.warns(UserWarning, match="118 of 7000 ids"):
        match_split(stats, train, missing="warn", source="train")


@pytest.mark.parametrize(
    ("line", "pattern", "exc"),
    [
        ("00003\tAir\tFIR\t256\t256\t9", rf"line 3 \(id '00003'\).*'band' has unknown value 'FIR'; valid values: {VALID_BANDS}", MetadataError),
        ("00003\tSea\tNIR\t256\t256\t9", r"line 3 \(id '00003'\).*'platform' has unknown value 'Sea'", MetadataError),
        ("00003\tAir\tNIR\t256x\t256\t9", r"line 3 \(id '00003'\).*'width' must be a positive integer, got '256x'", MetadataError),
        ("00003\tAir\tNIR\t256\t256\t-4", r"line 3 \(id '00003'\).*'target_area' must be a non-negative integer, got '-4'", VOCFormatError),
        ("00003\tAir\tNIR\t256\t256", r"line 3: expected 6 tab-separated fields", VOCFormatError),
        ("00001\tAir\tNIR\t256\t256\t1", r"line 3: field 'id' value '00001' duplicates line 1", VOCFormatError),
    ],
)  # fmt: skip
def test_bad_statistics_rows(tmp_path: Path, line: str, pattern: str, exc: type) -> None:
    path = tmp_path / "statistics.txt"
    path.write_text(f"00001\tAir\tLWIR\t256\t256\t9\n00002\tLand\tSWIR\t320\t240\t0\n{line}\n")
    with pytest.raises(exc, match=rf"statistics file '.*statistics\.txt', {pattern}"):
        read_statistics(path)


# --------------------------------------------------------------------------- WideIRSTD native + converter
@pytest.fixture()
def fake_wideirstd(tmp_path: Path) -> Path:
    """Four images of mixed modes/sizes + masks (one empty, one with diagonal-touching pixels)."""
    root = tmp_path / "wide"
    specs = {  # id: (platform, band, w, h, mask blobs as (r0, r1, c0, c1) inclusive)
        "00001": ("Air", "LWIR", 32, 24, [(2, 3, 4, 6), (10, 10, 20, 20)]),
        "00002": ("Space", "NIR", 40, 40, []),
        "00003": ("Land", "SWIR", 16, 20, [(5, 5, 5, 5), (6, 6, 6, 6), (15, 19, 0, 1)]),  # diagonal → one
        "00004": ("space", "nir", 24, 16, [(0, 0, 23, 23)]),
    }
    lines = []
    for k, (img_id, (p, b, w, h, blobs)) in enumerate(specs.items()):
        mask = np.zeros((h, w), np.uint8)
        for r0, r1, c0, c1 in blobs:
            mask[r0 : r1 + 1, c0 : c1 + 1] = 255
        img = ((np.random.rand(h, w) * 200) + (mask > 0) * 50).astype(np.uint8)
        if k == 1:
            _png(root / "images" / f"{img_id}.png", img.astype(np.uint16) * 64)  # 16-bit
        elif k == 2:
            _png(root / "images" / f"{img_id}.png", np.dstack([img] * 3))
        else:
            _png(root / "images" / f"{img_id}.png", img)
        _png(root / "masks" / f"{img_id}.png", mask)
        lines.append(f"{img_id}\t{p}\t{b}\t{w}\t{h}\t{int((mask > 0).sum())}")
    (root / "statistics.txt").write_text("\n".join(lines) + "\n")
    (root / "train.txt").write_text("00001\n00002\n00003\n")
    (root / "test.txt").write_text("00004\n")
    return root


def test_mask_to_boxes_8_connectivity() -> None:
    m = np.zeros((6, 6), bool)
    m[1, 1] = m[2, 2] = True  # diagonal neighbours: one component under 8-connectivity
    m[4, 4:6] = True
    np.testing.assert_array_equal(mask_to_boxes(m), [[1, 1, 3, 3], [4, 4, 6, 5]])
    assert mask_to_boxes(np.zeros((3, 3))).shape == (0, 4)


def test_wideirstd_native_dataset(fake_wideirstd: Path) -> None:
    ds = WideIRSTDDataset(data_root=str(fake_wideirstd), ann_file="train.txt")
    assert len(ds) == 3  # the empty-target image is kept
    info = {d["img_id"]: d for d in (ds.get_data_info(i) for i in range(len(ds)))}
    assert [i["bbox"] for i in info["00001"]["instances"]] == [[4, 2, 7, 4], [20, 10, 21, 11]]
    assert info["00002"]["instances"] == [] and info["00002"]["platform"] == "Space"
    assert [i["bbox"] for i in info["00003"]["instances"]] == [[5, 5, 7, 7], [0, 15, 2, 20]]
    assert (info["00003"]["platform"], info["00003"]["band"], info["00003"]["width"], info["00003"]["height"]) == (
        "Land", "SWIR", 16, 20
    )  # fmt: skip
    (fake_wideirstd / "train.txt").write_text("00001\n09999\n")
    with pytest.raises(MetadataError, match=r"1 of 2 ids in .*train\.txt have no metadata row.*'09999'"):
        WideIRSTDDataset(data_root=str(fake_wideirstd), missing_metadata="error")
    with pytest.warns(UserWarning, match="'09999'"):
        assert len(WideIRSTDDataset(data_root=str(fake_wideirstd))) == 1
    os.remove(fake_wideirstd / "images" / "00001.png")
    with pytest.raises(
        FileNotFoundError, match=r"1 image file\(s\) listed in '.*train\.txt' do not exist.*00001\.png"
    ):
        WideIRSTDDataset(data_root=str(fake_wideirstd), missing_metadata="skip")


def test_convert_wideirstd_to_voc_round_trip(fake_wideirstd: Path, tmp_path: Path) -> None:
    dst = tmp_path / "voc"
    report = convert_wideirstd_to_voc(fake_wideirstd, dst, Vocabulary())
    assert list(report["id"]) == ["00001", "00002", "00003", "00004"]
    assert list(report["num_targets"]) == [2, 0, 2, 1]
    assert (report["mask_area"] == report["target_area"]).all()
    assert read_split(dst / "ImageSets" / "Main" / "train.txt") == ["00001", "00002", "00003"]
    assert read_split(dst / "ImageSets" / "Main" / "test.txt") == ["00004"]
    native = WideIRSTDDataset(data_root=str(fake_wideirstd), ann_file="train.txt")
    voc = VOCMetaDataset(data_root=str(dst), ann_file="ImageSets/Main/train.txt")
    for i in range(len(native)):
        a, b = native.get_data_info(i), voc.get_data_info(i)
        for key in ("img_id", "platform", "band", "width", "height", "instances"):
            assert a[key] == b[key], key
        assert (dst / "Masks" / f"{a['img_id']}.png").is_file()
        assert Path(b["img_path"]).read_bytes() == Path(a["img_path"]).read_bytes()
    meta, boxes = read_voc_annotation(dst / "Annotations" / "00004.xml", Vocabulary())
    assert meta == ImageMeta("Space", "NIR", 24, 16)  # canonicalised spelling
    np.testing.assert_array_equal(boxes, [[23, 0, 24, 1]])
    # an image whose real size disagrees with its statistics row is rejected
    _png(fake_wideirstd / "images" / "00004.png", np.zeros((5, 5), np.uint8))
    with pytest.raises(MetadataError, match=r"00004\.png' is 5x5 but '.*statistics\.txt' line 4 says 24x16"):
        convert_wideirstd_to_voc(fake_wideirstd, tmp_path / "voc2")


# --------------------------------------------------------------------------- VOCMetaDataset
def test_voc_meta_dataset_errors(tmp_path: Path) -> None:
    items = {"a": (ImageMeta("Air", "LWIR", 16, 12), np.array([[1, 1, 3, 3]], np.float32))}
    root = _voc_tree(tmp_path / "voc", items)
    ds = VOCMetaDataset(data_root=str(root), vocabulary=dict(bands=("LWIR", "NIR", "SWIR", "MWIR")))
    assert ds.metainfo["classes"] == ("Target",) and ds.metainfo["bands"][-1] == "MWIR"
    xml = root / "Annotations" / "a.xml"
    xml.write_text(xml.read_text().replace("<band_type>LWIR", "<band_type>MWIR"))
    assert VOCMetaDataset(data_root=str(root), vocabulary=dict(bands=("LWIR", "MWIR")))[0]["band"] == "MWIR"
    with pytest.raises(
        MetadataError, match=rf"a\.xml.*'band' has unknown value 'MWIR'; valid values: {VALID_BANDS}"
    ):
        VOCMetaDataset(data_root=str(root))
    assert VOCMetaDataset(data_root=str(root), vocabulary=dict(allow_unknown=True))[0]["band"] == "unknown"
    xml.write_text(xml.read_text().replace("<view>Air</view>", ""))
    with pytest.raises(
        MetadataError,
        match=r"a\.xml.*'platform' \(<view>\) is missing; valid values: \['Air', 'Space', 'Land'\]",
    ):
        VOCMetaDataset(data_root=str(root), vocabulary=dict(allow_unknown=True))
    os.remove(root / "PNGImages" / "a.png")
    with pytest.raises(FileNotFoundError, match=r"listed in '.*train\.txt' do not exist.*PNGImages/a\.png"):
        VOCMetaDataset(
            data_root=str(root), meta_defaults=dict(platform="Air"), vocabulary=dict(allow_unknown=True)
        )
    os.remove(xml)
    with pytest.raises(FileNotFoundError, match=r"annotation file not found: '.*Annotations/a\.xml'"):
        VOCMetaDataset(data_root=str(root))


# --------------------------------------------------------------------------- pipeline + training
@pytest.fixture()
def mmdet_scope():
    """Pipelines/models are built in mmdet's scope (a config's ``default_scope='mmdet'``)."""
    from mmdet.utils import register_all_modules
    from mmengine.registry import DefaultScope

    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope("mmdet"):
        yield


def _pipeline(scale: tuple[int, int]) -> list[dict]:
    return [
        dict(type="LoadIRImageFromFile"),
        dict(type="LoadAnnotations", with_bbox=True),
        dict(type="Resize", scale=scale, keep_ratio=True),
        dict(type="RandomFlip", prob=0.0),
        dict(type="PackDetInputs", meta_keys=META_KEYS_TO_PACK),
    ]


def test_pipeline_packs_original_size_metadata(tmp_path: Path, mmdet_scope: None) -> None:
    items = {
        "big": (ImageMeta("Space", "NIR", 40, 20), np.array([[4, 2, 8, 6]], np.float32)),
        "empty": (ImageMeta("Land", "SWIR", 30, 30), np.zeros((0, 4), np.float32)),
    }
    root = _voc_tree(tmp_path / "voc", items)
    ds = VOCMetaDataset(data_root=str(root), pipeline=_pipeline((80, 80)))
    assert len(ds) == 2  # the empty-target image is not filtered out
    big, empty = ds[0], ds[1]
    meta = big["data_samples"].metainfo
    assert {k: meta[k] for k in ("platform", "band", "width", "height")} == dict(
        platform="Space", band="NIR", width=40, height=20
    )
    assert meta["img_shape"] == (40, 80) and meta["ori_shape"] == (20, 40)  # resized ×2, metadata not
    assert set(META_KEYS_TO_PACK) - {"true_platform", "true_band"} <= set(meta)  # true_*: counterfactuals only
    assert "true_platform" not in meta
    torch.testing.assert_close(
        big["data_samples"].gt_instances.bboxes.tensor, torch.tensor([[8.0, 4, 16, 12]])
    )
    assert big["inputs"].shape == (3, 40, 80) and big["inputs"].dtype == torch.uint8
    em = empty["data_samples"]
    assert em.gt_instances.bboxes.tensor.shape == (0, 4)
    assert (em.metainfo["platform"], em.metainfo["band"], em.metainfo["width"]) == ("Land", "SWIR", 30)
    from auxdet.metadata import metas_from_data_samples

    batch = metas_from_data_samples([big["data_samples"], em], Vocabulary())
    assert batch.width.tolist() == [40, 30] and batch.platform.tolist() == [1, 2]


def test_empty_target_image_trains(tmp_path: Path, mmdet_scope: None) -> None:
    """A batch with a target-free image goes through a (tiny) Faster R-CNN loss and backward."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.config import ConfigDict
    from mmengine.dataset import pseudo_collate

    register_all_modules(init_default_scope=False)
    items = {
        "t": (ImageMeta("Air", "LWIR", 64, 64), np.array([[10, 10, 20, 22]], np.float32)),
        "e": (ImageMeta("Air", "LWIR", 64, 64), np.zeros((0, 4), np.float32)),
    }
    ds = VOCMetaDataset(data_root=str(_voc_tree(tmp_path / "voc", items)), pipeline=_pipeline((64, 64)))
    c = 16
    model = MODELS.build(
        ConfigDict(
            type="FasterRCNN",
            data_preprocessor=dict(
                type="DetDataPreprocessor", mean=[0.0] * 3, std=[255.0] * 3, pad_size_divisor=32
            ),
            backbone=dict(
                type="ResNet", depth=18, base_channels=8, out_indices=(0, 1, 2, 3), norm_eval=False
            ),
            neck=dict(type="FPN", in_channels=[8, 16, 32, 64], out_channels=c, num_outs=4),
            rpn_head=dict(
                type="RPNHead",
                in_channels=c,
                feat_channels=c,
                anchor_generator=dict(
                    type="AnchorGenerator", scales=[2], ratios=[1.0], strides=[4, 8, 16, 32]
                ),
                bbox_coder=dict(type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4, target_stds=[1.0] * 4),
                loss_cls=dict(type="CrossEntropyLoss", use_sigmoid=True),
                loss_bbox=dict(type="L1Loss"),
            ),
            roi_head=dict(
                type="StandardRoIHead",
                bbox_roi_extractor=dict(
                    type="SingleRoIExtractor",
                    roi_layer=dict(type="RoIAlign", output_size=7, sampling_ratio=0),
                    out_channels=c,
                    featmap_strides=[4, 8, 16, 32],
                ),
                bbox_head=dict(
                    type="Shared2FCBBoxHead",
                    in_channels=c,
                    fc_out_channels=32,
                    num_classes=1,
                    bbox_coder=dict(
                        type="DeltaXYWHBBoxCoder", target_means=[0.0] * 4, target_stds=[0.1, 0.1, 0.2, 0.2]
                    ),
                    loss_cls=dict(type="CrossEntropyLoss"),
                    loss_bbox=dict(type="L1Loss"),
                ),
            ),
            train_cfg=dict(
                rpn=dict(
                    assigner=dict(type="MaxIoUAssigner", pos_iou_thr=0.7, neg_iou_thr=0.3, min_pos_iou=0.3),
                    sampler=dict(type="RandomSampler", num=64, pos_fraction=0.5, add_gt_as_proposals=False),
                    allowed_border=-1,
                    pos_weight=-1,
                    debug=False,
                ),
                rpn_proposal=dict(
                    nms_pre=200, max_per_img=50, nms=dict(type="nms", iou_threshold=0.7), min_bbox_size=0
                ),
                rcnn=dict(
                    assigner=dict(type="MaxIoUAssigner", pos_iou_thr=0.5, neg_iou_thr=0.5, min_pos_iou=0.5),
                    sampler=dict(type="RandomSampler", num=32, pos_fraction=0.25, add_gt_as_proposals=True),
                    pos_weight=-1,
                    debug=False,
                ),
            ),
            test_cfg=dict(
                rpn=dict(
                    nms_pre=200, max_per_img=50, nms=dict(type="nms", iou_threshold=0.7), min_bbox_size=0
                ),
                rcnn=dict(score_thr=0.0, nms=dict(type="nms", iou_threshold=0.5), max_per_img=10),
            ),
        )
    )
    model.train()
    data = model.data_preprocessor(pseudo_collate([ds[1], ds[0]]), True)  # empty image first
    assert data["data_samples"][0].gt_instances.bboxes.shape[0] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        losses = model.loss(data["inputs"], data["data_samples"])
    total, log_vars = model.parse_losses(losses)
    assert {"loss_rpn_cls", "loss_cls", "loss_bbox"} <= set(log_vars)
    assert torch.isfinite(total)
    total.backward()
    assert model.backbone.conv1.weight.grad is not None


@pytest.mark.parametrize("mode", ["swap", "shuffle"])
def test_metadata_counterfactual_shows_other_metadata_and_keeps_the_truth(tmp_path: Path, mode: str, mmdet_scope: None) -> None:
    items = {
        f"i{k}": (ImageMeta(p, b, 32 + 8 * k, 32), np.array([[4, 4, 9, 9]], np.float32))
        for k, (p, b) in enumerate([("Air", "LWIR"), ("Land", "LWIR"), ("Space", "NIR"), ("Space", "SWIR")])
    }
    root = _voc_tree(tmp_path / "voc", items)
    plain = VOCMetaDataset(data_root=str(root), pipeline=_pipeline((64, 64)))
    cf = VOCMetaDataset(data_root=str(root), pipeline=_pipeline((64, 64)),
                        metadata_counterfactual=dict(mode=mode, seed=1))
    truth = [plain[i]["data_samples"].metainfo for i in range(4)]
    shown = [cf[i]["data_samples"].metainfo for i in range(4)]
    for t, s in zip(truth, shown, strict=True):
        assert (s["true_platform"], s["true_band"]) == (t["platform"], t["band"])
        assert s["img_path"] == t["img_path"] and np.array_equal(s["ori_shape"], t["ori_shape"])  # same image
    seen = [(s["platform"], s["band"]) for s in shown]
    if mode == "swap":
        assert seen == [("Land", "LWIR"), ("Air", "LWIR"), ("Space", "SWIR"), ("Space", "NIR")]
    else:  # a permutation of the same records, not the identity
        assert sorted(seen) == sorted((t["platform"], t["band"]) for t in truth) and seen != [
            (t["platform"], t["band"]) for t in truth]
        assert sorted(s["width"] for s in shown) == sorted(t["width"] for t in truth)
    with pytest.raises(ValueError, match="swap"):
        VOCMetaDataset(data_root=str(root), pipeline=_pipeline((64, 64)), metadata_counterfactual=dict(mode="flip"))


def test_shuffle_is_a_derangement() -> None:
    from auxdet.data.counterfactual import derangement

    for n in (2, 3, 5, 240):
        for seed in range(30):
            p = derangement(n, seed)
            assert sorted(p.tolist()) == list(range(n)) and not (p == np.arange(n)).any()
