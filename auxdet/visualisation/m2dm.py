"""Figures of the M2DM derivation (notebook 02): the resolution embedding (Eq. 3), detail
compensation (Eq. 5) and the per-sample dynamic weights (Eq. 8).

Each function takes the arrays the notebook computed (and, for Eq. 5, the neck whose intermediate it
shows) and returns a matplotlib Figure; saving is :func:`auxdet.visualisation.style.save_figure`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

__all__ = ["plot_detail_compensation", "plot_dynamic_weights", "plot_resolution_embedding"]


def plot_resolution_embedding(
    sigma: float,
    same_sine_widths: tuple[float, float],
    same_sine_aspects: tuple[float, float],
    widths: np.ndarray | None = None,
    aspects: np.ndarray | None = None,
) -> Figure:
    """Eq. 3 in three panels: the width term's sine/cosine over 128…14000 px (the paper's range 256…6000
    shaded, the folds at πσ/2, πσ, 2πσ marked), the (sin, cos) pair on the unit circle, and the aspect
    term. ``same_sine_*``: a pair of widths / aspect ratios with the same sine; ``widths`` / ``aspects``:
    the values of a real metadata table, marked when given."""
    w1, w2 = same_sine_widths
    r1, r2 = same_sine_aspects
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    wg = np.linspace(128, 14000, 2000)
    ax = axes[0]
    ax.plot(wg, np.sin(wg / sigma), label=r"$\sin(w/\sigma)$")
    ax.plot(wg, np.cos(wg / sigma), label=r"$\cos(w/\sigma)$")
    ax.axvspan(256, 6000, color="0.9", label="paper range 256…6000")
    folds = ((math.pi / 2 * sigma, r"$\pi\sigma/2$≈3217"), (math.pi * sigma, r"$\pi\sigma$≈6434"),
             (2 * math.pi * sigma, r"$2\pi\sigma$≈12868"))  # fmt: skip
    for x, lab in folds:
        ax.axvline(x, ls=":", c="k")
        ax.text(x, -1.12, lab, ha="center", fontsize=8)
    ax.plot([w1, w2], [math.sin(w1 / sigma)] * 2, "ko--", ms=4, lw=0.8, label="same sine: 1024 / 5410")
    if widths is not None:
        ax.plot(np.unique(widths), np.full(len(np.unique(widths)), -0.95), "|", c="C3", ms=10,
                label="widths in the real table")
    ax.set_xlabel("width w (px), σ = 2048")
    ax.set_ylim(-1.2, 1.15)
    ax.set_title("Eq. 3, width term")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    ax = axes[1]
    th = np.linspace(0, 2 * np.pi, 400)
    ax.plot(np.cos(th), np.sin(th), c="0.85")
    wr = np.linspace(256, 6000, 300)
    sc = ax.scatter(np.cos(wr / sigma), np.sin(wr / sigma), c=wr, cmap="viridis", s=6)
    fig.colorbar(sc, ax=ax, label="w (px)")
    if widths is not None:
        ax.plot(np.cos(np.unique(widths) / sigma), np.sin(np.unique(widths) / sigma), "r.", ms=4, label="real widths")
        ax.legend(fontsize=7)
    ax.set_aspect("equal")
    ax.set_xlabel(r"$\cos(w/\sigma)$")
    ax.set_ylabel(r"$\sin(w/\sigma)$")
    ax.set_title("(sin, cos) pair: a point on the circle")
    ax = axes[2]
    ar = np.linspace(0.25, 3.5, 400)
    ax.plot(ar, np.sin(ar), label=r"$\sin(w/h)$")
    ax.plot(ar, np.cos(ar), label=r"$\cos(w/h)$")
    ax.axvline(math.pi / 2, ls=":", c="k")
    ax.plot([r1, r2], [math.sin(r1)] * 2, "ko--", ms=4, lw=0.8, label="same sine: 1.40 / 1.74")
    if aspects is not None:
        ax.plot(np.unique(aspects), np.full(len(np.unique(aspects)), -0.9), "|", c="C3", ms=10,
                label="w/h in the real table")
    ax.set_xlabel("aspect ratio w/h (radians!)")
    ax.set_title("Eq. 3, aspect term")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    fig.tight_layout()
    return fig


def plot_detail_compensation(image: Tensor, neck: nn.Module, intermediates: Mapping[str, Any], source: str) -> Figure:
    """Eq. 5 on one image: the input, |x_0|, then on the deepest grid |x_4|, the pseudo-deep maps
    |C↓(x_i)| of the two compensated levels and |Δx| of level 0 (channel means of |·|).

    The four stride-32 maps share one colour scale (Δx = x̂_4 − x_4 is compared with its terms);
    the input and |x_0| have their own. ``neck``: an ``AuxFPN`` with detail compensation at levels 0
    and 1; ``intermediates``: its ``forward_with_intermediates`` record for ``image`` (``[1, C, H, W]``);
    ``source``: where the image comes from (its first words title the input panel)."""
    lat = intermediates["laterals"]
    deep = [(lat[-1][0].abs().mean(0), "|x_4| (stride 32)")]
    for i in (0, 1):
        with torch.no_grad():
            pseudo = neck.compensation[i].down(lat[i])
        deep.append((pseudo[0].abs().mean(0), f"|C↓(x_{i})| = |x̂_4|, stride {neck.compensation[i].stride}"))
    deep.append((intermediates["compensation"][0]["delta"][0].abs().mean(0), "|Δx| level 0 (Eq. 5)"))
    vmax = max(float(a.max()) for a, _ in deep)
    fig, axes = plt.subplots(1, 6, figsize=(19, 3.4), layout="constrained")
    im = axes[0].imshow(image[0, 0].numpy(), cmap="gray")
    axes[0].set_title(f"input ({source.split(' (')[0]})", fontsize=8)
    fig.colorbar(im, ax=axes[0], fraction=0.046, label="normalised intensity")
    im = axes[1].imshow(lat[0][0].abs().mean(0).numpy(), cmap="inferno", vmin=0)
    axes[1].set_title("|x_0| (stride 4)", fontsize=8)
    fig.colorbar(im, ax=axes[1], fraction=0.046)
    for ax, (arr, title) in zip(axes[2:], deep, strict=True):
        im = ax.imshow(arr.numpy(), cmap="inferno", vmin=0, vmax=vmax)
        ax.set_title(title, fontsize=8)
    fig.colorbar(im, ax=list(axes[2:]), fraction=0.02, label="mean |activation| (shared scale)")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Detail compensation on random-weight features (channel-mean of |·|)")
    return fig


def plot_dynamic_weights(weights: Tensor, titles: tuple[str, str]) -> Figure:
    """The generated first dynamic-layer matrices of two samples (``weights[0]``, ``weights[1]``, each
    ``[D, 32]``) and their difference, on one colour scale."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    v = float(weights[:2].abs().max())
    for ax, arr, t in zip(axes, (weights[0], weights[1], weights[0] - weights[1]), (*titles, "difference"),
                          strict=True):
        im = ax.imshow(arr.numpy().T, cmap="RdBu_r", vmin=-v, vmax=v, aspect="auto")
        ax.set_title(t, fontsize=9)
        ax.set_xlabel("in (D)")
        ax.set_ylabel("out (32)")
    fig.colorbar(im, ax=axes, fraction=0.02, label="generated weight (one scale)")
    return fig
