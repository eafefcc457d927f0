"""docs/paper_gaps.md executed: its ambiguity table against the neck's switches, the parameter accounting,
the repeated table rows."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from auxdet.analysis.paper_gaps import (
    SMALL_NECK,
    SWITCHES,
    _kwargs,
    ambiguity_table,
    doc_switches,
    identical_rows,
    markdown_table,
    switch_effects,
)
from auxdet.models import AuxFPN


def test_markdown_table_reads_escaped_pipes_and_reports_missing_tables() -> None:
    text = "# t\n\n## 1. A\n\n| a | b |\n|---|---|\n| x \\| y | `z` |\n| 1 | 2 |\n\ntext\n| c |\n"
    df = markdown_table(text, "## 1.")
    assert list(df.columns) == ["a", "b"] and df["a"].tolist() == ["x | y", "1"]
    with pytest.raises(ValueError, match="no heading"):
        markdown_table(text, "## 2.")
    with pytest.raises(ValueError, match="no table"):
        markdown_table("## 1. A\n\nnothing\n", "## 1.")


def test_every_switch_of_the_document_is_a_switch_of_the_neck() -> None:
    table = ambiguity_table()
    assert {"where", "switch"} <= set(table.columns) and len(table) >= 9
    assert doc_switches(table) == list(SWITCHES)


def test_switch_defaults_are_the_necks_defaults() -> None:
    feats = [torch.randn(2, c, s, s) for c, s in zip(SMALL_NECK["in_channels"], (32, 16, 8, 4), strict=True)]
    from auxdet.metadata import MetaBatch

    meta = MetaBatch(torch.tensor([0, 2]), torch.tensor([1, 0]), torch.tensor([3000, 256]), torch.tensor([1000, 256]))
    torch.manual_seed(1)
    plain = AuxFPN(**SMALL_NECK, out_indices=(0, 1)).eval()
    for switch, (default, _) in SWITCHES.items():
        torch.manual_seed(1)
        explicit = AuxFPN(**_kwargs(SMALL_NECK, switch, default)).eval()
        with torch.no_grad():
            for a, b in zip(plain(feats, meta), explicit(feats, meta), strict=True):
                assert torch.equal(a, b), switch


def test_switch_effects() -> None:
    df = switch_effects().set_index("switch")
    assert list(df.index) == list(SWITCHES)
    assert df.loc["out_indices", "Δparams paper (M)"] == pytest.approx(1.180160)
    assert df.loc["out_indices", "outputs"] == 4 and df.loc["out_indices", "output change"] == 0.0
    assert df.loc["shared_aux", "Δparams paper (M)"] == pytest.approx(0.141120)
    assert df.loc["shared_aux", "output change"] == 0.0  # per-level copies of the same weights: same output
    for same_params in ("metadata.sigma", "pscm_form", "sm_bound", "dropout"):
        assert df.loc[same_params, "Δparams paper (M)"] == 0.0 and df.loc[same_params, "new params small"] == 0
    assert df.loc["dropout", "output change"] == 0.0  # eval mode
    for changes in ("metadata.sigma", "pscm_form", "sm_bound", "dmlp_out_norm", "leem_scale"):
        assert df.loc[changes, "output change"] > 1e-3, changes


def test_identical_rows() -> None:
    rows = identical_rows(77.2, 86.7)
    assert isinstance(rows, pd.DataFrame)
    assert sorted(rows["table"].tolist()) == [2, 3, 5, 5, 6]
    assert identical_rows(1.0, 2.0).empty
