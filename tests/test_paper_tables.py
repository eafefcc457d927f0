"""The paper's Tables 1–9 as data: transcribed values, structure, and the paper's own arithmetic."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from auxdet.paper_tables import (
    AP50,
    D_PARAMS,
    FLOPS,
    PARAMS,
    RECALL,
    TABLE_NUMBERS,
    all_tables,
    consistency_report,
    paper_table,
    params_overhead,
)


def _row(df: pd.DataFrame, col: str, value: object) -> pd.Series:
    hit = df[df[col] == value]
    assert len(hit) == 1, f"expected one row with {col} == {value!r}, found {len(hit)}"
    return hit.iloc[0]


def test_every_table_is_numbered_titled_and_has_units() -> None:
    tables = all_tables()
    assert sorted(tables) == list(TABLE_NUMBERS) == list(range(1, 10))
    expected_rows = {1: 27, 2: 4, 3: 6, 4: 3, 5: 4, 6: 8, 7: 8, 8: 8, 9: 12}
    for n, df in tables.items():
        assert (df["table"] == n).all() and df.attrs["table"] == n and df.attrs["title"]
        assert len(df) == expected_rows[n], f"Tab. {n}: {len(df)} rows"
        assert AP50 in df.columns and RECALL in df.columns
        assert df[AP50].between(0, 100).all() and df[RECALL].between(0, 100).all()
    with pytest.raises(ValueError, match="Tables 1–9"):
        paper_table(10)


def test_tables_are_fresh_copies() -> None:
    df = paper_table(1)
    df.loc[0, AP50] = -1.0
    assert paper_table(1).loc[0, AP50] == 60.7


def test_table1_values_and_unit_conversion() -> None:
    t1 = paper_table(1)
    ours = _row(t1, "method", "AuxDet (Ours)")
    assert (ours[PARAMS], ours[FLOPS], ours[AP50], ours[RECALL]) == (45.279, 0.215, 77.9, 87.2)
    base = _row(t1, "method", "Cascade RPN")
    assert (base[PARAMS], base[FLOPS], base[AP50], base[RECALL]) == (42.527, 0.190, 74.4, 84.6)
    assert _row(t1, "method", "DAB-DETR")[FLOPS] == pytest.approx(0.099511)  # printed 99.511G
    assert _row(t1, "method", "Sparse R-CNN")[PARAMS] == pytest.approx(106.0)  # printed 0.106G
    assert _row(t1, "method", "RFLA")[PARAMS] == pytest.approx(123.0)  # "123M vs. ours 45M" (§4.2)
    assert _row(t1, "method", "ALCNet")["Params (printed)"] == "42.700M"
    # the paper compares with 26 methods: 17 general + 9 small-target-specialised
    assert t1.category.str.startswith("General").sum() == 17
    assert (t1.category == "Small target specialized").sum() == 9
    # AuxDet is best in AP50 and Recall
    assert t1[AP50].idxmax() == t1[RECALL].idxmax() == ours.name


def test_ablation_baselines_and_module_params() -> None:
    for n in (3, 4, 5):
        assert paper_table(n)[PARAMS].iloc[0] == 42.527
    t4 = params_overhead(4)
    assert _row(t4, "leem_mode", "separable")["ΔParams vs baseline (M)"] == pytest.approx(0.196)
    assert _row(t4, "leem_mode", "conv3x3")["ΔParams vs baseline (M)"] == pytest.approx(0.589)
    t5 = paper_table(5)
    full = t5[t5.M2DM & t5.LEEM].iloc[0]
    assert (full[PARAMS], full[D_PARAMS], full[AP50]) == (45.279, 2.752, 77.9)
    t3 = paper_table(3)
    assert _row(t3, "id", "f")[PARAMS] == _row(t5[t5.M2DM & ~t5.LEEM], "LEEM", False)[PARAMS] == 44.367
    with pytest.raises(ValueError, match="no 'Params"):
        params_overhead(2)


def test_depth_backbone_and_detector_tables() -> None:
    t7 = paper_table(7)
    assert set(t7.varied) == {"M2DM", "LEEM"}
    assert (t7[t7.varied == "M2DM"]["LEEM depth"] == 2).all() and (t7[t7.varied == "LEEM"]["M2DM depth"] == 2).all()
    best = t7.loc[t7[AP50].idxmax()]
    assert (best["M2DM depth"], best["LEEM depth"]) == (2, 2)
    t8 = paper_table(8)
    piv = t8.pivot(index="backbone depth", columns="model", values=AP50)
    assert list(piv.index) == [18, 34, 50, 101] and (piv.AuxDet > piv.Baseline).all()
    t9 = paper_table(9)
    assert t9.method.nunique() == 6 and (t9.groupby("method").size() == 2).all()
    sabl = t9[t9.method == "SABL"].set_index("setting")
    assert sabl.loc["After (w/ AuxDet)", RECALL] == 79.3


def test_table6_flags_inferred_checkmarks() -> None:
    t6 = paper_table(6)
    k = t6[["sensor", "resolution", "band"]].sum(axis=1)
    assert list(k) == [0, 1, 1, 1, 2, 2, 2, 3]
    assert (t6["components inferred"] == k.between(1, 2)).all()
    assert "lost" in t6.attrs["notes"]


def test_consistency_report_finds_exactly_the_papers_own_discrepancies() -> None:
    rep = consistency_report().set_index("check")
    failing = set(rep.index[~rep.ok])
    assert failing == {
        "Tab.9 Dynamic R-CNN ΔRecall",  # 38.8 − 37.2 = 1.6, printed (+2.0)
        "mean AP50 of the 17 general detectors < 45 %",  # 45.56 %
        "Tab.1 Cascade RPN AP50 = ablation baseline AP50",  # 74.4 vs 74.7
        "Tab.1 Cascade RPN Recall = ablation baseline Recall",  # 84.6 vs 84.5
        "M2DM overhead as % of baseline",  # 1.84 / 42.527 = 4.33 %, printed 4.1 %
    }, rep[~rep.ok]
    assert rep.loc["Tab.9 Dynamic R-CNN ΔRecall", "recomputed"] == pytest.approx(1.6)
    assert rep.loc["Tab.5 LEEM ΔParams", "ok"] and len(rep) >= 40


def test_transcription_against_the_paper_text(shared_dir: Path) -> None:
    """Rows re-rendered as the paper prints them occur in its text (needs the shared paper file)."""
    text_path = shared_dir / "paper" / "auxdet-paper.txt"
    if not text_path.is_file():
        pytest.skip(f"paper text not found at {text_path}")
    lines = [ln.replace("\\rightarrow", "→") for ln in text_path.read_text().splitlines()]

    def line_with(start: str, tail: str) -> None:
        hits = [ln for ln in lines if ln.startswith(start) and ln.rstrip().endswith(tail)]
        assert hits, f"no paper line starts with {start!r} and ends with {tail!r}"

    for _, r in paper_table(1).iterrows():
        line_with(r.method, f"{r['FLOPs (printed)']} {r['Params (printed)']} {r[AP50]:.1f} {r[RECALL]:.1f}")
        if r.venue != "-":  # rendered as e.g. "ICCV1717{}^{\textbf{17}}…" in the text
            name, yy = r.venue.split("'")
            assert any(ln.startswith(f"{r.method} {name}{yy}{yy}") for ln in lines), f"venue of {r.method}"
    for _, r in paper_table(2).iterrows():
        line_with(r.setting, f"{r[AP50]:.1f} {r[RECALL]:.1f}")
    for _, r in paper_table(3).iterrows():
        line_with(f"({r.id}) {r.architecture}", f"{r[AP50]:.1f} {r[RECALL]:.1f} {r[PARAMS]:.3f}")
    for _, r in paper_table(4).iterrows():
        line_with(r.kernel, f"{r[AP50]:.1f} {r[RECALL]:.1f} {r[PARAMS]:.3f}")
    for _, r in paper_table(5).iloc[1:].iterrows():
        line_with("\\checkmark", f"{r[AP50]:.1f} (+{r['ΔAP50 (pp, printed)']:.1f}) {r[RECALL]:.1f} "
                  f"(+{r['ΔRecall (pp, printed)']:.1f}) {r[PARAMS]:.3f} (+{r[D_PARAMS]:.3f})")  # fmt: skip
    for _, r in paper_table(6).iterrows():
        line_with("\\checkmark" if r[["sensor", "resolution", "band"]].any() else f"{r[AP50]:.1f}",
                  f"{r[AP50]:.1f} {r[RECALL]:.1f}")  # fmt: skip
    t8 = paper_table(8).pivot(index="backbone depth", columns="model", values=[AP50, RECALL])
    for depth, r in t8.iterrows():
        line_with(f"{depth} ", f"{r[(AP50, 'Baseline')]:.1f} {r[(RECALL, 'Baseline')]:.1f} "
                  f"{r[(AP50, 'AuxDet')]:.1f} {r[(RECALL, 'AuxDet')]:.1f}")  # fmt: skip
    t9 = paper_table(9)
    for m, g in t9.groupby("method", sort=False):
        b, a = g.iloc[0], g.iloc[1]
        line_with(m, f"{b[AP50]:.1f} {b[RECALL]:.1f} {a[AP50]:.1f} (+{a['ΔAP50 (pp, printed)']:.1f}) "
                  f"{a[RECALL]:.1f} (+{a['ΔRecall (pp, printed)']:.1f})")  # fmt: skip
    t7 = paper_table(7)
    for varied, g in t7.groupby("varied", sort=False):
        col = f"{varied} depth"
        first = g.iloc[0]
        line_with(f"{first['M2DM depth']} {first['LEEM depth']} ", f"{first[AP50]:.1f} {first[RECALL]:.1f}")
        for _, r in g.iloc[1:].iterrows():
            assert f"{r[col]} {r[AP50]:.1f} {r[RECALL]:.1f}" in lines, f"Tab. 7 row {r.to_dict()}"


def test_every_row_has_a_unique_label_and_paper_row_finds_it() -> None:
    from auxdet.paper_tables import paper_row, paper_rows

    for n in TABLE_NUMBERS:
        labels = paper_rows(n)["row"]
        assert labels.is_unique and len(labels) == len(paper_table(n)), n
    assert paper_row(3, "(f) PSSM + PSCM")[AP50] == 77.2
    assert paper_row(6, "sensor + band")[RECALL] == 87.4
    assert paper_row(8, "R18 AuxDet")[AP50] == 74.1
    assert paper_row(9, "Dynamic R-CNN w/ AuxDet")[RECALL] == 38.8
    assert paper_row(1, "Faster R-CNN")[PARAMS] == 41.348
    with pytest.raises(ValueError, match="no row 'Cascade-RPN'; valid: .*'Cascade RPN'"):
        paper_row(1, "Cascade-RPN")
