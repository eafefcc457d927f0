"""`make gpu-check` degrades cleanly without CUDA; its training/timing path runs (on the CPU, tiny)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the full check applies")
def test_without_cuda_it_says_so_and_exits_0() -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "no CUDA device" in proc.stdout and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_timing_path_on_the_cpu(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--allow-cpu", "--tiny", "--iters", "2", "--warmup", "0", "--size", "64",
         "--images", "8", "--work-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "AuxDet / baseline step time" in proc.stdout
    import pandas as pd

    table = pd.read_csv(tmp_path / "gpu_check.csv")
    assert list(table["model"]) == ["baseline", "auxdet"] and (table["iters"] == 2).all()
