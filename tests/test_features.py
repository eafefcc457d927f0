"""Neck-feature maps, the Grad-CAM adapter, the tutorial's demo runs (the study's cache) and config diff, training plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

matplotlib.use("Agg")

BASELINE = "cpu_tiny/cascade_rpn_r18_tiny_synthetic"
AUXDET = "cpu_tiny/auxdet_r18_tiny_synthetic"
SIZES = ((96, 128), (128, 128))  # (H, W): the first image is padded to 128 × 128 in the batch


@pytest.fixture(scope="module")
def detectors() -> dict:
    """Untrained CPU-tiny baseline and AuxDet (seeded) in eval mode, with the same batch."""
    from auxdet.engine.config import build_detector, demo_batch

    torch.manual_seed(0)
    out = {}
    for name, cfg in (("baseline", BASELINE), ("auxdet", AUXDET)):
        model = build_detector(cfg).eval()
        inputs, samples = demo_batch(model, SIZES, training=False, seed=1)
        out[name] = (model, inputs, samples)
    return out


# ----------------------------------------------------------------------------- feature maps
def test_channel_activation_shapes_and_values() -> None:
    from auxdet.visualisation.features import channel_activation

    x = torch.randn(2, 5, 7, 9)
    assert channel_activation(x).shape == (2, 7, 9)
    assert torch.allclose(channel_activation(x), x.abs().mean(1))
    assert torch.allclose(channel_activation(x, "l2"), x.norm(dim=1))
    assert torch.allclose(channel_activation(x, "max_abs"), x.abs().amax(1))
    assert channel_activation(x[0], "mean").shape == (7, 9)
    with pytest.raises(ValueError, match="valid"):
        channel_activation(x, "median")
    with pytest.raises(ValueError, match="shape"):
        channel_activation(x[0, 0])


def test_neck_features_are_stride_4_and_map_back_to_the_original_image(detectors: dict) -> None:
    from auxdet.visualisation.features import channel_activation, neck_features, to_image_frame

    model, inputs, samples = detectors["auxdet"]
    feats = neck_features(model, inputs, samples)
    assert len(feats) == 2  # the paper's neck returns strides 4 and 8
    assert feats[0].shape == (2, 64, inputs.shape[2] // 4, inputs.shape[3] // 4)
    assert feats[1].shape[-2:] == (inputs.shape[2] // 8, inputs.shape[3] // 8)
    act = channel_activation(feats[0])
    assert act.shape == (2, inputs.shape[2] // 4, inputs.shape[3] // 4)
    framed = to_image_frame(act[0], samples[0])
    assert framed.shape == SIZES[0] and np.isfinite(framed).all()


def test_to_image_frame_crops_padding_and_undoes_the_resize() -> None:
    from mmdet.structures import DetDataSample

    from auxdet.visualisation.features import to_image_frame

    # a 192 × 256 image resized to 96 × 128, padded to 128 × 128; stride-4 map: valid rows 0..23
    sample = DetDataSample(metainfo=dict(ori_shape=(192, 256), img_shape=(96, 128), batch_input_shape=(128, 128)))
    fmap = np.zeros((32, 32), np.float32)
    fmap[:24] = 1.0
    framed = to_image_frame(fmap, sample)
    assert framed.shape == (192, 256)
    assert framed.min() > 0.5  # the zero padding rows were cropped away
    with pytest.raises(ValueError, match="2-D"):
        to_image_frame(np.zeros((1, 4, 4)), sample)


def test_counterfactual_metadata_changes_auxdet_features_only(detectors: dict) -> None:
    from auxdet.visualisation.features import neck_features, with_metadata

    for name, (model, inputs, samples) in detectors.items():
        cf = with_metadata(samples, platform="Land", band="LWIR")
        assert [s.metainfo["platform"] for s in cf] == ["Land", "Land"]
        assert samples[0].metainfo["platform"] == "Air"  # the originals are untouched
        same = torch.equal(neck_features(model, inputs, samples)[0], neck_features(model, inputs, cf)[0])
        assert same == (name == "baseline"), name


# ----------------------------------------------------------------------------- Grad-CAM adapter
@pytest.mark.parametrize("source", ["roi", "rpn"])
def test_gradcam_gives_a_finite_map_of_the_image_size(detectors: dict, source: str) -> None:
    from auxdet.visualisation.features import grad_cam

    model, inputs, samples = detectors["auxdet"]
    maps = grad_cam(model, inputs, samples, layer="out0", source=source, top_k=3)
    assert maps.shape == (2, *inputs.shape[-2:])
    assert np.isfinite(maps).all() and maps.min() >= 0 and maps.max() <= 1 + 1e-6
    assert maps.max() > 0  # some positive evidence (seeded model)
    assert all(p.grad is None for p in model.parameters())  # gradients cleaned up
    assert not model.training


def test_detection_score_model_output_and_logit_option(detectors: dict) -> None:
    from auxdet.visualisation.features import DetectionScoreModel, TopScoresTarget, target_layers

    model, inputs, samples = detectors["baseline"]
    for source in ("roi", "rpn"):
        logit = DetectionScoreModel(model, samples, source=source, top_k=4)(inputs)
        prob = DetectionScoreModel(model, samples, source=source, top_k=4, logits=False)(inputs)
        assert logit.shape == prob.shape == (2, 4) and logit.requires_grad
        assert torch.all(logit[:, :-1] >= logit[:, 1:])  # best first
        # log-odds and probabilities of the same detections (2 classes: fg vs background)
        assert torch.allclose(torch.sigmoid(logit), prob, atol=1e-5), source
        assert torch.isclose(TopScoresTarget(2)(prob[0]), prob[0, :2].sum())
    assert set(target_layers(model)) >= {"out0", "out1", "lateral0"}
    assert "leem0" in target_layers(detectors["auxdet"][0]) and "leem0" not in target_layers(model)
    with pytest.raises(ValueError, match="valid"):
        DetectionScoreModel(model, samples, source="mask")
    with pytest.raises(ValueError, match="data samples"):
        DetectionScoreModel(model, samples[:1])(inputs)


# ----------------------------------------------------------------------------- metadata use (swap diagnostic)
def test_metadata_change_measures_gates_and_features_and_is_zero_for_blind_models() -> None:
    from auxdet.analysis.metadata_use import by_domain, metadata_change, swapped
    from auxdet.engine.config import build_detector, demo_batch
    from auxdet.visualisation.features import neck_features

    metas = [dict(platform="Air", band="LWIR", width=128, height=96), dict(platform="Space", band="SWIR", width=128,
                                                                              height=128)]  # fmt: skip
    torch.manual_seed(0)
    tables = {}
    for name, cfg in (("baseline", "cpu_tiny/faster_rcnn_r18_tiny_synthetic"),
                      ("auxdet", "cpu_tiny/auxdet_faster_rcnn_r18_tiny_synthetic"),
                      ("nometa", "cpu_tiny/auxdet_nometa_faster_rcnn_r18_tiny_synthetic")):  # fmt: skip
        model = build_detector(cfg).eval()
        inputs, samples = demo_batch(model, SIZES, metas, training=False, seed=1)
        assert [f"{s.platform}/{s.band}" for s in swapped(samples)] == ["Land/LWIR", "Space/NIR"]
        tables[name] = table = metadata_change(model, inputs, samples)
        assert table["domain"].tolist() == ["Air/LWIR", "Space/SWIR"]
        assert table["other"].tolist() == ["Land/LWIR", "Space/NIR"]
        same = metadata_change(model, inputs, samples, samples)  # the true metadata twice: no change
        assert (same["feature_change"] == 0).all()
        if name == "auxdet":  # by hand for the padded first image (96 of 128 rows are the image)
            f_true = neck_features(model, inputs, samples)[0][0, :, :24]
            f_swap = neck_features(model, inputs, swapped(samples))[0][0, :, :24]
            expected = 100 * float((f_swap - f_true).norm() / f_true.norm())
            assert table["feature_change"].iloc[0] == pytest.approx(expected, rel=1e-5)
    aux = tables["auxdet"]
    assert {"gate_change_l0", "gate_change_l1"} <= set(aux.columns)
    assert (aux["gate_change"] > 0).all() and (aux["gate_change"] < 1).all() and (aux["feature_change"] > 0).all()
    assert (tables["nometa"][["gate_change_l0", "gate_change_l1", "feature_change"]] == 0).all().all()
    assert (tables["baseline"]["feature_change"] == 0).all() and tables["baseline"]["gate_change"].isna().all()
    summary = by_domain(aux)
    assert summary["n"].tolist() == [1, 1, 2]
    assert summary.loc[("overall", ""), "feature_change"] == pytest.approx(aux["feature_change"].mean())
    with pytest.raises(ValueError, match="one of each"):
        metadata_change(model, inputs, samples[:1])


def test_feature_and_counterfactual_figures_have_colour_bars_and_a_centred_difference() -> None:
    from types import SimpleNamespace

    from auxdet.visualisation.features import plot_counterfactual, plot_feature_rows

    rng = np.random.default_rng(0)
    images = [rng.random((12, 16)), rng.random((10, 16))]
    masks = [np.zeros((12, 16)), np.pad(np.ones((2, 2)), ((4, 4), (7, 7)))]
    fig = plot_feature_rows(images, {"a": images, "b": images}, masks, titles=["x", "y"])
    assert len(fig.axes) == 3 * 2 + 1  # image row + two model rows, one colour bar
    with pytest.raises(ValueError, match="every row"):
        plot_feature_rows(images, {"a": images[:1]})
    dets = SimpleNamespace(boxes=np.array([[1, 1, 4, 4]], float), scores=np.array([0.9]))
    case = dict(image=images[1], labels=("Space/SWIR", "Space/NIR"), maps=(images[1], 2 * images[1]),
                detections=(dets, dets), gt_boxes=np.array([[7, 4, 9, 6]]), mask=masks[1])  # fmt: skip
    fig = plot_counterfactual([case, case])
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 10 and len(fig.axes) == 10 + 4  # 5 panels per case, 2 colour bars per case
    diff = panels[4].images[0]
    assert diff.get_cmap().name == "RdBu_r" and diff.get_clim()[0] == -diff.get_clim()[1]  # centred at 0
    assert panels[2].images[0].get_clim() == panels[3].images[0].get_clim()  # the two maps: one scale
    assert not any(ax.texts for ax in panels)  # no labels printed over the data
    with pytest.raises(ValueError, match="at least one"):
        plot_counterfactual([])


# ----------------------------------------------------------------------------- tutorial helpers
def test_config_diff_shows_the_neck_difference() -> None:
    from auxdet.experiments.tutorial import config_diff

    diff = config_diff(BASELINE, AUXDET, names=("baseline", "auxdet"))
    assert diff.startswith("--- baseline\n+++ auxdet")
    removed = {line[1:].strip() for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")}
    added = {line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")}
    assert "m2dm_levels=()," in removed and "leem_levels=()," in removed
    assert "m2dm_mode='parallel'," in added and "type='MetaTwoStageDetector')" in added
    assert not any("backbone" in line or "lr=" in line for line in removed | added)
    assert config_diff(AUXDET, AUXDET) == ""


TINY_PLAN = dict(num_images=16, image_size=32, input_size=32, min_target_scale=1.0, max_iters=1, batch_size=2,
                 lr=1e-3, warmup_iters=1, synth={"ambiguity": 1.0, "domain_mix": "balanced"})  # fmt: skip


class _FakeTrainer:
    """What a trainer returns: a checkpoint in the job's work dir with untrained weights of ``weights_of(job)``."""

    def __init__(self, wrong: str | None = None) -> None:
        self.calls: list[str] = []
        self.wrong = wrong  # the arm (job name suffix) given the weights of another architecture

    def __call__(self, job: Any, position: int | None = None) -> dict[str, Path]:
        from auxdet.engine.config import build_detector

        self.calls.append(job.name)
        config = BASELINE if self.wrong and job.name.endswith(f"_{self.wrong}") else job.config
        ckpt = Path(job.work_dir) / "iter_1.pth"
        torch.save({"meta": {"dataset_meta": {"classes": ("Target",)}},
                    "state_dict": build_detector(config, init_weights=False).state_dict()}, ckpt)  # fmt: skip
        return {"checkpoint": ckpt}


@pytest.mark.slow
def test_demo_runs_trains_the_three_arms_once_and_reuses_them(tmp_path: Path) -> None:
    from mmengine.config import Config

    from auxdet.experiments.cache import MANIFEST, ExperimentError
    from auxdet.experiments.plan import RunPlan
    from auxdet.experiments.study import ARMS
    from auxdet.experiments.tutorial import RESULTS_NAME, SUMMARY_NAME, demo_runs

    plan = RunPlan(**TINY_PLAN)
    # a checkpoint that does not fit its model: the evaluation refuses it …
    wrong = _FakeTrainer(wrong="baseline")
    with pytest.raises(ValueError, match="checkpoint"):
        demo_runs(plan, 3, tmp_path, trainer=wrong, progress=False)
    names = {f"a1-balanced_seed3_{arm}" for arm in ARMS}
    assert "a1-balanced_seed3_baseline" in wrong.calls and set(wrong.calls) <= names
    # … and the next call retrains that arm and the ones the failure stopped (a chunk at a time), no other
    trainer = _FakeTrainer()
    first = demo_runs(plan, 3, tmp_path, trainer=trainer, progress=False)
    assert set(trainer.calls) == (names - set(wrong.calls)) | {"a1-balanced_seed3_baseline"}
    assert len(trainer.calls) == len(set(trainer.calls))
    assert set(first.models) == set(ARMS) and first.seed == 3 and first.budget == "custom"
    assert first.plan.synth == {"ambiguity": 1.0, "domain_mix": "balanced"}
    assert (first.data_root / "ImageSets" / "Main" / "test.txt").is_file()
    assert (tmp_path / RESULTS_NAME).is_file() and (tmp_path / SUMMARY_NAME).is_file()
    for arm, (cfg_file, ckpt) in first.models.items():
        assert ckpt.is_file() and first.work_dirs()[arm] == cfg_file.parent
        resolved = Config.fromfile(str(cfg_file))  # the run's config: the plan's data, schedule and seed
        assert resolved.train_dataloader.dataset.data_root == str(first.data_root)
        assert resolved.randomness.seed == 3 and resolved.train_cfg.max_iters == 1
    overall = first.rows[first.rows["group"] == "overall"]
    assert sorted(zip(overall["arm"], overall["variant"], strict=True)) == [
        ("auxdet", "shuffle"), ("auxdet", "swap"), ("auxdet", "true"), ("auxdet-nometa", "true"), ("baseline", "true")]
    assert {"metadata effect", "metadata reliance (swap)"} <= set(first.summary["comparison"])
    effect = first.difference("metadata effect")
    assert effect["diff_mean"] == pytest.approx(first.metric("auxdet") - first.metric("auxdet-nometa"))
    domain = first.rows.loc[first.rows["group"] == "domain", "value"].iloc[0]
    assert first.metric("auxdet", "swap", domain.replace("_", "/"), "Recall") == pytest.approx(float(
        first.rows.query("arm == 'auxdet' and variant == 'swap' and value == @domain")["Recall"].iloc[0]), nan_ok=True)
    with pytest.raises(ExperimentError, match="groups"):
        first.metric("auxdet", group="Air/NIR")

    # a second call is all cache: nothing trained, the same rows and checkpoints
    calls = list(trainer.calls)
    second = demo_runs(plan, 3, tmp_path, trainer=trainer, progress=False)
    assert trainer.calls == calls and second.models == first.models
    pd.testing.assert_frame_equal(second.rows, first.rows)

    # an interrupted run (no manifest) whose rows are cached: a clear error naming the results file …
    (first.work_dirs()["baseline"] / MANIFEST).unlink()
    with pytest.raises(ExperimentError, match=RESULTS_NAME):
        demo_runs(plan, 3, tmp_path, trainer=trainer, progress=False)
    # … without its rows it is retrained (and only it)
    csv = pd.read_csv(tmp_path / RESULTS_NAME)
    csv[csv["arm"] != "baseline"].to_csv(tmp_path / RESULTS_NAME, index=False)
    third = demo_runs(plan, 3, tmp_path, trainer=trainer, progress=False)
    assert trainer.calls == [*calls, "a1-balanced_seed3_baseline"] and len(third.rows) == len(first.rows)
    with pytest.raises(ValueError, match="valid"):
        demo_runs("huge", 0, tmp_path, trainer=trainer)


def test_default_work_root_is_the_study_folder_for_the_full_budget(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:  # fmt: skip
    from auxdet.experiments.plan import FULL, SMOKE
    from auxdet.experiments.tutorial import default_work_root

    monkeypatch.setenv("AUXDET_BUILD", str(tmp_path))
    assert default_work_root("full") == default_work_root(FULL) == tmp_path / "study"  # auxdet study's --work-dir
    assert default_work_root("smoke") == default_work_root(SMOKE) == tmp_path / "tutorial"
    monkeypatch.setenv("SMOKE", "1")
    assert default_work_root() == tmp_path / "tutorial"


# ----------------------------------------------------------------------------- training figures
def test_loss_history_reads_mmengine_scalars_and_plots(tmp_path: Path) -> None:
    from auxdet.visualisation.training import loss_history, plot_loss_curves

    for model, offset in (("a", 0.0), ("b", 0.5)):
        vis = tmp_path / model / "20250101_000000" / "vis_data"
        vis.mkdir(parents=True)
        lines = [{"lr": 0.01, "loss": 2.0 - 0.1 * i + offset, "loss_cls": 1.0 - 0.05 * i, "acc": 90.0,
                  "time": 1.0, "epoch": 1, "iter": i, "step": i} for i in range(1, 6)]
        lines.append({"auxvoc/AP50": 0.1, "step": 1})
        (vis / "scalars.json").write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    history = loss_history({"a": tmp_path / "a", "b": tmp_path / "b"})
    assert set(history["key"]) == {"loss", "loss_cls"}  # lr, acc, time, metrics are not losses
    assert len(history) == 2 * 5 * 2
    total_b = history.query("model == 'b' and key == 'loss'").sort_values("iter")["value"].to_numpy()
    assert np.allclose(total_b, [2.4, 2.3, 2.2, 2.1, 2.0])
    fig = plot_loss_curves(history, marks={"lr × 0.1": 4})
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["loss", "loss_cls"]
    assert all(ax.get_ylim()[0] == 0 for ax in visible)  # zero-based
    assert [line.get_xdata()[0] for line in visible[0].lines if line.get_label() == "lr × 0.1"] == [4]
    with pytest.raises(FileNotFoundError):
        loss_history({"c": tmp_path / "missing"})


def test_match_detections_counts_tp_false_alarms_and_misses() -> None:
    from auxdet.visualisation.training import match_detections

    gt = np.array([[10, 10, 20, 20], [50, 50, 60, 60]], np.float32)
    dets = np.array([[11, 10, 21, 20], [10, 11, 20, 21], [80, 80, 90, 90]], np.float32)
    # two detections on the first target: the better-scored one matches, the other is a false alarm
    assert match_detections(gt, dets, np.array([0.9, 0.8, 0.7])) == {"tp": 1, "fp": 2, "missed": 1}
    assert match_detections(gt, np.zeros((0, 4)), np.zeros(0)) == {"tp": 0, "fp": 0, "missed": 2}
    assert match_detections(np.zeros((0, 4)), dets) == {"tp": 0, "fp": 3, "missed": 0}
