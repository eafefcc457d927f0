"""Helpers for the practice notebooks (04 training, 05 neck features): cached tiny models, config diffs.

* :func:`tiny_checkpoints` — the CPU-tiny baseline and AuxDet of ``auxdet demo``
  (:data:`~auxdet.experiments.plan.DEMO_MODELS`: Faster R-CNN R18 with a plain FPN vs with AuxDet's
  AuxFPN) trained on the synthetic omni-domain data with the same budget and seed, through the engine
  (:class:`~auxdet.experiments.trainer.EngineTrainer`, each job the code path of ``auxdet train CONFIG
  --work-dir D --cfg-options … --seed S``). The result is **cached** under ``work_root``
  (:func:`~auxdet.experiments.trainer.train_cached`): a second call with the same budget, seed and
  configs reuses the checkpoints (so notebook 05 reuses the models of notebook 04 and trains its own
  only when they are absent); a cached checkpoint whose weights no longer fit the model is retrained.
* :func:`domain_examples` — held-out synthetic images, one per domain; :func:`config_diff` — a unified
  diff (:mod:`difflib`) of two mmengine configs' ``pretty_text``.

Budgets: :data:`auxdet.experiments.plan.BUDGETS` — ``'smoke'`` (40 images of 128 px, 2 epochs: a
CI-sized run whose numbers say nothing about the methods), ``'quick'`` and ``'full'`` (the ``auxdet
demo`` budgets).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmengine.config import Config

from auxdet import paths
from auxdet.experiments.cache import MANIFEST, cached_run
from auxdet.experiments.plan import DEMO_MODELS, RunPlan, cfg_options, resolve_budget, run_fingerprint
from auxdet.experiments.trainer import Trainer, train_cached

__all__ = [
    "cached_checkpoints",
    "config_diff",
    "default_work_root",
    "domain_examples",
    "tiny_checkpoints",
    "tiny_data",
    "training_options",
]


def default_work_root() -> Path:
    """Where the cached tutorial models and data live: ``<build>/tutorial``."""
    return paths.build_dir() / "tutorial"


def _root(work_root: str | os.PathLike | None) -> Path:
    return (Path(work_root) if work_root is not None else default_work_root()).expanduser().resolve()


def tiny_data(
    budget: str | RunPlan | None = None, seed: int = 0, work_root: str | os.PathLike | None = None,
    *, progress: bool = True,
) -> Path:
    """The synthetic dataset of a budget (generated once, then reused); returns its root."""
    _, plan = resolve_budget(budget)
    return plan.dataset(_root(work_root) / "data", seed, progress=progress)


def training_options(plan: RunPlan, data_root: str | os.PathLike) -> dict[str, Any]:
    """``--cfg-options`` for a tutorial run: the plan's (:func:`~auxdet.experiments.plan.cfg_options`)
    with the loss logged every iteration for short runs (so that the loss curves have points) and the
    console at warnings only (the tqdm bar shows the progress)."""
    short = plan.num_images * (plan.max_epochs or 0) <= 800
    return cfg_options(plan, data_root, log_interval=1 if short else 10, log_level="WARNING")


def domain_examples(
    budget: str | RunPlan | None = None, seed: int = 0, *, per_domain: int = 1, max_scan: int = 2000
) -> list[Any]:
    """Held-out synthetic images, ``per_domain`` with targets for every platform/band domain.

    Images ``num_images, num_images + 1, …`` of the budget's synthetic dataset (same seed and rendering,
    so the same distribution) — never part of the training/validation/test files. Returns
    :class:`auxdet.data.synthetic.SyntheticSample` objects (image, mask, boxes, metadata) ordered by
    domain as :data:`auxdet.data.synthetic.LOOKS`.
    """
    from auxdet.data.synthetic import LOOKS, generate_sample, synthetic_metadata_table

    _, plan = resolve_budget(budget)
    cfg, data_seed = plan.synth_config(), plan.data_params(seed)["seed"]
    table = synthetic_metadata_table(plan.num_images + max_scan, data_seed, cfg).iloc[plan.num_images:]
    table = table[table["target_area"] > 0]
    picked: dict[str, list[Any]] = {key: [] for key in LOOKS}
    for row in table.itertuples(index=False):
        key = f"{row.platform}/{row.band}"
        if key in picked and len(picked[key]) < per_domain:
            sample = generate_sample(int(row.id), data_seed, cfg)
            if len(sample.boxes):  # a target that found no room leaves the image empty (rare)
                picked[key].append(sample)
        if all(len(v) == per_domain for v in picked.values()):
            break
    missing = [k for k, v in picked.items() if len(v) < per_domain]
    if missing:
        raise ValueError(f"no {per_domain} image(s) with targets for domains {missing} among {max_scan} images; "
                         "raise max_scan")
    return [s for key in LOOKS for s in picked[key]]


def _jobs(
    budget: str | RunPlan | None, seed: int, work_root: str | os.PathLike | None, models: Mapping[str, str] | None
) -> tuple[RunPlan, list[Any], dict[str, dict[str, Any]]]:
    """``(plan, jobs, params)``: one job per model in ``<work_root>/<budget>-seed<seed>/<name>``."""
    from auxdet.engine.parallel import TrainJob

    budget_name, plan = resolve_budget(budget)
    root = _root(work_root)
    run_dir = root / (f"{budget_name}-seed{seed}" if budget_name != "custom" else f"custom-{plan.fingerprint()}-seed{seed}")
    data_root = plan.data_dir(root / "data", seed)
    options = training_options(plan, data_root)
    jobs = [TrainJob(name, config, run_dir / name, options, int(seed)) for name, config in (models or DEMO_MODELS).items()]
    params = {j.name: {"config": j.config, "run": run_fingerprint(j.config, options, plan, seed),
                       "data_root": str(data_root)} for j in jobs}  # fmt: skip
    return plan, jobs, params


def cached_checkpoints(
    budget: str | RunPlan | None = None,
    seed: int = 0,
    work_root: str | os.PathLike | None = None,
    *,
    models: Mapping[str, str] | None = None,
    verify: bool = True,
) -> dict[str, tuple[Path, Path]] | None:
    """What :func:`tiny_checkpoints` would return from its cache without training, or ``None`` when
    any model is missing (nothing is trained or generated)."""
    _, jobs, params = _jobs(budget, seed, work_root, models)
    out = {}
    for job in jobs:
        cached = cached_run(job.work_dir, params[job.name], verify) if (job.work_dir / MANIFEST).is_file() else None
        if cached is None:
            return None
        out[job.name] = cached
    return out


def tiny_checkpoints(
    budget: str | RunPlan | None = None,
    seed: int = 0,
    work_root: str | os.PathLike | None = None,
    *,
    models: Mapping[str, str] | None = None,
    trainer: Trainer | None = None,
    verify: bool = True,
    progress: bool = True,
) -> dict[str, tuple[Path, Path]]:
    """The tiny baseline and AuxDet checkpoints of a budget and seed, trained once and then reused.

    Args:
        budget: ``'smoke'`` / ``'quick'`` / ``'full'`` or a :class:`~auxdet.experiments.plan.RunPlan`;
            ``None``: :func:`~auxdet.experiments.plan.default_budget`.
        seed: random seed of the data and of both trainings (the same for every model).
        work_root: cache folder (default :func:`default_work_root`); each model trains in
            ``<work_root>/<budget>-seed<seed>/<name>``, the data lies in ``<work_root>/data``.
        models: name → packaged config (default: ``auxdet demo``'s baseline and AuxDet).
        trainer: a :class:`~auxdet.experiments.trainer.Trainer` returning ``checkpoint`` (tests inject a
            fake one, called in this process); default: the engine, the models side by side on a
            multi-core CPU (one after the other with CUDA).
        verify: check a cached checkpoint against the model built from its config (a mismatch retrains).
        progress: tqdm bars (data generation; the engine's training bar is always on).

    Returns:
        name → ``(config, checkpoint)``: ``config`` is the resolved config of the run (the packaged one
        with the budget's data root, input size and schedule) written to ``<work_dir>/config.py``,
        usable by :class:`auxdet.engine.inference.Predictor`, :func:`auxdet.engine.runner.test` and the
        ``auxdet`` command line.
    """
    plan, jobs, params = _jobs(budget, seed, work_root, models)
    plan.dataset(_root(work_root) / "data", seed, progress=progress)
    return train_cached(jobs, params, trainer=trainer, verify=verify)


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
