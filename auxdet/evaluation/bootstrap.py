"""Uncertainty of AP50 / Recall: per-detection outcomes and the paired bootstrap over test images.

VOC matching is per image (a detection is a true positive if its best-IoU ground truth is not yet
taken by a higher-scored detection of the same image), so an image's outcomes do not depend on the
other images. Resampling *images* with replacement therefore only re-weights a fixed list of
outcomes: :class:`Outcomes` holds them once (via mmdet's own ``tpfp_default``), and
:func:`weighted_ap_recall` recomputes VOC area-mode AP and Recall for any image weights with two
cumulative sums — thousands of replicates per second instead of one ``eval_map`` call each.

:func:`paired_bootstrap` resamples the same images for two models (the *paired* design: both were
evaluated on the same test images, so image difficulty cancels) and returns the 95 % percentile
interval of the difference. :func:`pooled_bootstrap` does the same for the mean difference over
several seeds, resampling the test images of every seed independently (each seed has its own data
draw). Both intervals describe test-set sampling for the trained models at hand, not the spread of
training seeds; report the seed spread (mean ± std over seeds) beside them.

Exactness: with all weights 1, :func:`weighted_ap_recall` equals mmdet's ``eval_map`` (one class,
area mode, legacy coordinates) — tested against :func:`auxdet.evaluation.voc.voc_ap_recall`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from mmdet.evaluation.functional.mean_ap import tpfp_default

__all__ = ["BootstrapResult", "Outcomes", "outcomes_from_records", "paired_bootstrap", "pooled_bootstrap",
           "weighted_ap_recall"]


@dataclass(frozen=True)
class Outcomes:
    """Per-detection outcomes of one model on one test set, sorted by descending score.

    ``image`` indexes ``image_ids``; ``num_gt[i]`` is image ``i``'s number of (non-ignored) targets;
    ``groups[i]`` its group label (e.g. ``'Air/LWIR'``) for per-domain figures.
    """

    scores: np.ndarray  # [N] float
    tp: np.ndarray  # [N] bool
    fp: np.ndarray  # [N] bool (a detection matching an ignore box is neither)
    image: np.ndarray  # [N] int
    num_gt: np.ndarray  # [I] int
    image_ids: tuple[str, ...]
    groups: tuple[str, ...]

    def subset(self, keep: Callable[[str], bool]) -> Outcomes:
        """The outcomes of the images whose group satisfies ``keep`` (image indices renumbered)."""
        mask_img = np.array([keep(g) for g in self.groups], bool)
        new_index = np.cumsum(mask_img) - 1
        sel = mask_img[self.image]
        return Outcomes(self.scores[sel], self.tp[sel], self.fp[sel], new_index[self.image[sel]],
                        self.num_gt[mask_img], tuple(np.asarray(self.image_ids)[mask_img]),
                        tuple(np.asarray(self.groups)[mask_img]))


def outcomes_from_records(
    records: Sequence, iou_thr: float = 0.5, group: Callable[[dict], str] | None = None,
    use_legacy_coordinate: bool = True,
) -> Outcomes:
    """Outcomes of :class:`~auxdet.evaluation.records.ImageEval` records (one class: label 0).

    ``group(meta) -> str`` labels each image (default ``'platform/band'`` from its metadata).
    """
    group = group or (lambda m: f"{m.get('platform')}/{m.get('band')}")
    scores, tp, fp, image, num_gt = [], [], [], [], []
    for i, r in enumerate(records):
        dets = np.hstack([r.det_bboxes, r.det_scores[:, None]]).astype(np.float32)[r.det_labels == 0]
        gts = r.gt_bboxes[r.gt_labels == 0]
        ign = r.ignore_bboxes[r.ignore_labels == 0] if r.ignore_bboxes.size else np.zeros((0, 4), np.float32)
        t, f = tpfp_default(dets, gts, ign, iou_thr, None, use_legacy_coordinate=use_legacy_coordinate)
        scores.append(dets[:, 4])
        tp.append(t[0].astype(bool))
        fp.append(f[0].astype(bool))
        image.append(np.full(len(dets), i, np.int64))
        num_gt.append(len(gts))
    s = np.concatenate(scores) if scores else np.zeros(0, np.float32)
    order = np.argsort(-s, kind="stable")
    return Outcomes(
        s[order], np.concatenate(tp)[order] if tp else np.zeros(0, bool),
        np.concatenate(fp)[order] if fp else np.zeros(0, bool),
        np.concatenate(image)[order] if image else np.zeros(0, np.int64),
        np.asarray(num_gt, np.int64), tuple(str(r.img_id) for r in records),
        tuple(group(r.meta) for r in records),
    )


def weighted_ap_recall(out: Outcomes, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """VOC area-mode AP and final Recall for image weights ``[B, I]`` (or ``[I]``; default all ones).

    Returns arrays of shape ``[B]`` (NaN where the weighted number of targets is 0).
    """
    w = np.ones((1, len(out.num_gt))) if weights is None else np.atleast_2d(np.asarray(weights, np.float64))
    n_gt = w @ out.num_gt
    if len(out.scores) == 0:
        ap = np.where(n_gt > 0, 0.0, np.nan)
        return ap, ap.copy()
    wd = w[:, out.image]  # [B, N] weight of each detection
    tp = np.cumsum(wd * out.tp, axis=1)
    fp = np.cumsum(wd * out.fp, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = tp / n_gt[:, None]
        precision = tp / np.maximum(tp + fp, np.finfo(np.float32).eps)
    b = len(n_gt)
    mrec = np.hstack([np.zeros((b, 1)), recall, np.ones((b, 1))])
    mpre = np.hstack([np.zeros((b, 1)), precision, np.zeros((b, 1))])
    mpre = np.flip(np.maximum.accumulate(np.flip(mpre, 1), axis=1), 1)  # precision envelope
    ap = np.sum(np.diff(mrec, axis=1) * mpre[:, 1:], axis=1)
    final_recall = recall[:, -1]
    bad = n_gt <= 0
    ap[bad], final_recall[bad] = np.nan, np.nan
    return ap, final_recall


@dataclass(frozen=True)
class BootstrapResult:
    """A difference (``a − b``, in the metric's unit) with its bootstrap 95 % interval."""

    a: float
    b: float
    diff: float
    lo: float
    hi: float
    replicates: int

    @property
    def excludes_zero(self) -> bool:
        return bool(self.lo > 0 or self.hi < 0)


def _weights(rng: np.random.Generator, n_images: int, n: int) -> np.ndarray:
    idx = rng.integers(0, n_images, size=(n, n_images))
    w = np.zeros((n, n_images))
    np.add.at(w, (np.arange(n)[:, None], idx), 1.0)
    return w


def _check_pair(a: Outcomes, b: Outcomes) -> None:
    if a.image_ids != b.image_ids:
        raise ValueError("paired bootstrap: the two models were not evaluated on the same test images")


def paired_bootstrap(
    a: Outcomes, b: Outcomes, *, metric: str = "AP50", n: int = 1000, seed: int = 0, chunk: int = 250
) -> BootstrapResult:
    """Difference ``metric(a) − metric(b)`` on the same images with a paired percentile bootstrap CI."""
    return pooled_bootstrap([(a, b)], metric=metric, n=n, seed=seed, chunk=chunk)


def pooled_bootstrap(
    pairs: Sequence[tuple[Outcomes, Outcomes]], *, metric: str = "AP50", n: int = 1000, seed: int = 0,
    chunk: int = 250,
) -> BootstrapResult:
    """Mean over ``pairs`` (e.g. seeds) of ``metric(a) − metric(b)``; each pair's images are resampled
    independently (paired within the pair) and the per-replicate differences are averaged."""
    if metric not in ("AP50", "Recall"):
        raise ValueError(f"metric must be 'AP50' or 'Recall', got {metric!r}")
    k = 0 if metric == "AP50" else 1
    rng = np.random.default_rng(seed)
    point_a, point_b, reps = [], [], np.zeros(n)
    for a, b in pairs:
        _check_pair(a, b)
        point_a.append(weighted_ap_recall(a)[k][0])
        point_b.append(weighted_ap_recall(b)[k][0])
        done = 0
        while done < n:
            m = min(chunk, n - done)
            w = _weights(rng, len(a.num_gt), m)
            reps[done : done + m] += (weighted_ap_recall(a, w)[k] - weighted_ap_recall(b, w)[k]) / len(pairs)
            done += m
    reps = reps[np.isfinite(reps)]
    pa, pb = float(np.mean(point_a)), float(np.mean(point_b))
    lo, hi = (np.percentile(reps, [2.5, 97.5]) if len(reps) else (math.nan, math.nan))
    return BootstrapResult(pa, pb, pa - pb, float(lo), float(hi), int(len(reps)))
