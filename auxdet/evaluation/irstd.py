"""IRSTD target-level probability of detection (Pd) and false-alarm rate (Fa) from boxes.

The IRSTD literature scores segmentation masks with Pd/Fa (Li et al., "Dense Nested Attention
Network for Infrared Small Target Detection", IEEE TIP 32, 2023, §IV-A and its ``PD_FA`` code):
a ground-truth target counts as detected when a predicted connected component has its centroid at
a Euclidean distance **< 3 pixels** from the target's centroid (each component matches one target);
Fa is the fraction of image pixels in unmatched components.

This module applies the same rule to detector boxes (the box centre stands for the centroid):

* a prediction with ``score >= score_thr`` *matches* a target when
  ``criterion='centroid'``: ‖centre(pred) − centre(target)‖₂ < ``distance_thr`` (default 3 px, as above), or
  ``criterion='overlap'``: IoU(pred, target) > 0;
* matching is one-to-one and order-independent: the maximum number of (prediction, target) pairs,
  ties broken by the smallest total distance (1 − IoU for ``'overlap'``) — a min-cost assignment
  (:func:`scipy.optimize.linear_sum_assignment`);
* Pd = matched targets / targets; an unmatched prediction is a false alarm unless it matches an
  ignored ("difficult") box. Fa is reported per image (false alarms / images) and per megapixel
  (false alarms / Σ W·H × 10⁶) — a *target-level* count, not the mask metric's pixel fraction.

All of it is class-agnostic (IRSTD has one class). Groups (overall / platform / band / domain) are
those of :func:`auxdet.evaluation.records.iter_groups`; Pd is NaN for a group without targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from mmdet.evaluation.functional import bbox_overlaps
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from auxdet.evaluation.records import (
    DEFAULT_BY,
    EvaluationError,
    ImageEval,
    build_records,
    iter_groups,
)
from auxdet.metadata import Vocabulary

CRITERIA: tuple[str, ...] = ("centroid", "overlap")
_NO_MATCH = 1e9  # assignment cost of a pair that does not satisfy the criterion


def _centres(boxes: np.ndarray) -> np.ndarray:
    return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)


def _pair_costs(
    pred: np.ndarray, gt: np.ndarray, criterion: str, distance_thr: float
) -> tuple[np.ndarray, np.ndarray]:
    """(eligible [N, M] bool, cost [N, M]) of prediction/target pairs under ``criterion``."""
    if criterion == "centroid":
        dist = cdist(_centres(pred), _centres(gt))
        return dist < distance_thr, dist
    ious = bbox_overlaps(pred, gt)
    return ious > 0, 1.0 - ious


def _check(criterion: str, distance_thr: float, score_thr: float) -> None:
    if criterion not in CRITERIA:
        raise EvaluationError(f"Pd/Fa criterion {criterion!r} is not valid; valid: {list(CRITERIA)}")
    if not distance_thr > 0:
        raise EvaluationError(f"distance_thr must be > 0 pixels, got {distance_thr}")
    if not np.isfinite(score_thr):
        raise EvaluationError(f"score_thr must be a finite number, got {score_thr}")


def match_targets(
    pred_bboxes: np.ndarray,
    gt_bboxes: np.ndarray,
    criterion: str = "centroid",
    distance_thr: float = 3.0,
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching of predictions to targets (module doc). Returns (pred_matched [N], gt_detected [M])."""
    _check(criterion, distance_thr, 0.0)
    pred_matched = np.zeros(len(pred_bboxes), dtype=bool)
    gt_detected = np.zeros(len(gt_bboxes), dtype=bool)
    if len(pred_bboxes) == 0 or len(gt_bboxes) == 0:
        return pred_matched, gt_detected
    eligible, cost = _pair_costs(pred_bboxes, gt_bboxes, criterion, distance_thr)
    rows, cols = linear_sum_assignment(np.where(eligible, cost, _NO_MATCH))
    keep = eligible[rows, cols]
    pred_matched[rows[keep]] = True
    gt_detected[cols[keep]] = True
    return pred_matched, gt_detected


def pd_fa_per_image(
    records: Sequence[ImageEval],
    score_thr: float = 0.5,
    *,
    criterion: str = "centroid",
    distance_thr: float = 3.0,
) -> pd.DataFrame:
    """Per-image counts: ``img_id, num_targets, num_detections, detected_targets, false_alarms, pixels``."""
    _check(criterion, distance_thr, score_thr)
    rows = []
    for rec in records:
        w, h = rec.meta.get("width"), rec.meta.get("height")
        if w is None or h is None or int(w) <= 0 or int(h) <= 0:
            raise EvaluationError(
                f"image {rec.img_id!r}: Fa per megapixel needs positive 'width' and 'height' metadata "
                f"(original image size), got width={w!r}, height={h!r}"
            )
        pred = rec.det_bboxes[rec.det_scores >= score_thr]
        pred_matched, gt_detected = match_targets(pred, rec.gt_bboxes, criterion, distance_thr)
        false = ~pred_matched
        if false.any() and len(rec.ignore_bboxes):  # a hit on a "difficult" box is not a false alarm
            hits_ignored, _ = _pair_costs(pred[false], rec.ignore_bboxes, criterion, distance_thr)
            false[np.flatnonzero(false)[hits_ignored.any(axis=1)]] = False
        rows.append(
            {
                "img_id": rec.img_id,
                "num_targets": len(rec.gt_bboxes),
                "num_detections": len(pred),
                "detected_targets": int(gt_detected.sum()),
                "false_alarms": int(false.sum()),
                "pixels": int(w) * int(h),
            }
        )
    return pd.DataFrame(rows)


def pd_fa_records(
    records: Sequence[ImageEval],
    score_thr: float = 0.5,
    *,
    criterion: str = "centroid",
    distance_thr: float = 3.0,
    by: Sequence[str] = DEFAULT_BY,
    cross: bool = True,
    vocabulary: Vocabulary | None = None,
) -> pd.DataFrame:
    """Target-level Pd and Fa (per image, per megapixel) of already-built
    :class:`~auxdet.evaluation.records.ImageEval` records, overall and per metadata group.

    Ground truths must carry ``width``/``height``. Returns columns ``group, value, <by fields>,
    num_images, num_targets, num_detections, detected_targets, false_alarms, megapixels, score_thr, Pd,
    Fa_per_image, Fa_per_MP, key``.
    """
    per_image = pd_fa_per_image(records, score_thr, criterion=criterion, distance_thr=distance_thr)
    counts = ["num_targets", "num_detections", "detected_targets", "false_alarms", "pixels"]
    rows = []
    for g in iter_groups(records, by, cross, vocabulary):
        total = per_image.iloc[g.indices][counts].sum()
        n_img, n_tgt, mpix = len(g.indices), int(total["num_targets"]), total["pixels"] / 1e6
        rows.append({
            **g.columns(by), "num_images": n_img, **{c: int(total[c]) for c in counts if c != "pixels"},
            "megapixels": float(mpix), "score_thr": float(score_thr),
            "Pd": total["detected_targets"] / n_tgt if n_tgt else np.nan,
            "Fa_per_image": total["false_alarms"] / n_img, "Fa_per_MP": total["false_alarms"] / mpix,
            "key": g.key(),
        })  # fmt: skip
    return pd.DataFrame(rows)


def pd_fa(
    predictions: Sequence[Any], ground_truths: Sequence[Any], score_thr: float = 0.5, **options: Any
) -> pd.DataFrame:
    """Target-level Pd and Fa overall and per metadata group from per-image records (inputs as
    :func:`auxdet.evaluation.voc.evaluate_detections`); ``options``: the keyword arguments of
    :func:`pd_fa_records` (``criterion``, ``distance_thr``, ``by``, ``cross``, ``vocabulary``), whose
    table this returns."""
    return pd_fa_records(build_records(predictions, ground_truths), score_thr, **options)
