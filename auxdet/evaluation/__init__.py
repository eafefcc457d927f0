"""Evaluation for auxdet: the paper's AP50/Recall per metadata domain and IRSTD Pd/Fa.

Layered without cycles:

* :mod:`.records` — per-image records (detections, ground truth, metadata) and the metadata groups;
* :mod:`.voc` — AP50 / Recall by mmdet's ``eval_map`` (the paper's metric), per group;
* :mod:`.irstd` — target-level Pd / Fa, per group;
* :mod:`.metric` — :class:`AuxVOCMetric`, both of them as an mmengine metric;
* :mod:`.matching` — the greedy IoU matcher used by figures and the counterfactual table.

Importing this package registers ``AuxVOCMetric`` in mmdet's ``METRICS``
(use ``save_best='auxvoc/AP50'`` for best-checkpoint selection).
"""

from auxdet.evaluation.irstd import match_targets, pd_fa, pd_fa_per_image, pd_fa_records
from auxdet.evaluation.matching import greedy_iou_match
from auxdet.evaluation.metric import AuxVOCMetric
from auxdet.evaluation.records import (
    EvaluationError,
    ImageEval,
    build_records,
    iter_groups,
    make_image_eval,
    sample_to_records,
)
from auxdet.evaluation.voc import (
    ap_name,
    evaluate_detections,
    evaluate_records,
    table_to_metrics,
    voc_ap_recall,
)

__all__ = [
    "AuxVOCMetric",
    "EvaluationError",
    "ImageEval",
    "ap_name",
    "build_records",
    "evaluate_detections",
    "evaluate_records",
    "greedy_iou_match",
    "iter_groups",
    "make_image_eval",
    "match_targets",
    "pd_fa",
    "pd_fa_per_image",
    "pd_fa_records",
    "sample_to_records",
    "table_to_metrics",
    "voc_ap_recall",
]
