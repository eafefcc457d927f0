"""AP50 and Recall exactly as the AuxDet paper reports them, overall and per metadata domain.

The paper's metric (§4.1, "Recall and Average Precision (AP50) ... at 0.5 threshold of IoU") is the
official code's mmdet ``VOCMetric(eval_mode='area')``: Pascal-VOC AP at IoU 0.5, the area under the
monotone precision envelope (VOC2012 "area" mode), computed by mmdet's
:func:`mmdet.evaluation.functional.eval_map` with mmdet's VOC convention ``use_legacy_coordinate=True``
(box width = x2 - x1 + 1). Recall is ``eval_map``'s own recall at IoU 0.5 with every detection kept
(the last point of its recall curve, the "recall" column of mmdet's VOC table). Nothing of AP is
re-implemented here: this module only splits the images into metadata groups and calls ``eval_map``.

* :func:`evaluate_detections` — plain numpy inputs → a tidy :class:`pandas.DataFrame`
  (one row per group: overall, each platform, each band, each platform×band domain).
* :class:`AuxVOCMetric` — the same numbers as an mmengine metric (registered in mmdet ``METRICS``),
  reading ``platform``/``band`` from each data sample's metainfo. Its flat dict for the logger has
  ``AP50``, ``Recall`` and ``AP50/platform_Air``, ``Recall/band_LWIR``, ``AP50/domain_Air_LWIR`` …;
  the evaluator prefixes them with ``auxvoc/``, so select the best checkpoint with
  ``save_best='auxvoc/AP50'`` (``rule='greater'``). The full table stays in ``metric.last_table``.

Input records (one per image, same order in both lists):

* prediction: mapping (or ``InstanceData``) with ``bboxes`` [N, 4] (mmdet 0-based xyxy, original
  image pixels), ``scores`` [N] and optional ``labels`` [N] (default class 0);
* ground truth: mapping with ``bboxes`` [M, 4], optional ``labels`` [M], optional ``bboxes_ignore`` [K, 4]
  / ``labels_ignore`` [K] (VOC "difficult"), the metadata ``platform``, ``band`` (and ``width``,
  ``height`` for the per-megapixel false-alarm rate of :mod:`auxdet.evaluation.irstd`), optional ``img_id``.
  An :class:`~auxdet.metadata.ImageMeta` under ``meta`` may replace the four metadata keys.

Images without targets (frequent in the Space domain) count only through their false positives;
a group without any target has AP50 = Recall = NaN (undefined), not 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mmdet.evaluation.functional import eval_map
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from tqdm.auto import tqdm

from auxdet.metadata import BANDS, PLATFORMS, ImageMeta, Vocabulary

EVAL_MODES: tuple[str, ...] = ("area", "11points")
DEFAULT_BY: tuple[str, ...] = ("platform", "band")
OVERALL = "overall"
DOMAIN = "domain"
#: the order rows of these fields appear in (other values follow, sorted)
_FIELD_ORDER: dict[str, tuple[str, ...]] = {"platform": PLATFORMS, "band": BANDS}


class EvaluationError(ValueError):
    """Malformed evaluation input (the message names the image, the field and the bad value)."""


# --------------------------------------------------------------------------------------------- records
@dataclass
class ImageEval:
    """One image's detections, ground truth and metadata as numpy arrays (mmdet 0-based xyxy)."""

    img_id: str
    det_bboxes: np.ndarray  # [N, 4] float32
    det_scores: np.ndarray  # [N] float32
    det_labels: np.ndarray  # [N] int64
    gt_bboxes: np.ndarray  # [M, 4] float32
    gt_labels: np.ndarray  # [M] int64
    ignore_bboxes: np.ndarray  # [K, 4] float32
    ignore_labels: np.ndarray  # [K] int64
    meta: dict[str, Any] = field(default_factory=dict)

    def dets_per_class(self, num_classes: int) -> list[np.ndarray]:
        """``eval_map``'s per-image detection input: one [n_c, 5] (x1, y1, x2, y2, score) array per class."""
        stacked = np.hstack([self.det_bboxes, self.det_scores[:, None]]).astype(np.float32)
        return [stacked[self.det_labels == c] for c in range(num_classes)]

    def annotation(self) -> dict[str, np.ndarray]:
        """``eval_map``'s per-image annotation dict."""
        return {
            "bboxes": self.gt_bboxes,
            "labels": self.gt_labels,
            "bboxes_ignore": self.ignore_bboxes,
            "labels_ignore": self.ignore_labels,
        }


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _numpy(value: Any) -> np.ndarray:
    """Tensor / mmdet ``BaseBoxes`` / sequence → numpy (on CPU)."""
    if hasattr(value, "tensor") and not isinstance(value, np.ndarray):  # mmdet BaseBoxes
        value = value.tensor
    if hasattr(value, "detach"):  # torch.Tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _boxes(value: Any, name: str, where: str) -> np.ndarray:
    if value is None:
        return np.zeros((0, 4), dtype=np.float32)
    arr = _numpy(value).astype(np.float32)
    if arr.size == 0:
        return np.zeros((0, 4), dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise EvaluationError(f"{where}: '{name}' must have shape [N, 4] (x1, y1, x2, y2), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise EvaluationError(f"{where}: '{name}' has non-finite values: {arr[~np.isfinite(arr).all(1)]}")
    bad = (arr[:, 2] < arr[:, 0]) | (arr[:, 3] < arr[:, 1])
    if bad.any():
        raise EvaluationError(f"{where}: '{name}' has boxes with x2 < x1 or y2 < y1: {arr[bad].tolist()}")
    return arr


def _vector(value: Any, n: int, name: str, where: str, dtype: type, default: Any) -> np.ndarray:
    if value is None:
        return np.full(n, default, dtype=dtype)
    arr = _numpy(value).reshape(-1)
    if arr.shape[0] != n:
        raise EvaluationError(f"{where}: '{name}' has {arr.shape[0]} values for {n} boxes")
    if dtype is np.int64:
        if arr.size and (not np.all(np.equal(np.mod(arr, 1), 0)) or arr.min() < 0):
            raise EvaluationError(f"{where}: '{name}' must be non-negative class indices, got {arr.tolist()}")
    elif not np.isfinite(arr.astype(np.float64)).all():
        raise EvaluationError(f"{where}: '{name}' has non-finite values: {arr.tolist()}")
    return arr.astype(dtype)


def _meta_of(gt: Any) -> dict[str, Any]:
    meta = _get(gt, "meta")
    out = meta.as_dict() if isinstance(meta, ImageMeta) else dict(meta or {})
    for key in ("platform", "band", "width", "height"):
        value = _get(gt, key)
        if value is not None:
            out[key] = value
    if ("width" not in out or "height" not in out) and _get(gt, "ori_shape") is not None:
        h, w = _get(gt, "ori_shape")[:2]  # mmdet metainfo: original (h, w)
        out.setdefault("width", int(w))
        out.setdefault("height", int(h))
    return out


def make_image_eval(prediction: Any, ground_truth: Any, index: int = 0) -> ImageEval:
    """Validate and convert one image's prediction and ground-truth record (see the module doc)."""
    img_id = _get(ground_truth, "img_id", _get(prediction, "img_id"))
    where = f"image {img_id!r}" if img_id is not None else f"image #{index}"
    if ground_truth is None:
        raise EvaluationError(f"{where}: ground-truth record is missing")
    pred_id = _get(prediction, "img_id")
    if img_id is not None and pred_id is not None and str(pred_id) != str(img_id):
        raise EvaluationError(
            f"{where}: prediction is for image {pred_id!r}; lists must be in the same order"
        )
    det_bboxes = _boxes(_get(prediction, "bboxes"), "bboxes (prediction)", where)
    n = len(det_bboxes)
    if n and _get(prediction, "scores") is None:
        raise EvaluationError(f"{where}: prediction has {n} boxes but no 'scores'")
    gt_bboxes = _boxes(_get(ground_truth, "bboxes"), "bboxes (ground truth)", where)
    ignore = _boxes(_get(ground_truth, "bboxes_ignore"), "bboxes_ignore", where)
    return ImageEval(
        img_id=str(img_id) if img_id is not None else str(index),
        det_bboxes=det_bboxes,
        det_scores=_vector(_get(prediction, "scores"), n, "scores", where, np.float32, 0.0),
        det_labels=_vector(_get(prediction, "labels"), n, "labels (prediction)", where, np.int64, 0),
        gt_bboxes=gt_bboxes,
        gt_labels=_vector(
            _get(ground_truth, "labels"), len(gt_bboxes), "labels (ground truth)", where, np.int64, 0
        ),
        ignore_bboxes=ignore,
        ignore_labels=_vector(
            _get(ground_truth, "labels_ignore"), len(ignore), "labels_ignore", where, np.int64, 0
        ),
        meta=_meta_of(ground_truth),
    )


def build_records(predictions: Sequence[Any], ground_truths: Sequence[Any]) -> list[ImageEval]:
    """Pair per-image predictions with ground truths (same order) and validate them."""
    if isinstance(predictions, Mapping) or isinstance(ground_truths, Mapping):
        raise EvaluationError("predictions and ground_truths must be sequences with one record per image")
    if len(predictions) != len(ground_truths):
        raise EvaluationError(
            f"{len(predictions)} prediction records for {len(ground_truths)} ground-truth records; "
            "give one of each per image, in the same order"
        )
    if not len(ground_truths):
        raise EvaluationError("nothing to evaluate: no images")
    return [make_image_eval(p, g, i) for i, (p, g) in enumerate(zip(predictions, ground_truths, strict=True))]


def sample_to_records(sample: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split an mmdet ``DetDataSample`` (or its ``to_dict()``) into (prediction, ground truth) records.

    Reads ``pred_instances``, ``gt_instances``, ``ignored_instances`` and the metainfo keys
    ``img_id``, ``platform``, ``band``, ``width``, ``height`` (fallback: ``ori_shape``).
    """
    if hasattr(sample, "to_dict") and not isinstance(sample, Mapping):
        sample = sample.to_dict()
    if not isinstance(sample, Mapping):
        raise EvaluationError(f"expected a DetDataSample or dict, got {type(sample).__name__}")
    pred = sample.get("pred_instances")
    gt = sample.get("gt_instances")
    img = sample.get("img_id", sample.get("img_path"))
    if pred is None or gt is None:
        missing = [k for k in ("pred_instances", "gt_instances") if sample.get(k) is None]
        raise EvaluationError(f"data sample {img!r} lacks {missing} (run the model with ground truth loaded)")
    ignored = sample.get("ignored_instances") or {}
    prediction = {"img_id": img, **{k: _get(pred, k) for k in ("bboxes", "scores", "labels")}}
    truth: dict[str, Any] = {
        "img_id": img,
        "bboxes": _get(gt, "bboxes"),
        "labels": _get(gt, "labels"),
        "bboxes_ignore": _get(ignored, "bboxes"),
        "labels_ignore": _get(ignored, "labels"),
        "ori_shape": sample.get("ori_shape"),
    }
    for key in ("platform", "band", "width", "height"):
        if sample.get(key) is not None:
            truth[key] = sample[key]
    return prediction, truth


# --------------------------------------------------------------------------------------------- groups
@dataclass(frozen=True)
class Group:
    """A subset of images: ``group`` is 'overall', a metadata field or 'domain'; ``values`` per field."""

    group: str
    value: str
    values: dict[str, str]
    indices: np.ndarray

    def key(self) -> str:
        """Log-key suffix safe for mmengine / TensorBoard tags, e.g. ``platform_Air``."""
        return re.sub(r"[^\w.-]", "_", f"{self.group}_{self.value}")


def _ordered(field_name: str, values: Iterable[str]) -> list[str]:
    order = {v: i for i, v in enumerate(_FIELD_ORDER.get(field_name, ()))}
    return sorted(set(values), key=lambda v: (order.get(v, len(order)), v))


def _canonical_field(records: Sequence[ImageEval], name: str, vocabulary: Vocabulary | None) -> list[str]:
    out = []
    for rec in records:
        value = rec.meta.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise EvaluationError(
                f"image {rec.img_id!r}: metadata field '{name}' is missing (needed to group by {name}); "
                f"present fields: {sorted(rec.meta)}"
            )
        if vocabulary is not None and name in ("platform", "band"):
            value = vocabulary.canonical(name, value, rec.img_id)
        out.append(str(value))
    return out


def iter_groups(
    records: Sequence[ImageEval],
    by: Sequence[str] = DEFAULT_BY,
    cross: bool = True,
    vocabulary: Vocabulary | None = None,
) -> Iterator[Group]:
    """Overall, then every value of each field in ``by``, then (``cross`` and ≥2 fields) each combination.

    Only groups with at least one image are produced. The combination group is named ``'domain'``
    and its value joins the field values with ``'_'`` (e.g. ``'Air_LWIR'``).
    """
    by = tuple(by)
    if len(set(by)) != len(by):
        raise EvaluationError(f"'by' has repeated fields: {by}")
    if OVERALL in by or DOMAIN in by:
        raise EvaluationError(f"'by' may not contain the reserved names '{OVERALL}' / '{DOMAIN}': {by}")
    yield Group(OVERALL, "all", {}, np.arange(len(records)))
    columns = {name: np.asarray(_canonical_field(records, name, vocabulary), dtype=object) for name in by}
    for name in by:
        for value in _ordered(name, columns[name]):
            yield Group(name, value, {name: value}, np.flatnonzero(columns[name] == value))
    if cross and len(by) >= 2:
        for combo in product(*(_ordered(n, columns[n]) for n in by)):
            mask = np.logical_and.reduce([columns[n] == v for n, v in zip(by, combo, strict=True)])
            if mask.any():
                yield Group(DOMAIN, "_".join(combo), dict(zip(by, combo, strict=True)), np.flatnonzero(mask))


# --------------------------------------------------------------------------------------------- AP / recall
def ap_name(iou_thr: float) -> str:
    """Column / log name of AP at ``iou_thr`` (``0.5 → 'AP50'``), as mmdet's VOCMetric names it."""
    return f"AP{round(iou_thr * 100):02d}"


def _check_params(iou_thr: float, eval_mode: str) -> None:
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
    _check_params(iou_thr, eval_mode)
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
    """:func:`evaluate_detections` on already-built :class:`ImageEval` records."""
    _check_params(iou_thr, eval_mode)
    k = _num_classes(records, num_classes)
    groups = list(iter_groups(records, by, cross, vocabulary))
    show = len(records) >= 1000 if progress is None else progress
    ap_col = ap_name(iou_thr)
    rows = []
    for g in tqdm(groups, desc=f"{ap_col} per group", disable=not show, leave=False):
        subset = [records[i] for i in g.indices]
        ap, recall, n_gts, n_dets = voc_ap_recall(subset, k, iou_thr, eval_mode, use_legacy_coordinate, nproc)
        rows.append(
            {
                "group": g.group,
                "value": g.value,
                **{name: g.values.get(name) for name in by},
                "num_images": len(subset),
                "num_targets": n_gts,
                "num_detections": n_dets,
                ap_col: ap,
                "Recall": recall,
                "key": g.key(),
            }
        )
    return pd.DataFrame(rows)


def evaluate_detections(
    predictions: Sequence[Any],
    ground_truths: Sequence[Any],
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
    """The paper's AP50 and Recall, overall and per metadata group, as a tidy DataFrame.

    Args:
        predictions / ground_truths: one record per image, same order (see the module doc).
        iou_thr: IoU threshold (paper: 0.5). eval_mode: ``'area'`` (paper) or ``'11points'``.
        by: metadata fields to split by; ``cross`` adds their combinations (group ``'domain'``).
        use_legacy_coordinate: mmdet's VOC convention (w = x2 - x1 + 1), as the official VOCMetric.
        num_classes: default max label + 1. vocabulary: canonicalise platform/band spellings.
        nproc: processes for eval_map. progress: tqdm bar (default: when ≥ 1000 images).

    Returns:
        columns ``group, value, <by fields>, num_images, num_targets, num_detections, AP50, Recall, key``
        (``AP50`` is named after ``iou_thr``; ``key`` is the log-key suffix of :class:`AuxVOCMetric`).
    """
    records = build_records(predictions, ground_truths)
    return evaluate_records(
        records,
        iou_thr,
        eval_mode=eval_mode,
        by=by,
        cross=cross,
        use_legacy_coordinate=use_legacy_coordinate,
        num_classes=num_classes,
        vocabulary=vocabulary,
        nproc=nproc,
        progress=progress,
    )


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


# --------------------------------------------------------------------------------------------- metric
@METRICS.register_module()
class AuxVOCMetric(BaseMetric):
    """The paper's AP50/Recall (mmdet ``eval_map``, VOC area mode) overall and per metadata domain.

    Reads ``platform``/``band`` (and ``width``/``height``, fallback ``ori_shape``) from each data
    sample's metainfo, ``gt_instances``/``ignored_instances`` and ``pred_instances`` as mmdet's
    ``VOCMetric.process`` does. Ground-truth boxes must be in original-image pixels (load
    annotations after ``Resize`` in the test pipeline, as mmdet's VOC configs do).

    Returned keys (before the evaluator's ``auxvoc/`` prefix): ``AP50``, ``Recall``, per group
    ``AP50/platform_Air``, ``Recall/band_NIR``, ``AP50/domain_Space_SWIR`` …, and when
    ``pd_fa_score_thr`` is not None the IRSTD target-level ``Pd`` and ``Fa_per_MP`` (overall).
    Best checkpoint: ``default_hooks.checkpoint.save_best='auxvoc/AP50'``.

    After evaluation ``last_table`` (AP/Recall per group) and ``last_pd_fa_table`` hold the
    DataFrames; :meth:`save_tables` writes them as CSV.
    """

    default_prefix: str | None = "auxvoc"

    def __init__(
        self,
        iou_thr: float = 0.5,
        eval_mode: str = "area",
        by: Sequence[str] = DEFAULT_BY,
        cross: bool = True,
        use_legacy_coordinate: bool = True,
        pd_fa_score_thr: float | None = 0.5,
        pd_fa_criterion: str = "centroid",
        pd_fa_distance_thr: float = 3.0,
        nproc: int = 1,
        collect_device: str = "cpu",
        prefix: str | None = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        _check_params(iou_thr, eval_mode)
        self.iou_thr = float(iou_thr)
        self.eval_mode = eval_mode
        self.by = tuple(by)
        self.cross = cross
        self.use_legacy_coordinate = use_legacy_coordinate
        self.pd_fa_score_thr = pd_fa_score_thr
        self.pd_fa_criterion = pd_fa_criterion
        self.pd_fa_distance_thr = pd_fa_distance_thr
        self.nproc = nproc
        self.last_table: pd.DataFrame | None = None
        self.last_pd_fa_table: pd.DataFrame | None = None

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Store one :class:`ImageEval` per data sample (numpy, CPU)."""
        for sample in data_samples:
            pred, gt = sample_to_records(sample)
            self.results.append(make_image_eval(pred, gt, len(self.results)))

    def compute_metrics(self, results: list) -> dict[str, float]:
        """AP50/Recall (and Pd/Fa) overall and per group; keeps the tables in ``last_*_table``."""
        classes = (self.dataset_meta or {}).get("classes")
        table = evaluate_records(
            results,
            self.iou_thr,
            eval_mode=self.eval_mode,
            by=self.by,
            cross=self.cross,
            use_legacy_coordinate=self.use_legacy_coordinate,
            num_classes=len(classes) if classes else None,
            nproc=self.nproc,
            progress=False,
        )
        self.last_table = table
        metrics = table_to_metrics(table)
        if self.pd_fa_score_thr is not None:
            from auxdet.evaluation.irstd import pd_fa_records

            pd_fa_table = pd_fa_records(
                results,
                self.pd_fa_score_thr,
                criterion=self.pd_fa_criterion,
                distance_thr=self.pd_fa_distance_thr,
                by=self.by,
                cross=self.cross,
            )
            self.last_pd_fa_table = pd_fa_table
            overall = pd_fa_table[pd_fa_table["group"] == OVERALL].iloc[0]
            metrics["Pd"] = float(overall["Pd"])
            metrics["Fa_per_MP"] = float(overall["Fa_per_MP"])
        return metrics

    def save_tables(self, directory: str | Path, stem: str = "eval") -> list[Path]:
        """Write ``<stem>_ap.csv`` (and ``<stem>_pd_fa.csv``) of the last evaluation; return the paths."""
        if self.last_table is None:
            raise EvaluationError("AuxVOCMetric.save_tables: no evaluation has run yet")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = [directory / f"{stem}_ap.csv"]
        self.last_table.to_csv(paths[0], index=False)
        if self.last_pd_fa_table is not None:
            paths.append(directory / f"{stem}_pd_fa.csv")
            self.last_pd_fa_table.to_csv(paths[1], index=False)
        return paths
