"""Shared figure style and the atomic figure writer used by every notebook and helper.

* :data:`PLATFORM_COLORS` / :data:`BAND_COLORS` — one fixed colour per metadata value, so Air is the
  same colour in every figure of the project.
* :func:`save_figure` — writes a figure as PNG and SVG into :func:`auxdet.paths.figures_dir`
  (``figures/`` for full runs, the build folder under ``SMOKE=1``), atomically
  (:func:`auxdet.fileio.atomic_path`), so a reader never sees a half-written figure and an
  interrupted run leaves the previous file intact.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from auxdet import paths
from auxdet.fileio import atomic_path

PLATFORM_COLORS: dict[str, str] = {"Air": "#4C72B0", "Space": "#DD8452", "Land": "#55A868"}
BAND_COLORS: dict[str, str] = {"LWIR": "#C44E52", "NIR": "#8172B3", "SWIR": "#937860"}
FORMATS: tuple[str, ...] = ("png", "svg")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def save_figure(
    fig: Figure,
    name: str,
    *,
    formats: Sequence[str] = FORMATS,
    directory: str | os.PathLike | None = None,
    dpi: int = 150,
) -> list[Path]:
    """Write ``fig`` as ``<directory>/<name>.<fmt>`` for each format; returns the written paths.

    ``directory`` defaults to :func:`auxdet.paths.figures_dir` (SMOKE-aware). ``name`` is a plain
    file stem (letters, digits, ``._-``; no folders, no extension). Each file is written atomically.
    """
    if not _NAME.match(name) or name.lower().endswith(tuple(f".{f}" for f in FORMATS)):
        raise ValueError(f"figure name must be a plain file stem (letters, digits, '._-'), got {name!r}")
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad or not formats:
        raise ValueError(f"unsupported figure formats {bad or list(formats)}; valid: png, svg, pdf")
    out_dir = Path(directory) if directory is not None else paths.figures_dir()
    written: list[Path] = []
    for fmt in formats:
        target = out_dir / f"{name}.{fmt}"
        # svg: no timestamp and a fixed hash salt, so re-running gives byte-identical files
        meta = {"Date": None} if fmt == "svg" else {}
        with atomic_path(target) as tmp, matplotlib.rc_context({"svg.hashsalt": name}):
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", metadata=meta)
        written.append(target)
    return written
