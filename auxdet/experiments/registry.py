"""The measured ablations (paper Tab. 2–7), derived from the paper-scale configs ``configs/ablations/tab[2-7]_*.py``.

Each such config is the one home of its row: ``paper_row = dict(table=…, row=…)`` names the row of
:func:`auxdet.paper_tables.paper_rows` (whose numbers live only in :mod:`auxdet.paper_tables`), its
``model.neck`` holds the AuxFPN switches (``aux_mode``, ``m2dm_mode``, ``leem_mode``,
``metadata.fields``, ``m2dm_levels``, ``leem_levels``) and its ``_base_`` says whether it is the
Cascade-RPN baseline or AuxDet. :data:`ABLATIONS` reads them (as literals, without executing the
files) and applies the *same* switches to the CPU-tiny AuxDet of ``auxdet demo``; baseline rows use
its plain-FPN twin. The neck is what the rows ablate; the CPU-tiny detector is Faster R-CNN rather
than the paper's Cascade RPN, which does not learn within a CPU budget (see :mod:`auxdet.experiments.demo`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auxdet.experiments.cache import ExperimentError, fingerprint
from auxdet.experiments.plan import DEMO_MODELS
from auxdet.paper_tables import paper_row, paper_rows

__all__ = [
    "ABLATIONS",
    "AUXDET_CONFIG",
    "BASELINE_CONFIG",
    "BASELINE_SWITCHES",
    "DEFAULT_SWITCHES",
    "SMOKE_ROWS",
    "AblationRow",
    "effective_switches",
    "read_ablation_row",
    "read_config_literals",
    "resolve_rows",
]

BASELINE_CONFIG = DEMO_MODELS["baseline"]
AUXDET_CONFIG = DEMO_MODELS["auxdet"]
#: the paper-scale config an ablation config builds on → the CPU-tiny config its row trains
_TINY_FOR_BASE = {"../cascade_rpn_r50_fpn_1x_wideirstd.py": BASELINE_CONFIG,
                  "../auxdet_r50_fpn_1x_wideirstd.py": AUXDET_CONFIG}  # fmt: skip

#: the AuxFPN switches of the full AuxDet (paper §4.1; the CPU-tiny AuxDet config has the same)
DEFAULT_SWITCHES: dict[str, Any] = dict(
    aux_mode="full",
    m2dm_mode="parallel",
    leem_mode="separable",
    fields=("platform", "band", "resolution"),
    m2dm_levels=(0, 1),
    leem_levels=(0, 1),
)
#: the baseline: AuxFPN without modules = mmdet's FPN
BASELINE_SWITCHES: dict[str, Any] = dict(m2dm_levels=(), leem_levels=())
#: switch name → its key under ``model.neck`` in a config
NECK_KEYS: dict[str, str] = {
    "aux_mode": "aux_mode",
    "m2dm_mode": "m2dm_mode",
    "leem_mode": "leem_mode",
    "fields": "metadata.fields",
    "m2dm_levels": "m2dm_levels",
    "leem_levels": "leem_levels",
}


@dataclass(frozen=True)
class AblationRow:
    """One ablation row: paper table + row label, CPU-tiny config and AuxFPN switch overrides."""

    key: str  # = stem of the paper-scale config auxdet/configs/ablations/<key>.py
    table: int
    row: str  # label as in paper_rows(table)
    config: str  # CPU-tiny config name
    overrides: Mapping[str, Any] = field(default_factory=dict)  # switch name → value (see NECK_KEYS)

    @property
    def is_baseline(self) -> bool:
        return self.config == BASELINE_CONFIG

    @property
    def paper_config(self) -> str:
        """The paper-scale (R50, WideIRSTD) config with the same switches."""
        return f"ablations/{self.key}"

    def switches(self) -> dict[str, Any]:
        """Effective AuxFPN switches of the trained model (see :func:`effective_switches`)."""
        return effective_switches(
            {**DEFAULT_SWITCHES, **(BASELINE_SWITCHES if self.is_baseline else self.overrides)}
        )

    def fingerprint(self) -> str:
        """Identifies the network: rows with the same fingerprint train the same model."""
        return fingerprint({"config": self.config, "switches": self.switches()})

    def neck_options(self) -> dict[str, Any]:
        """``model.neck.*`` cfg-options of this row's switch overrides."""
        return {f"model.neck.{NECK_KEYS[k]}": v for k, v in self.overrides.items()}


def effective_switches(neck: Mapping[str, Any]) -> dict[str, Any]:
    """The switches that matter of an AuxFPN neck (a config's ``model.neck`` or a switch dict).

    Missing switches take the AuxFPN defaults (:data:`DEFAULT_SWITCHES`); without M2DM levels
    ``aux_mode`` / ``m2dm_mode`` / ``fields`` do nothing and are dropped, without LEEM levels ``leem_mode``.
    The plain-FPN baseline is ``{'m2dm_levels': (), 'leem_levels': ()}``.
    """
    neck = dict(neck)
    meta = neck.pop("metadata", None) or {}
    if "fields" in meta:
        neck["fields"] = meta["fields"]
    s = {k: neck.get(k, v) for k, v in DEFAULT_SWITCHES.items()}
    s = {k: tuple(v) if isinstance(v, list | tuple) else v for k, v in s.items()}
    if not s["m2dm_levels"]:
        for k in ("aux_mode", "m2dm_mode", "fields"):
            s.pop(k)
    if not s["leem_levels"]:
        s.pop("leem_mode")
    return s


def _literal(node: ast.expr, where: str) -> Any:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        return {kw.arg: _literal(kw.value, where) for kw in node.keywords}
    if isinstance(node, ast.List | ast.Tuple):
        items = [_literal(e, where) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise ExperimentError(f"{where}: {ast.unparse(node)!r} is not a literal (dict(...), tuple, list, str, number)") from None


def read_config_literals(path: str | Path, names: Iterable[str]) -> dict[str, Any]:
    """The top-level assignments ``names`` of a config file, read as literals without executing it."""
    wanted = set(names)
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    return {n.targets[0].id: _literal(n.value, f"{path}:{n.lineno}") for n in tree.body
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
            and n.targets[0].id in wanted}  # fmt: skip


def read_ablation_row(path: str | Path) -> AblationRow:
    """The row of one ablation config (see the module docstring); raises naming the file and the valid values."""
    path = Path(path)
    lit = read_config_literals(path, ("_base_", "model", "paper_row"))
    bases = [b for b in lit.get("_base_", []) if b in _TINY_FOR_BASE]
    if len(bases) != 1:
        raise ExperimentError(f"{path}: an ablation config builds on one of {list(_TINY_FOR_BASE)}; "
                              f"its _base_ is {lit.get('_base_')!r}")  # fmt: skip
    ref = lit.get("paper_row")
    if not isinstance(ref, dict) or set(ref) != {"table", "row"}:
        raise ExperimentError(f"{path}: needs paper_row = dict(table=<number>, row=<label of "
                              f"auxdet.paper_tables.paper_rows(table)>), got {ref!r}")  # fmt: skip
    paper_row(ref["table"], ref["row"])  # the row exists (else: ValueError naming the valid labels)
    neck = dict((lit.get("model") or {}).get("neck", {}))
    meta = neck.pop("metadata", {})
    overrides = {**neck, **({"fields": meta.pop("fields")} if "fields" in meta else {})}
    unknown = sorted(set(overrides) - set(NECK_KEYS)) + [f"metadata.{k}" for k in meta]
    if unknown:
        raise ExperimentError(f"{path}: unknown neck switches {unknown}; valid: {list(NECK_KEYS.values())}")
    config = _TINY_FOR_BASE[bases[0]]
    return AblationRow(path.stem, int(ref["table"]), str(ref["row"]), config,
                       {} if config == BASELINE_CONFIG else overrides)  # fmt: skip


def _registry() -> dict[str, AblationRow]:
    from auxdet.engine.config import config_path

    folder = config_path("ablations/tab5_baseline").parent
    rows = [read_ablation_row(p) for p in sorted(folder.glob("tab[2-7]_*.py"))]
    order = {n: paper_rows(n)["row"].tolist() for n in sorted({r.table for r in rows})}
    rows.sort(key=lambda r: (r.table, order[r.table].index(r.row), r.key))  # paper order
    return {r.key: r for r in rows}


#: every measured ablation row, keyed like the paper-scale configs ``ablations/<key>``, in paper order
ABLATIONS: dict[str, AblationRow] = _registry()
#: the rows a SMOKE run measures (baseline vs full AuxDet of Tab. 5)
SMOKE_ROWS: tuple[str, ...] = ("tab5_baseline", "tab5_m2dm_leem")


def resolve_rows(rows: Iterable[str | AblationRow] | str | None) -> list[AblationRow]:
    """Rows by key, table (``'tab3'`` / ``3`` → all its rows) or :class:`AblationRow`; ``None`` = all."""
    if rows is None:
        return list(ABLATIONS.values())
    if isinstance(rows, str | int | AblationRow):
        rows = [rows]  # type: ignore[list-item]
    out: list[AblationRow] = []
    for item in rows:
        if isinstance(item, AblationRow):
            found = [item]
        elif isinstance(item, int) or (isinstance(item, str) and item.removeprefix("tab").isdigit()):
            n = int(str(item).removeprefix("tab"))
            found = [r for r in ABLATIONS.values() if r.table == n]
        else:
            found = [ABLATIONS[item]] if item in ABLATIONS else []
        if not found:
            raise ExperimentError(
                f"unknown ablation row {item!r}; valid: a table 'tab2'…'tab7' or one of {', '.join(ABLATIONS)}"
            )
        out += [r for r in found if r not in out]
    return out
