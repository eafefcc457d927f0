"""Helpers for the practice notebooks (04 training, 05 neck features): the demo's three arms, examples, config diffs.

* :func:`demo_runs` — the three arms of ``auxdet demo`` (``baseline``, ``auxdet``, ``auxdet-nometa``; see
  :mod:`auxdet.experiments.study`) trained at full domain ambiguity on the balanced mix, and ``auxdet``
  evaluated with its true, swapped and shuffled metadata — **the study's code path**:
  ``run_study(demo_study(seed, plan), …)``, with its one cache (checkpoints keyed by the run
  fingerprint, result rows in a CSV). With the ``'full'`` budget the default folder is the one
  ``auxdet study`` uses (``<build>/study``): after the study the notebooks find its seed-``seed``
  checkpoints there and only evaluate them (their rows go to ``tutorial_runs.csv`` beside the study's
  data, never into the study's CSVs). Other budgets (``'smoke'`` = :data:`~auxdet.experiments.plan.SMOKE`)
  use ``<build>/tutorial``. A second call with the same arguments is all cache (notebook 05 reuses what
  notebook 04 trained).
* :func:`domain_examples` — held-out synthetic images, ``per_domain`` per platform/band domain, rendered
  with the plan's :class:`~auxdet.data.synthetic.SynthConfig` (ambiguity and domain mix included).
* :func:`config_diff` — a unified diff (:mod:`difflib`) of two mmengine configs' ``pretty_text``.

Budgets: :data:`auxdet.experiments.plan.BUDGETS` — ``'smoke'`` (40 images, 12 iterations: a CI-sized run
whose numbers say nothing about the methods), ``'quick'`` and ``'full'`` (``auxdet demo``: 1200 images,
1100 iterations, AdamW).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from mmengine.config import Config

from auxdet import paths
from auxdet.experiments.cache import ExperimentError, cached_run
from auxdet.experiments.plan import RunPlan, resolve_budget
from auxdet.experiments.trainer import Trainer

__all__ = [
    "RESULTS_NAME",
    "SUMMARY_NAME",
    "DemoRuns",
    "config_diff",
    "default_work_root",
    "demo_runs",
    "domain_examples",
]

#: the result rows and the summary of :func:`demo_runs`, in its work root
RESULTS_NAME = "tutorial_runs.csv"
SUMMARY_NAME = "tutorial_summary.csv"


def default_work_root(budget: str | RunPlan | None = None) -> Path:
    """``<build>/study`` for the ``'full'`` budget (``auxdet study``'s folder: its checkpoints are reused),
    ``<build>/tutorial`` for every other budget."""
    name, _ = resolve_budget(budget)
    return paths.build_dir() / ("study" if name == "full" else "tutorial")


@dataclass(frozen=True)
class DemoRuns:
    """What :func:`demo_runs` returns.

    Attributes:
        budget: the budget's name (``'custom'`` for a plan that is none of :data:`~auxdet.experiments.plan.BUDGETS`).
        plan: the plan every arm trained with (the study cell's: ambiguity and domain mix in ``plan.synth``).
        seed: data and training seed (the same for every arm).
        root: the work root (data, runs, ``tutorial_runs.csv``, ``tutorial_summary.csv``).
        data_root: the synthetic dataset the arms trained and were tested on.
        models: arm → ``(config, checkpoint)``; ``config`` is the resolved run config in the run's training work dir (usable by
            :class:`auxdet.engine.inference.Predictor` and ``auxdet test``; the dir holds mmengine's
            ``*/vis_data/scalars.json``).
        rows: the result rows (:data:`~auxdet.experiments.study.RESULT_COLUMNS`): arm × variant
            (``true`` / ``swap`` / ``shuffle``) × group (overall, each domain), AP50 and Recall in %.
        summary: the comparisons (:data:`~auxdet.experiments.summary.COMPARISONS`) with their paired
            bootstrap 95 % intervals over the test images (:data:`~auxdet.experiments.summary.SUMMARY_COLUMNS`).
    """

    budget: str
    plan: RunPlan
    seed: int
    root: Path
    data_root: Path
    models: dict[str, tuple[Path, Path]]
    rows: pd.DataFrame
    summary: pd.DataFrame

    def work_dirs(self) -> dict[str, Path]:
        """arm → the training work dir (where mmengine logged the losses)."""
        return {arm: config.parent for arm, (config, _) in self.models.items()}  # config: <work_dir>/config.py

    def metric(self, arm: str, variant: str = "true", group: str = "all", metric: str = "AP50") -> float:
        """``metric`` (%) of one arm / test-time variant in one group (``'all'`` or a domain, ``'Space/SWIR'``)."""
        value = group.replace("/", "_")
        sel = self.rows[(self.rows["arm"] == arm) & (self.rows["variant"] == variant) & (self.rows["value"] == value)]
        if len(sel) != 1:
            raise ExperimentError(f"no single result for arm {arm!r}, variant {variant!r}, group {group!r}; groups: "
                                  f"{sorted(set(self.rows['value']))}")  # fmt: skip
        return float(sel[metric].iloc[0])

    def difference(self, comparison: str, group: str = "all", metric: str = "AP50") -> pd.Series:
        """The summary row of a comparison (``diff_mean``, ``ci_lo``, ``ci_hi``, ``a_mean``, ``b_mean``,
        ``num_targets``, ``small``) in one group (``'all'`` or a domain)."""
        s = self.summary
        sel = s[(s["comparison"] == comparison) & (s["metric"] == metric) & (s["value"] == group.replace("/", "_"))]
        if len(sel) != 1:
            raise ExperimentError(f"no summary row for {comparison!r}, {metric!r}, group {group!r}; comparisons: "
                                  f"{sorted(set(s['comparison']))}")  # fmt: skip
        return sel.iloc[0]


def demo_runs(
    budget: str | RunPlan | None = None,
    seed: int = 0,
    work_root: str | os.PathLike | None = None,
    *,
    processes: int | None = None,
    trainer: Trainer | None = None,
    progress: bool = True,
) -> DemoRuns:
    """The three arms of ``auxdet demo`` for a budget and seed: trained (or reused) and evaluated (or reused).

    Args:
        budget: ``'smoke'`` / ``'quick'`` / ``'full'`` or a :class:`~auxdet.experiments.plan.RunPlan`;
            ``None``: :func:`~auxdet.experiments.plan.default_budget` (``'smoke'`` under ``SMOKE=1``).
        seed: random seed of the data and of every training.
        work_root: default :func:`default_work_root` of the budget.
        processes: trainings side by side (default: one per core).
        trainer: a :class:`~auxdet.experiments.trainer.Trainer` (tests inject a fake one); default: the engine.
        progress: tqdm bars.

    Runs ``run_study(demo_study(seed, plan), results=<root>/tutorial_runs.csv, work_root=<root>,
    summary=<root>/tutorial_summary.csv)`` (:func:`auxdet.experiments.study.run_study`): a run is trained
    only if its checkpoint is not cached under ``<root>/runs`` and evaluated only if its rows are not in
    ``tutorial_runs.csv`` (or its per-image outcomes are gone).
    """
    from auxdet.experiments.study import demo_study, run_study, study_runs

    name, plan = resolve_budget(budget)
    root = (Path(work_root) if work_root is not None else default_work_root(budget)).expanduser().resolve()
    study = demo_study(int(seed), plan)
    rows = run_study(study, results=root / RESULTS_NAME, work_root=root, summary=root / SUMMARY_NAME,
                     processes=processes, progress=progress, trainer=trainer)  # fmt: skip
    runs = study_runs(study, root, progress=False)
    models = {}
    for run in runs:
        # run_study trains each run in <run.work_dir>/train, its manifest keyed by the run fingerprint
        found = cached_run(run.work_dir / "train", {"fingerprint": run.fingerprint}, verify=False)
        if found is None:
            raise ExperimentError(f"demo_runs: run {run.name} has no finished checkpoint under '{run.work_dir}', but "
                                  f"its results are cached in '{root / RESULTS_NAME}': delete that file to train "
                                  "the missing run again")
        models[run.arm] = found
    summary = pd.read_csv(root / SUMMARY_NAME, dtype={"fingerprint": str, "per_seed": str})
    return DemoRuns(name, study.plan_for(study.cells[0].setting), int(seed), root, runs[0].data, models, rows, summary)


def domain_examples(
    budget: str | RunPlan | None = None, seed: int = 0, *, per_domain: int = 1, max_scan: int = 2000
) -> list[Any]:
    """Held-out synthetic images, ``per_domain`` with targets for every platform/band domain.

    Images ``num_images, num_images + 1, …`` of the budget's synthetic dataset (same seed and rendering —
    the plan's :meth:`~auxdet.experiments.plan.RunPlan.synth_config`, ambiguity and domain mix included —
    so the same distribution) — never part of the training/validation/test files. Returns
    :class:`auxdet.data.synthetic.SyntheticSample` objects (image, mask, boxes, metadata) ordered by
    domain as :data:`auxdet.data.synthetic.LOOKS`.
    """
    from auxdet.analysis.domain_probe import examples_per_domain

    _, plan = resolve_budget(budget)
    return examples_per_domain(plan.synth_config(), plan.data_params(seed)["seed"], start=plan.num_images,
                               per_domain=per_domain, max_scan=max_scan)


def config_diff(
    cfg_a: str | os.PathLike | Config,
    cfg_b: str | os.PathLike | Config,
    *,
    names: tuple[str, str] | None = None,
    context: int = 3,
) -> str:
    """Unified diff of two configs' ``Config.pretty_text`` (fully resolved, bases merged).

    ``cfg_a`` / ``cfg_b``: a path, a name under ``auxdet/configs`` or a ``Config``. ``names`` label the two
    sides (default: the given names). Returns ``''`` when the configs are identical.
    """
    from auxdet.engine.config import read_config

    def label(cfg: Any) -> str:
        return Path(cfg.filename).name if isinstance(cfg, Config) and cfg.filename else str(cfg)

    a, b = read_config(cfg_a), read_config(cfg_b)
    names = names or (label(cfg_a), label(cfg_b))
    lines = difflib.unified_diff(a.pretty_text.splitlines(), b.pretty_text.splitlines(), fromfile=names[0],
                                 tofile=names[1], lineterm="", n=context)
    return "\n".join(lines)
