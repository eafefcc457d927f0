"""Where auxdet finds the optional real data and writes its outputs.

* ``AUXDET_SHARED`` — the folder holding ``data/wideirstd-metadata`` and ``data/sirst-v2``
  (default: ``../shared`` beside the repository). Everything runs without it (synthetic default).
* ``AUXDET_BUILD`` — scratch outputs of SMOKE runs, tests and caches (default: ``<repo>/build``).
* ``AUXDET_FIGURES`` — where notebooks write figures (default: ``<repo>/figures`` for full runs,
  ``$AUXDET_BUILD/figures`` when ``SMOKE=1`` so a test run never overwrites the committed figures).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def smoke() -> bool:
    """True when running at CI size (environment ``SMOKE=1``)."""
    return os.environ.get("SMOKE", "0").strip().lower() in {"1", "true", "yes", "on"}


def shared_dir() -> Path:
    return Path(os.environ.get("AUXDET_SHARED", REPO_ROOT.parent / "shared")).expanduser().resolve()


def wideirstd_metadata_dir() -> Path:
    return shared_dir() / "data" / "wideirstd-metadata"


def sirst_v2_dir() -> Path:
    return shared_dir() / "data" / "sirst-v2"


def build_dir() -> Path:
    path = Path(os.environ.get("AUXDET_BUILD", REPO_ROOT / "build")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def figures_dir(smoke_run: bool | None = None) -> Path:
    """Folder for figures: committed ``figures/`` for full runs, the build folder for SMOKE runs."""
    if "AUXDET_FIGURES" in os.environ:
        path = Path(os.environ["AUXDET_FIGURES"]).expanduser().resolve()
    elif smoke() if smoke_run is None else smoke_run:
        path = build_dir() / "figures"
    else:
        path = REPO_ROOT / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path
