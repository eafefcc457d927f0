"""Checks around an mmengine run that keep a user's earlier results intact and fail early.

* :func:`new_test_dir` — ``auxdet test``'s default work dir: a *new* ``test-<YYYYmmdd-HHMMSS>`` folder
  beside the checkpoint (mmengine writes logs and a dump of the — possibly overridden — config into the
  work dir; beside the checkpoint that dump would replace the training's recorded config).
* :func:`check_config_dump` — refuses a work dir whose config dump would replace a training's recorded
  config (a folder with checkpoints: ``auxdet test --work-dir <training dir>``). Folders made by
  ``auxdet test`` carry a marker file and may be reused by later tests.
* :func:`is_main_rank` — rank 0 of a distributed launch (or no launcher): the process that locks.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from auxdet.errors import UserError

__all__ = ["TEST_DIR_MARKER", "check_config_dump", "is_main_rank", "new_test_dir"]

#: marker of a work dir made by ``auxdet test`` (its config dump may be replaced by a later test)
TEST_DIR_MARKER = ".auxdet-test-dir"
_RANK_VARS = ("RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK")


def new_test_dir(parent: str | os.PathLike) -> Path:
    """Create and return ``<parent>/test-<time>`` (``-2``, ``-3`` … when that exists), marked as a test dir."""
    parent = Path(parent)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        path = parent / (f"test-{stamp}" if n == 1 else f"test-{stamp}-{n}")
        try:
            path.mkdir(parents=True)
        except FileExistsError:
            continue
        (path / TEST_DIR_MARKER).touch()
        return path
    raise UserError(f"cannot create a new test folder in '{parent}' (test-{stamp}-* all exist)")


def check_config_dump(cfg: Any) -> None:
    """Refuse a test work dir where mmengine's config dump would replace another run's recorded config."""
    work_dir = Path(cfg.work_dir)
    name = Path(cfg.filename).name if getattr(cfg, "filename", None) else None
    if not work_dir.exists() or (work_dir.is_dir() and not any(work_dir.iterdir())):
        work_dir.mkdir(parents=True, exist_ok=True)
        (work_dir / TEST_DIR_MARKER).touch()  # a folder of tests from now on
        return
    if name is None or not (work_dir / name).exists() or (work_dir / TEST_DIR_MARKER).exists():
        return
    if not ((work_dir / "last_checkpoint").exists() or any(work_dir.glob("*.pth"))):
        return  # not a training folder
    raise UserError(
        f"--work-dir '{work_dir}' already holds '{name}', the config recorded by an earlier run (a training); "
        "testing there would replace it with this test's config — give another --work-dir (default: a new "
        "test-<time> folder beside the checkpoint)"
    )


def is_main_rank(cfg: Any) -> bool:
    """True without a launcher, or on rank 0 of a distributed launch (from the launcher's environment)."""
    if cfg.get("launcher", "none") == "none":
        return True
    for var in _RANK_VARS:
        if var in os.environ:
            return int(os.environ[var]) == 0
    return True
