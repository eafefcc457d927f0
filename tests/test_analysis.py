"""Metadata analysis (Fig. 1 / Appendix A): the real table, the 97.93 % claim, target contrast, figures."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from auxdet import analysis as A  # noqa: E402
from auxdet.data.sirst import sirst_v2_samples  # noqa: E402
from auxdet.data.statistics import read_statistics  # noqa: E402
from auxdet.metadata import MetadataError  # noqa: E402


@pytest.fixture(scope="module")
def meta(wideirstd_metadata_dir: Path) -> A.MetadataTable:
    return A.load_metadata_table(wideirstd_metadata_dir)


@pytest.fixture(scope="module")
def raw_train(wideirstd_metadata_dir: Path) -> list[list[str]]:
    """The train rows read independently with the csv module (reference for the pandas code)."""
    with open(wideirstd_metadata_dir / "statistics.txt", newline="") as fh:
        rows = {r[0]: r for r in csv.reader(fh, delimiter="\t")}
    ids = (wideirstd_metadata_dir / "train.txt").read_text().split()
    return [rows[i] for i in ids if i in rows]


# ---------------------------------------------------------------- real table
def test_real_table_counts_add_up(meta: A.MetadataTable, raw_train: list[list[str]]) -> None:
    assert meta.source == "real"
    cov = A.split_coverage(meta).set_index("split")
    assert cov.loc["train", "ids"] == 7000 and cov.loc["test", "ids"] == 2000  # the paper's 7000 / 2000
    assert (cov["in_table"] + cov["missing"] == cov["ids"]).all()
    train = meta.split("train")
    assert len(train) == len(raw_train) == cov.loc["train", "in_table"]
    assert cov.loc["train", "missing"] == 7000 - len(raw_train) > 0  # some split ids lack a statistics row
    counts = A.platform_band_counts(train)
    assert counts["count"].sum() == len(train)
    assert counts["percent"].sum() == pytest.approx(100.0)
    assert counts.groupby("platform").percent_of_platform.sum().to_numpy() == pytest.approx(100.0)
    assert len(counts) == 9  # every platform × band cell, zeros included
    ref = pd.Series([(r[1], r[2]) for r in raw_train]).value_counts()
    for _, r in counts.iterrows():
        assert r["count"] == ref.get((r.platform, r.band), 0)


def test_space_nir_claim_is_recomputed_with_bounds(meta: A.MetadataTable, raw_train: list[list[str]]) -> None:
    claim = A.space_nir_claim(meta)
    space = [r for r in raw_train if r[1] == "Space"]
    nir = sum(r[2] == "NIR" for r in space)
    assert 0.0 <= claim.computed_percent <= 100.0
    assert claim.computed_percent == pytest.approx(100.0 * nir / len(space))
    assert claim.paper_percent == 97.93
    lo, hi = claim.bounds_percent
    assert lo <= claim.computed_percent <= hi
    assert lo == pytest.approx(100.0 * nir / (len(space) + claim.missing_ids))
    # k / (n + x) reproduces the paper's number
    x = claim.missing_non_nir_needed
    assert 100.0 * nir / (len(space) + x) == pytest.approx(97.93)
    assert claim.paper_within_bounds == (lo <= 97.93 <= hi)


def test_resolution_and_coupling(meta: A.MetadataTable, raw_train: list[list[str]]) -> None:
    train = meta.split("train")
    res = A.resolution_distribution(train)
    assert res["count"].sum() == len(train)
    assert res.groupby("platform").percent_of_platform.sum().to_numpy() == pytest.approx(100.0)
    coup = A.platform_resolution_coupling(train).set_index("platform")
    air = [r for r in raw_train if r[1] == "Air"]
    share = 100.0 * sum(r[3] == "256" and r[4] == "256" for r in air) / len(air)
    assert coup.loc["Air", "share_256x256"] == pytest.approx(share)
    assert coup.loc["Air", "top_resolution"] == "256×256"
    given = A.platform_given(train, band="LWIR", width=256, height=256)
    assert given["count"].sum() == sum(r[2] == "LWIR" and r[3] == "256" and r[4] == "256" for r in raw_train)


def test_target_sizes(meta: A.MetadataTable) -> None:
    train = meta.split("train")
    dist = A.target_size_distribution(train)
    assert dist["count"].sum() == len(train)
    assert set(dist.size_class) == set(A.SIZE_CLASSES)
    summary = A.target_area_summary(train).set_index("platform")
    assert summary["images"].sum() == len(train)
    assert (summary["with_targets"] <= summary["images"]).all()


def test_size_class_thresholds() -> None:
    cls = A.size_class([0, 1, 9, 10, 81, 82, 5400])
    assert list(cls) == ["none", "point", "point", "spot", "spot", "extended", "extended"]
    with pytest.raises(ValueError, match="non-negative"):
        A.size_class([3, -1])


def test_redundancy_on_a_constructed_table() -> None:
    # platform is a function of resolution; band only separates Space
    df = pd.DataFrame({
        "platform": ["Air", "Air", "Land", "Land", "Space", "Space"],
        "band": ["LWIR", "LWIR", "LWIR", "LWIR", "NIR", "NIR"],
        "width": [256, 256, 512, 512, 1024, 1024], "height": [256, 256, 512, 512, 1024, 1024],
    })  # fmt: skip
    r = A.metadata_redundancy(df).set_index("quantity")["bits"]
    assert r["H(platform)"] == pytest.approx(np.log2(3))
    assert r["H(platform | resolution)"] == pytest.approx(0.0)
    assert r["H(platform | band)"] == pytest.approx(2 / 3)  # LWIR (4 of 6 images): Air or Land, 1 bit


# ---------------------------------------------------------------- reading / fallback
def test_bad_statistics_lines_are_named(tmp_path: Path) -> None:
    f = tmp_path / "statistics.txt"
    f.write_text("00001\tAir\tLWIR\t256\t256\t9\n00002\tAir\tMWIR\t256\t256\t9\n")
    with pytest.raises(MetadataError, match=r"statistics\.txt', line 2 \(id '00002'\).*'band'.*'MWIR'"):
        read_statistics(f)
    f.write_text("00001\tAir\tLWIR\t256\t256\t9\n00002\tAir\tLWIR\t256\tx\t9\n")
    with pytest.raises(MetadataError, match=r"line 2 \(id '00002'\).*'height'.*'x'"):
        read_statistics(f)
    f.write_text("00001\tair\t lwir\t256\t256\t9\n")
    assert read_statistics(f).iloc[0][["platform", "band"]].tolist() == ["Air", "LWIR"]


def test_missing_split_ids_are_reported(tmp_path: Path) -> None:
    (tmp_path / "statistics.txt").write_text("1\tAir\tLWIR\t256\t256\t9\n2\tSpace\tNIR\t1024\t1024\t0\n")
    (tmp_path / "train.txt").write_text("1\n2\n3\n")
    m = A.load_metadata_table(tmp_path)
    assert m.missing == {"train": ["3"]} and m.split_sizes == {"train": 3}
    assert "1 missing" in m.describe()
    with pytest.raises(ValueError, match="unknown split 'val'"):
        m.split("val")


def test_synthetic_fallback_is_labelled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FileNotFoundError, match="statistics"):
        A.load_metadata_table(tmp_path, synthetic_fallback=False)
    monkeypatch.setattr(A.metadata_table, "SYNTHETIC_FUNCTION", "auxdet.no_such_module:table")
    with pytest.raises(A.SyntheticUnavailable, match="no_such_module"):
        A.load_metadata_table(tmp_path)
    fake = pd.DataFrame({"id": ["s1"], "platform": ["Air"], "band": ["LWIR"], "width": [256], "height": [256],
                         "target_area": [9]})  # fmt: skip
    monkeypatch.setattr(A.metadata_table, "_synthetic_function", lambda spec, why: lambda **kw: fake)
    m = A.load_metadata_table(tmp_path)
    assert m.source == "synthetic" and list(m.table.columns) == list(A.COLUMNS) and len(m.split("train")) == 1


# ---------------------------------------------------------------- contrast
def _square_scene() -> tuple[np.ndarray, np.ndarray]:
    img = np.full((40, 50), 20.0)
    img[10:15, 10:15] = 100.0
    mask = np.zeros(img.shape, dtype=np.uint8)
    mask[10:15, 10:15] = 255
    return img, mask


def test_bright_square_on_flat_background_has_known_contrast() -> None:
    img, mask = _square_scene()
    for targets in (mask, np.array([[10.0, 10.0, 15.0, 15.0]])):
        r = A.target_contrast(img, targets, ring=8, gap=2).iloc[0]
        assert (r.target_mean, r.bg_mean, r.bg_std, r.contrast, r.lcr) == (100.0, 20.0, 0.0, 80.0, 5.0)
        assert r.target_pixels == 25 and r.bg_pixels == (5 + 20) ** 2 - (5 + 4) ** 2  # ring of 544 px
        assert np.isposinf(r.scr)
    # RGB input is averaged; a darker target gives a negative contrast
    r = A.target_contrast(np.repeat((120.0 - img)[..., None], 3, axis=2), mask).iloc[0]
    assert r.contrast == -80.0 and np.isneginf(r.scr)


def _reference(img: np.ndarray, tmask: np.ndarray, box: tuple[int, int, int, int], ring: int, gap: int) -> dict:
    """Brute force: explicit Chebyshev-distance ring around the box, other targets excluded."""
    r0, c0, r1, c1 = box
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    dy = np.maximum(np.maximum(r0 - yy, yy - (r1 - 1)), 0)
    dx = np.maximum(np.maximum(c0 - xx, xx - (c1 - 1)), 0)
    d = np.maximum(dx, dy)
    ring_px = (d > gap) & (d <= gap + ring) & ~tmask
    bg = img[ring_px]
    return dict(bg_mean=bg.mean(), bg_std=bg.std(), bg_pixels=ring_px.sum())


def test_contrast_matches_brute_force_with_noise_borders_and_neighbours() -> None:
    rng = np.random.default_rng(0)
    img = rng.normal(50.0, 5.0, (60, 70))
    mask = np.zeros(img.shape, dtype=bool)
    mask[1:4, 2:5] = True  # at the top-left border: ring clipped
    mask[30:34, 30:33] = True
    mask[30:32, 37:39] = True  # a neighbour inside the first one's ring: excluded from it
    img[mask] += 40.0
    df = A.target_contrast(img, mask, ring=6, gap=1)
    assert len(df) == 3
    for r in df.itertuples():
        ref = _reference(img, mask, (r.y0, r.x0, r.y1, r.x1), 6, 1)
        assert r.bg_pixels == ref["bg_pixels"]
        assert r.bg_mean == pytest.approx(ref["bg_mean"]) and r.bg_std == pytest.approx(ref["bg_std"])
        target = img[r.y0 : r.y1, r.x0 : r.x1][mask[r.y0 : r.y1, r.x0 : r.x1]]
        assert r.target_mean == pytest.approx(target.mean()) and r.target_peak == pytest.approx(target.max())
        assert r.scr == pytest.approx((target.mean() - ref["bg_mean"]) / ref["bg_std"])


def test_contrast_input_errors() -> None:
    img, mask = _square_scene()
    with pytest.raises(ValueError, match="mask matching the image"):
        A.target_contrast(img, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="x1<x2"):
        A.target_contrast(img, np.array([[5.0, 5.0, 5.0, 9.0]]))
    with pytest.raises(ValueError, match="outside"):
        A.target_contrast(img, np.array([[60.0, 5.0, 70.0, 9.0]]))
    with pytest.raises(ValueError, match="ring must be"):
        A.target_contrast(img, mask, ring=0)
    assert A.target_contrast(img, np.zeros_like(mask)).empty


def test_contrast_table_copies_metadata() -> None:
    img, mask = _square_scene()
    samples = [dict(image_id="a", platform="Air", band="LWIR", image=img, mask=mask),
               dict(image_id="b", platform="Space", band="NIR", image=img, boxes=np.array([[10, 10, 15, 15.0]]))]  # fmt: skip
    df = A.contrast_table(samples, progress=False)
    assert list(df.platform) == ["Air", "Space"] and (df.contrast == 80.0).all()
    s = A.summarise_contrast(df).set_index("platform")
    assert s.loc["Air", "flat_rings"] == 1 and s.loc["Space", "contrast_median"] == 80.0


def test_sirst_v2_contrast_on_real_images(sirst_v2_dir: Path) -> None:
    df = A.contrast_table(sirst_v2_samples(sirst_v2_dir, limit=12, seed=1), progress=False)
    assert len(df) >= 12 and set(df.platform) == {"Land"} and set(df.band) == {"LWIR"}
    assert df.target_mean.between(0, 1).all() and df.bg_mean.between(0, 1).all()
    assert (df.contrast.median() > 0) and (df.bg_pixels > 0).all()


def test_synthetic_contrast_samples_cover_every_domain() -> None:
    samples = list(A.synthetic_contrast_samples(2, seed=3, max_size=96))
    assert len(samples) == 8
    assert {(s["platform"], s["band"]) for s in samples} == {
        ("Air", "LWIR"), ("Land", "LWIR"), ("Space", "NIR"), ("Space", "SWIR")
    }
    assert all(max(s["image"].shape) <= 96 and s["mask"].any() and s["source"] == "synthetic" for s in samples)
    df = A.contrast_table(samples, progress=False)
    assert set(df.platform) == {"Air", "Land", "Space"} and df.target_mean.between(0, 1).all()


# ---------------------------------------------------------------- figures
def test_figure_panels_and_atomic_save(tmp_path: Path) -> None:
    from auxdet.visualisation import fig1, save_figure

    table = pd.DataFrame({
        "platform": ["Air"] * 3 + ["Space"] * 2 + ["Land"], "band": ["LWIR"] * 3 + ["NIR", "SWIR", "LWIR"],
        "width": [256, 256, 300, 1024, 512, 640], "height": [256, 256, 200, 1024, 512, 512],
        "target_area": [9, 40, 100, 0, 70, 5],
    })  # fmt: skip
    counts = A.platform_band_counts(table)
    fig = fig1.plot_platform_band_heatmap(counts)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "3\n(50.00 %)" in texts and "0\n(0.00 %)" in texts
    img, mask = _square_scene()
    noisy = img + np.random.default_rng(0).normal(0, 1, img.shape)
    contrast = A.contrast_table([dict(platform=p, band=b, image=noisy, mask=mask)
                                 for p, b in [("Air", "LWIR"), ("Land", "LWIR"), ("Space", "NIR")]], progress=False)  # fmt: skip
    fig = fig1.figure1(contrast, counts, A.resolution_distribution(table), table)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 4 and len(fig.axes) == 5 and panels[2].get_xscale() == "log"  # + (b)'s colour bar
    # (c) draws the paper's 256²–6000² range and names each platform's top size in the legend, not over the data
    assert panels[2].get_xlim()[1] > 6000 and not panels[2].texts
    assert any("top 256×256" in t.get_text() for t in panels[2].get_legend().get_texts())
    paths = save_figure(fig, "fig1_test", directory=tmp_path)
    assert [p.name for p in paths] == ["fig1_test.png", "fig1_test.svg"]
    assert all(p.stat().st_size > 1000 for p in paths) and sorted(tmp_path.iterdir()) == sorted(paths)
    with pytest.raises(ValueError, match="plain file stem"):
        save_figure(fig, "../escape", directory=tmp_path)
    with pytest.raises(ValueError, match="metric"):
        fig1.plot_contrast(contrast, metric="snr")
    matplotlib.pyplot.close("all")


def test_domain_probe_measures_the_ambiguity_knob() -> None:
    """Global image statistics recover the domain at ambiguity 0 and not at 1 (balanced mix, chance ≈ 25 %)."""
    from auxdet.analysis import probe_synthetic
    from auxdet.data.synthetic import SynthConfig

    acc = {}
    for a in (0.0, 1.0):
        df = probe_synthetic(SynthConfig(max_size=64, min_target_scale=1.0, ambiguity=a, domain_mix="balanced"), 320)
        overall = df[df["domain"] == "overall"].iloc[0]
        acc[a] = (overall["accuracy"], overall["chance"])
    assert acc[0.0][0] > 0.7
    assert acc[1.0][0] < acc[1.0][1] + 0.15


def test_domain_probe_errors_on_unseen_test_domain() -> None:
    import numpy as np

    from auxdet.analysis import domain_probe

    x = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="never seen"):
        domain_probe(x, ["A"] * 10 + ["B"] * 10, x[:2], ["C", "A"])
