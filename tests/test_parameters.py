"""Parameter accounting (auxdet.analysis.parameters): ours, the official counting, the paper's numbers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from auxdet.analysis.parameters import (
    build_on_meta,
    conv3x3_params,
    count_parameters,
    neck_parameters,
    parameter_accounting,
    unused_fpn_conv_params,
)


def test_counts_on_small_modules() -> None:
    conv = nn.Conv2d(4, 6, 3)
    assert count_parameters(conv) == conv3x3_params(4, 6) == 9 * 4 * 6 + 6
    assert conv3x3_params(256, 256, bias=False) == 589_824 and count_parameters(None) == 0
    with torch.device("meta"):
        big = nn.Linear(1000, 1000)
    assert count_parameters(big) == 1_001_000 and big.weight.is_meta


def test_accounting_of_the_paper_setting() -> None:
    """The numbers the notebooks and docs/paper_gaps.md quote: ours, official counting, the paper's offset."""
    df = parameter_accounting().set_index("row")
    ours, official, paper = df["ours (M)"], df["official counting (M)"], df["paper (M)"]
    assert round(ours["baseline"], 3) == 40.756 and round(official["baseline"], 3) == 41.936
    assert paper["baseline"] == 42.527 and abs(paper["baseline"] - official["baseline"] - 0.590) < 1e-3
    assert abs((paper["baseline"] - official["baseline"]) * 1e6 - conv3x3_params(256, 256)) < 1e3
    assert round(ours["AuxDet"], 3) == 44.151 and round(official["AuxDet"], 3) == 45.332 and paper["AuxDet"] == 45.279
    d_ours, d_printed = df["Δ ours (M)"].round(3), df["Δ paper printed (M)"].round(3)
    d_true = df["Δ paper from mmdet baseline (M)"].round(3)
    assert d_ours.to_dict() == {"baseline": 0.0, "M2DM": 2.608, "LEEM": 0.787, "LEEM W3×3": 1.180, "AuxDet": 3.395}
    assert d_printed.to_dict() == {"baseline": 0.0, "M2DM": 1.840, "LEEM": 0.196, "LEEM W3×3": 0.589, "AuxDet": 2.752}
    assert d_true.to_dict() == {"baseline": 0.591, "M2DM": 2.431, "LEEM": 0.787, "LEEM W3×3": 1.180, "AuxDet": 3.343}
    # the baseline row of the last column is the offset itself: the paper's baseline minus mmdet's
    parts = [c for c in df.columns if c.endswith(" (M)") and c.split(" (M)")[0] in
             ("metadata_encoder", "compensation", "aux_fusion", "m2dm", "leem_gate", "leem")]
    assert (df[parts].sum(axis=1) - df["Δ ours (M)"]).abs().max() < 1e-9  # the neck parts are the whole overhead


def test_unused_convs_follow_out_indices() -> None:
    plain = build_on_meta("cascade_rpn_r50_fpn_1x_wideirstd", {"model.neck.out_indices": None})
    assert unused_fpn_conv_params(plain) == 0 and neck_parameters(plain)["m2dm"] == 0
    model = build_on_meta("cascade_rpn_r50_fpn_1x_wideirstd")
    assert unused_fpn_conv_params(model) == 2 * conv3x3_params(256, 256)
    assert count_parameters(plain) - count_parameters(model) == unused_fpn_conv_params(model)


def test_accounting_errors() -> None:
    with pytest.raises(ValueError, match="baseline"):
        parameter_accounting([])
