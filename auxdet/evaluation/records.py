"""Evaluation records: one image's detections, ground truth and metadata, and the metadata groups.

The first layer of :mod:`auxdet.evaluation` (records → VOC AP / IRSTD Pd-Fa → the mmengine metric):
nothing here computes a score.

Input records (one per image, same order in both lists):

* prediction: mapping (or ``InstanceData``) with ``bboxes`` [N, 4] (mmdet 0-based xyxy, original
  image pixels), ``scores`` [N] and optional ``labels`` [N] (default class 0);
* ground truth: mapping with ``bboxes`` [M, 4], optional ``labels`` [M], optional ``bboxes_ignore`` [K, 4]
  / ``labels_ignore`` [K] (VOC "difficult"), the metadata ``platform``, ``band`` (and ``width``,
  ``height`` for the per-megapixel false-alarm rate of :mod:`auxdet.evaluation.irstd`), optional ``img_id``.
  An :class:`~auxdet.metadata.ImageMeta` under ``meta`` may replace the four metadata keys.

:func:`iter_groups` splits the images into overall / per platform / per band / per domain
(platform × band) groups; every score table has one row per group.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np

from auxdet.metadata import BANDS, PLATFORMS, ImageMeta, Vocabulary

__all__ = [
    "DEFAULT_BY",
    "DOMAIN",
    "OVERALL",
    "EvaluationError",
    "Group",
    "ImageEval",
    "build_records",
    "iter_groups",
    "make_image_eval",
    "sample_to_records",
]

DEFAULT_BY: tuple[str, ...] = ("platform", "band")
OVERALL = "overall"
DOMAIN = "domain"
#: the order rows of these fields appear in (other values follow, sorted)
_FIELD_ORDER: dict[str, tuple[str, ...]] = {"platform": PLATFORMS, "band": BANDS}


class EvaluationError(ValueError):
    """Malformed evaluation input (the message names the image, the field and the bad value)."""


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
    ``img_id``, ``platform``, ``band``, ``width``, ``height`` (fallback: ``ori_shape``). Under a test-time
    metadata counterfactual (:mod:`auxdet.data.counterfactual`) the image's *true* platform/band
    (``true_platform``/``true_band``) group the results, not the metadata the model was shown.
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
        value = sample.get(f"true_{key}", sample.get(key))
        if value is not None:
            truth[key] = value
    return prediction, truth


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

    def columns(self, by: Sequence[str]) -> dict[str, Any]:
        """The leading columns of this group's row in a score table: ``group, value, <by fields>``."""
        return {"group": self.group, "value": self.value, **{name: self.values.get(name) for name in by}}


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
