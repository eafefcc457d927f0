"""Checks the command line runs *before* the expensive work (model build, training, inference).

Each raises :class:`~auxdet.errors.UserError` naming the option, the value and what is valid, so a
mistake in an output path or a device costs a second, not a finished evaluation:

* :func:`check_output_file` / :func:`check_output_dir` — an ``--out`` file path that is not a folder,
  an ``--out-dir`` / ``--work-dir`` that is not a file, with a parent that exists or can be created,
  and (probed by creating a temporary file) writable;
* :func:`check_device` — ``cpu``, ``cuda``, ``cuda:N`` with CUDA present and ``N`` < the GPU count;
* :func:`check_tile_options` — ``--overlap`` only with ``--tile`` (it has no meaning without tiles);
* :func:`check_config_file` — the config resolves and is valid Python (a syntax error names the file and line);
* :func:`check_checkpoint_file` — a checkpoint exists, is not empty and looks like a torch file (a
  cheap header test; the full check happens when it loads);
* :func:`positive_int` / :func:`nonneg_int` / :func:`positive_float` / :func:`unit_interval` — argparse
  types for counts, sizes and scores;
* :func:`note` — a one-line ``auxdet: note: …`` on stderr.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auxdet.errors import UserError

__all__ = [
    "check_checkpoint_file",
    "check_config_file",
    "check_device",
    "check_output_dir",
    "check_output_file",
    "check_tile_options",
    "note",
    "nonneg_int",
    "positive_float",
    "positive_int",
    "unit_interval",
]


def note(message: str) -> None:
    """Print ``auxdet: note: <message>`` on stderr."""
    print(f"auxdet: note: {message}", file=sys.stderr, flush=True)


def _number(text: str, cast: type, valid: Callable[[float], bool], expected: str) -> Any:
    try:
        v = cast(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not valid(v):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
    return v


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    return _number(text, int, lambda v: v >= 1, "a positive integer (≥ 1)")


def nonneg_int(text: str) -> int:
    """argparse type: an integer ≥ 0."""
    return _number(text, int, lambda v: v >= 0, "a non-negative integer")


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    return _number(text, float, lambda v: 0.0 < v < float("inf"), "a positive number (> 0)")


def unit_interval(text: str) -> float:
    """argparse type: a number in [0, 1] (scores, IoU thresholds)."""
    return _number(text, float, lambda v: 0.0 <= v <= 1.0, "a number in [0, 1]")


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _access(path: Path, mode: int) -> bool:
    """``os.access`` for the effective user (what file creation checks), where the OS can tell."""
    return os.access(path, mode, effective_ids=os.access in os.supports_effective_ids)


def _probe_writable(folder: Path, option: str, shown: Path) -> None:
    """Create and remove a temporary file in ``folder`` (the only reliable test: ACLs, read-only mounts)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".auxdet-write-test-", dir=folder)
    except OSError as err:
        raise UserError(f"{option} '{shown}': cannot write into '{folder}' ({err.strerror or err})") from None
    os.close(fd)
    os.unlink(tmp)


def _check_creatable(folder: Path, option: str, shown: Path) -> None:
    """``folder`` is a writable directory, or can be created (its nearest existing ancestor is one)."""
    base = _nearest_existing(folder)
    if not base.is_dir():
        raise UserError(f"{option} '{shown}': '{base}' is a file, not a folder")
    if base == folder:
        _probe_writable(folder, option, shown)
    elif not _access(base, os.W_OK | os.X_OK):
        raise UserError(f"{option} '{shown}': cannot create folders in '{base}' (not writable)")


def check_output_file(path: str | os.PathLike, option: str = "--out") -> Path:
    """``path`` can be written as a file: not a folder, its folder exists or can be created, writable."""
    p = Path(path).expanduser()
    if str(path).endswith(("/", os.sep)) or p.is_dir():
        raise UserError(f"{option} '{path}' is a folder; give a file path (e.g. {Path(path) / 'results.csv'})")
    if p.exists() and not _access(p, os.W_OK):
        raise UserError(f"{option} '{path}': the existing file is not writable")
    _check_creatable(p.parent if str(p.parent) else Path("."), option, Path(path))
    return p


def check_output_dir(path: str | os.PathLike, option: str = "--out-dir") -> Path:
    """``path`` is (or can be created as) a writable folder."""
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise UserError(f"{option} '{path}' is a file; give a folder")
    _check_creatable(p, option, Path(path))
    return p


def check_device(device: str) -> str:
    """``device`` names a torch device that exists here (``cpu``, ``cuda``, ``cuda:N`` …)."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise UserError(f"--device '{device}' is not a device name (valid: cpu, cuda, cuda:N)") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"--device '{device}': no CUDA GPU is visible on this machine (use --device cpu)")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise UserError(f"--device '{device}': this machine has {count} CUDA GPU(s) (valid: cuda:0 … "
                            f"cuda:{count - 1})")
    elif dev.type != "cpu":
        backend = getattr(torch.backends, dev.type, None)
        if backend is None or not getattr(backend, "is_available", lambda: False)():
            raise UserError(f"--device '{device}': the '{dev.type}' backend is not available here "
                            "(valid: cpu, cuda, cuda:N)")
    return device


def check_config_file(config: str | os.PathLike) -> Path:
    """The config file of ``config`` (a path or a name, see ``auxdet.engine.config.config_path``), checked to parse as Python."""
    from auxdet.engine.config import config_path

    path = config_path(config)
    try:
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as err:
        raise UserError(f"config '{path}' line {err.lineno}: Python syntax error ({err.msg})") from None
    except UnicodeDecodeError:
        raise UserError(f"config '{path}' is not a text (UTF-8) Python file") from None
    return path


def check_checkpoint_file(path: str | os.PathLike, what: str = "checkpoint") -> Path:
    """``path`` exists, is not empty and starts like a torch checkpoint (zip archive or legacy pickle)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise FileNotFoundError(f"{what} '{path}' not found")
    with open(p, "rb") as fh:
        head = fh.read(4)
    if not head:
        raise UserError(f"{what} '{path}' is empty (0 bytes): not a torch checkpoint")
    if not (head.startswith(b"PK") or head.startswith(b"\x80")):
        raise UserError(f"{what} '{path}' is not a torch checkpoint (neither a zip archive nor a pickle; "
                        "auxdet writes checkpoints with torch.save)")
    return p


def check_tile_options(tile: int, overlap: int | None) -> None:
    """``--overlap`` is only meaningful with ``--tile SIZE`` (> 0): refuse it alone rather than ignore it."""
    if not tile and overlap is not None:
        raise UserError(f"--overlap {overlap} has no effect without tiling; add --tile SIZE (e.g. --tile 512) "
                        "or drop --overlap")
