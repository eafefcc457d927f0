"""AP50 and Recall exactly as the AuxDet paper reports them, overall and per metadata domain.

The paper's metric (§4.1, "Recall and Average Precision (AP50) ... at 0.5 threshold of IoU") is the
official code's mmdet ``VOCMetric(eval_mode='area')``: Pascal-VOC AP at IoU 0.5, the area under the
monotone precision envelope (VOC2012 "area" mode), computed by mmdet's
:func:`mmdet.evaluation.functional.eval_map` with mmdet's VOC convention ``use_legacy_coordinate=True``
(box width = x2 - x1 + 1). Recall is ``eval_map``'s own recall at IoU 0.5 with every detection kept
(the last point of its recall curve, the "recall" column of mmdet's VOC table). Nothing of AP is
re-implemented here: this module only splits the images into metadata groups
(:func:`auxdet.evaluation.records.iter_groups`) and calls ``eval_map``.

:func:`evaluate_detections` — plain numpy inputs (records as :mod:`auxdet.evaluation.records`
describes) → a tidy :class:`pandas.DataFrame`, one row per group: overall, each platform, each band,
each platform×band domain. :class:`auxdet.evaluation.metric.AuxVOCMetric` reports the same numbers
during training.

Images without targets (frequent in the Space domain) count only through their false positives;
a group without any target has AP50 = Recall = NaN (undefined), not 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from mmdet.evaluation.functional import eval_map
from tqdm.auto import tqdm

from auxdet.evaluation.records import (
    DEFAULT_BY,
    OVERALL,
    EvaluationError,
    ImageEval,
    build_records,
    iter_groups,
)
from auxdet.metadata import Vocabulary

__all__ = [
    "EVAL_MODES",
    "ap_name",
    "check_params",
    "evaluate_detections",
    "evaluate_records",
    "table_to_metrics",
    "voc_ap_recall",
]

EVAL_MODES: tuple[str, ...] = ("area", "11points")


def ap_name(iou_thr: float) -> str:
    """Column / log name of AP at ``iou_thr`` (``0.5 → 'AP50'``), as mmdet's VOCMetric names it."""
    return f"AP{round(iou_thr * 100):02d}"


def check_params(iou_thr: float, eval_mode: str) -> None:
    """Raise :class:`EvaluationError` for an IoU threshold outside (0, 1] or an unknown AP mode."""
    if not 0.0 < float(iou_thr) <= 1.0:
        raise EvaluationError(f"iou_thr must be in (0, 1], got {iou_thr}")
    if eval_mode not in EVAL_MODES:
        raise EvaluationError(f"eval_mode {eval_mode!r} is not valid; valid: {list(EVAL_MODES)}")


def voc_ap_recall(
    records: Sequence[ImageEval],
    num_classes: int = 1,
    iou_thr: float = 0.5,
    eval_mode: str = "area",
    use_legacy_coordinate: bool = True,
    nproc: int = 1,
) -> tuple[float, float, int, int]:
    """(AP, Recall, num_targets, num_detections) of ``records`` by mmdet's ``eval_map``.

    AP is eval_map's mean AP over classes with targets; Recall is the mean over the same classes of
    eval_map's final recall (all detections kept). Both are NaN when there is no target.
    """
    check_params(iou_thr, eval_mode)
    if not records:
        raise EvaluationError("voc_ap_recall: no images")
    _, per_class = eval_map(
        [r.dets_per_class(num_classes) for r in records],
        [r.annotation() for r in records],
        iou_thr=iou_thr,
        eval_mode=eval_mode,
        use_legacy_coordinate=use_legacy_coordinate,
        nproc=max(1, int(nproc)),
        logger="silent",
    )
    with_gts = [c for c in per_class if c["num_gts"] > 0]
    num_gts = int(sum(c["num_gts"] for c in per_class))
    num_dets = int(sum(c["num_dets"] for c in per_class))
    if not with_gts:
        return math.nan, math.nan, num_gts, num_dets
    ap = float(np.mean([c["ap"] for c in with_gts]))
    recall = float(np.mean([c["recall"][-1] if c["recall"].size else 0.0 for c in with_gts]))
    return ap, recall, num_gts, num_dets


def _num_classes(records: Sequence[ImageEval], num_classes: int | None) -> int:
    seen = max(
        [int(a.max()) + 1 for r in records for a in (r.det_labels, r.gt_labels, r.ignore_labels) if a.size],
        default=1,
    )
    if num_classes is None:
        return seen
    if seen > num_classes:
        raise EvaluationError(f"a label {seen - 1} is out of range for num_classes={num_classes}")
    return int(num_classes)


def evaluate_records(
    records: Sequence[ImageEval],
    iou_thr: float = 0.5,
    *,
    eval_mode: str = "area",
    by: Sequence[str] = DEFAULT_BY,
    cross: bool = True,
    use_legacy_coordinate: bool = True,
    num_classes: int | None = None,
    vocabulary: Vocabulary | None = None,
    nproc: int = 1,
    progress: bool | None = None,
) -> pd.DataFrame:
    """AP and Recall of already-built :class:`~auxdet.evaluation.records.ImageEval` records, per group.

    Args:
        records: one per image (:func:`~auxdet.evaluation.records.build_records`).
        iou_thr: IoU threshold (paper: 0.5). eval_mode: ``'area'`` (paper) or ``'11points'``.
        by: metadata fields to split by; ``cross`` adds their combinations (group ``'domain'``).
        use_legacy_coordinate: mmdet's VOC convention (w = x2 - x1 + 1), as the official VOCMetric.
        num_classes: default max label + 1. vocabulary: canonicalise platform/band spellings.
        nproc: processes for eval_map. progress: tqdm bar (default: when ≥ 1000 images).

    Returns:
        columns ``group, value, <by fields>, num_images, num_targets, num_detections, AP50, Recall, key``
        (``AP50`` is named after ``iou_thr``; ``key`` is the log-key suffix of ``AuxVOCMetric``).
    """
    check_params(iou_thr, eval_mode)
    k = _num_classes(records, num_classes)
    groups = list(iter_groups(records, by, cross, vocabulary))
    show = len(records) >= 1000 if progress is None else progress
    ap_col = ap_name(iou_thr)
    rows = []
    for g in tqdm(groups, desc=f"{ap_col} per group", disable=not show, leave=False):
        subset = [records[i] for i in g.indices]
        ap, recall, n_gts, n_dets = voc_ap_recall(subset, k, iou_thr, eval_mode, use_legacy_coordinate, nproc)
        rows.append({**g.columns(by), "num_images": len(subset), "num_targets": n_gts, "num_detections": n_dets,
                     ap_col: ap, "Recall": recall, "key": g.key()})  # fmt: skip
    return pd.DataFrame(rows)


def evaluate_detections(
    predictions: Sequence[Any], ground_truths: Sequence[Any], iou_thr: float = 0.5, **options: Any
) -> pd.DataFrame:
    """The paper's AP50 and Recall, overall and per metadata group, as a tidy DataFrame.

    ``predictions`` / ``ground_truths``: one record per image, same order (see
    :mod:`auxdet.evaluation.records`); ``options``: the keyword arguments of :func:`evaluate_records`
    (``eval_mode``, ``by``, ``cross``, ``use_legacy_coordinate``, ``num_classes``, ``vocabulary``,
    ``nproc``, ``progress``), whose table this returns.
    """
    return evaluate_records(build_records(predictions, ground_truths), iou_thr, **options)


def table_to_metrics(table: pd.DataFrame, columns: Sequence[str] | None = None) -> dict[str, float]:
    """Flatten an evaluation table to logger keys: overall ``'AP50'`` and ``'AP50/<group>_<value>'``."""
    if columns is None:
        columns = [c for c in table.columns if re.fullmatch(r"AP\d\d|Recall", str(c))]
    out: dict[str, float] = {}
    for row in table.itertuples(index=False):
        for col in columns:
            name = col if row.group == OVERALL else f"{col}/{row.key}"
            out[name] = float(getattr(row, col))
    return out
