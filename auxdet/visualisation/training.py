"""Figures of a training comparison (notebook 04): loss curves and detections vs ground truth.

* :func:`loss_history` reads the scalars mmengine logged for each model's work dir
  (:func:`auxdet.engine.hooks.read_scalars`) into one tidy DataFrame; :func:`plot_loss_curves` draws
  one panel per loss term with one line per model (and, optionally, the iterations where the
  learning rate drops).
* :func:`match_detections` counts true positives, false alarms and misses of one image (the greedy
  matcher of :mod:`auxdet.evaluation.matching`); :func:`plot_detections_vs_gt` draws ground truth and
  each model's detections on one image per domain.

AP50 / Recall per arm and domain are drawn by :func:`auxdet.visualisation.study.plot_arms`. Plot
functions take data and return a matplotlib ``Figure`` (save it with
:func:`auxdet.visualisation.style.save_figure`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["loss_history", "match_detections", "plot_detections_vs_gt", "plot_loss_curves"]

_SKIP_SCALARS = {"lr", "data_time", "time", "grad_norm", "acc", "epoch", "iter", "step"}


def loss_history(work_dirs: Mapping[str, str | os.PathLike]) -> pd.DataFrame:
    """Training losses logged by mmengine: columns ``model, iter, epoch, key, value`` (one row per
    model × iteration × loss term; ``key`` is ``loss`` for the total and e.g. ``loss_cls`` for a term).

    Raises:
        FileNotFoundError: a work dir has no ``*/vis_data/scalars.json`` with training losses.
    """
    from auxdet.engine.hooks import read_scalars

    rows = []
    for model, work_dir in work_dirs.items():
        train = [r for r in read_scalars(work_dir) if "loss" in r and "iter" in r]
        if not train:
            raise FileNotFoundError(f"no training losses logged under '{work_dir}' (*/vis_data/scalars.json)")
        by_iter = {r["iter"]: r for r in train}  # a resumed run logs an iteration once; keep the last
        for it in sorted(by_iter):
            rec = by_iter[it]
            for key, value in rec.items():
                if key in _SKIP_SCALARS or "loss" not in key:
                    continue
                rows.append({"model": model, "iter": int(it), "epoch": int(rec.get("epoch", 0)), "key": key,
                             "value": float(value)})
    return pd.DataFrame(rows, columns=["model", "iter", "epoch", "key", "value"])


def plot_loss_curves(history: pd.DataFrame, *, keys: Sequence[str] | None = None, smooth: int = 1,
                     ncols: int = 3, marks: Mapping[str, float] | None = None,
                     colors: Mapping[str, str] | None = None) -> Figure:  # fmt: skip
    """One panel per loss term (total ``loss`` first), one line per model; ``smooth`` = rolling-mean
    window in logged points (1: raw). Every y axis starts at 0. ``marks``: label → iteration drawn as a
    dotted vertical line in every panel (e.g. where the learning rate drops); ``colors``: model → colour
    (e.g. :data:`auxdet.visualisation.study.ARM_COLORS`). Runs with fewer than 20 logged points get
    markers (a SMOKE run may log one)."""
    import matplotlib.pyplot as plt

    if history.empty:
        raise ValueError("plot_loss_curves: the loss history is empty")
    keys = list(keys) if keys is not None else ["loss"] + sorted(set(history["key"]) - {"loss"})
    ncols = min(ncols, len(keys))
    nrows = -(-len(keys) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.8 * nrows), squeeze=False, sharex=True)
    for ax, key in zip(axes.flat, keys, strict=False):
        part = history[history["key"] == key]
        for model, curve in part.groupby("model", sort=False):
            curve = curve.sort_values("iter")
            values = curve["value"].rolling(max(1, int(smooth)), min_periods=1).mean()
            ax.plot(curve["iter"], values, label=str(model), lw=1.4 if key == "loss" else 1.0,
                    marker="o" if len(curve) < 20 else None, ms=3, color=(colors or {}).get(str(model)))  # fmt: skip
        for label, it in (marks or {}).items():
            ax.axvline(it, color="0.4", ls=":", lw=0.9, label=label)
        ax.set_title(key, fontsize=9)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(keys):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("iteration")
    axes[0, 0].set_ylabel("loss")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def match_detections(gt_boxes: np.ndarray, det_boxes: np.ndarray, scores: np.ndarray | None = None,
                     iou_thr: float = 0.5) -> dict[str, int]:
    """``{'tp', 'fp', 'missed'}`` of one image: detections (best score first) matched one-to-one to the
    ground truth at IoU ≥ ``iou_thr`` by :func:`auxdet.evaluation.matching.greedy_iou_match`."""
    from auxdet.evaluation.matching import greedy_iou_match

    n_gt, n_det = len(np.asarray(gt_boxes).reshape(-1, 4)), len(np.asarray(det_boxes).reshape(-1, 4))
    tp = int((greedy_iou_match(det_boxes, gt_boxes, scores, iou_thr) >= 0).sum())
    return {"tp": tp, "fp": n_det - tp, "missed": n_gt - tp}


def plot_detections_vs_gt(
    images: Sequence[np.ndarray],
    gt_boxes: Sequence[np.ndarray],
    detections: Mapping[str, Sequence[Any]],
    *,
    titles: Sequence[str] | None = None,
    iou_thr: float = 0.5,
    panel_size: float = 2.8,
) -> Figure:
    """Rows = models, columns = images: ground truth (dashed lime) and detections (red).

    ``detections``: model → one object per image with ``boxes`` and ``scores`` (e.g.
    :class:`auxdet.engine.tiling.Detections`, already filtered by a score threshold). Each panel's
    title counts true positives / false alarms / misses (:func:`match_detections`); scores are not
    printed over the image (tabulate them beside the figure).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    n = len(images)
    if len(gt_boxes) != n or any(len(d) != n for d in detections.values()):
        raise ValueError("plot_detections_vs_gt: one ground truth and one detection set per image and model")
    fig, axes = plt.subplots(len(detections), n, figsize=(panel_size * n, panel_size * len(detections) + 0.3),
                             squeeze=False)
    for i, (model, dets_per_image) in enumerate(detections.items()):
        for j in range(n):
            ax = axes[i, j]
            img = np.asarray(images[j])
            ax.imshow(img.mean(axis=-1) if img.ndim == 3 else img, cmap="gray")
            for x1, y1, x2, y2 in np.asarray(gt_boxes[j], float).reshape(-1, 4):
                ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, ec="lime", lw=1.2,
                                       ls="--"))
            dets = dets_per_image[j]
            for x1, y1, x2, y2 in np.asarray(dets.boxes, float).reshape(-1, 4):
                ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, ec="red", lw=1.0))
            c = match_detections(gt_boxes[j], dets.boxes, dets.scores, iou_thr)
            head = f"{titles[j]}\n" if titles is not None and i == 0 else ""
            ax.set_title(f"{head}TP {c['tp']} · FA {c['fp']} · miss {c['missed']}", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[i, 0].set_ylabel(model, fontsize=9)
    fig.tight_layout()
    return fig
