"""Our own ablations (paper Tab. 2–7) measured on synthetic data with the CPU-tiny detector.

* :func:`run_ablations` — trains and tests rows of :data:`~auxdet.experiments.registry.ABLATIONS`
  through the engine (:class:`~auxdet.experiments.trainer.EngineTrainer`: ``auxdet train``'s code path,
  then ``Runner.test`` with ``AuxVOCMetric``) with an iteration budget and a plan of
  :data:`~auxdet.experiments.plan.ABLATION_BUDGETS`, and caches one CSV line per row × budget × seed ×
  plan (:class:`~auxdet.experiments.cache.ResultCache`, keyed by the run's fingerprint: a line measured
  with another config or plan is measured again). A row whose run is identical to one already measured
  (e.g. Tab. 5 "M2DM + LEEM" = Tab. 6 "all" = full AuxDet) is copied, not re-trained. Each finished row
  is written at once, so an interrupted run loses nothing.
* :func:`paper_comparison` — the paper's numbers (:mod:`auxdet.paper_tables`) beside ours, for plotting
  (:mod:`auxdet.visualisation.ablation_plots`).

Results columns: ``table, row, key, AP50, Recall, params, budget_iters, seed, smoke`` (AP50 / Recall in
%, params in M, as in the paper), plus ``setup_id`` (the plan's fingerprint), ``setup`` (the plan),
``config, switches, fingerprint`` (the run's), ``reused_from, train_s, num_test_images, num_test_targets``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pandas as pd

from auxdet import paths
from auxdet.experiments.cache import ExperimentError, ResultCache
from auxdet.experiments.plan import ABLATION_FULL, ABLATION_SMOKE, RunPlan, cfg_options, run_fingerprint
from auxdet.experiments.registry import ABLATIONS, AblationRow, resolve_rows
from auxdet.experiments.trainer import Trainer, run_trainings
from auxdet.paper_tables import AP50, PARAMS, RECALL, paper_rows

__all__ = ["CACHE_KEY", "RESULT_COLUMNS", "load_results", "paper_comparison", "row_options", "run_ablations"]

RESULT_COLUMNS: tuple[str, ...] = (
    "table", "row", "key", "AP50", "Recall", "params", "budget_iters", "seed", "smoke", "setup_id", "setup",
    "config", "switches", "fingerprint", "reused_from", "train_s", "num_test_images", "num_test_targets",
)  # fmt: skip
#: the columns naming one measurement (its fingerprint says whether it is still valid)
CACHE_KEY: tuple[str, ...] = ("key", "budget_iters", "seed", "setup_id")
_MEASURED = ("AP50", "Recall", "params", "train_s", "num_test_images", "num_test_targets")


def _cache(results_csv: str | os.PathLike) -> ResultCache:
    return ResultCache(results_csv, RESULT_COLUMNS, CACHE_KEY, text_columns=("setup_id", "reused_from"),
                       writer="run_ablations")  # fmt: skip


def load_results(results_csv: str | os.PathLike) -> pd.DataFrame:
    """The cached results (empty frame with :data:`RESULT_COLUMNS` when the file does not exist)."""
    df = _cache(results_csv).load()
    df["smoke"] = df["smoke"].astype(str).str.lower().isin({"true", "1"})
    return df


def row_options(row: AblationRow, plan: RunPlan, data_root: str | os.PathLike) -> dict[str, Any]:
    """``--cfg-options`` of one row: the plan's schedule (:func:`~auxdet.experiments.plan.cfg_options`,
    console at WARNING) and the row's ``model.neck.*`` switches."""
    return {**cfg_options(plan, data_root, log_level="WARNING"), **row.neck_options()}


def run_ablations(
    rows: Iterable[str | AblationRow] | str | None,
    budget_iters: int,
    seed: int,
    work_root: str | os.PathLike,
    results_csv: str | os.PathLike,
    progress: bool = True,
    *,
    setup: RunPlan | None = None,
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
        results_csv: the cache; one line per row × budget × seed × setup, written after each row.
        progress: tqdm bars (rows, training iterations, data generation).
        setup: data / optimiser (default :data:`ABLATION_SMOKE` when ``smoke`` else :data:`ABLATION_FULL`).
        smoke: flag stored with the results (default :func:`auxdet.paths.smoke`).
        trainer: trains and tests one row's job (default: the engine; tests inject fakes).
        max_train_s: start no new training after this many seconds (cached / reused rows are still
            returned); the rows left out are listed in ``result.attrs['missing']`` and are trained by the
            next call. ``None``: no limit.
        processes: rows trained side by side, each in its own process (default: one per core, at most
            2, with the engine on a CPU; 1 with CUDA or an injected trainer).

    Returns:
        one line per measured row (columns :data:`RESULT_COLUMNS`); ``attrs['missing']``: keys not measured.
    """
    from tqdm.auto import tqdm

    from auxdet.engine.parallel import TrainJob, default_processes
    from auxdet.experiments.trainer import EngineTrainer

    selected = resolve_rows(rows)
    if isinstance(budget_iters, bool) or not isinstance(budget_iters, int) or budget_iters < 1:
        raise ExperimentError(f"budget_iters must be a positive integer (training iterations), got {budget_iters!r}")
    smoke = paths.smoke() if smoke is None else bool(smoke)
    setup = setup or (ABLATION_SMOKE if smoke else ABLATION_FULL)
    plan = replace(setup, max_epochs=None, max_iters=budget_iters)
    work_root = Path(work_root).expanduser().resolve()
    root = Path(data_root) if data_root is not None else plan.data_dir(work_root / "data", seed)
    common = dict(budget_iters=budget_iters, seed=int(seed), setup_id=setup.fingerprint(), smoke=smoke,
                  setup=json.dumps(asdict(setup), sort_keys=True))  # fmt: skip
    options = {r.key: row_options(r, plan, root) for r in selected}
    runs = {r.key: run_fingerprint(r.config, options[r.key], plan, seed) for r in selected}
    if processes is None:  # rows side by side only with the engine (an injected trainer may not pickle)
        processes = default_processes(2) if trainer is None else 1
    cache = _cache(results_csv)
    results: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    t_start = time.perf_counter()
    bar = tqdm(total=len(selected), desc=f"ablations ({budget_iters} it, seed {seed})", unit="row",
               disable=not progress)  # fmt: skip
    remaining = list(selected)
    while remaining:
        df = load_results(results_csv)
        batch: list[AblationRow] = []
        later: list[AblationRow] = []
        for row in remaining:
            hit = cache.find(df, key=row.key, fingerprint=runs[row.key])  # the fingerprint: budget, seed, plan
            twin = None if hit else cache.find(df, fingerprint=runs[row.key])
            if twin is not None:  # the same run was measured under another row: copy its numbers
                hit = {**_record(row, runs[row.key], common), **{k: twin[k] for k in _MEASURED},
                       "reused_from": twin["reused_from"] or twin["key"]}  # fmt: skip
                cache.add([hit])
            if hit is not None:
                results[row.key] = hit
                bar.update(1)
            elif len(batch) < processes and runs[row.key] not in {runs[b.key] for b in batch}:
                batch.append(row)  # trained in this round
            else:
                later.append(row)  # a twin of a row in this batch (copied next round), or no free process
        if not batch:
            break
        if max_train_s is not None and time.perf_counter() - t_start > max_train_s:
            missing += [r.key for r in batch + later]  # out of time: left for the next call
            break
        if data_root is None:
            plan.dataset(work_root / "data", seed, progress=progress)
        bar.set_postfix_str(", ".join(r.key for r in batch))
        jobs = [TrainJob(r.key, r.config, work_root / f"{r.key}_it{budget_iters}_s{seed}_{common['setup_id']}",
                         options[r.key], int(seed), progress and len(batch) == 1) for r in batch]  # fmt: skip
        outcomes = run_trainings(jobs, trainer or EngineTrainer(test=True), processes)
        for row in batch:
            measured = outcomes[row.key]
            if isinstance(measured, BaseException):
                continue
            lacking = {"AP50", "Recall", "params"} - set(measured)
            if lacking:
                raise ExperimentError(f"trainer returned no {sorted(lacking)} for row '{row.key}' (got {sorted(measured)})")
            record = {**_record(row, runs[row.key], common), "reused_from": "", "train_s": round(measured["train_s"], 2),
                      **{k: float(measured.get(k, float("nan"))) for k in _MEASURED if k != "train_s"}}  # fmt: skip
            cache.add([record])  # each finished row is saved at once
            results[row.key] = record
            bar.update(1)
        failures = [o for o in outcomes.values() if isinstance(o, BaseException)]
        if failures:
            raise failures[0]  # after saving the rows of this batch that finished
        remaining = later
    bar.close()
    result = pd.DataFrame([results[r.key] for r in selected if r.key in results], columns=list(RESULT_COLUMNS))
    result.attrs["missing"] = missing
    return result


def _record(row: AblationRow, run: str, common: dict[str, Any]) -> dict[str, Any]:
    return dict(table=row.table, row=row.row, key=row.key, config=row.config, switches=json.dumps(row.switches()),
                fingerprint=run, **common)  # fmt: skip


def paper_comparison(results: pd.DataFrame) -> pd.DataFrame:
    """Long table of the paper's numbers beside ours for the measured rows.

    Columns ``table, row, key, source ('paper' | 'measured'), AP50, Recall, params`` (params in M; the
    paper's only where it prints them), ``smoke``, ``budget_iters``, ``seed``, ``num_test_targets`` (when the
    results have them). Several seeds/budgets of a row
    give several measured lines.
    """
    need = ["table", "row", "key", "AP50", "Recall", "params"]
    missing = [c for c in need if c not in results.columns]
    if missing:
        raise ExperimentError(f"paper_comparison: results lack the columns {missing}")
    parts = []
    for n in sorted(set(results["table"].astype(int))):
        p = paper_rows(n)
        p = p[p["row"].isin(set(results.loc[results["table"].astype(int) == n, "row"]))]
        keys = {r.row: r.key for r in ABLATIONS.values() if r.table == n}
        parts.append(pd.DataFrame({
            "table": n, "row": p["row"], "key": p["row"].map(keys), "source": "paper", "AP50": p[AP50],
            "Recall": p[RECALL], "params": p[PARAMS] if PARAMS in p else float("nan"),
        }))  # fmt: skip
    measured = results.assign(source="measured")
    extra = [c for c in ("smoke", "budget_iters", "seed", "num_test_targets") if c in measured.columns]
    df = pd.concat([*parts, measured[["table", "row", "key", "source", "AP50", "Recall", "params", *extra]]],
                   ignore_index=True)  # fmt: skip
    df["table"] = df["table"].astype(int)
    return df
