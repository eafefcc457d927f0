"""Tests of auxdet.evaluation: hand-made detections with answers computed by hand.

AP is VOC "area" mode: the area under the monotone precision envelope of the ranked detections.
Boxes use mmdet's VOC convention (width = x2 - x1 + 1) unless ``use_legacy_coordinate=False``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from mmdet.evaluation import VOCMetric
from mmdet.registry import METRICS
from mmdet.structures import DetDataSample
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData

from auxdet.evaluation import (
    AuxVOCMetric,
    EvaluationError,
    evaluate_detections,
    match_targets,
    pd_fa,
    table_to_metrics,
)

# Two 10x10-pixel (legacy VOC) targets per image, far apart.
T1 = [10.0, 10.0, 19.0, 19.0]
T2 = [100.0, 100.0, 109.0, 109.0]
FAR = [200.0, 30.0, 209.0, 39.0]  # overlaps no target


def image(gt, dets=(), scores=(), platform="Air", band="LWIR", width=256, height=256, img_id=None):
    """(prediction, ground truth) records of one image."""
    pred = {"bboxes": np.asarray(dets, dtype=np.float32).reshape(-1, 4), "scores": np.asarray(scores)}
    truth = {
        "bboxes": np.asarray(gt, dtype=np.float32).reshape(-1, 4),
        "platform": platform,
        "band": band,
        "width": width,
        "height": height,
    }
    if img_id is not None:
        pred["img_id"] = truth["img_id"] = img_id
    return pred, truth


def evaluate(images, **kwargs) -> pd.DataFrame:
    preds, gts = zip(*images, strict=True)
    return evaluate_detections(list(preds), list(gts), **kwargs)


def row(table: pd.DataFrame, group: str = "overall", value: str = "all") -> pd.Series:
    match = table[(table["group"] == group) & (table["value"] == value)]
    assert len(match) == 1, f"no single row {group}={value} in\n{table}"
    return match.iloc[0]


# --------------------------------------------------------------------------------------------- AP / recall
def test_perfect_predictions_give_ap_and_recall_one_in_every_group() -> None:
    images = [
        image([T1, T2], [T1, T2], [0.9, 0.8], "Air", "LWIR"),
        image([T1], [T1], [0.7], "Space", "SWIR"),
        image([T2], [T2], [0.95], "Land", "NIR"),
    ]
    table = evaluate(images)
    assert list(table["group"]) == ["overall"] + ["platform"] * 3 + ["band"] * 3 + ["domain"] * 3
    assert list(table["value"][1:4]) == ["Air", "Space", "Land"]  # vocabulary order
    assert list(table["value"][4:7]) == ["LWIR", "NIR", "SWIR"]
    assert list(table["value"][7:]) == ["Air_LWIR", "Space_SWIR", "Land_NIR"]  # only present domains
    assert np.allclose(table["AP50"], 1.0) and np.allclose(table["Recall"], 1.0)
    assert row(table)["num_targets"] == 4 and row(table)["num_images"] == 3
    assert row(table, "domain", "Air_LWIR")[["platform", "band"]].tolist() == ["Air", "LWIR"]


def test_half_found_with_highest_scores() -> None:
    # 4 targets; the 2 highest-ranked detections are hits, the 2 below them false positives.
    images = [
        image([T1, T2], [T1, FAR], [0.9, 0.3]),
        image([T1, T2], [T2, FAR], [0.8, 0.2]),
    ]
    overall = row(evaluate(images, by=()))
    assert overall["Recall"] == pytest.approx(0.5)
    # precision 1 up to recall 0.5, nothing after: area = 0.5 * 1
    assert overall["AP50"] == pytest.approx(0.5)
    # '11points': max precision at recall >= 0, 0.1, ..., 0.5 is 1, 0 beyond: 6/11
    assert row(evaluate(images, by=(), eval_mode="11points"))["AP50"] == pytest.approx(6 / 11, abs=1e-6)


@pytest.mark.parametrize(
    ("images", "expected_ap"),
    [
        # 1 target: FP (0.9) then TP (0.8): precision 1/2 at recall 1 → AP 0.5
        ([image([T1], [FAR, T1], [0.9, 0.8])], 0.5),
        # 2 targets: FP, TP, TP: precisions 0, 1/2, 2/3 → envelope 2/3 over recall 0..1
        ([image([T1, T2], [FAR, T1, T2], [0.9, 0.8, 0.7])], 2 / 3),
        # 4 targets: TP, FP, TP → 0.25 * 1 + 0.25 * 2/3
        ([image([T1, T2], [T1, FAR], [0.9, 0.8]), image([T1, T2], [T2], [0.7])], 0.25 + 0.25 * 2 / 3),
    ],
)
def test_false_positive_ranked_above_true_positive(images, expected_ap) -> None:
    assert row(evaluate(images, by=()))["AP50"] == pytest.approx(expected_ap, abs=1e-6)


def test_per_domain_split_one_perfect_one_missed() -> None:
    images = [
        image([T1, T2], [T1, T2], [0.9, 0.8], "Air", "LWIR"),
        image([T1, T2], [FAR], [0.1], "Space", "SWIR"),  # both targets missed, one low-score false alarm
    ]
    table = evaluate(images)
    for group, value in [("platform", "Air"), ("band", "LWIR"), ("domain", "Air_LWIR")]:
        assert row(table, group, value)[["AP50", "Recall"]].tolist() == pytest.approx([1.0, 1.0])
    for group, value in [("platform", "Space"), ("band", "SWIR"), ("domain", "Space_SWIR")]:
        assert row(table, group, value)[["AP50", "Recall"]].tolist() == pytest.approx([0.0, 0.0])
    assert row(table)[["AP50", "Recall"]].tolist() == pytest.approx([0.5, 0.5])
    assert len(table) == 7  # overall + 2 platforms + 2 bands + 2 domains


@pytest.mark.parametrize(
    ("y2", "legacy", "hit"),
    [
        (14.01, True, True),  # legacy: IoU = (14.01 - 10 + 1) / 10 = 0.501
        (13.99, True, False),  # 0.499
        (15.01, False, True),  # continuous gt [10, 20]: IoU = 5.01 / 10 = 0.501
        (14.99, False, False),  # 0.499
    ],
)
def test_iou_just_above_and_below_half(y2: float, legacy: bool, hit: bool) -> None:
    gt = T1 if legacy else [10.0, 10.0, 20.0, 20.0]
    table = evaluate([image([gt], [[10.0, 10.0, gt[2], y2]], [0.9])], by=(), use_legacy_coordinate=legacy)
    assert row(table)[["AP50", "Recall"]].tolist() == pytest.approx([float(hit)] * 2)


def test_legacy_coordinate_is_the_default() -> None:
    # continuous IoU 4.9/10 = 0.49 (miss) but the VOC legacy IoU (11 x 5.9) / 121 = 0.536 (hit)
    images = [image([[10.0, 10.0, 20.0, 20.0]], [[10.0, 10.0, 20.0, 14.9]], [0.9])]
    assert row(evaluate(images, by=()))["AP50"] == pytest.approx(1.0)
    assert row(evaluate(images, by=(), use_legacy_coordinate=False))["AP50"] == pytest.approx(0.0)


def test_ap_at_other_iou_threshold_is_named_after_it() -> None:
    table = evaluate([image([T1], [[10.0, 10.0, 19.0, 16.0]], [0.9])], by=(), iou_thr=0.75)  # IoU 0.7
    assert "AP75" in table.columns and row(table)["AP75"] == pytest.approx(0.0)


def test_images_without_targets_or_predictions() -> None:
    base = [image([T1], [T1], [0.5], "Air", "LWIR")]
    empty = image([], [], [], "Space", "SWIR")  # no target, no prediction
    false_alarm = image([], [FAR], [0.9], "Space", "NIR")  # no target, a top-ranked false positive
    assert row(evaluate(base + [empty]))["AP50"] == pytest.approx(1.0)
    table = evaluate(base + [empty, false_alarm])
    assert row(table)[["AP50", "Recall"]].tolist() == pytest.approx([0.5, 1.0])
    space = row(table, "platform", "Space")
    assert space["num_targets"] == 0 and space["num_images"] == 2 and space["num_detections"] == 1
    assert math.isnan(space["AP50"]) and math.isnan(space["Recall"])  # undefined, not 0
    nothing_predicted = evaluate([image([T1]), image([T2], platform="Land")])
    assert np.allclose(nothing_predicted[["AP50", "Recall"]], 0.0)


def test_ignored_box_is_neither_hit_nor_false_positive() -> None:
    pred, gt = image([T1], [T2, T1], [0.9, 0.8])
    gt["bboxes_ignore"] = np.asarray([T2], dtype=np.float32)
    assert row(evaluate_detections([pred], [gt], by=()))["AP50"] == pytest.approx(1.0)


def test_bad_inputs_raise_clear_errors() -> None:
    pred, gt = image([T1], [T1], [0.9], img_id="img7")
    with pytest.raises(EvaluationError, match="1 prediction records for 2"):
        evaluate_detections([pred], [gt, gt])
    with pytest.raises(EvaluationError, match=r"'img7'.*shape \[N, 4\]"):
        evaluate_detections([{**pred, "bboxes": np.zeros((1, 5))}], [gt])
    with pytest.raises(EvaluationError, match="'img7'.*no 'scores'"):
        evaluate_detections([{"bboxes": pred["bboxes"]}], [gt])
    with pytest.raises(EvaluationError, match="'img7'.*'band' is missing"):
        evaluate_detections([pred], [{k: v for k, v in gt.items() if k != "band"}])
    with pytest.raises(EvaluationError, match="x2 < x1"):
        evaluate_detections([{**pred, "bboxes": np.asarray([[5.0, 0, 1, 1]])}], [gt])
    with pytest.raises(EvaluationError, match="eval_mode 'voc'.*'area'"):
        evaluate_detections([pred], [gt], eval_mode="voc")


# --------------------------------------------------------------------------------------------- metric
def data_sample(pred, gt, index: int, with_ignored: bool = True) -> DetDataSample:
    meta = {k: gt[k] for k in ("platform", "band", "width", "height")}
    sample = DetDataSample(metainfo=dict(img_id=f"im{index}", ori_shape=(gt["height"], gt["width"]), **meta))
    sample.gt_instances = InstanceData(
        bboxes=torch.as_tensor(gt["bboxes"]), labels=torch.zeros(len(gt["bboxes"]), dtype=torch.long)
    )
    if with_ignored:
        sample.ignored_instances = InstanceData(
            bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long)
        )
    sample.pred_instances = InstanceData(
        bboxes=torch.as_tensor(pred["bboxes"]),
        scores=torch.as_tensor(pred["scores"], dtype=torch.float32),
        labels=torch.zeros(len(pred["bboxes"]), dtype=torch.long),
    )
    return sample


MIXED = [
    image([T1, T2], [T1, FAR, T2], [0.9, 0.85, 0.3], "Air", "LWIR"),
    image([T1], [FAR], [0.95], "Space", "SWIR"),
    image([], [], [], "Space", "NIR"),
    image([T2], [T2, T1], [0.6, 0.5], "Land", "LWIR"),
    image([T1, T2], [T2], [0.4], "Air", "NIR"),
]


def test_metric_matches_evaluate_detections_through_the_evaluator(tmp_path) -> None:
    metric = METRICS.build(dict(type="AuxVOCMetric"))
    assert isinstance(metric, AuxVOCMetric)
    evaluator = Evaluator(metric)
    evaluator.dataset_meta = {"classes": ("Target",)}
    samples = [data_sample(p, g, i, with_ignored=i % 2 == 0) for i, (p, g) in enumerate(MIXED)]
    evaluator.process(samples[:3])  # two "batches"; converts with DetDataSample.to_dict() as in mmengine
    evaluator.process(samples[3:])
    logged = evaluator.evaluate(len(samples))

    expected = evaluate(MIXED)
    assert logged["auxvoc/AP50"] == pytest.approx(row(expected)["AP50"])
    assert logged["auxvoc/Recall"] == pytest.approx(row(expected)["Recall"])
    assert logged["auxvoc/AP50/platform_Air"] == pytest.approx(row(expected, "platform", "Air")["AP50"])
    assert logged["auxvoc/Recall/domain_Land_LWIR"] == pytest.approx(1.0)
    flat = {f"auxvoc/{k}": v for k, v in table_to_metrics(expected).items()}
    assert {k: v for k, v in logged.items() if k in flat} == pytest.approx(flat, nan_ok=True)
    assert set(logged) == set(flat) | {"auxvoc/Pd", "auxvoc/Fa_per_MP"}
    pd.testing.assert_frame_equal(metric.last_table, expected)
    # hand check of the overall numbers: ranked hits T,F(0.95),T(0.9)... see test below
    assert row(expected)["Recall"] == pytest.approx(4 / 6)
    paths = metric.save_tables(tmp_path)
    assert [p.name for p in paths] == ["eval_ap.csv", "eval_pd_fa.csv"]
    assert len(pd.read_csv(paths[0])) == len(expected)


def test_mixed_case_ap_by_hand() -> None:
    # ranked: F .95, T .9, F .85, T .6, F .5, T .4, T .3 over 6 targets
    # precision at the hits: 1/2, 2/4, 3/6, 4/7 → envelope 4/7 up to recall 4/6
    assert row(evaluate(MIXED, by=()))["AP50"] == pytest.approx(4 / 6 * 4 / 7, abs=1e-6)


def test_overall_equals_mmdet_voc_metric_in_area_mode() -> None:
    samples = [data_sample(p, g, i).to_dict() for i, (p, g) in enumerate(MIXED)]
    voc = VOCMetric(eval_mode="area")
    voc.dataset_meta = {"classes": ("Target",)}
    voc.process({}, samples)
    ours = AuxVOCMetric(pd_fa_score_thr=None)
    ours.dataset_meta = voc.dataset_meta
    ours.process({}, samples)
    reference = voc.compute_metrics(voc.results)["AP50"]  # mmdet rounds to 3 decimals
    result = ours.compute_metrics(ours.results)
    assert reference == pytest.approx(round(4 / 6 * 4 / 7, 3))
    assert round(result["AP50"], 3) == reference and "Pd" not in result


def test_metric_requires_metadata_in_metainfo() -> None:
    pred, gt = MIXED[0]
    sample = data_sample(pred, gt, 0).to_dict()
    del sample["band"]
    metric = AuxVOCMetric()
    metric.dataset_meta = {"classes": ("Target",)}
    metric.process({}, [sample])
    with pytest.raises(EvaluationError, match="'band' is missing"):
        metric.compute_metrics(metric.results)


# --------------------------------------------------------------------------------------------- Pd / Fa
def test_pd_fa_known_case() -> None:
    images = [
        # 256x256 Air: T1 hit (centre 2 px off), T2 missed (centre 5 px off → false alarm), 1 below threshold
        image([T1, T2], [[12, 10, 21, 19], [105, 100, 114, 109], [10, 10, 19, 19]], [0.9, 0.8, 0.2], "Air"),
        # 512x512 Space, no target, one false alarm
        image([], [FAR], [0.7], "Space", "SWIR", 512, 512),
    ]
    preds, gts = zip(*images, strict=True)
    table = pd_fa(preds, gts, score_thr=0.5)
    overall = row(table)
    counts = ["num_targets", "detected_targets", "false_alarms", "num_detections"]
    assert overall[counts].tolist() == [2, 1, 2, 3]
    assert overall["Pd"] == pytest.approx(0.5)
    assert overall["Fa_per_image"] == pytest.approx(1.0)
    assert overall["Fa_per_MP"] == pytest.approx(2 / ((256 * 256 + 512 * 512) / 1e6))
    air, space = row(table, "platform", "Air"), row(table, "platform", "Space")
    assert air["Pd"] == pytest.approx(0.5) and air["false_alarms"] == 1
    assert math.isnan(space["Pd"]) and space["Fa_per_MP"] == pytest.approx(1 / 0.262144)
    # IoU > 0: the 5-px-off box still overlaps T2 → both targets found, only the Space false alarm left
    overlap = row(pd_fa(preds, gts, score_thr=0.5, criterion="overlap"))
    assert overlap[["Pd", "false_alarms"]].tolist() == pytest.approx([1.0, 1])
    # a lower threshold admits the 0.2 duplicate of T1: one-to-one, so it is a false alarm
    assert row(pd_fa(preds, gts, score_thr=0.1))[["Pd", "false_alarms"]].tolist() == pytest.approx([0.5, 3])


def test_pd_matching_is_one_to_one_and_maximal() -> None:
    targets = np.asarray([[0, 0, 4, 4], [3, 0, 7, 4]], dtype=np.float32)  # centres (2, 2) and (5, 2)
    # P0 (centre 3.5, 2) is near both targets, P1 (centre 1, 2) only near the first: greedy-by-order
    # P0→first would leave P1 unmatched; the maximal matching pairs P0→second, P1→first.
    preds = np.asarray([[1.5, 0, 5.5, 4], [-1, 0, 3, 4]], dtype=np.float32)
    pred_matched, gt_detected = match_targets(preds, targets)
    assert pred_matched.all() and gt_detected.all()
    far = preds + 20
    assert not match_targets(far, targets)[1].any()
    with pytest.raises(EvaluationError, match="criterion 'iou'"):
        match_targets(preds, targets, criterion="iou")


def test_pd_fa_needs_image_size() -> None:
    pred, gt = image([T1], [T1], [0.9], img_id="x")
    del gt["width"]
    with pytest.raises(EvaluationError, match="'x'.*'width'"):
        pd_fa([pred], [gt])
