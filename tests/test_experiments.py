"""The experiments' building blocks: fingerprints, run plans, cfg-options, the result cache, the trainer."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from auxdet.engine.parallel import TrainJob
from auxdet.experiments import ablation as A
from auxdet.experiments.cache import ExperimentError, ResultCache, fingerprint
from auxdet.experiments.plan import (
    ABLATION_SMOKE,
    BUDGETS,
    DEMO_MODELS,
    SMOKE,
    RunPlan,
    cfg_options,
    resolve_budget,
    run_fingerprint,
)
from auxdet.experiments.trainer import run_trainings, train_cached


# ----------------------------------------------------------------------------- fingerprint
def test_fingerprint_is_canonical_and_refuses_what_it_cannot_hash(tmp_path: Path) -> None:
    assert fingerprint({"a": 1, "b": (1, 2)}) == fingerprint({"b": [1, 2], "a": 1})  # key order, tuple = list
    assert fingerprint({"a": 1}) != fingerprint({"a": 1.5}) and len(fingerprint("x")) == 12
    assert fingerprint(SMOKE) == fingerprint(SMOKE) == SMOKE.fingerprint() != QUICK_FP
    assert fingerprint(tmp_path) == fingerprint(str(tmp_path))
    with pytest.raises(TypeError, match="cannot hash a object"):
        fingerprint(object())


QUICK_FP = BUDGETS["quick"].fingerprint()


# ----------------------------------------------------------------------------- run plans
def test_plan_validates_its_fields_and_generator_options() -> None:
    with pytest.raises(ExperimentError, match="num_images"):
        RunPlan(num_images=0, image_size=64, input_size=64)
    with pytest.raises(ExperimentError, match="not both"):
        RunPlan(num_images=4, image_size=64, input_size=64, max_epochs=1, max_iters=5)
    with pytest.raises(ExperimentError, match=r"unknown generator options \['ambiguty'\]; valid: .*empty_prob"):
        RunPlan(num_images=4, image_size=64, input_size=64, synth={"ambiguty": 1.0})
    with pytest.raises(ExperimentError, match="no training budget"):
        cfg_options(ABLATION_SMOKE, "/data")
    assert resolve_budget("smoke") == ("smoke", SMOKE) and resolve_budget(replace(SMOKE, lr=0.5))[0] == "custom"
    with pytest.raises(ValueError, match="valid"):
        resolve_budget("huge")


def test_plan_data_dir_follows_the_data_only(tmp_path: Path) -> None:
    plan = RunPlan(num_images=4, image_size=32, input_size=32, max_epochs=1, synth={"empty_prob": 1.0})
    other_training = replace(plan, max_epochs=3, lr=0.5, input_size=64)
    assert plan.data_dir(tmp_path, 0) == other_training.data_dir(tmp_path, 0)  # same data, same folder
    assert plan.data_dir(tmp_path, 0) != plan.data_dir(tmp_path, 1)  # data seed = run seed by default
    fixed = replace(plan, data_seed=7)
    assert fixed.data_dir(tmp_path, 0) == fixed.data_dir(tmp_path, 1) != plan.data_dir(tmp_path, 0)
    assert plan.data_dir(tmp_path, 0) != replace(plan, synth={"empty_prob": 0.5}).data_dir(tmp_path, 0)
    assert plan.data_dir(tmp_path, 0).name.startswith("synthetic-")
    root = plan.dataset(tmp_path, 0, progress=False)  # the generator gets the plan's options
    assert root == plan.data_dir(tmp_path, 0).resolve()
    info = pd.read_csv(root / "synthetic_info.csv")
    assert len(info) == 4 and (info["num_targets"] == 0).all()  # empty_prob=1: no image has a target
    assert plan.synth_config().empty_prob == 1.0 and plan.synth_config().max_size == 32
    assert hash(plan) == hash(replace(plan)) and plan == replace(plan)


def test_cfg_options_epoch_and_iteration_budgets() -> None:
    epochs = cfg_options(replace(SMOKE, max_iters=None, max_epochs=2), "/data")
    assert epochs["train_cfg"] == dict(type="EpochBasedTrainLoop", max_epochs=2, val_interval=2)
    assert epochs["param_scheduler"][1]["milestones"] == [1] and epochs["default_hooks.logger.interval"] == 10
    assert "log_level" not in epochs and epochs["test_dataloader.dataset.data_root"] == "/data"
    iters = cfg_options(replace(ABLATION_SMOKE, max_iters=8), "/data", log_level="WARNING")
    assert iters["train_cfg"]["max_iters"] == 8 and iters["train_cfg"]["val_begin"] == 9
    assert iters["param_scheduler"][0]["end"] == 2 and iters["param_scheduler"][1]["milestones"] == [6]
    assert iters["default_hooks.logger.interval"] == 8 and iters["log_level"] == "WARNING"
    resize = [v for k, v in iters.items() if k.endswith(".scale")]
    assert len(resize) == 3 and set(resize) == {(128, 128)}


def test_run_fingerprint_leaves_the_data_root_out_and_the_options_untouched() -> None:
    plan = replace(ABLATION_SMOKE, max_iters=4)
    options = cfg_options(plan, "/data/a")
    before = copy.deepcopy(options)
    fp = run_fingerprint(DEMO_MODELS["baseline"], options, plan, 0)
    assert options == before  # (mmengine's merge pops ``_delete_``: the options must stay usable)
    assert fp == run_fingerprint(DEMO_MODELS["baseline"], cfg_options(plan, "/data/b"), plan, 0)
    assert fp != run_fingerprint(DEMO_MODELS["baseline"], options, plan, 1)
    assert fp != run_fingerprint(DEMO_MODELS["auxdet"], options, plan, 0)
    assert fp != run_fingerprint(DEMO_MODELS["baseline"], {**options, "optim_wrapper.optimizer.lr": 0.5}, plan, 0)


# ----------------------------------------------------------------------------- result cache
def _cache(path: Path) -> ResultCache:
    return ResultCache(path, ("arm", "seed", "fingerprint", "AP50"), key=("arm", "seed"))


def test_result_cache_keys_rows_and_checks_their_fingerprint(tmp_path: Path) -> None:
    cache = _cache(tmp_path / "r.csv")
    assert cache.load().empty and cache.find(cache.load(), arm="a") is None
    cache.add([{"arm": "a", "seed": 0, "fingerprint": "1e5", "AP50": 1.0},
               {"arm": "b", "seed": 0, "fingerprint": "f2", "AP50": 2.0}])  # fmt: skip
    df = cache.load()
    assert df["fingerprint"].tolist() == ["1e5", "f2"]  # a hash that looks like a number stays text
    assert cache.find(df, arm="a", seed=0, fingerprint="1e5")["AP50"] == 1.0
    assert cache.find(df, arm="a", seed=0, fingerprint="other") is None  # another config: not reused
    cache.add([{"arm": "a", "seed": 0, "fingerprint": "new", "AP50": 3.0}])  # re-measured: replaces the row
    df = cache.load()
    assert len(df) == 2 and cache.find(df, arm="a", seed=0)["AP50"] == 3.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]  # no lock or temporary file left
    (tmp_path / "bad.csv").write_text("arm,seed\n")
    with pytest.raises(ExperimentError, match="lacks the columns"):
        _cache(tmp_path / "bad.csv").load()
    with pytest.raises(ExperimentError, match="not among"):
        ResultCache(tmp_path / "x.csv", ("arm",), key=("arm",))


def test_result_cache_concurrent_writers_lose_no_row(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"

    def writer(arm: str) -> None:
        for seed in range(5):
            _cache(path).add([{"arm": arm, "seed": seed, "fingerprint": f"{arm}{seed}", "AP50": float(seed)}])

    with ThreadPoolExecutor(8) as pool:  # flock is per open file: threads contend as processes do
        list(pool.map(writer, [f"arm{i}" for i in range(8)]))
    df = _cache(path).load()
    assert len(df) == 40 and not df.duplicated(["arm", "seed"]).any()


def test_ablation_row_with_another_fingerprint_is_measured_again(tmp_path: Path) -> None:
    calls: list[str] = []

    def trainer(job: TrainJob, position: int | None = None) -> dict[str, float]:
        calls.append(job.name)
        return {"AP50": 1.0 + len(calls), "Recall": 2.0, "params": 3.0}

    def run() -> pd.DataFrame:
        return A.run_ablations(["tab5_leem"], 3, 0, tmp_path / "w", tmp_path / "r.csv", progress=False,
                               data_root=tmp_path / "d", smoke=True, trainer=trainer)  # fmt: skip

    run()
    run()
    assert calls == ["tab5_leem"]  # cached
    stale = pd.read_csv(tmp_path / "r.csv", dtype=str)
    stale["fingerprint"] = "0123456789ab"  # as if measured with another config
    stale.to_csv(tmp_path / "r.csv", index=False)
    res = run()
    assert calls == ["tab5_leem", "tab5_leem"] and res.AP50.tolist() == [3.0]
    cache = A.load_results(tmp_path / "r.csv")
    assert len(cache) == 1 and cache.fingerprint.iloc[0] != "0123456789ab"  # the stale row was replaced


# ----------------------------------------------------------------------------- trainer
class _Fails:
    """Fails on the job named ``bad``; writes a dummy checkpoint for the others and counts them."""

    def __init__(self) -> None:
        self.trained: list[str] = []

    def __call__(self, job: TrainJob, position: int | None = None) -> dict[str, Any]:
        self.trained.append(job.name)
        if job.name == "bad":
            raise RuntimeError("boom")
        ckpt = job.work_dir / "epoch_1.pth"
        ckpt.write_bytes(b"weights")
        return {"checkpoint": ckpt}


def test_trainings_keep_what_finished_when_one_fails(tmp_path: Path) -> None:
    jobs = [TrainJob(n, "cpu_tiny/faster_rcnn_r18_tiny_synthetic", tmp_path / n, {}, 0) for n in ("ok", "bad")]
    for job in jobs:
        job.work_dir.mkdir()
    out = run_trainings(jobs, _Fails())
    assert isinstance(out["bad"], RuntimeError) and out["ok"]["checkpoint"].is_file() and out["ok"]["train_s"] >= 0
    params = {"ok": {"run": "1"}, "bad": {"run": "2"}}
    with pytest.raises(RuntimeError, match="boom"):
        train_cached(jobs, params, trainer=_Fails(), verify=False)
    assert (tmp_path / "ok" / "run_manifest.json").is_file() and (tmp_path / "ok" / "config.py").is_file()
    assert not (tmp_path / "bad" / "run_manifest.json").exists()
    trainer = _Fails()
    cached = train_cached(jobs[:1], params, trainer=trainer, verify=False)
    assert cached["ok"][1] == tmp_path / "ok" / "epoch_1.pth" and trainer.trained == []  # reused, not retrained
    assert train_cached(jobs[:1], {"ok": {"run": "changed"}}, trainer=trainer, verify=False) == cached
    assert trainer.trained == ["ok"]  # another run in the same work dir: trained again


def test_code_fingerprint_follows_code_not_prose(tmp_path: Path) -> None:
    from auxdet.experiments.cache import code_fingerprint

    pkg = tmp_path / "models"
    pkg.mkdir()
    f = pkg / "m.py"
    f.write_text('"""Doc."""\n\ndef g(x):\n    """Eq. 1."""\n    return x + 1  # comment\n')
    base = code_fingerprint(("models",), tmp_path)
    f.write_text('"""Other doc."""\n\n\ndef g(x):\n    """Eq. 1, reworded."""\n    return x + 1\n')
    assert code_fingerprint(("models",), tmp_path) == base  # prose and layout do not count
    f.write_text('"""Doc."""\n\ndef g(x):\n    return x + 2\n')
    assert code_fingerprint(("models",), tmp_path) != base  # what it computes does
    assert len(code_fingerprint()) == 12
