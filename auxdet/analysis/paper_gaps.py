"""What the paper does not say, executed: docs/paper_gaps.md §1–3 as numbers (notebook 09).

* :func:`markdown_table` / :func:`ambiguity_table` — the ambiguity table of docs/paper_gaps.md, read
  from the document itself (one home for the prose), and :func:`doc_switches`, the switches it names.
* :data:`SWITCHES` / :func:`switch_effects` — each reading's switch of :class:`auxdet.models.AuxFPN`,
  built both ways: parameters at the paper's widths, and how much the neck's output moves on a small
  neck when only the switch changes (the other weights copied from the default neck).
* :func:`parameter_accounting` — the baseline offset and the true module overheads (§2) from detectors
  built on the meta device, beside the paper's totals (:mod:`auxdet.paper_tables`).
* :func:`identical_rows` — rows of Tab. 1–9 that repeat one (AP50, Recall) pair (§3).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from auxdet import paths
from auxdet.metadata import OFFICIAL_SIGMA, MetaBatch
from auxdet.models.neck import AuxFPN
from auxdet.paper_tables import AP50, RECALL, TABLE_NUMBERS, paper_rows

__all__ = [
    "DOC_PATH",
    "SWITCHES",
    "ambiguity_table",
    "doc_switches",
    "identical_rows",
    "markdown_table",
    "switch_effects",
]

DOC_PATH = paths.REPO_ROOT / "docs" / "paper_gaps.md"

#: switch (an AuxFPN argument, ``metadata.<key>`` for its metadata dict) → (default, the other reading)
SWITCHES: dict[str, tuple[Any, Any]] = {
    "metadata.sigma": (OFFICIAL_SIGMA, 1024.0),
    "metadata.num_blocks": (1, 2),
    "dropout": (0.5, 0.1),
    "shared_aux": (True, False),
    "dmlp_out_norm": (True, False),
    "pscm_form": ("residual", "gate"),
    "sm_bound": ("sigmoid", "none"),
    "leem_scale": ("channel", "aux_gate"),
    "out_indices": ((0, 1), None),
}
PAPER_NECK: dict[str, Any] = dict(in_channels=[256, 512, 1024, 2048], out_channels=256, num_outs=4)
SMALL_NECK: dict[str, Any] = dict(in_channels=[16, 32, 64, 128], out_channels=32, num_outs=4)
_SMALL_SIZES = ((32, 32), (16, 16), (8, 8), (4, 4))  # strides 4..32 of a 128² image
_METAS = ((0, 0, 256, 256), (1, 1, 3000, 1024), (2, 0, 6000, 4000))  # (platform, band, w, h) indices


def markdown_table(text: str, heading: str) -> pd.DataFrame:
    """The first pipe table after the line starting with ``heading`` (``\\|`` inside a cell is a ``|``)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    if start is None:
        raise ValueError(f"no heading starting with {heading!r}")
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if not all(set(c) <= set("-: ") for c in cells):  # skip the |---| separator
                rows.append(cells)
        elif rows:
            break
    if not rows:
        raise ValueError(f"no table under the heading {heading!r}")
    return pd.DataFrame(rows[1:], columns=rows[0])


def ambiguity_table(path: str | Path = DOC_PATH) -> pd.DataFrame:
    """§1 of docs/paper_gaps.md: where · what the paper says · what it leaves open · our reading · switch."""
    return markdown_table(Path(path).read_text(encoding="utf-8"), "## 1.")


def doc_switches(table: pd.DataFrame) -> list[str]:
    """The switch names of the ambiguity table's ``switch`` column (``'—'``: none), in order."""
    found = [m for cell in table["switch"] for m in re.findall(r"`([A-Za-z_][\w.]*)", cell)]
    return list(dict.fromkeys(found))


def _kwargs(base: Mapping[str, Any], switch: str, value: Any) -> dict[str, Any]:
    if switch not in SWITCHES:
        raise ValueError(f"unknown switch {switch!r}; valid: {list(SWITCHES)}")
    kwargs = {**base, "out_indices": (0, 1)}
    if switch.startswith("metadata."):
        kwargs["metadata"] = {switch.split(".", 1)[1]: value}
    else:
        kwargs[switch] = value
    return kwargs


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _copy_weights(src: torch.nn.Module, dst: torch.nn.Module) -> int:
    """Copy ``src``'s weights into ``dst`` where a name (per-level fusion names mapped to the shared one)
    and shape match; returns the number of ``dst`` parameters left as initialised."""
    source = src.state_dict()
    state, fresh = {}, 0
    params = dict(dst.named_parameters())
    for name, value in dst.state_dict().items():
        key = re.sub(r"^aux_fusion\.\d+\.", "aux_fusion.", name)
        if key in source and source[key].shape == value.shape:
            state[name] = source[key]
        elif name in params:
            fresh += value.numel()
    dst.load_state_dict(state, strict=False)
    return fresh


def _small_inputs(seed: int) -> tuple[list[torch.Tensor], MetaBatch]:
    gen = torch.Generator().manual_seed(seed)
    feats = [torch.relu(torch.randn(len(_METAS), c, h, w, generator=gen))
             for c, (h, w) in zip(SMALL_NECK["in_channels"], _SMALL_SIZES, strict=True)]  # fmt: skip
    return feats, MetaBatch(*(torch.tensor(col) for col in zip(*_METAS, strict=True)))


def switch_effects(seed: int = 0) -> pd.DataFrame:
    """Each switch of :data:`SWITCHES` at its other reading against the default neck.

    Columns: ``switch``, ``default``, ``other``, ``params paper (M)`` (the neck at the paper's widths,
    C = 256, built on the meta device), ``Δparams paper (M)``, ``new params small`` (parameters of the
    small neck, C = 32, that the default neck has no counterpart for: freshly initialised),
    ``outputs`` (returned maps), ``output change`` (max over the returned maps shared with the default
    of ‖variant − default‖ / ‖default‖, eval mode, same inputs, same weights where they correspond).
    """
    with torch.device("meta"):
        paper_default = _count(AuxFPN(**PAPER_NECK, out_indices=(0, 1)))
    feats, meta = _small_inputs(seed)
    torch.manual_seed(seed)
    default = AuxFPN(**SMALL_NECK, out_indices=(0, 1)).eval()
    with torch.no_grad():
        ref = default(feats, meta)
    rows = []
    for switch, (dflt, other) in SWITCHES.items():
        with torch.device("meta"):
            paper = _count(AuxFPN(**_kwargs(PAPER_NECK, switch, other)))
        variant = AuxFPN(**_kwargs(SMALL_NECK, switch, other)).eval()
        fresh = _copy_weights(default, variant)
        with torch.no_grad():
            outs = variant(feats, meta)
        change = max(float((o - r).norm() / r.norm()) for o, r in zip(outs, ref, strict=False))
        rows.append({"switch": switch, "default": dflt, "other": other, "params paper (M)": paper / 1e6,
                     "Δparams paper (M)": (paper - paper_default) / 1e6, "new params small": fresh,
                     "outputs": len(outs), "output change": change})  # fmt: skip
    return pd.DataFrame(rows)


def identical_rows(ap50: float, recall: float) -> pd.DataFrame:
    """Every row of Tab. 1–9 with exactly this (AP50, Recall): ``table``, ``row``, ``AP50 (%)``, ``Recall (%)``."""
    frames = [paper_rows(n) for n in TABLE_NUMBERS]
    hits = [f.loc[(f[AP50] == ap50) & (f[RECALL] == recall), ["table", "row", AP50, RECALL]] for f in frames]
    return pd.concat(hits, ignore_index=True)
