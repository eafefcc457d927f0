"""Tests of the synthetic omni-domain dataset (auxdet.data.synthetic) and the baked domain mix (domains)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pandas as pd
import pytest

from auxdet.data import domains, synthetic
from auxdet.data.domains import DOMAIN_STATS, compute_domain_stats, domain_key, sample_meta
from auxdet.data.statistics import STATISTICS_COLUMNS, read_statistics
from auxdet.data.synthetic import LOOKS, SynthConfig, generate_dataset, generate_sample, render_image
from auxdet.data.voc_io import read_split, read_voc_annotation
from auxdet.metadata import ImageMeta, MetadataError

TINY = SynthConfig(size=64)
EXPECTED_POLARITY = {"Air/LWIR": +1, "Land/LWIR": +1, "Space/NIR": +1, "Space/SWIR": -1}
_RING = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))


def _components(mask: np.ndarray) -> list[np.ndarray]:
    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    return [labels == i for i in range(1, n)]


def _bbox(component: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(component)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def _local_contrast(img: np.ndarray, component: np.ndarray) -> float:
    """Mean inside a mask component minus the mean of a thin ring 2–3 px around it."""
    m = component.astype(np.uint8)
    ring = cv2.dilate(m, _RING).astype(bool) & ~cv2.dilate(m, np.ones((3, 3), np.uint8)).astype(bool)
    return float(img[component].astype(float).mean() - img[ring].astype(float).mean())


# ----------------------------------------------------------------------------- baked domain statistics


def test_baked_stats_equal_real_table(wideirstd_metadata_dir):
    stats = compute_domain_stats(wideirstd_metadata_dir / "statistics.txt", "train.txt")
    assert stats == DOMAIN_STATS


def test_baked_stats_are_consistent():
    doms = DOMAIN_STATS["domains"]
    assert sum(d["count"] for d in doms.values()) == DOMAIN_STATS["num_images"] == 6882
    for d in doms.values():
        assert sum(c for _, _, c in d["resolutions"]) + d["other"]["count"] == d["count"]
        q = d["target_area"]["quantiles"]
        assert len(q) == len(domains.AREA_LEVELS) and q == sorted(q) and q[0] > 0
    # the couplings named in the paper (Appendix A / Fig. 1)
    assert doms["Air/LWIR"]["resolutions"][0][:2] == [256, 256]
    assert doms["Air/LWIR"]["resolutions"][0][2] / doms["Air/LWIR"]["count"] > 0.9
    space = [d for d in doms.values() if d["platform"] == "Space"]
    assert doms["Space/NIR"]["count"] / sum(d["count"] for d in space) > 0.97
    table = domains.domain_table()
    assert table["proportion"].sum() == pytest.approx(1.0)


def test_compute_domain_stats_lumps_rare_resolutions(tmp_path):
    rows = [(f"{i:05d}", "Air", "LWIR", 256, 256, 9) for i in range(6)]
    rows += [(f"{i + 6:05d}", "Air", "LWIR", 300 + i, 200, 0) for i in range(3)]
    rows += [("00009", "Land", "LWIR", 640, 512, 40)]
    path = tmp_path / "statistics.txt"
    pd.DataFrame(rows).to_csv(path, sep="\t", header=False, index=False)
    (tmp_path / "train.txt").write_text("".join(f"{i:05d}\n" for i in range(10)) + "99999\n")
    stats = compute_domain_stats(path, "train.txt")
    assert stats["num_images"] == 10 and stats["missing_ids"] == 1
    air = stats["domains"]["Air/LWIR"]
    assert air["resolutions"] == [[256, 256, 6]] and air["other"]["count"] == 3
    assert air["other"]["width"][0] == 300 and air["other"]["width"][-1] == 302
    assert air["target_area"]["empty_fraction"] == round(3 / 9, 4)
    assert stats["domains"]["Land/LWIR"]["other"] == {"count": 1, "width": [640.0] * 7, "aspect": [0.8] * 7}
    assert list(read_statistics(path).columns) == [*STATISTICS_COLUMNS, "line"]


def test_read_statistics_rejects_bad_values(tmp_path):
    path = tmp_path / "statistics.txt"
    path.write_text("00001\tAir\tLWIR\t256\tabc\t9\n")
    with pytest.raises(ValueError, match="height.*abc"):
        read_statistics(path)


def test_sampled_metas_follow_the_baked_mix():
    rng = np.random.default_rng(123)
    metas = [sample_meta(rng) for _ in range(800)]
    n = len(metas)
    keys = pd.Series([domain_key(m.platform, m.band) for m in metas])
    for key, d in DOMAIN_STATS["domains"].items():
        p = d["count"] / DOMAIN_STATS["num_images"]
        assert abs((keys == key).sum() - n * p) <= 4 * np.sqrt(n * p * (1 - p)) + 1, key
    air = [m for m in metas if m.platform == "Air"]
    share_256 = np.mean([(m.width, m.height) == (256, 256) for m in air])
    assert abs(share_256 - 1007 / 1097) < 0.08
    space = [m for m in metas if m.band == "NIR"]
    share_1024 = np.mean([(m.width, m.height) == (1024, 1024) for m in space])
    assert abs(share_1024 - 3777 / 4550) < 0.06
    land = [m for m in metas if m.platform == "Land" and (m.width, m.height) not in {(512, 512), (640, 512)}]
    assert land and all(100 < m.width <= 1024 for m in land)


def test_synthetic_table_matches_real_target_statistics():
    table = synthetic.synthetic_metadata_table(500, seed=0)
    assert list(table.columns) == list(STATISTICS_COLUMNS)
    nir = table[(table.platform == "Space") & (table.band == "NIR")]
    assert abs((nir.target_area == 0).mean() - 0.6369) < 0.1
    for key in ("Air/LWIR", "Land/LWIR"):
        p, b = key.split("/")
        areas = table[(table.platform == p) & (table.band == b)].target_area
        assert (areas > 0).all()
        real_median = DOMAIN_STATS["domains"][key]["target_area"]["median"]
        assert 0.6 * real_median < areas.median() < 1.5 * real_median, key


# ----------------------------------------------------------------------------- generator


def test_generation_is_deterministic_and_seed_dependent():
    a, b = generate_sample(3, seed=0, config=TINY), generate_sample(3, seed=0, config=TINY)
    assert a.image.tobytes() == b.image.tobytes() and a.mask.tobytes() == b.mask.tobytes()
    assert np.array_equal(a.boxes, b.boxes) and a.meta == b.meta
    others = [generate_sample(3, seed=s, config=TINY).image for s in (1, 2)]
    assert all(o.tobytes() != a.image.tobytes() for o in others)
    assert generate_sample(4, seed=0, config=TINY).image.tobytes() != a.image.tobytes()


def test_unknown_domain_is_rejected():
    with pytest.raises(MetadataError, match="Land.*NIR"):
        render_image(ImageMeta("Land", "NIR", 64, 64), np.random.default_rng(0))
    with pytest.raises(ValueError, match="scale"):
        SynthConfig(scale=0)


@pytest.mark.parametrize(
    ("cfg", "native", "expected"),
    [
        (SynthConfig(scale=0.25), (1024, 740), (256, 185)),
        (SynthConfig(scale=0.5, max_size=300), (1024, 1024), (300, 300)),
        (SynthConfig(max_size=300), (256, 256), (256, 256)),
        (SynthConfig(size=96), (720, 480), (96, 96)),
    ],
)
def test_rendered_size(cfg, native, expected):
    assert cfg.rendered_size(*native)[:2] == expected


def test_scale_keeps_metadata_consistent_with_the_image():
    for cfg in (SynthConfig(scale=0.125), SynthConfig(scale=0.2, max_size=100), SynthConfig(size=48)):
        for i in range(6):
            s = generate_sample(i, seed=5, config=cfg)
            assert s.image.shape == (s.meta.height, s.meta.width) == s.mask.shape
            assert (s.meta.width, s.meta.height) == cfg.rendered_size(s.native_meta.width, s.native_meta.height)[:2]
            assert (s.meta.platform, s.meta.band) == (s.native_meta.platform, s.native_meta.band)
            assert s.info["native_size"] == (s.native_meta.width, s.native_meta.height)
    # the native draw does not depend on the rendering size
    assert generate_sample(2, 5, SynthConfig(size=48)).native_meta == generate_sample(2, 5).native_meta


def test_min_target_scale_floors_the_target_scale_only():
    shrunk, floored = SynthConfig(max_size=128), SynthConfig(max_size=128, min_target_scale=0.5)
    # a 1024² Space image shrunk 8×: the image shrinks alike, its targets only to half their native size
    assert shrunk.rendered_size(1024, 1024) == (128, 128, 0.125)
    assert floored.rendered_size(1024, 1024) == (128, 128, 0.5)
    assert floored.rendered_size(256, 256) == (128, 128, 0.5)  # already at the floor: unchanged
    assert SynthConfig(min_target_scale=0.5).rendered_size(256, 256) == (256, 256, 1.0)  # never shrinks targets
    with pytest.raises(ValueError, match="min_target_scale"):
        SynthConfig(min_target_scale=0)
    # same image draw (metadata, domain), larger targets; masks still match the boxes
    areas = {}
    for cfg in (shrunk, floored):
        samples = [generate_sample(i, seed=3, config=cfg) for i in range(30)]
        areas[cfg] = [a for s in samples for a in (b["area"] for b in s.info["targets"])
                      if s.native_meta.width >= 1000]
        for s in samples:
            assert len(_components(s.mask)) == len(s.boxes)
    assert all(f >= s for f, s in zip(areas[floored], areas[shrunk], strict=True))
    assert sum(areas[floored]) >= 8 * sum(areas[shrunk])  # ~64× in area where no floor or cap binds


def test_masks_and_boxes_are_consistent():
    cfg = SynthConfig(scale=0.125, empty_prob=0.0)
    n_boxes = 0
    for i in range(24):
        s = generate_sample(i, seed=11, config=cfg)
        comps = _components(s.mask)
        assert set(np.unique(s.mask)) <= {0, 1}
        assert len(comps) == len(s.boxes) == len(s.info["targets"]), i
        assert sorted(map(_bbox, comps)) == sorted(s.boxes.tolist()), i
        assert s.boxes.dtype == np.float32
        n_boxes += len(s.boxes)
    assert n_boxes >= 24


def test_targets_have_the_domain_polarity_and_distractors_copy_other_domains():
    cfg = SynthConfig(empty_prob=0.0, scale=0.25)
    for key in LOOKS:
        platform, band = key.split("/")
        native = {"Air": 256, "Land": 512}.get(platform, 512 if band == "SWIR" else 1024)
        w, h, ts = cfg.rendered_size(native, native)
        n = 0
        for i in range(8):
            img, mask, boxes, info = render_image(ImageMeta(platform, band, w, h), synthetic.image_rng(7, i),
                                                  target_scale=ts, config=cfg)
            for comp in _components(mask):
                c = _local_contrast(img, comp)
                assert np.sign(c) == EXPECTED_POLARITY[key] and abs(c) > 3, (key, i, c)
                n += 1
            assert all(t["polarity"] == EXPECTED_POLARITY[key] for t in info["targets"])
            for d in info["distractors"]:
                assert d["look"] != key and d["polarity"] == EXPECTED_POLARITY[d["look"]]
        assert n >= 8, key
    # the same look is a target in one domain and clutter in another: platform decides within LWIR,
    # band decides within Space
    looks = {k: {look for look, _, _ in v} for k, v in synthetic.DISTRACTORS.items()}
    assert "Air/LWIR" in looks["Land/LWIR"] and "Land/LWIR" in looks["Air/LWIR"]
    assert "Air/LWIR" in looks["Space/SWIR"] and "Space/SWIR" in looks["Space/NIR"]
    assert EXPECTED_POLARITY["Space/NIR"] != EXPECTED_POLARITY["Space/SWIR"]
    # within LWIR the platform decides by shape: Land targets are more elongated than Air targets
    assert LOOKS["Land/LWIR"].aspect[1] > LOOKS["Air/LWIR"].aspect[1]


def test_band_noise_signatures():
    # SWIR has dead / hot pixels; LWIR column fixed-pattern noise (stripes)
    meta = ImageMeta("Space", "SWIR", 128, 128)
    _, _, _, info = render_image(meta, np.random.default_rng(0))
    assert info["noise"]["bad_pixels"] > 0
    _, _, _, info = render_image(ImageMeta("Air", "LWIR", 128, 128), np.random.default_rng(0))
    assert info["noise"]["column_fpn"] > 0


# ----------------------------------------------------------------------------- dataset on disk


def test_dataset_layout_loads_back(tmp_path):
    root = generate_dataset(tmp_path / "synth", 20, seed=3, size=64, progress=False)
    ids = []
    for name, expected in (("train", 14), ("val", 2), ("test", 4)):
        split = read_split(root / "ImageSets/Main" / f"{name}.txt")
        assert len(split) == expected
        ids += split
    assert sorted(ids) == [f"{i:05d}" for i in range(20)]
    stats = read_statistics(root / "statistics.txt")
    for i in (0, 7, 19):
        s = generate_sample(i, seed=3, config=SynthConfig(size=64))
        meta, boxes = read_voc_annotation(root / "Annotations" / f"{s.image_id}.xml")
        assert meta == s.meta
        np.testing.assert_array_equal(boxes, s.boxes)
        png = cv2.imread(str(root / "PNGImages" / f"{s.image_id}.png"), cv2.IMREAD_UNCHANGED)
        assert png.shape == (meta.height, meta.width) and png.tobytes() == s.image.tobytes()  # regenerable alone
        mask = cv2.imread(str(root / "Masks" / f"{s.image_id}.png"), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(mask > 0, s.mask > 0)
        row = stats.set_index("id").loc[s.image_id]
        assert (row.width, row.height, row.target_area) == (64, 64, int(s.mask.sum()))
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["params"]["num_images"] == 20 and manifest["version"] == synthetic.GENERATOR_VERSION
    # the cheap table agrees with what was rendered
    table = synthetic.synthetic_metadata_table(20, seed=3, config=SynthConfig(size=64))
    plain = stats[list(STATISTICS_COLUMNS)].astype({"id": str, "platform": str, "band": str})  # typed → plain
    pd.testing.assert_frame_equal(table, plain)


def test_identical_dataset_is_reused_and_changed_params_regenerate_with_overwrite(tmp_path):
    out = tmp_path / "synth"
    generate_dataset(out, 6, seed=0, size=48, progress=False)
    marker = out / "PNGImages" / "marker"
    marker.write_text("x")
    generate_dataset(out, 6, seed=0, size=48, progress=False)
    assert marker.exists()  # reused, not rewritten
    with pytest.raises(FileExistsError, match="other settings .seed 0 → 1.*overwrite"):
        generate_dataset(out, 6, seed=1, size=48, progress=False)
    with pytest.raises(FileExistsError, match="did not write .PNGImages/marker"):  # a file the user put there
        generate_dataset(out, 6, seed=1, size=48, progress=False, overwrite=True)
    assert marker.exists() and json.loads((out / "manifest.json").read_text())["params"]["seed"] == 0
    marker.unlink()
    generate_dataset(out, 6, seed=1, size=48, progress=False, overwrite=True)
    assert json.loads((out / "manifest.json").read_text())["params"]["seed"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["synth"]  # no temporary siblings left


def test_partial_run_never_replaces_a_good_dataset(tmp_path, monkeypatch):
    out = tmp_path / "synth"
    generate_dataset(out, 6, seed=0, size=48, progress=False)

    def snapshot() -> dict:
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    before = snapshot()
    real = synthetic.generate_sample

    def failing(index, seed=0, config=None):
        if index == 3:
            raise RuntimeError("simulated crash mid-generation")
        return real(index, seed, config)

    monkeypatch.setattr(synthetic.dataset, "generate_sample", failing)  # the name dataset.py calls
    with pytest.raises(RuntimeError, match="simulated crash"):
        generate_dataset(out, 6, seed=1, size=48, progress=False, overwrite=True)
    assert snapshot() == before  # every file of the good dataset untouched
    assert json.loads((out / "manifest.json").read_text())["params"]["seed"] == 0
    assert [p.name for p in tmp_path.iterdir()] == ["synth"]


def test_a_foreign_folder_is_not_replaced(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a synthetic dataset"):
        generate_dataset(out, 4, size=32, progress=False)
    assert (out / "notes.txt").read_text() == "keep me"


def test_command_line(tmp_path, capsys):
    root = synthetic.main(["--out", str(tmp_path / "cli"), "--num", "5", "--seed", "2", "--size", "40", "--quiet",
                           "--splits", "train=0.6,test=0.4"])
    assert capsys.readouterr().out.strip() == str(root)
    assert len(read_split(root / "ImageSets/Main/train.txt")) == 3
    assert len(read_split(root / "ImageSets/Main/test.txt")) == 2
    with pytest.raises(ValueError, match="splits"):
        generate_dataset(tmp_path / "bad", 4, size=32, splits={"train": 0.5}, progress=False)


# ----------------------------------------------------------------- the domain-ambiguity knob and the mix


def test_ambiguity_zero_is_the_generator_without_the_knob() -> None:
    for i in range(6):
        a, b = generate_sample(i, 3, SynthConfig(max_size=64)), generate_sample(i, 3, SynthConfig(max_size=64, ambiguity=0.0))
        assert np.array_equal(a.image, b.image) and a.meta == b.meta and not b.info["decoupled"]
        assert b.info["scene"] == b.info["domain"]


def test_full_ambiguity_decouples_every_scene_and_keeps_the_rules() -> None:
    cfg = SynthConfig(max_size=64, min_target_scale=1.0, ambiguity=1.0, domain_mix="balanced")
    samples = [generate_sample(i, 0, cfg) for i in range(120)]
    assert all(s.info["decoupled"] for s in samples)
    pairs = [(s.info["domain"], s.info["scene"]) for s in samples]
    assert sum(d != sc for d, sc in pairs) > 60  # scenes drawn independently of the domain (3/4 expected)
    for s in samples:  # targets keep their domain's look (polarity), distractors copy the other looks
        key = s.info["domain"]
        assert all(t["look"] == key and t["polarity"] == LOOKS[key].polarity for t in s.info["targets"])
        assert all(d["look"] in {look for look, _, _ in synthetic.DISTRACTORS[key]} for d in s.info["distractors"])
        assert f"{s.meta.platform}/{s.meta.band}" == key  # the metadata names the rule's domain


def test_partial_ambiguity_and_balanced_mix_frequencies() -> None:
    cfg = SynthConfig(max_size=32, ambiguity=0.5, domain_mix="balanced")
    table = [synthetic.render._metas(i, 1, cfg) for i in range(800)]
    decoupled = np.mean([scene is not None for *_, scene in table])
    assert 0.45 < decoupled < 0.55
    counts = pd.Series([f"{m.platform}/{m.band}" for _, _, m, _, _ in table]).value_counts(normalize=True)
    assert set(counts.index) == set(LOOKS) and (counts.between(0.2, 0.3)).all()
    real = pd.Series([f"{m.platform}/{m.band}" for _, _, m, _, _ in
                      (synthetic.render._metas(i, 1, SynthConfig(max_size=32)) for i in range(800))]).value_counts(
        normalize=True)
    assert real["Space/NIR"] > 0.55


def test_knob_validation() -> None:
    with pytest.raises(ValueError, match="ambiguity"):
        SynthConfig(ambiguity=1.5)
    with pytest.raises(ValueError, match="balanced"):
        SynthConfig(domain_mix="uniform")
