"""Train several independent configs at once, one mmengine ``Runner`` per process (CPU demo budget).

The demo and notebook 04 train two models with the same budget. On a 2-core CPU, two single-threaded
processes side by side finish both ~1.3–1.6× sooner than two two-threaded runs one after the other
(PyTorch's CPU kernels do not scale linearly across threads, and data loading / Python overhead run in
parallel too). Each job is exactly what ``auxdet train CONFIG --work-dir D --cfg-options … --seed S``
runs: :func:`auxdet.engine.runner.train` — mmengine's Runner, auxdet's hooks, same checkpoints.

Not a distributed run: the jobs share nothing. With CUDA, or ``processes=1``, the jobs run one after the
other in this process (a GPU is better used by one run at a time).
"""

from __future__ import annotations

import copy
import multiprocessing as mp
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["TrainJob", "default_processes", "last_checkpoint", "run_job", "side_by_side", "train_job", "train_jobs"]


@dataclass(frozen=True)
class TrainJob:
    """One ``auxdet train`` run: config (name or path), work dir, ``--cfg-options`` and seed."""

    name: str
    config: str
    work_dir: Path
    cfg_options: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    progress: bool = True  # the tqdm training bar


def default_processes(num_jobs: int) -> int:
    """Processes for ``num_jobs`` CPU jobs: one per job up to the number of cores (1 with CUDA)."""
    import torch

    if torch.cuda.is_available():
        return 1
    return max(1, min(int(num_jobs), os.cpu_count() or 1))


def _set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def side_by_side(
    fn: Callable[..., Any], calls: Sequence[Mapping[str, Any]], processes: int, *, return_exceptions: bool = False
) -> list[Any]:
    """``[fn(**kw) for kw in calls]``, ``processes`` at a time in spawned processes when ``processes > 1``.

    Each process gets ``cores // processes`` torch threads (at least one). ``fn`` must be importable
    (a module-level function). Every call runs to its end even when another fails; then the first
    failure is raised, or with ``return_exceptions`` each failure stands in its call's place (so the
    caller can keep what finished). Results come back in the order of ``calls``.
    """
    if processes <= 1 or len(calls) <= 1:
        out = []
        for kw in calls:
            try:
                out.append(fn(**kw))
            except Exception as err:
                if not return_exceptions:
                    raise
                out.append(err)
        return out
    threads = max(1, (os.cpu_count() or 1) // processes)
    ctx = mp.get_context("spawn")  # a fresh interpreter per process: no forked torch / OpenMP state
    with ProcessPoolExecutor(max_workers=processes, mp_context=ctx, initializer=_set_threads,
                             initargs=(threads,)) as pool:
        futures = [pool.submit(fn, **kw) for kw in calls]
        try:
            errors = [f.exception() for f in futures]
        except BaseException:  # Ctrl-C / SIGTERM in this process: stop the workers too, do not wait for them
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    if return_exceptions:
        return [err if err is not None else f.result() for f, err in zip(futures, errors, strict=True)]
    for err in errors:
        if err is not None:
            raise err
    return [f.result() for f in futures]


def train_job(job: TrainJob, position: int | None = None) -> Any:
    """Train one job in this process; returns the finished mmengine ``Runner``. ``position``: its tqdm row."""
    from auxdet.engine.runner import load_config, train

    # a copy: merging pops ``_delete_`` from the options' dicts, which other jobs may share
    cfg = load_config(job.config, work_dir=job.work_dir, cfg_options=copy.deepcopy(dict(job.cfg_options)),
                      seed=job.seed, progress_bar=job.progress)
    for hook in cfg.custom_hooks:
        if hook.get("type") == "TqdmProgressHook":
            hook.update(desc=f"train {job.name}", position=position)
    return train(cfg)


def last_checkpoint(work_dir: str | os.PathLike) -> Path:
    """The last checkpoint a training run saved in ``work_dir`` (mmengine's ``last_checkpoint`` marker)."""
    marker = Path(work_dir) / "last_checkpoint"
    if not marker.is_file():
        raise FileNotFoundError(f"the training in '{work_dir}' saved no checkpoint ({marker} missing)")
    return Path(marker.read_text().strip())


def run_job(job: TrainJob, position: int | None = None) -> Path:
    """Train one job (in this process) and return its last checkpoint's path; ``position``: its tqdm row."""
    return last_checkpoint(train_job(job, position).work_dir)


def train_jobs(
    jobs: Sequence[TrainJob], processes: int | None = None, *, run: Callable[..., Any] = run_job,
    return_exceptions: bool = False,
) -> dict[str, Any]:
    """Train ``jobs`` (``processes`` at a time, default :func:`default_processes`); name → checkpoint.

    ``run(job=…, position=…)`` trains one job (default :func:`run_job`; a module-level function or a
    picklable callable) and its result is returned under the job's name. Every job runs to its end even
    when another fails; the first failure is then raised, or with ``return_exceptions`` stands in its
    job's place (see :func:`side_by_side`).
    """
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise ValueError(f"job names must be unique, got {names}")
    processes = default_processes(len(jobs)) if processes is None else max(1, int(processes))
    calls = [dict(job=job, position=i if processes > 1 else None) for i, job in enumerate(jobs)]
    return dict(zip(names, side_by_side(run, calls, processes, return_exceptions=return_exceptions), strict=True))
