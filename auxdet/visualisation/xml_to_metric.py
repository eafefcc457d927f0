"""Figures of notebook 08 (from XML to neck to metric): one image with its boxes, the AP50 envelope."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

__all__ = ["plot_boxes", "plot_precision_envelope"]


def plot_boxes(image: np.ndarray, boxes: np.ndarray, title: str, *, scale_label: str = "grey level (0–255)") -> Figure:
    """A grey image (shown in its own pixels, fixed 0–255 scale, colour bar) with its target boxes (lime
    outlines, 0-based xyxy with exclusive right/bottom edge)."""
    fig, ax = plt.subplots(figsize=(5, 4.5))
    im = ax.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    for x1, y1, x2, y2 in np.asarray(boxes, float).reshape(-1, 4):
        ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, ec="lime", lw=1.2))
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("x (px)")
    ax.set_ylabel("y (px)")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=scale_label)
    fig.tight_layout()
    return fig


def plot_precision_envelope(
    recall: Sequence[float], precision: Sequence[float], mrec: Sequence[float], envelope: Sequence[float], ap: float
) -> Figure:
    """Precision after each detection (dots), its monotone envelope and the area under it (= VOC area-mode
    AP), all in %. ``mrec``/``envelope`` are the padded recall points and envelope values, the interval
    ``(mrec[i], mrec[i+1]]`` taking ``envelope[i+1]``."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    r, p = 100 * np.asarray(mrec), 100 * np.asarray(envelope)
    ax.fill_between(r, p, step="pre", alpha=0.25, color="#4C72B0", label=f"area = AP50 = {100 * ap:.1f} %")
    ax.step(r, p, where="pre", color="#4C72B0", lw=1.5, label="precision envelope")
    ax.plot(100 * np.asarray(recall), 100 * np.asarray(precision), "o", color="#C44E52", ms=5,
            label="precision after each detection (by score)")  # fmt: skip
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 105)
    ax.set_xlabel("recall (%)")
    ax.set_ylabel("precision (%)")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("VOC area-mode AP at IoU 0.5", fontsize=10)
    fig.tight_layout()
    return fig
