"""Shared fixtures. Real data comes from $AUXDET_SHARED (default ../shared beside the repo)."""

from __future__ import annotations

import os
from collections.abc import Callable
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


@pytest.fixture(scope="session")
def save_untrained() -> Callable[[str, Path], Path]:
    """``save_untrained(config, path)``: an untrained model of ``config`` saved as a checkpoint; returns ``path``."""

    def save(config: str, path: Path) -> Path:
        import torch
        from mmdet.registry import MODELS
        from mmengine.registry import init_default_scope

        from auxdet.engine.runner import load_config

        cfg = load_config(config, progress_bar=False)
        init_default_scope("mmdet")
        model = MODELS.build(cfg.model)
        torch.save({"meta": {"dataset_meta": {"classes": ("Target",)}}, "state_dict": model.state_dict()}, path)
        return path

    return save
