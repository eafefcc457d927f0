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

import multiprocessing as mp
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["TrainJob", "default_processes", "run_job", "train_jobs"]


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


def run_job(job: TrainJob, threads: int | None = None, position: int | None = None) -> Path:
    """Train one job (in this process) and return its last checkpoint's path."""
    import torch

    from auxdet.engine.runner import load_config, train

    if threads:
        torch.set_num_threads(int(threads))
    cfg = load_config(job.config, work_dir=job.work_dir, cfg_options=dict(job.cfg_options), seed=job.seed,
                      progress_bar=job.progress)
    for hook in cfg.custom_hooks:
        if hook.get("type") == "TqdmProgressHook":
            hook.update(desc=f"train {job.name}", position=position)
    runner = train(cfg)
    marker = Path(runner.work_dir) / "last_checkpoint"
    if not marker.is_file():
        raise FileNotFoundError(f"training of {job.config} in '{job.work_dir}' saved no checkpoint ({marker} missing)")
    return Path(marker.read_text().strip())


def train_jobs(jobs: Sequence[TrainJob], processes: int | None = None) -> dict[str, Path]:
    """Train ``jobs`` (``processes`` at a time, default :func:`default_processes`); name → checkpoint.

    Every job runs to its end even when another fails; the first failure is then raised. Threads per
    process: the cores divided by the processes (at least one).
    """
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise ValueError(f"job names must be unique, got {names}")
    processes = default_processes(len(jobs)) if processes is None else max(1, int(processes))
    if processes == 1 or len(jobs) <= 1:
        return {job.name: run_job(job) for job in jobs}
    threads = max(1, (os.cpu_count() or 1) // processes)
    ctx = mp.get_context("spawn")  # a fresh interpreter per job: no forked torch / OpenMP state
    with ProcessPoolExecutor(max_workers=processes, mp_context=ctx) as pool:
        futures = [pool.submit(run_job, job, threads, i) for i, job in enumerate(jobs)]
        errors = [f.exception() for f in futures]
    for err in errors:
        if err is not None:
            raise err
    return {job.name: f.result() for job, f in zip(jobs, futures, strict=True)}
