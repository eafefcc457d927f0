"""The one Trainer of experiments: trains a job (one ``auxdet train`` run), on a process pool, cached.

* :class:`Trainer` — the protocol: ``trainer(job, position=None) -> {...}`` trains one
  :class:`auxdet.engine.parallel.TrainJob` and returns what it made: ``checkpoint`` (path) and, when
  it also tests, ``AP50`` / ``Recall`` (%), ``params`` (M), ``num_test_images``, ``num_test_targets``.
  Tests inject fakes (module-level classes, so that they also run in spawned processes).
* :class:`EngineTrainer` — the default: :func:`auxdet.engine.parallel.train_job` (mmengine's Runner,
  the code path of ``auxdet train``), then with ``test=True`` ``Runner.test`` with ``AuxVOCMetric``.
* :func:`run_trainings` — jobs side by side through :func:`auxdet.engine.parallel.train_jobs`, each
  result timed (``train_s``); a failure stands in its job's place, so the caller keeps what finished.
* :func:`train_cached` — the checkpoint cache: a job whose work dir holds a finished run with the same
  parameters is not retrained (:func:`auxdet.experiments.cache.cached_run`); the others train, then
  their resolved config and, last, their manifest are written.
"""

from __future__ import annotations

import copy
import functools
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from auxdet.experiments.cache import cached_run, write_manifest
from auxdet.fileio import atomic_path

if TYPE_CHECKING:
    from auxdet.engine.parallel import TrainJob

__all__ = ["EngineTrainer", "Trainer", "run_trainings", "train_cached"]


class Trainer(Protocol):
    """Trains one job; returns ``checkpoint`` and/or test metrics (see the module docstring)."""

    def __call__(self, job: TrainJob, position: int | None = None) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class EngineTrainer:
    """The engine: ``auxdet train`` of the job; with ``test`` also ``Runner.test`` (table in ``test_results.csv``)."""

    test: bool = False

    def __call__(self, job: TrainJob, position: int | None = None) -> dict[str, Any]:
        from auxdet.engine.parallel import last_checkpoint, train_job
        from auxdet.engine.runner import write_test_results

        runner = train_job(job, position)
        out: dict[str, Any] = {"checkpoint": last_checkpoint(runner.work_dir)}
        if not self.test:
            return out
        out["params"] = sum(p.numel() for p in runner.model.parameters()) / 1e6
        metrics = runner.test()
        table = pd.read_csv(write_test_results(runner, metrics, Path(job.work_dir) / "test_results.csv"))
        overall = table[table["group"] == "overall"] if "group" in table else table.iloc[:0]
        counts = {k: float(overall[k].iloc[0]) if len(overall) else float("nan") for k in ("num_images", "num_targets")}
        return {**out, "AP50": 100.0 * float(metrics["auxvoc/AP50"]), "Recall": 100.0 * float(metrics["auxvoc/Recall"]),
                "num_test_images": counts["num_images"], "num_test_targets": counts["num_targets"]}  # fmt: skip


def _timed(trainer: Trainer, job: TrainJob, position: int | None = None) -> dict[str, Any]:
    """``trainer(job)`` with its wall time as ``train_s`` (module level: runs in a spawned process too)."""
    t0 = time.perf_counter()
    out = dict(trainer(job, position=position))
    out["train_s"] = time.perf_counter() - t0
    return out


def run_trainings(
    jobs: Sequence[TrainJob], trainer: Trainer | None = None, processes: int | None = None
) -> dict[str, dict[str, Any] | BaseException]:
    """Job name → the trainer's result (with ``train_s``) or the exception it raised.

    ``processes``: jobs side by side, each in its own spawned process; default: one per core (1 with
    CUDA) with the engine, 1 with an injected trainer (which then runs in this process).
    """
    from auxdet.engine.parallel import default_processes, train_jobs

    if processes is None:
        processes = default_processes(len(jobs)) if trainer is None else 1
    run = functools.partial(_timed, trainer or EngineTrainer())
    return train_jobs(jobs, processes, run=run, return_exceptions=True)


def train_cached(
    jobs: Sequence[TrainJob],
    params: Mapping[str, Mapping[str, Any]],
    *,
    trainer: Trainer | None = None,
    processes: int | None = None,
    verify: bool = True,
) -> dict[str, tuple[Path, Path]]:
    """Job name → ``(config, checkpoint)`` of a finished run: cached, or trained now.

    ``params[name]`` identifies the run (e.g. its :func:`~auxdet.experiments.plan.run_fingerprint`);
    a work dir whose manifest holds other parameters, or none, is emptied and trained again. ``config``
    is the resolved config of the run (``<work_dir>/config.py``), usable by ``auxdet test`` and
    :class:`auxdet.engine.inference.Predictor`. Jobs that fail do not stop the others: their runs are
    recorded first, then the first failure is raised.
    """
    from auxdet.engine.runner import load_config

    out: dict[str, tuple[Path, Path]] = {}
    todo = []
    for job in jobs:
        cached = cached_run(job.work_dir, params[job.name], verify)
        if cached is not None:
            out[job.name] = cached
            continue
        if Path(job.work_dir).exists():
            shutil.rmtree(job.work_dir)  # a stale or interrupted run: start clean
        Path(job.work_dir).mkdir(parents=True)
        todo.append(job)
    results = run_trainings(todo, trainer, processes) if todo else {}
    for job in todo:
        result = results[job.name]
        if isinstance(result, BaseException):
            continue
        checkpoint = Path(result["checkpoint"])
        if not checkpoint.is_file():
            raise FileNotFoundError(f"trainer returned checkpoint '{checkpoint}', which does not exist")
        resolved = load_config(job.config, work_dir=job.work_dir, cfg_options=copy.deepcopy(dict(job.cfg_options)),
                               seed=job.seed)  # a copy: merging pops ``_delete_`` from the options' dicts
        config = Path(job.work_dir) / "config.py"
        with atomic_path(config) as tmp:
            resolved.dump(str(tmp))
        write_manifest(job.work_dir, params[job.name], config, checkpoint)  # last: marks the run as complete
        out[job.name] = cached_run(job.work_dir, params[job.name], verify=False)  # type: ignore[assignment]
    failures = [r for r in results.values() if isinstance(r, BaseException)]
    if failures:
        raise failures[0]
    return {job.name: out[job.name] for job in jobs}
