"""Shared fixtures. Real data comes from $AUXDET_SHARED (default ../shared beside the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from auxdet import paths


def _require(path: Path) -> Path:
    if path.exists():
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{path} is missing: CI must run with the shared data beside the repo (AUXDET_SHARED)")
    pytest.skip(f"real data not found at {path} (set AUXDET_SHARED)")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _require(paths.shared_dir())


@pytest.fixture(scope="session")
def wideirstd_metadata_dir() -> Path:
    return _require(paths.wideirstd_metadata_dir())


@pytest.fixture(scope="session")
def sirst_v2_dir() -> Path:
    return _require(paths.sirst_v2_dir())


@pytest.fixture(autouse=True)
def _seed() -> None:
    import numpy as np
    import torch

    torch.manual_seed(0)
    np.random.seed(0)
