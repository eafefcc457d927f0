"""Parameter accounting: our detectors beside the paper's counts (Tab. 1, 3, 4, 5) and the baseline offset.

Three ways to count the same detector (docs/paper_gaps.md, section 2):

* **ours** — the model as auxdet builds it: the FPN output convs of levels that are never returned are
  not built (the paper's detector returns strides 4 and 8 of a 4-level FPN);
* **official counting** — ours plus those unused convs (:func:`auxdet.models.dead_fpn_conv_params`,
  2 × 0.590 M at C = 256), i.e. what mmdet's ``FPN`` and the official ``AuxFPN`` build: the mmdet
  baseline, 41.936 M;
* **paper** — Tab. 1's baseline is 42.527 M, 0.590 M (one 3×3 256→256 conv with bias) above the mmdet
  count, and every module row of Tab. 3–5 prints its Δ relative to 42.527 M while its *total* is
  mmdet's 41.936 M plus the modules. Measured from 41.936 M the paper's overheads are the modules'
  real sizes.

:func:`parameter_accounting` builds each model on the ``meta`` device (no weights allocated: a
ResNet-50 detector in about a second) and returns the three counts and the overheads per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import torch
from torch import nn

from auxdet.engine.config import build_detector, read_config
from auxdet.models import dead_fpn_conv_params
from auxdet.paper_tables import PARAMS, paper_row

__all__ = [
    "ACCOUNTING_ROWS",
    "NECK_PARTS",
    "build_on_meta",
    "conv3x3_params",
    "count_parameters",
    "neck_parameters",
    "parameter_accounting",
    "unused_fpn_conv_params",
]

#: (row, config): the baseline first; every other row's overhead is measured against it
ACCOUNTING_ROWS: tuple[tuple[str, str], ...] = (
    ("baseline", "cascade_rpn_r50_fpn_1x_wideirstd"),
    ("M2DM", "ablations/tab5_m2dm"),
    ("LEEM", "ablations/tab5_leem"),
    ("LEEM W3×3", "ablations/tab4_conv3x3"),
    ("AuxDet", "auxdet_r50_fpn_1x_wideirstd"),
)
#: the AuxFPN sub-modules that carry AuxDet's parameters (attributes of the neck; absent ones count 0)
NECK_PARTS: tuple[str, ...] = ("metadata_encoder", "compensation", "aux_fusion", "m2dm", "leem_gate", "leem")


def count_parameters(module: nn.Module | None) -> int:
    """Number of parameters of ``module`` (0 for ``None``); works on the meta device."""
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def conv3x3_params(in_channels: int, out_channels: int, bias: bool = True) -> int:
    """Parameters of one 3×3 convolution (``9·in·out`` + ``out`` with bias): 590 080 at 256→256."""
    return 9 * in_channels * out_channels + (out_channels if bias else 0)


def build_on_meta(config: str, cfg_options: Mapping[str, Any] | None = None) -> nn.Module:
    """The detector of ``config`` (name or path, as :func:`auxdet.engine.config.read_config`) built on
    the ``meta`` device: shapes only, no memory for weights, no initialisation."""
    cfg = read_config(config, cfg_options)
    with torch.device("meta"):
        return build_detector(cfg, init_weights=False)


def _neck(model: nn.Module) -> nn.Module:
    neck = model.neck
    return neck[0] if isinstance(neck, nn.Sequential) else neck


def neck_parameters(model: nn.Module) -> dict[str, int]:
    """Parameters of each of :data:`NECK_PARTS` in ``model``'s neck (0 where the part is absent)."""
    neck = _neck(model)
    return {part: count_parameters(getattr(neck, part, None)) for part in NECK_PARTS}


def unused_fpn_conv_params(model: nn.Module) -> int:
    """Parameters of the FPN output convs that mmdet / the official code would build for ``model``'s
    neck but auxdet does not (levels never returned); 0 when every level is returned."""
    neck = _neck(model)
    out_indices = getattr(neck, "out_indices", None)
    num_levels = len(neck.lateral_convs)
    if out_indices is None or max(out_indices) >= num_levels:
        return 0
    return dead_fpn_conv_params(neck.out_channels, num_levels, out_indices)


def parameter_accounting(rows: Sequence[tuple[str, str]] = ACCOUNTING_ROWS) -> pd.DataFrame:
    """One row per ``(row, config)``: our count, the official counting, the paper's total (the row the
    config names with ``paper_row``) and the overheads over the first row (the baseline), all in M.

    Columns: ``row``, ``config``, ``paper row``, ``ours (M)``, ``official counting (M)``, ``paper (M)``,
    ``Δ ours (M)`` (over our baseline), ``Δ paper printed (M)`` (over the paper's 42.527 M baseline,
    as Tab. 3–5 print it), ``Δ paper from mmdet baseline (M)`` (over the official counting of the
    baseline, 41.936 M; on the baseline row itself: the offset, 0.591 M) and the neck parts
    (:data:`NECK_PARTS`, in M).
    """
    if not rows:
        raise ValueError("parameter_accounting: give at least the baseline row")
    records = []
    for label, config in rows:
        ref = read_config(config).get("paper_row")
        if ref is None:
            raise ValueError(f"parameter_accounting: config {config!r} names no paper_row (table, row)")
        model = build_on_meta(config)
        ours = count_parameters(model)
        parts = neck_parameters(model)
        records.append({
            "row": label, "config": config, "paper row": f"Tab. {ref.table} {ref.row}",
            "ours (M)": ours / 1e6, "official counting (M)": (ours + unused_fpn_conv_params(model)) / 1e6,
            "paper (M)": float(paper_row(ref.table, ref.row)[PARAMS]),
            **{f"{p} (M)": n / 1e6 for p, n in parts.items()},
        })  # fmt: skip
        del model
    df = pd.DataFrame.from_records(records)
    base = df.iloc[0]
    df.insert(6, "Δ ours (M)", df["ours (M)"] - base["ours (M)"])
    df.insert(7, "Δ paper printed (M)", df["paper (M)"] - base["paper (M)"])
    df.insert(8, "Δ paper from mmdet baseline (M)", df["paper (M)"] - base["official counting (M)"])
    return df
