"""Does the metadata matter? Controls, seeds and the ambiguity sweep as one cached experiment.

The study trains, on the synthetic omni-domain data, three **arms** that differ in one ingredient each:

==================  ====================================================  =================================
arm                 what                                                  config
==================  ====================================================  =================================
``baseline``        Faster R-CNN R18 with a plain FPN                      ``cpu_tiny/faster_rcnn_r18_tiny_synthetic``
``auxdet``          the same detector with AuxDet's AuxFPN, true metadata  ``cpu_tiny/auxdet_faster_rcnn_r18_tiny_synthetic``
``auxdet-nometa``   the same AuxFPN (same parameters) with the metadata    ``cpu_tiny/auxdet_nometa_faster_rcnn_r18_tiny_synthetic``
                    withheld — Tab. 6's "none"
==================  ====================================================  =================================

and evaluates ``auxdet`` also under two test-time **counterfactuals** (:mod:`auxdet.data.counterfactual`):
metadata ``swap``ped to the domain whose rule is the opposite, and ``shuffle``d across the test images.
Derived differences (:mod:`auxdet.experiments.summary`): *metadata effect* = auxdet − auxdet-nometa,
*metadata reliance* = auxdet(true) − auxdet(swap), *modules* = auxdet-nometa − baseline.

Each **cell** is a generator setting (:class:`Setting`: the domain-ambiguity level and the domain
mix of :class:`auxdet.data.synthetic.SynthConfig`) with the arms trained there; every (cell, seed) has
its own data draw and initialisation (the seed sets both). :data:`STUDY` is the committed study;
:func:`demo_study` is ``auxdet demo`` (one cell, one seed).

:func:`run_study` is one command (``auxdet study``): it generates the data, trains every run that is
not cached on a process pool (:func:`auxdet.experiments.trainer.train_cached`), evaluates each run and
variant with per-image records, and appends one row per (setting, seed, arm, variant, group) to a
:class:`~auxdet.experiments.cache.ResultCache` keyed by the run's fingerprint (config, plan, seed and
model/data/AP code): a row measured with anything else is stale and measured again. Per-image outcomes
(:mod:`auxdet.evaluation.bootstrap`) are kept beside each run; the summary with bootstrap intervals is
recomputed from them whenever its inputs change.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from auxdet.data.counterfactual import COUNTERFACTUALS
from auxdet.experiments.cache import ExperimentError, ResultCache
from auxdet.experiments.plan import FULL, QUICK, RunPlan, cfg_options, run_fingerprint

__all__ = [
    "ARMS",
    "METADATA_ARMS",
    "QUICK_STUDY",
    "RESULT_COLUMNS",
    "STUDY",
    "STUDY_PLAN",
    "Cell",
    "Setting",
    "Study",
    "demo_study",
    "load_outcomes",
    "load_results",
    "run_study",
    "study_runs",
]

#: arm → config (they differ in one ingredient each; see the module docstring)
ARMS: dict[str, str] = {
    "baseline": "cpu_tiny/faster_rcnn_r18_tiny_synthetic",
    "auxdet": "cpu_tiny/auxdet_faster_rcnn_r18_tiny_synthetic",
    "auxdet-nometa": "cpu_tiny/auxdet_nometa_faster_rcnn_r18_tiny_synthetic",
}
#: arms that read metadata: only they are evaluated under the test-time counterfactuals
METADATA_ARMS: tuple[str, ...] = ("auxdet",)
RESULT_COLUMNS: tuple[str, ...] = (
    "setting", "ambiguity", "domain_mix", "seed", "arm", "variant", "group", "value", "num_images",
    "num_targets", "AP50", "Recall", "train_s", "fingerprint",
)  # fmt: skip
_KEY = ("setting", "seed", "arm", "variant", "group", "value")


@dataclass(frozen=True)
class Setting:
    """A generator setting: the domain-ambiguity level and the domain mix (:class:`~auxdet.data.synthetic.SynthConfig`)."""

    ambiguity: float
    domain_mix: str = "balanced"

    @property
    def name(self) -> str:
        return f"a{self.ambiguity:g}-{self.domain_mix}"


@dataclass(frozen=True)
class Cell:
    """One setting and the arms trained in it."""

    setting: Setting
    arms: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = [a for a in self.arms if a not in ARMS]
        if unknown:
            raise ExperimentError(f"unknown study arms {unknown}; valid: {list(ARMS)}")


@dataclass(frozen=True)
class Study:
    """Cells × seeds trained with one plan (data size and training budget)."""

    name: str
    plan: RunPlan
    cells: tuple[Cell, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    bootstrap: int = 1000  # replicates of every paired bootstrap interval
    shuffle_seed: int = 0  # permutation of the 'shuffle' counterfactual
    variants: tuple[str, ...] = field(default=COUNTERFACTUALS)  # for METADATA_ARMS; others: 'true'

    def plan_for(self, setting: Setting) -> RunPlan:
        """The plan of a cell: :attr:`plan` with the setting's generator options."""
        return replace(self.plan, synth={**self.plan.synth, "ambiguity": float(setting.ambiguity),
                                         "domain_mix": setting.domain_mix})  # fmt: skip

    def arm_variants(self, arm: str) -> tuple[str, ...]:
        return self.variants if arm in METADATA_ARMS else ("true",)


#: The study's data and budget: the demo's (:data:`~auxdet.experiments.plan.FULL`); cells set the setting.
STUDY_PLAN = FULL
_ALL = tuple(ARMS)
_PAIR = ("auxdet", "auxdet-nometa")
#: The committed study: the ambiguity sweep on the balanced mix — every arm at full ambiguity (the demo's
#: setting), AuxDet and its no-metadata control at 0.5 and 0. 7 runs per seed, about 25 minutes per seed on
#: 2 idle cores. The real table's mix (66 % Space/NIR, 0.2 % Space/SWIR: the band rule is all but absent)
#: was left out for the CPU budget; ``Cell(Setting(1.0, "real"), _PAIR)`` adds it.
STUDY = Study(
    "study",
    STUDY_PLAN,
    (
        Cell(Setting(1.0, "balanced"), _ALL),
        Cell(Setting(0.5, "balanced"), _PAIR),
        Cell(Setting(0.0, "balanced"), _PAIR),
    ),
)


#: ``auxdet study --quick`` and the tests: two cells, one seed, minutes — a smoke run whose numbers mean nothing.
QUICK_STUDY = Study("quick-study", QUICK, (STUDY.cells[0], STUDY.cells[2]), seeds=(0,), bootstrap=100)


def demo_study(seed: int = 0, plan: RunPlan = STUDY_PLAN) -> Study:
    """``auxdet demo``: the study's first cell (full ambiguity, balanced mix, every arm), one seed."""
    return Study("demo", plan, (STUDY.cells[0],), seeds=(int(seed),), bootstrap=STUDY.bootstrap)


# ----------------------------------------------------------------------------- the runs of a study
@dataclass(frozen=True)
class _Run:
    cell: Cell
    seed: int
    arm: str
    plan: RunPlan
    data: Path
    work_dir: Path
    options: Mapping[str, Any]
    fingerprint: str

    @property
    def name(self) -> str:
        return f"{self.cell.setting.name}/seed{self.seed}/{self.arm}"


def study_runs(study: Study, work_root: str | os.PathLike, *, progress: bool = True,
               generate: bool = True) -> list[_Run]:  # fmt: skip
    """Every run of ``study`` with its fingerprint; ``generate``: also write its data (once per setting and
    seed). Fingerprints do not depend on where the data lives, so ``generate=False`` tells — without
    rendering a single image — which cached rows belong to the current code and settings."""
    work_root = Path(work_root)
    runs = []
    # cell-major in the study's order: the demo's cell first, its seeds together; an interrupted study has
    # whole cells done (each with all its seeds) rather than a few seeds of every cell
    pairs = [(c, s) for c in study.cells for s in study.seeds]
    for cell, seed in tqdm(pairs, desc=f"{study.name}: data", disable=not (progress and generate)):
        plan = study.plan_for(cell.setting)
        data = (plan.dataset(work_root / "data", seed, progress=False) if generate
                else plan.data_dir(work_root / "data", seed))  # fmt: skip
        options = cfg_options(plan, data, log_level="WARNING")
        for arm in cell.arms:
            fp = run_fingerprint(ARMS[arm], options, plan, seed)
            work = work_root / "runs" / cell.setting.name / f"seed{seed}" / arm
            runs.append(_Run(cell, int(seed), arm, plan, data, work, options, fp))
    return runs


def load_results(study: Study, results: str | os.PathLike, *, strict: bool = False) -> pd.DataFrame:
    """The cached result rows of ``study`` (e.g. the committed ``figures/study_runs.csv``) that belong to the
    current code and settings. ``strict``: raise when a run of the study has no fresh row (re-run
    ``auxdet study``); otherwise return what is fresh (possibly nothing)."""
    fresh = {r.fingerprint for r in study_runs(study, "unused", progress=False, generate=False)}
    path = Path(results)
    df = pd.read_csv(path, dtype={"fingerprint": str}) if path.is_file() else pd.DataFrame(columns=RESULT_COLUMNS)
    rows = df[df["fingerprint"].isin(fresh)].reset_index(drop=True)
    missing = len(fresh - set(rows["fingerprint"]))
    if strict and missing:
        raise ExperimentError(f"'{path}': {missing} of {len(fresh)} runs of study {study.name!r} have no row for the "
                              "current code and settings (the model, data or AP code changed since): run `auxdet study`")
    return rows


def _outcomes_path(run: _Run, variant: str) -> Path:
    return run.work_dir / f"outcomes-{variant}.pkl"


def load_outcomes(run: _Run, variant: str) -> Any:
    """The per-image :class:`~auxdet.evaluation.bootstrap.Outcomes` of a run's evaluation (or ``None``)."""
    path = _outcomes_path(run, variant)
    if not path.is_file():
        return None
    with open(path, "rb") as fh:
        stored = pickle.load(fh)
    return stored if stored.get("fingerprint") == run.fingerprint else None


def _cached(df: pd.DataFrame, run: _Run, variants: Sequence[str]) -> bool:
    if df.empty:
        return False
    rows = df[(df["setting"] == run.cell.setting.name) & (df["seed"].astype(int) == run.seed)
              & (df["arm"] == run.arm) & (df["fingerprint"] == run.fingerprint) & (df["group"] == "overall")]  # fmt: skip
    return set(variants) <= set(rows["variant"])


def _evaluate(run: _Run, checkpoint: Path, config: Path, variant: str, shuffle_seed: int) -> pd.DataFrame:
    """Test a trained run under one metadata variant; keep its per-image outcomes; its table."""
    from auxdet.engine.runner import test
    from auxdet.evaluation.bootstrap import outcomes_from_records
    from auxdet.fileio import atomic_write_bytes

    out_dir = run.work_dir / f"test-{variant}"
    records = out_dir / "records.pkl"
    options = dict(run.options)
    options["test_dataloader.dataset.metadata_counterfactual"] = (
        None if variant == "true" else dict(mode=variant, seed=int(shuffle_seed)))
    options["test_evaluator.records_file"] = str(records)
    table_csv = out_dir / "test_results.csv"
    test(str(config), checkpoint, work_dir=out_dir, cfg_options=options, out=table_csv)
    with open(records, "rb") as fh:
        outcomes = outcomes_from_records(pickle.load(fh))
    atomic_write_bytes(_outcomes_path(run, variant),
                       pickle.dumps({"fingerprint": run.fingerprint, "outcomes": outcomes}))  # fmt: skip
    return pd.read_csv(table_csv)


def _rows(run: _Run, variant: str, table: pd.DataFrame, train_s: float) -> list[dict[str, Any]]:
    keep = table[table["group"].isin(["overall", "domain"])]
    return [{"setting": run.cell.setting.name, "ambiguity": run.cell.setting.ambiguity,
             "domain_mix": run.cell.setting.domain_mix, "seed": run.seed, "arm": run.arm, "variant": variant,
             "group": r["group"], "value": r["value"], "num_images": int(r["num_images"]),
             "num_targets": int(r["num_targets"]), "AP50": 100.0 * float(r["AP50"]),
             "Recall": 100.0 * float(r["Recall"]), "train_s": train_s, "fingerprint": run.fingerprint}
            for _, r in keep.iterrows()]  # fmt: skip


def run_study(
    study: Study,
    *,
    results: str | os.PathLike,
    work_root: str | os.PathLike,
    summary: str | os.PathLike | None = None,
    processes: int | None = None,
    progress: bool = True,
    trainer: Any = None,
) -> pd.DataFrame:
    """Run (or reuse) every run of ``study``; returns the result rows of this study.

    ``results``: the result CSV (:data:`RESULT_COLUMNS`, one row per setting × seed × arm × variant ×
    group); ``work_root``: data, checkpoints and per-image outcomes; ``summary``: also write the
    differences with their bootstrap intervals there (:func:`auxdet.experiments.summary.summarise`).
    A run is trained only if one of its variants lacks a row with its fingerprint in ``results``
    (``processes`` at a time, default one per core), or if the summary needs its per-image outcomes
    and they are gone (then it is evaluated again, from its cached checkpoint when that still exists).
    """
    from auxdet.engine.parallel import TrainJob
    from auxdet.experiments.trainer import train_cached

    cache = ResultCache(results, RESULT_COLUMNS, _KEY, text_columns=("setting", "domain_mix", "arm", "variant",
                                                                     "group", "value"), writer="auxdet study")  # fmt: skip
    runs = study_runs(study, work_root, progress=progress)
    cached = cache.load()
    need_outcomes = summary is not None
    todo = [r for r in runs if not _cached(cached, r, study.arm_variants(r.arm))
            or (need_outcomes and any(load_outcomes(r, v) is None for v in study.arm_variants(r.arm)))]
    from auxdet.engine.parallel import default_processes

    # a chunk of as many runs as train side by side at a time: trained, cached (manifests) and evaluated
    # before the next one starts, so an interruption loses at most the chunk in progress
    width = max(1, int(processes) if processes is not None else default_processes(len(todo)))
    for start in range(0, len(todo), width):
        batch = todo[start : start + width]
        jobs = [TrainJob(r.name.replace("/", "_"), ARMS[r.arm], r.work_dir / "train", r.options, r.seed,
                         progress) for r in batch]  # fmt: skip
        params = {j.name: {"fingerprint": r.fingerprint} for j, r in zip(jobs, batch, strict=True)}
        trained = train_cached(jobs, params, trainer=trainer, processes=processes)
        for job, run in zip(jobs, batch, strict=True):
            config, checkpoint = trained[job.name]
            train_s = _train_seconds(run.work_dir / "train")
            rows = []
            for variant in study.arm_variants(run.arm):
                rows += _rows(run, variant, _evaluate(run, checkpoint, config, variant, study.shuffle_seed), train_s)
            cache.add(rows)
        if progress:
            print(f"{study.name}: {min(start + width, len(todo))}/{len(todo)} runs trained and evaluated", flush=True)
    df = cache.load()
    names = {r.fingerprint for r in runs}
    out = df[df["fingerprint"].isin(names)].reset_index(drop=True)
    if summary is not None:
        from auxdet.experiments.summary import summarise

        summarise(study, runs, out, path=summary)
    return out


def _train_seconds(train_dir: Path) -> float:
    """Wall time of a finished training from mmengine's scalars (NaN when unknown)."""
    times = []
    for scalars in sorted(train_dir.glob("*/vis_data/scalars.json")):
        for line in scalars.read_text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if "time" in rec and "iter" in rec:
                times.append((rec["iter"], rec["time"]))
    if not times:
        return float("nan")
    iters = np.array([t[0] for t in times], float)
    step = np.array([t[1] for t in times], float)
    return float(np.median(step) * iters.max())
