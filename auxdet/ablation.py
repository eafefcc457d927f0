"""Our own ablations (paper Tab. 2–7) measured on synthetic data with the CPU-tiny detector.

* :data:`ABLATIONS` — registry ``key → AblationRow``. Keys are the stems of the paper-scale configs
  ``auxdet/configs/ablations/<key>.py``; each row applies the *same* neck switches (``aux_mode``,
  ``m2dm_mode``, ``leem_mode``, ``metadata.fields``, ``m2dm_levels``, ``leem_levels``) to the CPU-tiny
  AuxDet of ``auxdet demo`` (``cpu_tiny/auxdet_faster_rcnn_r18_tiny_synthetic``); baseline rows use its
  plain-FPN twin. The neck is what the rows ablate; the CPU-tiny detector is Faster R-CNN rather than the
  paper's Cascade RPN, which does not learn within a CPU budget (see :mod:`auxdet.engine.demo`).
* :func:`ablation_options` — the ``--cfg-options`` of one row for a training budget (iterations) and an
  :class:`AblationSetup` (synthetic data size, input size, batch, lr).
* :func:`run_ablations` — trains and tests every row through the engine (:func:`auxdet.engine.runner.train`,
  the code path of ``auxdet train``; then mmengine's ``Runner.test`` with :class:`AuxVOCMetric`) and
  caches one CSV line per row × budget × seed × setup. A cached row is not re-run; a row whose model is
  identical to one already measured (e.g. Tab. 5 "M2DM + LEEM" = Tab. 6 "all" = full AuxDet) is copied,
  not re-trained. Each finished row is written to the CSV atomically, so an interrupted run loses nothing.
* :func:`paper_rows` / :func:`paper_comparison` — the paper's rows with the same labels, and the paper's
  numbers beside ours, for plotting (:mod:`auxdet.visualisation.ablation_plots`).

Results columns: ``table, row, key, AP50, Recall, params, budget_iters, seed, smoke`` (AP50 / Recall in
%, params in M, as in the paper), plus ``setup_id, setup, config, switches, fingerprint, reused_from,
train_s, num_test_images, num_test_targets``.

Nothing here imports mmdet at module level: the registry, labels and cache logic work without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from auxdet import paths
from auxdet.paper_tables import AP50, RECALL, paper_table

__all__ = [
    "ABLATIONS",
    "BASELINE_CONFIG",
    "BASELINE_SWITCHES",
    "AUXDET_CONFIG",
    "DEFAULT_SWITCHES",
    "FULL_SETUP",
    "RESULT_COLUMNS",
    "SMOKE_ROWS",
    "SMOKE_SETUP",
    "AblationError",
    "AblationRow",
    "AblationSetup",
    "Trainer",
    "ablation_options",
    "effective_switches",
    "engine_trainer",
    "load_results",
    "paper_comparison",
    "paper_rows",
    "resolve_rows",
    "row_labels",
    "run_ablations",
]

BASELINE_CONFIG = "cpu_tiny/faster_rcnn_r18_tiny_synthetic"
AUXDET_CONFIG = "cpu_tiny/auxdet_faster_rcnn_r18_tiny_synthetic"

#: the AuxFPN switches of the full AuxDet (paper §4.1; the CPU-tiny AuxDet config has the same)
DEFAULT_SWITCHES: dict[str, Any] = dict(
    aux_mode="full",
    m2dm_mode="parallel",
    leem_mode="separable",
    fields=("platform", "band", "resolution"),
    m2dm_levels=(0, 1),
    leem_levels=(0, 1),
)
#: the baseline (CPU-tiny Cascade RPN): AuxFPN without modules = mmdet's FPN
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

RESULT_COLUMNS: tuple[str, ...] = (
    "table", "row", "key", "AP50", "Recall", "params", "budget_iters", "seed", "smoke", "setup_id", "setup",
    "config", "switches", "fingerprint", "reused_from", "train_s", "num_test_images", "num_test_targets",
)  # fmt: skip
_CACHE_KEY: tuple[str, ...] = ("key", "budget_iters", "seed", "setup_id")


class AblationError(ValueError):
    """Unknown ablation row, bad budget, or a results file that cannot be used."""


# ----------------------------------------------------------------------------- paper rows and labels
def _label_tab6(r: Mapping[str, Any]) -> str:
    on = [name for name in ("sensor", "resolution", "band") if r[name]]
    return "all" if len(on) == 3 else " + ".join(on) if on else "none"


_LABELS: dict[int, Callable[[Mapping[str, Any]], str]] = {
    2: lambda r: str(r["setting"]),
    3: lambda r: f"({r['id']}) {r['architecture']}",
    4: lambda r: str(r["kernel"]),
    5: lambda r: " + ".join(k for k in ("M2DM", "LEEM") if r[k]) or "none",
    6: _label_tab6,
    7: lambda r: f"{r['varied']} depth {r[str(r['varied']) + ' depth']}",
}


def row_labels(df: pd.DataFrame) -> list[str]:
    """Short row labels of a paper ablation table (Tab. 2–7, as :func:`auxdet.paper_tables.paper_table` gives it),
    e.g. ``'(f) PSSM + PSCM'``, ``'sensor + band'``, ``'LEEM depth 3'``; a ``row`` column is used as is."""
    if "row" in df.columns:
        return [str(v) for v in df["row"]]
    n = df.attrs.get("table", df["table"].iloc[0] if "table" in df.columns and len(df) else None)
    if n not in _LABELS:
        raise AblationError(f"row labels exist for the ablation Tables {sorted(_LABELS)}; got table {n!r}")
    return [_LABELS[int(n)](r) for r in df.to_dict("records")]


def paper_rows(n: int) -> pd.DataFrame:
    """The paper's Tab. ``n`` (2–7) with a ``row`` label column (the labels :data:`ABLATIONS` uses)."""
    if n not in _LABELS:
        raise AblationError(f"measured ablations cover Tables {sorted(_LABELS)}; got table {n!r}")
    df = paper_table(n)
    df.insert(1, "row", row_labels(df))
    return df


# ----------------------------------------------------------------------------- registry
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
        """Identifies the trained model: rows with the same fingerprint train the same network."""
        text = json.dumps({"config": self.config, "switches": self.switches()}, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]

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


def _row(key: str, table: int, index: int, overrides: Mapping[str, Any] | None = None) -> AblationRow:
    label = paper_rows(table)["row"].iloc[index]
    config = BASELINE_CONFIG if overrides is None else AUXDET_CONFIG
    unknown = set(overrides or {}) - set(NECK_KEYS)
    if unknown:
        raise AblationError(f"ablation '{key}': unknown switches {sorted(unknown)}; valid: {list(NECK_KEYS)}")
    return AblationRow(key, table, label, config, dict(overrides or {}))


def _registry() -> dict[str, AblationRow]:
    no_leem, no_m2dm = dict(leem_levels=()), dict(m2dm_levels=())
    rows = [
        _row("tab2_baseline", 2, 0),
        _row("tab2_meta", 2, 1, dict(aux_mode="meta", **no_leem)),
        _row("tab2_meta_semantic", 2, 2, dict(aux_mode="meta_semantic", **no_leem)),
        _row("tab2_meta_detail", 2, 3, dict(aux_mode="full", **no_leem)),
        _row("tab3_baseline", 3, 0),
        _row("tab3_pssm", 3, 1, dict(m2dm_mode="pssm", **no_leem)),
        _row("tab3_pscm", 3, 2, dict(m2dm_mode="pscm", **no_leem)),
        _row("tab3_pssm_pscm", 3, 3, dict(m2dm_mode="pssm_pscm", **no_leem)),
        _row("tab3_pscm_pssm", 3, 4, dict(m2dm_mode="pscm_pssm", **no_leem)),
        _row("tab3_parallel", 3, 5, dict(m2dm_mode="parallel", **no_leem)),
        _row("tab4_baseline", 4, 0),
        _row("tab4_conv3x3", 4, 1, dict(leem_mode="conv3x3", **no_m2dm)),
        _row("tab4_separable", 4, 2, dict(leem_mode="separable", **no_m2dm)),
        _row("tab5_baseline", 5, 0),
        _row("tab5_m2dm", 5, 1, no_leem),
        _row("tab5_leem", 5, 2, no_m2dm),
        _row("tab5_m2dm_leem", 5, 3, {}),
    ]
    tab6 = paper_rows(6)
    names = {"sensor": "platform", "resolution": "resolution", "band": "band"}
    for i, r in enumerate(tab6.to_dict("records")):
        fields = tuple(names[k] for k in ("sensor", "band", "resolution") if r[k])
        key = "tab6_" + ("all" if len(fields) == 3 else "_".join(
            names[k] for k in ("sensor", "resolution", "band") if r[k]) or "none")  # fmt: skip
        rows.append(_row(key, 6, i, dict(fields=fields)))
    tab7 = paper_rows(7)
    for i, r in enumerate(tab7.to_dict("records")):
        m, e = int(r["M2DM depth"]), int(r["LEEM depth"])
        depth = m if r["varied"] == "M2DM" else e
        key = f"tab7_{str(r['varied']).lower()}_depth{depth}"
        rows.append(_row(key, 7, i, dict(m2dm_levels=tuple(range(m)), leem_levels=tuple(range(e)))))
    return {r.key: r for r in rows}


#: every measured ablation row, keyed like the paper-scale configs ``ablations/<key>``
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
            raise AblationError(
                f"unknown ablation row {item!r}; valid: a table 'tab2'…'tab7' or one of {', '.join(ABLATIONS)}"
            )
        out += [r for r in found if r not in out]
    return out


# ----------------------------------------------------------------------------- training setup
@dataclass(frozen=True)
class AblationSetup:
    """Data and optimisation shared by every row of a measured ablation (only the budget varies)."""

    num_images: int = 400  # synthetic images (train / val / test = 70 / 10 / 20 %)
    image_size: int = 128  # longer side of the rendered images
    input_size: int = 128  # detector input scale (keep-ratio resize)
    batch_size: int = 4
    lr: float = 0.02
    warmup_iters: int = 50
    data_seed: int = 0  # the synthetic dataset's seed (the training seed is run_ablations' ``seed``)
    min_target_scale: float | None = 1.0  # targets at their native pixel size (see SynthConfig)

    def __post_init__(self) -> None:
        for name in ("num_images", "image_size", "input_size", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise AblationError(f"AblationSetup.{name} must be >= 1, got {getattr(self, name)!r}")
        if not self.lr > 0 or self.warmup_iters < 0:
            raise AblationError(
                f"AblationSetup: lr must be > 0 and warmup_iters >= 0, got {self.lr}, {self.warmup_iters}"
            )

    def setup_id(self) -> str:
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:10]

    def dataset(self, out_dir: str | os.PathLike, *, progress: bool = True) -> Path:
        """The synthetic dataset of this setup (generated once, then reused); its root."""
        from auxdet.data.synthetic import generate_dataset

        return generate_dataset(out_dir, self.num_images, seed=self.data_seed, max_size=self.image_size,
                                min_target_scale=self.min_target_scale, progress=progress, overwrite=True)


#: the committed (full) measured ablations: the demo's data (1200 images of 128 px, native-size targets), batch 4
FULL_SETUP = AblationSetup(num_images=1200)
#: CI size: 24 tiny images, batch 2 — a smoke test of the pipeline, its numbers mean nothing
SMOKE_SETUP = AblationSetup(
    num_images=24, image_size=128, input_size=128, batch_size=2, lr=0.01, warmup_iters=2
)


def ablation_options(
    row: AblationRow, budget_iters: int, setup: AblationSetup, data_root: str | os.PathLike
) -> dict[str, Any]:
    """``--cfg-options`` training ``row`` for ``budget_iters`` iterations on the synthetic data at ``data_root``.

    Iteration-based loop without validation (the test split is evaluated after training), linear
    warm-up, lr × 0.1 for the last quarter, one checkpoint at the end, the row's ``model.neck.*`` switches.
    """
    from auxdet.engine.demo import resize_options

    budget = _check_budget(budget_iters)
    size = (setup.input_size, setup.input_size)
    options: dict[str, Any] = {
        # validation only after the last iteration would repeat the test: val_begin past the end
        "train_cfg": dict(
            _delete_=True,
            type="IterBasedTrainLoop",
            max_iters=budget,
            val_interval=budget,
            val_begin=budget + 1,
        ),
        "optim_wrapper.optimizer.lr": setup.lr,
        "param_scheduler": [
            dict(
                type="LinearLR",
                start_factor=0.01,
                by_epoch=False,
                begin=0,
                end=max(1, min(setup.warmup_iters, budget)),
            ),
            # the demo's step: lr × 0.1 for the last quarter
            dict(type="MultiStepLR", by_epoch=False, begin=0, end=budget, milestones=[max(1, budget * 3 // 4)],
                 gamma=0.1),
        ],
        "log_processor": dict(_delete_=True, type="LogProcessor", window_size=10, by_epoch=False),
        "default_hooks.logger.interval": max(1, min(10, budget)),
        "default_hooks.checkpoint": dict(
            _delete_=True,
            type="CheckpointHook",
            by_epoch=False,
            interval=budget,
            max_keep_ckpts=1,
            save_best=None,
        ),  # fmt: skip
        "train_dataloader.batch_size": setup.batch_size,
        "log_level": "WARNING",  # mmengine's INFO lines (hook tables, per-iteration logs) stay in scalars.json
    }
    for split in ("train", "val", "test"):
        options[f"{split}_dataloader.dataset.data_root"] = str(data_root)
        options[f"{split}_dataloader.num_workers"] = 0
        options[f"{split}_dataloader.persistent_workers"] = False
    options.update(resize_options(size))
    options.update(row.neck_options())
    return options


def _check_budget(budget_iters: int) -> int:
    if isinstance(budget_iters, bool) or not isinstance(budget_iters, int) or budget_iters < 1:
        raise AblationError(
            f"budget_iters must be a positive integer (training iterations), got {budget_iters!r}"
        )
    return budget_iters


# ----------------------------------------------------------------------------- trainer
class Trainer(Protocol):
    """Trains + tests one row; returns ``AP50`` / ``Recall`` (%), ``params`` (M) and optional extras."""

    def __call__(
        self,
        row: AblationRow,
        *,
        budget_iters: int,
        seed: int,
        work_dir: Path,
        cfg_options: dict[str, Any],
        progress: bool,
    ) -> Mapping[str, float]: ...


def engine_trainer(
    row: AblationRow,
    *,
    budget_iters: int,
    seed: int,
    work_dir: Path,
    cfg_options: dict[str, Any],
    progress: bool,
) -> dict[str, float]:
    """The default trainer: :func:`auxdet.engine.runner.train` (as ``auxdet train``), then ``Runner.test``."""
    from auxdet.engine.runner import load_config, train

    cfg = load_config(
        row.config, work_dir=work_dir, cfg_options=cfg_options, seed=seed, progress_bar=progress
    )
    runner = train(cfg)
    params = sum(p.numel() for p in runner.model.parameters()) / 1e6
    metrics = runner.test()
    table = next((m.last_table for m in runner.test_evaluator.metrics if getattr(m, "last_table", None) is not None),
                 None)  # fmt: skip
    if table is not None:
        table.to_csv(Path(work_dir) / "test_results.csv", index=False)
    overall = table[table["group"] == "overall"].iloc[0] if table is not None else None
    return {
        "AP50": 100.0 * float(metrics["auxvoc/AP50"]),
        "Recall": 100.0 * float(metrics["auxvoc/Recall"]),
        "params": params,
        "num_test_images": float(overall["num_images"]) if overall is not None else float("nan"),
        "num_test_targets": float(overall["num_targets"]) if overall is not None else float("nan"),
    }


# ----------------------------------------------------------------------------- results cache
def load_results(results_csv: str | os.PathLike) -> pd.DataFrame:
    """The cached results (empty frame with :data:`RESULT_COLUMNS` when the file does not exist)."""
    path = Path(results_csv)
    if not path.is_file():
        return pd.DataFrame(columns=list(RESULT_COLUMNS))
    df = pd.read_csv(path, dtype={"setup_id": str, "fingerprint": str, "reused_from": str})
    missing = [c for c in RESULT_COLUMNS if c not in df.columns]
    if missing:
        raise AblationError(
            f"results file '{path}' lacks the columns {missing}; it was not written by run_ablations"
        )
    df["smoke"] = df["smoke"].astype(str).str.lower().isin({"true", "1"})
    df["reused_from"] = df["reused_from"].fillna("")
    return df


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    """Write the CSV to a temporary file beside ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            df.to_csv(fh, index=False)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _append(path: Path, record: Mapping[str, Any]) -> pd.DataFrame:
    old = load_results(path)
    new = pd.DataFrame([record], columns=list(RESULT_COLUMNS))
    df = new if old.empty else pd.concat([old, new], ignore_index=True)
    _write_atomic(df, path)
    return df


def _lookup(df: pd.DataFrame, **values: Any) -> pd.DataFrame:
    if df.empty:
        return df
    mask = pd.Series(True, index=df.index)
    for k, v in values.items():
        mask &= df[k].astype(str) == str(v)
    return df[mask]


def run_ablations(
    rows: Iterable[str | AblationRow] | str | None,
    budget_iters: int,
    seed: int,
    work_root: str | os.PathLike,
    results_csv: str | os.PathLike,
    progress: bool = True,
    *,
    setup: AblationSetup | None = None,
    data_root: str | os.PathLike | None = None,
    smoke: bool | None = None,
    trainer: Trainer | None = None,
    max_train_s: float | None = None,
    processes: int | None = None,
) -> pd.DataFrame:
    """Train + evaluate each ablation row (cached); returns the results of ``rows`` in request order.

    Args:
        rows: keys of :data:`ABLATIONS`, tables (``'tab3'``), rows, or ``None`` for all.
        budget_iters: training iterations per row (same for every row).
        seed: training seed (mmengine ``randomness.seed``).
        work_root: each trained row writes logs / checkpoint to ``<work_root>/<key>_it<budget>_s<seed>_<setup_id>``;
            the synthetic data goes to ``<work_root>/data`` unless ``data_root`` is given.
        results_csv: the cache; one line per row × budget × seed × setup, appended atomically after each row.
        progress: tqdm bars (rows, training iterations, data generation).
        setup: data / optimisation (default :data:`SMOKE_SETUP` when ``smoke`` else :data:`FULL_SETUP`).
        smoke: flag stored with the results (default :func:`auxdet.paths.smoke`).
        trainer: callable training one row (default :func:`engine_trainer`; tests inject fakes).
        max_train_s: start no new training after this many seconds (cached / reused rows are still
            returned); the rows left out are listed in ``result.attrs['missing']`` and are trained by the
            next call. ``None``: no limit.
        processes: rows trained side by side, each in its own process (default: one per core, at most
            2, with the engine on a CPU; 1 with CUDA or an injected trainer).

    Returns:
        one line per measured row (columns :data:`RESULT_COLUMNS`); ``attrs['missing']``: keys not measured.
    """
    from tqdm.auto import tqdm

    from auxdet.engine.parallel import side_by_side

    selected = resolve_rows(rows)
    budget = _check_budget(budget_iters)
    smoke = paths.smoke() if smoke is None else bool(smoke)
    setup = setup or (SMOKE_SETUP if smoke else FULL_SETUP)
    work_root = Path(work_root).expanduser().resolve()
    results_csv = Path(results_csv).expanduser().resolve()
    setup_id = setup.setup_id()
    common = dict(budget_iters=budget, seed=int(seed), setup_id=setup_id)

    if processes is None:  # rows side by side only with the engine (an injected trainer may not pickle)
        from auxdet.engine.parallel import default_processes

        processes = default_processes(2) if trainer is None else 1
    trainer = trainer or engine_trainer
    results: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    t_start = time.perf_counter()
    bar = tqdm(total=len(selected), desc=f"ablations ({budget} it, seed {seed})", unit="row", disable=not progress)
    remaining = list(selected)
    while remaining:
        cache = load_results(results_csv)
        batch: list[AblationRow] = []
        later: list[AblationRow] = []
        for row in remaining:
            hit = _lookup(cache, key=row.key, **common)
            if hit.empty:
                hit = _lookup(cache, fingerprint=row.fingerprint(), **common)
                if not hit.empty:  # the same network was already trained under another row: copy its numbers
                    src = hit.iloc[-1]
                    record = _record(row, smoke, setup, common)
                    record.update({k: src[k] for k in ("AP50", "Recall", "params", "train_s", "num_test_images",
                                                          "num_test_targets")}, reused_from=src["reused_from"] or src["key"])  # fmt: skip
                    cache = _append(results_csv, record)
                    hit = cache.iloc[[-1]]
            if not hit.empty:
                results[row.key] = hit.iloc[-1].to_dict()
                bar.update(1)
            elif len(batch) < processes and row.fingerprint() not in {b.fingerprint() for b in batch}:
                batch.append(row)  # trained in this round
            else:
                later.append(row)  # a twin of a row in this batch (copied next round), or no free process
        if not batch:
            break
        if max_train_s is not None and time.perf_counter() - t_start > max_train_s:
            missing += [r.key for r in batch + later]  # out of time: left for the next call
            break
        if data_root is None:
            data_root = setup.dataset(work_root / "data", progress=progress)
        bar.set_postfix_str(", ".join(r.key for r in batch))
        calls = [dict(row=row, budget_iters=budget, seed=int(seed), work_dir=work_root / f"{row.key}_it{budget}_s{seed}_{setup_id}",
                      cfg_options=ablation_options(row, budget, setup, data_root), progress=progress and len(batch) == 1)
                 for row in batch]  # fmt: skip
        timed = side_by_side(_timed, [dict(trainer=trainer, kwargs=kw) for kw in calls], processes,
                             return_exceptions=True)
        failures = [t for t in timed if isinstance(t, BaseException)]
        for row, outcome in zip(batch, timed, strict=True):
            if isinstance(outcome, BaseException):
                continue
            measured, train_s = outcome
            lacking = {"AP50", "Recall", "params"} - set(measured)
            if lacking:
                raise AblationError(
                    f"trainer returned no {sorted(lacking)} for row '{row.key}' (got {sorted(measured)})"
                )
            record = _record(row, smoke, setup, common)
            record.update(train_s=round(train_s, 2), reused_from="",
                          num_test_images=measured.get("num_test_images", float("nan")),
                          num_test_targets=measured.get("num_test_targets", float("nan")),
                          AP50=float(measured["AP50"]), Recall=float(measured["Recall"]),
                          params=float(measured["params"]))  # fmt: skip
            _append(results_csv, record)  # each finished row is saved at once
            results[row.key] = record
            bar.update(1)
        if failures:
            raise failures[0]  # after saving the rows of this batch that finished
        remaining = later
    bar.close()
    result = pd.DataFrame([results[r.key] for r in selected if r.key in results], columns=list(RESULT_COLUMNS))
    result.attrs["missing"] = missing
    return result


def _record(row: AblationRow, smoke: bool, setup: AblationSetup, common: Mapping[str, Any]) -> dict[str, Any]:
    return dict(
        table=row.table, row=row.row, key=row.key, smoke=smoke, setup=json.dumps(asdict(setup), sort_keys=True),
        config=row.config, switches=json.dumps(row.switches()), fingerprint=row.fingerprint(), **common,
    )  # fmt: skip


def _timed(trainer: Trainer, kwargs: dict[str, Any]) -> tuple[dict[str, float], float]:
    """``(metrics, seconds)`` of one training call (module level: runs in a spawned process too)."""
    t0 = time.perf_counter()
    measured = dict(trainer(**kwargs))
    return measured, time.perf_counter() - t0


# ----------------------------------------------------------------------------- paper vs measured
def paper_comparison(results: pd.DataFrame) -> pd.DataFrame:
    """Long table of the paper's numbers beside ours for the measured rows.

    Columns ``table, row, key, source ('paper' | 'measured'), AP50, Recall, params`` (params in M; the
    paper's only where it prints them), ``smoke``, ``budget_iters``, ``seed``. Several seeds/budgets of a row
    give several measured lines.
    """
    need = ["table", "row", "key", "AP50", "Recall", "params"]
    missing = [c for c in need if c not in results.columns]
    if missing:
        raise AblationError(f"paper_comparison: results lack the columns {missing}")
    parts = []
    for n in sorted(set(results["table"].astype(int))):
        p = paper_rows(n)
        p = p[p["row"].isin(set(results.loc[results["table"].astype(int) == n, "row"]))]
        keys = {r.row: r.key for r in ABLATIONS.values() if r.table == n}
        parts.append(pd.DataFrame({
            "table": n, "row": p["row"], "key": p["row"].map(keys), "source": "paper", "AP50": p[AP50],
            "Recall": p[RECALL], "params": p["Params (M)"] if "Params (M)" in p else float("nan"),
        }))  # fmt: skip
    measured = results.assign(source="measured")
    extra = [c for c in ("smoke", "budget_iters", "seed") if c in measured.columns]
    df = pd.concat([*parts, measured[["table", "row", "key", "source", "AP50", "Recall", "params", *extra]]],
                   ignore_index=True)  # fmt: skip
    df["table"] = df["table"].astype(int)
    return df
