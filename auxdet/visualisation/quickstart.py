"""Figure of the quickstart (notebook 00): one demo image with its ground truth, the top predicted boxes
and a zoom on every target (the demo targets are 3–12 px: too small to see on the whole image)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

__all__ = ["plot_demo_prediction"]


def plot_demo_prediction(
    image: np.ndarray,
    gt_boxes: np.ndarray,
    pred_boxes: np.ndarray,
    title: str,
    zoom: int = 16,
) -> Figure:
    """``image`` ``[H, W]`` (grey, the model's input), ``gt_boxes`` / ``pred_boxes`` ``[N, 4]`` (x1, y1, x2, y2).

    Left: the image with the ground truth (green) and ``pred_boxes`` (red); right: one ``2·zoom`` px
    crop per ground-truth box with its size in the title. One grey scale and one colour bar for all panels.
    """
    image = np.asarray(image, dtype=float)
    gt_boxes, pred_boxes = np.asarray(gt_boxes, float).reshape(-1, 4), np.asarray(pred_boxes, float).reshape(-1, 4)
    n = len(gt_boxes)
    fig, axes = plt.subplots(1, 1 + n, figsize=(4.6 + 2.2 * n, 4.4), layout="constrained",
                             gridspec_kw={"width_ratios": [2.2] + [1] * n})  # fmt: skip
    axes = np.atleast_1d(axes)
    vmin, vmax = float(image.min()), float(image.max())
    im = axes[0].imshow(image, cmap="gray", vmin=vmin, vmax=vmax)
    for boxes, colour, lw in ((gt_boxes, "lime", 1.2), (pred_boxes, "red", 1.0)):
        for x1, y1, x2, y2 in boxes:
            axes[0].add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ec=colour, lw=lw))
    axes[0].set_title(title, fontsize=9)
    h, w = image.shape
    for k, (ax, (x1, y1, x2, y2)) in enumerate(zip(axes[1:], gt_boxes, strict=True)):
        cx, cy = int((x1 + x2) / 2), int((y1 + y2) / 2)
        x0, y0 = min(max(cx - zoom, 0), max(w - 2 * zoom, 0)), min(max(cy - zoom, 0), max(h - 2 * zoom, 0))
        ax.imshow(image[y0 : y0 + 2 * zoom, x0 : x0 + 2 * zoom], cmap="gray", vmin=vmin, vmax=vmax,
                  extent=(x0 - 0.5, x0 + 2 * zoom - 0.5, y0 + 2 * zoom - 0.5, y0 - 0.5))  # fmt: skip
        ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, ec="lime", lw=1.0))
        ax.set_title(f"target {k + 1}: {x2 - x1:.0f}×{y2 - y1:.0f} px (w×h)", fontsize=8)
        ax.tick_params(labelsize=6)
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    fig.colorbar(im, ax=axes, fraction=0.03, shrink=0.75, label="input intensity (normalised)")
    return fig
