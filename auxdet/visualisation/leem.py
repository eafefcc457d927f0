"""Figures of the LEEM derivation (notebook 03): responses of the Eq. 17 kernel to synthetic patches,
the ReLU's polarity asymmetry, and LW-IN against batch normalisation across domains.

Each function takes the arrays the notebook computed and returns a matplotlib Figure; saving is
:func:`auxdet.visualisation.style.save_figure`.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import SymLogNorm
from matplotlib.figure import Figure
from torch import Tensor

from auxdet.visualisation.kernels import filter2d, laplacian_5pt, separable_product_kernel

__all__ = ["plot_lwin_vs_bn", "plot_patch_responses", "plot_relu_polarity"]


def plot_patch_responses(patches: Mapping[str, np.ndarray], linthresh: float = 0.01) -> Figure:
    """One column per patch: the patch, its 5-point-Laplacian response and its Eq. 17 response, each
    relative to the response to a one-pixel target (÷ 4 and ÷ ¼).

    One colour scale per row with its colour bar: grey 0…1 for the patches, a diverging map centred at 0
    for the signed responses, symmetric-logarithmic (linear within ±``linthresh``) so that responses of
    1 % of a point target stay visible beside 1.5×. The largest |response| of each panel is written
    under it, not over the data.
    """
    resp = {name: (filter2d(img, laplacian_5pt()) / 4, filter2d(img, separable_product_kernel()) / 0.25)
            for name, img in patches.items()}  # fmt: skip
    v = max(float(np.abs(r).max()) for pair in resp.values() for r in pair)
    norm = SymLogNorm(linthresh=linthresh, vmin=-v, vmax=v, base=10)
    fig, axes = plt.subplots(3, len(patches), figsize=(1.7 * len(patches) + 1.2, 6.0), layout="constrained")
    for j, (name, img) in enumerate(patches.items()):
        im0 = axes[0, j].imshow(img, cmap="gray", vmin=0, vmax=1)
        axes[0, j].set_title(name, fontsize=7)
        for i, arr in enumerate(resp[name], start=1):
            im = axes[i, j].imshow(arr, cmap="RdBu_r", norm=norm)
            axes[i, j].set_xlabel(f"max |r| = {np.abs(arr).max():.3g}", fontsize=6, labelpad=2)
        for i in range(3):
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
    fig.colorbar(im0, ax=list(axes[0]), fraction=0.015, label="patch")
    fig.colorbar(im, ax=list(axes[1:].ravel()), fraction=0.015,
                 label=f"response ÷ point response (symlog, linear within ±{linthresh:g})")  # fmt: skip
    fig.suptitle("Responses relative to a one-pixel target (one scale per row)")
    for i, lab in enumerate(("patch", "Laplacian", "Eq. 17")):
        axes[i, 0].set_ylabel(lab, fontsize=8)
    return fig


def plot_relu_polarity(responses: Mapping[str, np.ndarray], crop: slice = slice(2, 9), vmax: float = 0.25) -> Figure:
    """The taps of a few 11×11 responses around the target (``crop`` of rows and columns) on one diverging
    scale with its colour bar, their exact values written in the non-zero cells (the cells are the data:
    a tap table); ``responses``: panel title → response."""
    fig, axes = plt.subplots(1, len(responses), figsize=(3 * len(responses) + 0.8, 3), layout="constrained")
    for ax, (title, arr) in zip(np.atleast_1d(axes), responses.items(), strict=True):
        im = ax.imshow(arr[crop, crop], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        for (i, j), val in np.ndenumerate(arr[crop, crop]):
            if abs(val) > 1e-12:
                ax.text(j, i, f"{val:+.3f}", ha="center", va="center", fontsize=6, color="w" if abs(val) > 0.2 else "k")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=list(np.atleast_1d(axes)), fraction=0.03, label="response (one scale; taps written in)")
    return fig


def plot_lwin_vs_bn(images: Tensor, lwin: Tensor, lwin_other: Tensor, bn: Tensor, bn_other: Tensor) -> Figure:
    """Top: images A, B, B' (``images`` ``[3, 1, H, W]``, grey levels) and LW-IN(A); bottom: BN(A) in a
    batch with B (``bn``) and with B' (``bn_other``), their difference, and the (zero) difference of
    LW-IN(A) in the two batches (``lwin``, ``lwin_other``: sample 0 = A of each batch).

    The images share one grey scale; the five normalised maps and differences share one diverging scale
    centred at 0 (±the 99th percentile of |BN(A | B')|), each with its colour bar."""
    fig, axes = plt.subplots(2, 4, figsize=(13, 6.2), layout="constrained")
    lo, hi = float(images.min()), float(images.max())
    for ax, im, t in zip(axes[0, :3], images[:, 0], ("A: Land/LWIR", "B: Space/NIR", "B': Land/LWIR"), strict=True):
        grey = ax.imshow(im, cmap="gray", vmin=lo, vmax=hi)
        ax.set_title(t, fontsize=9)
    v = float(bn_other[0].abs().quantile(0.99))
    maps = [(axes[0, 3], lwin[0, 0], "LW-IN(A), whatever the batch")]
    maps += list(zip(axes[1], (bn[0, 0], bn_other[0, 0], bn[0, 0] - bn_other[0, 0], lwin[0, 0] - lwin_other[0, 0]),
                     ("BN(A | batch with Space B)", "BN(A | batch with Land B')", "difference (BN)",
                      "difference (LW-IN) = 0"), strict=True))  # fmt: skip
    for ax, im, t in maps:
        signed = ax.imshow(im, cmap="RdBu_r", vmin=-v, vmax=v)
        ax.set_title(t, fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(grey, ax=list(axes[0, :3]), fraction=0.02, label="grey level")
    fig.colorbar(signed, ax=[axes[0, 3], *axes[1]], fraction=0.02, label="normalised response (one scale)")
    return fig
