"""Greedy one-to-one matching of boxes by IoU — the one greedy matcher of auxdet.

Used to compare two sets of detections of one image: detections against ground truth (true
positives / false alarms / misses in the figures of :mod:`auxdet.visualisation.training`) and the
detections under two metadata settings (:func:`auxdet.engine.inference.counterfactual`). It is *not*
the matching of the paper's metrics: AP50 follows mmdet's ``eval_map`` (:mod:`auxdet.evaluation.voc`)
and IRSTD Pd/Fa a min-cost assignment (:func:`auxdet.evaluation.irstd.match_targets`).
"""

from __future__ import annotations

import numpy as np
from mmdet.evaluation.functional import bbox_overlaps

__all__ = ["greedy_iou_match"]


def greedy_iou_match(
    boxes: np.ndarray, others: np.ndarray, scores: np.ndarray | None = None, iou_thr: float = 0.5
) -> np.ndarray:
    """For each of ``boxes`` the index of its match in ``others``, or -1.

    The boxes take their turn best score first (``scores``; in the given order without them), and each
    takes the not yet matched box of ``others`` with the highest IoU ≥ ``iou_thr`` (boxes: 0-based
    xyxy, IoU as mmdet's ``bbox_overlaps``).
    """
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    others = np.asarray(others, np.float32).reshape(-1, 4)
    match = np.full(len(boxes), -1, dtype=np.int64)
    if not len(boxes) or not len(others):
        return match
    iou = bbox_overlaps(boxes, others)
    order = np.argsort(-np.asarray(scores), kind="stable") if scores is not None else np.arange(len(boxes))
    used = np.zeros(len(others), bool)
    for i in order:
        cand = np.flatnonzero(~used & (iou[i] >= iou_thr))
        if len(cand):
            match[i] = cand[np.argmax(iou[i, cand])]
            used[match[i]] = True
    return match
