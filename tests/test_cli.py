"""The ``auxdet`` command line: user errors are one line on stderr with exit code 2; synth / demo run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from auxdet.cli import build_parser, is_user_error, main
from auxdet.engine.checkpoint import CheckpointMismatchError
from auxdet.engine.config import ConfigError, config_path
from auxdet.metadata import MetadataError

AUXDET = "cpu_tiny/auxdet_r18_tiny_synthetic"
BASELINE = "cpu_tiny/cascade_rpn_r18_tiny_synthetic"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory: pytest.TempPathFactory, save_untrained) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("ckpt")
    return {"auxdet": save_untrained(AUXDET, d / "auxdet.pth"), "baseline": save_untrained(BASELINE, d / "base.pth")}


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("img") / "00042.png"
    rng = np.random.default_rng(0)
    cv2.imwrite(str(path), rng.integers(0, 255, (48, 64), dtype=np.uint8))
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(("predict", "tiles"))]
    return code, "\n".join(lines)


def _assert_one_line(code: int, err: str, *needles: str) -> None:
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("auxdet: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)


def test_config_resolves_by_path_name_and_stem() -> None:
    path = config_path(AUXDET)
    assert path.is_file() and path.suffix == ".py"
    assert config_path(AUXDET + ".py") == path == config_path("auxdet_r18_tiny_synthetic") == config_path(path)
    with pytest.raises(ConfigError, match="available"):
        config_path("no_such_config")


def test_missing_config(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for argv in (["train", "no_such_config", "--work-dir", str(tmp_path)],
                 ["test", "no_such_config", "x.pth"], ["predict", "no_such_config", "x.pth", "img.png"]):
        _assert_one_line(*_run(argv, capsys), "no_such_config", "available")


def test_missing_checkpoint_and_image(capsys: pytest.CaptureFixture[str], ckpts: dict, image: Path) -> None:
    _assert_one_line(*_run(["test", AUXDET, "missing.pth"], capsys), "checkpoint 'missing.pth' not found")
    _assert_one_line(*_run(["predict", AUXDET, "missing.pth", str(image), "--platform", "Air", "--band", "LWIR"],
                           capsys), "checkpoint 'missing.pth' not found")
    _assert_one_line(*_run(["predict", AUXDET, str(ckpts["auxdet"]), "nope.png", "--platform", "Air",
                            "--band", "LWIR"], capsys), "image 'nope.png' not found")
    _assert_one_line(*_run(["train", AUXDET, "--resume", "missing.pth"], capsys), "missing.pth")


def test_image_without_metadata(capsys: pytest.CaptureFixture[str], ckpts: dict, image: Path, tmp_path: Path) -> None:
    _assert_one_line(*_run(["predict", AUXDET, str(ckpts["auxdet"]), str(image), "--out-dir", str(tmp_path)],
                           capsys), str(image), "--platform", "--meta-table")
    # a metadata table without the image's id is no metadata either
    table = tmp_path / "statistics.txt"
    table.write_text("00001\tAir\tLWIR\t64\t48\t9\n")
    _assert_one_line(*_run(["predict", AUXDET, str(ckpts["auxdet"]), str(image), "--meta-table", str(table)],
                           capsys), "no platform / band metadata")


def test_bad_platform_and_band_values(capsys: pytest.CaptureFixture[str], ckpts: dict, image: Path) -> None:
    _assert_one_line(*_run(["predict", AUXDET, str(ckpts["auxdet"]), str(image), "--platform", "Sea",
                            "--band", "LWIR"], capsys), "'Sea'", "['Air', 'Space', 'Land']")
    _assert_one_line(*_run(["predict", AUXDET, str(ckpts["auxdet"]), str(image), "--platform", "Air",
                            "--band", "MWIR"], capsys), "'MWIR'", "SWIR")


def test_wrong_architecture_checkpoint(capsys: pytest.CaptureFixture[str], ckpts: dict, image: Path) -> None:
    _assert_one_line(*_run(["predict", AUXDET, str(ckpts["baseline"]), str(image), "--platform", "Air",
                            "--band", "LWIR"], capsys), "does not match", "missing")
    _assert_one_line(*_run(["test", BASELINE, str(ckpts["auxdet"])], capsys), "does not match", "unexpected")


def test_corrupt_checkpoint_and_bad_options(capsys: pytest.CaptureFixture[str], tmp_path: Path, ckpts: dict,
                                            image: Path) -> None:
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"\x00" * 64)
    _assert_one_line(*_run(["test", AUXDET, str(bad)], capsys), "bad.pth")
    _assert_one_line(*_run(["train", AUXDET, "--cfg-options", "no_equals_sign"], capsys), "KEY=VALUE")
    _assert_one_line(*_run(["predict", AUXDET, str(ckpts["auxdet"]), str(image), "--platform", "Air",
                            "--band", "LWIR", "--tile", "32", "--overlap", "40"], capsys), "overlap")


def test_argparse_rejects_bad_launcher_and_score() -> None:
    with pytest.raises(SystemExit) as err:
        build_parser().parse_args(["train", AUXDET, "--launcher", "ssh"])
    assert err.value.code == 2
    with pytest.raises(SystemExit):
        build_parser().parse_args(["predict", AUXDET, "c.pth", "i.png", "--score-thr", "1.5"])


def test_error_classification() -> None:
    assert is_user_error(FileNotFoundError("x"))
    assert is_user_error(MetadataError("x")) and is_user_error(CheckpointMismatchError("x"))
    assert not is_user_error(ValueError("a bug deep in a library"))
    assert not is_user_error(RuntimeError("x"))


def test_nan_loss_exit_code_and_message(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    import auxdet.engine.runner as runner_mod
    from auxdet.engine.hooks import NonFiniteLossError

    def fake_train(cfg):
        raise NonFiniteLossError("training stopped: non-finite loss at iteration 7 (epoch 1): loss=nan; "
                                 "last good checkpoint: w/epoch_1.pth.")

    monkeypatch.setattr(runner_mod, "train", fake_train)
    code = main(["train", AUXDET, "--work-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("auxdet: training stopped") and "iteration 7" in err
    assert len(err.splitlines()) == 1


def test_python_dash_m_prints_one_line_without_traceback(image: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "auxdet", "predict", AUXDET, "missing.pth", str(image), "--platform", "Air",
         "--band", "LWIR"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == ["auxdet: error: checkpoint 'missing.pth' not found"], proc.stderr


def test_synth_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "synth"
    assert main(["synth", str(out), "--num-images", "4", "--max-size", "32"]) == 0
    assert len(list((out / "PNGImages").glob("*.png"))) == 4
    assert len(list((out / "Annotations").glob("*.xml"))) == 4
    assert str(out) in capsys.readouterr().out


def test_demo_report_from_tables(tmp_path: Path) -> None:
    import pandas as pd

    from auxdet.experiments.demo import write_report

    def rows(arm: str, variant: str, ap: float) -> list[dict[str, object]]:
        return [{"setting": "a1-balanced", "seed": 0, "arm": arm, "variant": variant, "group": g, "value": v,
                 "num_targets": n, "AP50": ap + d, "Recall": 50.0} for g, v, n, d in
                [("overall", "all", 10, 0.0), ("domain", "Air/LWIR", 6, 10.0), ("domain", "Land/LWIR", 4, -5.0)]]

    table = pd.DataFrame(rows("baseline", "true", 20.0) + rows("auxdet", "true", 30.0) + rows("auxdet", "swap", 25.0))
    summary = pd.DataFrame([{"setting": "a1-balanced", "comparison": "metadata reliance (swap)", "metric": "AP50",
                             "group": "overall", "value": "all", "num_targets": 10, "a_mean": 30.0, "b_mean": 25.0,
                             "diff_mean": 5.0, "diff_std": float("nan"), "ci_lo": 1.0, "ci_hi": 9.0, "per_seed": "+5.0",
                             "n_seeds": 1}])
    md = write_report(table, summary, tmp_path, settings={"seed": 0})
    text = md.read_text()
    assert "One seed: one sample" in text and "| group | targets |" in text
    row = [line for line in text.splitlines() if line.startswith("| Air/LWIR")][0]
    assert "30.0" in row and "40.0" in row and "35.0" in row  # baseline, auxdet, auxdet (swap)
    assert "metadata reliance (swap)" in text and "[+1.0, +9.0]" in text and "+5.0 (one seed)" in text
    assert (tmp_path / "report.png").stat().st_size > 1000


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    import pandas as pd

    from auxdet.experiments.demo import run_demo
    from auxdet.experiments.plan import RunPlan

    plan = RunPlan(num_images=16, image_size=64, input_size=64, min_target_scale=1.0, max_iters=2, batch_size=2,
                   lr=1e-3, warmup_iters=1)  # fmt: skip
    md = run_demo(tmp_path, plan=plan, progress=False, processes=1)
    text = md.read_text()
    for column in ("baseline", "auxdet", "auxdet-nometa", "auxdet (swap)", "auxdet (shuffle)"):
        assert f" {column} |" in text
    assert "metadata effect" in text and (tmp_path / "report.png").is_file()
    rows = pd.read_csv(tmp_path / "results.csv")
    assert set(rows["arm"]) == {"baseline", "auxdet", "auxdet-nometa"} and (rows["seed"] == 0).all()


def test_amp_sets_mmengine_amp_optim_wrapper(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from auxdet.engine.runner import load_config

    if not torch.cuda.is_available():
        _assert_one_line(*_run(["train", AUXDET, "--amp"], capsys), "--amp", "CUDA")
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    cfg = load_config(AUXDET, amp=True, progress_bar=False)
    assert cfg.optim_wrapper.type == "AmpOptimWrapper" and cfg.optim_wrapper.loss_scale == "dynamic"
    assert cfg.optim_wrapper.optimizer.type == "SGD"  # the rest of the optimizer settings kept


def test_load_config_applies_cli_settings(tmp_path: Path) -> None:
    from auxdet.engine.runner import SAVE_BEST_KEY, load_config

    cfg = load_config(AUXDET, work_dir=tmp_path, seed=7, resume=True,
                      cfg_options=["train_dataloader.batch_size=2", "optim_wrapper.optimizer.lr=0.5"])
    assert cfg.work_dir == str(tmp_path) and cfg.resume is True and cfg.randomness.seed == 7
    assert cfg.train_dataloader.batch_size == 2 and cfg.optim_wrapper.optimizer.lr == 0.5
    assert cfg.default_hooks.checkpoint.save_best == SAVE_BEST_KEY == "auxvoc/AP50"
    types = [h["type"] for h in cfg.custom_hooks]
    for hook in ("WeightsOnlyCheckpointHook", "RNGStateHook", "NonFiniteLossHook", "TqdmProgressHook"):
        assert types.count(hook) == 1
    again = load_config(cfg.filename, cfg_options={"custom_hooks": cfg.custom_hooks})
    assert [h["type"] for h in again.custom_hooks] == types  # no duplicates when a config already has them
