"""Engine: weights-only checkpoints, NaN stop, exact resume, test = training AP50, tiling, predict, DDP.

The training tests share one tiny run (CPU-tiny AuxDet, 64-px synthetic images, 2 epochs × 2
iterations); tiling and counterfactual logic are tested with fake models.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer

from auxdet.engine.checkpoint import (
    CheckpointError,
    CheckpointMismatchError,
    check_compatible,
    decode_weights_only,
    encode_weights_only,
    load_checkpoint_file,
)
from auxdet.engine.inference import Predictor, counterfactual
from auxdet.engine.tiling import (
    Detections,
    TilingError,
    drop_cut_boxes,
    merge_detections,
    predict_tiled,
    tile_windows,
)
from auxdet.metadata import ImageMeta, Vocabulary

AUXDET = "cpu_tiny/auxdet_r18_tiny_synthetic"
BASELINE = "cpu_tiny/cascade_rpn_r18_tiny_synthetic"


# ----------------------------------------------------------------------------- fake model for tiling
class BlobDetector:
    """Fake model: one box per connected bright blob of the crop (crop pixels, exclusive x2/y2)."""

    def __init__(self) -> None:
        self.crops: list[tuple[int, int]] = []

    def __call__(self, crop: np.ndarray) -> Detections:
        from scipy import ndimage

        self.crops.append(crop.shape[:2])
        labels, n = ndimage.label(crop[..., 0] > 128)
        boxes = [[s[1].start, s[0].start, s[1].stop, s[0].stop] for s in ndimage.find_objects(labels)]
        return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(n, 0.9, np.float32))


def _image_with_targets(width: int, height: int, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    img = np.zeros((height, width, 3), np.uint8)
    for x0, y0, x1, y1 in boxes:
        img[y0:y1, x0:x1] = 255
    return img


def test_tile_windows_cover_the_image_with_the_requested_overlap() -> None:
    wins = tile_windows(300, 200, 128, 32)
    assert {(w[0], w[1]) for w in wins} == {(0, 0), (96, 0), (172, 0), (0, 72), (96, 72), (172, 72)}
    covered = np.zeros((200, 300), int)
    for x0, y0, x1, y1 in wins:
        assert x1 - x0 <= 128 and y1 - y0 <= 128
        covered[y0:y1, x0:x1] += 1
    assert covered.min() >= 1
    assert tile_windows(100, 80, 128, 32) == [(0, 0, 100, 80)]  # small image: one window
    with pytest.raises(TilingError, match="overlap"):
        tile_windows(300, 200, 64, 64)
    with pytest.raises(TilingError, match="tile size"):
        tile_windows(300, 200, 0, 0)


def test_target_across_a_tile_border_is_found_exactly_once() -> None:
    # tile 128 / overlap 32 on 300×200: window borders at x = 128 and y = 128 (first tile), 96/72 (next).
    truth = [(123, 68, 133, 78), (100, 20, 110, 30), (260, 150, 268, 158)]
    img = _image_with_targets(300, 200, truth)
    fake = BlobDetector()
    dets = predict_tiled(fake, img, tile=128, overlap=32)
    found = sorted(map(tuple, dets.boxes.astype(int).tolist()))
    assert found == sorted(truth)  # each target once, with its whole box
    assert max(h for h, _ in fake.crops) <= 128 and max(w for _, w in fake.crops) <= 128  # never the full image
    assert len(fake.crops) == 6
    # the setup does cut the first target: plain NMS over all tiles would report it twice
    naive = Detections.concat(
        fake(img[y0:y1, x0:x1]).shifted(x0, y0) for x0, y0, x1, y1 in tile_windows(300, 200, 128, 32)
    )
    naive = merge_detections(naive, 0.5)
    assert len(naive) > len(truth)


def test_drop_cut_boxes_keeps_boxes_on_image_borders_and_large_boxes() -> None:
    dets = Detections(np.array([[0, 10, 5, 20], [120, 10, 128, 20], [60, 0, 128, 100]], np.float32),
                      np.ones(3, np.float32))
    kept = drop_cut_boxes(dets, (0, 0, 128, 128), 300, 200, overlap=32)
    # image border (x=0) kept; cut by the interior border x=128 dropped; wider than the overlap kept
    assert kept.boxes[:, 0].tolist() == [0.0, 60.0]


def test_predictor_tiles_get_the_whole_image_metadata() -> None:
    seen: list[tuple[ImageMeta, tuple[int, ...]]] = []

    def fake_predict_array(crop: np.ndarray, meta: ImageMeta, name: str = "") -> Detections:
        seen.append((meta, crop.shape))
        return Detections()

    predictor = Predictor.__new__(Predictor)
    predictor.predict_array = fake_predict_array
    img = np.zeros((500, 700, 3), np.uint8)
    predictor.predict(img, ImageMeta("Space", "NIR", 700, 500), tile=256, overlap=64)
    assert len(seen) == 12  # x: 0, 192, 384, 444; y: 0, 192, 244
    assert {(m.width, m.height, m.platform, m.band) for m, _ in seen} == {(700, 500, "Space", "NIR")}
    assert all(s[0] <= 256 and s[1] <= 256 for _, s in seen)


def test_counterfactual_reports_how_detections_change() -> None:
    box = np.array([[10, 10, 20, 20]], np.float32)

    def fake(meta: ImageMeta) -> Detections:  # detects the target only on the Air platform
        if meta.platform == "Air":
            return Detections(box, np.array([0.8 if meta.band == "LWIR" else 0.5], np.float32))
        return Detections(box + 30, np.array([0.4], np.float32))

    table = counterfactual(fake, ImageMeta("Air", "LWIR", 64, 64), Vocabulary(), score_thr=0.3)
    assert len(table) == 9 and table["actual"].sum() == 1
    row = table.set_index(["platform", "band"])
    assert row.loc[("Air", "LWIR"), "kept"] == 1 and row.loc[("Air", "LWIR"), "new"] == 0
    assert row.loc[("Air", "NIR"), "kept"] == 1
    assert row.loc[("Air", "NIR"), "mean_score_change"] == pytest.approx(-0.3)
    assert row.loc[("Land", "LWIR"), "lost"] == 1 and row.loc[("Land", "LWIR"), "new"] == 1


# ----------------------------------------------------------------------------- checkpoints
def test_encoded_checkpoint_loads_weights_only_and_decodes_exactly() -> None:
    buf = HistoryBuffer([1.5, 2.5], [1, 2])
    ckpt = {"meta": {"seed": np.int64(3), "arr": np.arange(4, dtype=np.float32), "f": np.float64(0.25)},
            "message_hub": {"log_scalars": {"train/loss": buf}}, "state_dict": {"w": torch.ones(2)}}
    raw = io.BytesIO()
    torch.save(ckpt, raw)
    raw.seek(0)
    with pytest.raises(Exception, match="weights_only|Weights only"):
        torch.load(raw, weights_only=True)  # what torch ≥ 2.6 does to a plain mmengine checkpoint
    out = io.BytesIO()
    torch.save(encode_weights_only(ckpt), out)
    out.seek(0)
    back = decode_weights_only(torch.load(out, weights_only=True))
    assert back["meta"]["seed"] == 3 and back["meta"]["f"] == 0.25
    assert back["meta"]["arr"].dtype == np.float32 and back["meta"]["arr"].tolist() == [0, 1, 2, 3]
    restored = back["message_hub"]["log_scalars"]["train/loss"]
    assert isinstance(restored, HistoryBuffer)
    assert restored.data[0].tolist() == [1.5, 2.5] and restored.data[1].tolist() == [1, 2]


def test_foreign_or_broken_checkpoints_give_one_line_errors(tmp_path: Path) -> None:
    plain = tmp_path / "plain.pth"
    torch.save({"meta": {"x": np.float64(1.0)}, "state_dict": {}}, plain)
    with pytest.raises(CheckpointError, match="numpy") as err:
        load_checkpoint_file(plain)
    assert "\n" not in str(err.value) and "convert_checkpoint" in str(err.value)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint_file(junk)
    with pytest.raises(FileNotFoundError):
        load_checkpoint_file(tmp_path / "missing.pth")


def test_check_compatible_names_the_mismatch() -> None:
    a = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    check_compatible(a, {"state_dict": a.state_dict()})
    wrong = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Linear(5, 2), torch.nn.ReLU(), torch.nn.Linear(2, 2))
    with pytest.raises(CheckpointMismatchError, match="shape mismatch") as err:
        check_compatible(a, {"state_dict": wrong.state_dict()}, "checkpoint 'x.pth'")
    msg = str(err.value)
    assert "\n" not in msg and "unexpected" in msg and "x.pth" in msg


# ----------------------------------------------------------------------------- training (shared run)
@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from auxdet.data.synthetic import generate_dataset

    # 64-px images; the split gives 8 training images = 2 iterations of batch 4 per epoch
    return generate_dataset(tmp_path_factory.mktemp("synth") / "data", 12, seed=0, max_size=64, empty_prob=0.0,
                            progress=False)


def tiny_options(data_root: Path, **extra: object) -> dict:
    from auxdet.experiments.plan import RunPlan, cfg_options

    plan = RunPlan(num_images=12, image_size=64, input_size=64, max_epochs=2, batch_size=4, lr=0.01,
                   warmup_iters=2)
    opts = cfg_options(plan, data_root)
    opts.update({"train_cfg.val_interval": 1, "default_hooks.checkpoint.interval": 1,
                 "default_hooks.checkpoint.max_keep_ckpts": 5, "default_hooks.logger.interval": 1,
                 # Pd / false alarms over every detection: weight-dependent numbers even for an untrained model
                 "val_evaluator.pd_fa_score_thr": 0.0, "test_evaluator.pd_fa_score_thr": 0.0,
                 "model.test_cfg.rcnn.score_thr": 0.0})
    opts.update(extra)
    return opts


class LossRecorder(Hook):
    """Records ``(iteration, loss)`` after every training iteration."""

    def __init__(self) -> None:
        self.losses: dict[int, float] = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.losses[runner.iter + 1] = float(outputs['loss'])


def _runner(config: str, work_dir: Path, data_root: Path, **kwargs: object):
    from auxdet.engine.runner import build_runner, load_config

    cfg = load_config(config, work_dir=work_dir, cfg_options=tiny_options(data_root), seed=0,
                      progress_bar=False, **kwargs)
    return build_runner(cfg)


@pytest.fixture(scope="module")
def trained(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One uninterrupted run (2 epochs × 2 iterations, validation every epoch)."""
    work = tmp_path_factory.mktemp("run_a")
    runner = _runner(AUXDET, work, tiny_data)
    rec = LossRecorder()
    runner.register_hook(rec)
    runner.train()
    return {"work_dir": work, "losses": rec.losses, "data": tiny_data}


@pytest.mark.slow
def test_resume_continues_from_the_saved_iteration_with_the_same_losses(trained: dict, tmp_path: Path) -> None:
    class Interrupt(Exception):
        pass

    class StopAt(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
            if runner.iter == 2:  # interrupted at the start of the 3rd iteration (epoch 2)
                raise Interrupt

    first = _runner(AUXDET, tmp_path, trained["data"])
    first.register_hook(StopAt())
    with pytest.raises(Interrupt):
        first.train()
    ckpt = tmp_path / "epoch_1.pth"
    assert ckpt.is_file() and not (tmp_path / "epoch_2.pth").exists()
    plain = torch.load(ckpt, weights_only=True)  # plain torch ≥ 2.6 loads auxdet checkpoints
    assert plain["meta"]["iter"] == 2 and "rng_state" in plain

    resumed = _runner(AUXDET, tmp_path, trained["data"], resume=True)
    rec = LossRecorder()
    resumed.register_hook(rec)
    resumed.train()
    assert sorted(rec.losses) == [3, 4]  # continued from the saved iteration
    for it in (3, 4):
        assert rec.losses[it] == pytest.approx(trained["losses"][it], abs=1e-5), it
    final_a = torch.load(trained["work_dir"] / "epoch_2.pth", weights_only=True)["state_dict"]
    final_b = torch.load(tmp_path / "epoch_2.pth", weights_only=True)["state_dict"]
    for key, value in final_a.items():
        torch.testing.assert_close(final_b[key], value, atol=1e-5, rtol=1e-5)


@pytest.mark.slow
def test_logs_scalars_loss_curve_and_best_checkpoint(trained: dict) -> None:
    work = trained["work_dir"]
    scalars = list(work.glob("*/vis_data/scalars.json"))
    assert len(scalars) == 1
    records = [json.loads(line) for line in scalars[0].read_text().splitlines()]
    assert [r["iter"] for r in records if "loss" in r] == [1, 2, 3, 4]
    assert [r["step"] for r in records if "auxvoc/AP50" in r] == [1, 2]
    assert (work / "loss_curve.png").stat().st_size > 1000
    assert len(list(work.glob("best_auxvoc_AP50_epoch_*.pth"))) == 1


@pytest.mark.slow
def test_test_reproduces_the_ap50_written_at_training_time(trained: dict, tmp_path: Path) -> None:
    from auxdet.engine.runner import test

    work = trained["work_dir"]
    ckpt = torch.load(work / "epoch_2.pth", weights_only=True)
    logged = [json.loads(line) for line in next(work.glob("*/vis_data/scalars.json")).read_text().splitlines()]
    at_training = [r for r in logged if r.get("step") == 2 and "auxvoc/AP50" in r][0]
    opts = tiny_options(trained["data"], **{"test_dataloader.dataset.ann_file": "ImageSets/Main/val.txt"})
    metrics = test(AUXDET, work / "epoch_2.pth", work_dir=tmp_path, cfg_options=opts,
                   out=tmp_path / "results.csv")
    assert at_training["auxvoc/Fa_per_MP"] > 0  # not a vacuous comparison of zeros
    for key in ("auxvoc/AP50", "auxvoc/Recall", "auxvoc/Pd", "auxvoc/Fa_per_MP"):
        assert metrics[key] == pytest.approx(at_training[key], abs=1e-6), key
    assert ckpt["meta"]["epoch"] == 2
    import pandas as pd

    table = pd.read_csv(tmp_path / "results.csv")
    assert {"group", "AP50", "Recall"} <= set(table.columns) and "overall" in set(table["group"])
    # the numbers depend on the weights: the epoch-1 weights give a different evaluation
    other = test(AUXDET, work / "epoch_1.pth", work_dir=tmp_path / "e1", cfg_options=opts)
    assert any(other[k] != metrics[k] for k in metrics if not np.isnan(metrics[k]))


@pytest.mark.slow
def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tiny_data: Path, tmp_path: Path) -> None:
    from auxdet.engine.hooks import NonFiniteLossError

    class InjectNaN(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
            if runner.iter == 2:  # the 3rd iteration computes a NaN classification loss
                model, loss = runner.model, runner.model.loss

                def nan_loss(*args, **kwargs):
                    losses = loss(*args, **kwargs)
                    losses["loss_cls"] = losses["loss_cls"] * float("nan")
                    return losses

                model.loss = nan_loss

    runner = _runner(BASELINE, tmp_path, tiny_data)
    runner.register_hook(InjectNaN())
    with pytest.raises(NonFiniteLossError, match="iteration 3") as err:
        runner.train()
    assert "epoch_1.pth" in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "epoch_2.pth").exists()
    assert (tmp_path / "last_checkpoint").read_text().strip().endswith("epoch_1.pth")
    good = torch.load(tmp_path / "epoch_1.pth", weights_only=True)["state_dict"]
    assert all(torch.isfinite(v.float()).all() for v in good.values())


@pytest.mark.slow
def test_predict_cli_writes_json_png_and_counterfactual(trained: dict, tmp_path: Path, capsys) -> None:
    import cv2

    from auxdet.cli import main

    img = next((trained["data"] / "PNGImages").glob("*.png"))
    h, w = cv2.imread(str(img)).shape[:2]
    out = tmp_path / "pred"
    code = main(["predict", AUXDET, str(trained["work_dir"] / "epoch_2.pth"), str(img), "--platform", "air",
                 "--band", "LWIR", "--out-dir", str(out), "--score-thr", "0.0", "--tile", "48", "--overlap", "16",
                 "--counterfactual", "--cfg-options", *_resize_args()])
    assert code == 0
    rec = json.loads((out / f"{img.stem}.json").read_text())
    assert (rec["platform"], rec["band"], rec["width"], rec["height"]) == ("Air", "LWIR", w, h)
    assert rec["num_detections"] == len(rec["detections"])
    for d in rec["detections"]:
        assert len(d["bbox"]) == 4 and 0.0 <= d["score"] <= 1.0
        assert -1 <= d["bbox"][0] <= d["bbox"][2] <= w + 1 and -1 <= d["bbox"][1] <= d["bbox"][3] <= h + 1
    png = cv2.imread(str(out / f"{img.stem}.png"))
    assert png is not None and png.shape[:2] == (h, w)
    import pandas as pd

    table = pd.read_csv(out / f"{img.stem}_counterfactual.csv")
    assert len(table) == 9 and table["actual"].sum() == 1
    assert "counterfactual" in capsys.readouterr().out


def _resize_args() -> list[str]:
    from auxdet.experiments.plan import resize_options

    return [f"{k}=({v[0]},{v[1]})" for k, v in resize_options((64, 64)).items()]


# ----------------------------------------------------------------------------- two processes (gloo)
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_cpu_processes_finish_with_the_same_weights(tiny_data: Path, tmp_path: Path) -> None:
    script = tmp_path / "ddp_train.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys, torch
        import auxdet.engine.runner as R
        from auxdet.cli import main
        train = R.train
        def train_and_dump(cfg):
            runner = train(cfg)
            assert runner.model.find_unused_parameters is False  # every parameter is used: no DDP search
            params = {{k: v.detach().clone() for k, v in runner.model.module.named_parameters()}}
            torch.save(params, os.path.join({str(tmp_path)!r}, f"rank{{os.environ['RANK']}}.pt"))
            return runner
        R.train = train_and_dump
        sys.exit(main(sys.argv[1:]))
    """))
    cli_opts = ["train_cfg.max_epochs=1", "train_cfg.val_interval=5", "train_dataloader.batch_size=4",
                "default_hooks.logger.interval=1", *_resize_args()]
    for split in ("train", "val", "test"):
        cli_opts += [f"{split}_dataloader.dataset.data_root={tiny_data}", f"{split}_dataloader.num_workers=0",
                     f"{split}_dataloader.persistent_workers=False"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
           str(_free_port()), str(script), "train", AUXDET, "--launcher", "pytorch", "--work-dir",
           str(tmp_path / "work"), "--seed", "0", "--no-progress", "--cfg-options", *cli_opts]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0.keys() == r1.keys() and len(r0) > 10
    for key in r0:
        torch.testing.assert_close(r0[key], r1[key], atol=0, rtol=0)
    init = torch.load(tmp_path / "work" / "epoch_1.pth", weights_only=True)["meta"]
    assert init["iter"] == 1  # 8 images over 2 ranks, batch 4: one iteration per epoch


@pytest.mark.slow
def test_train_jobs_side_by_side_train_each_config_as_auxdet_train(tiny_data: Path, tmp_path: Path) -> None:
    from auxdet.engine.checkpoint import load_checkpoint_file
    from auxdet.engine.parallel import TrainJob, run_job, train_jobs

    opts = tiny_options(tiny_data, **{"train_cfg.max_epochs": 1, "train_cfg.val_interval": 1})
    jobs = [TrainJob("baseline", BASELINE, tmp_path / "b", opts, 0), TrainJob("auxdet", AUXDET, tmp_path / "a", opts, 0)]
    out = train_jobs(jobs, processes=2)
    assert set(out) == {"baseline", "auxdet"}
    weights = {name: load_checkpoint_file(path)["state_dict"] for name, path in out.items()}
    assert any("m2dm" in k for k in weights["auxdet"]) and not any("m2dm" in k for k in weights["baseline"])
    # a job in a spawned single-threaded process = the same job here (same seed, same data, same weights)
    import torch

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # what side_by_side gives each of its 2 processes on 2 cores
        here = load_checkpoint_file(run_job(TrainJob("baseline", BASELINE, tmp_path / "b2", opts, 0)))
    finally:
        torch.set_num_threads(threads)
    for key, value in weights["baseline"].items():
        assert torch.allclose(value.float(), here["state_dict"][key].float(), atol=1e-5), key
    # one failing job: the other still finishes, then the error is raised
    bad = [TrainJob("ok", BASELINE, tmp_path / "ok", opts, 0), TrainJob("bad", "no_such_config", tmp_path / "x", opts)]
    with pytest.raises(FileNotFoundError, match="no_such_config"):
        train_jobs(bad, processes=2)
    assert (tmp_path / "ok" / "last_checkpoint").is_file()
    with pytest.raises(ValueError, match="unique"):
        train_jobs([jobs[0], jobs[0]])
