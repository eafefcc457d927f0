"""Figures of the LEEM derivation (notebook 03): responses of the Eq. 17 kernel to synthetic patches,
the ReLU's polarity asymmetry, and LW-IN against batch normalisation across domains.

Each function takes the arrays the notebook computed and returns a matplotlib Figure; saving is
:func:`auxdet.visualisation.style.save_figure`.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from torch import Tensor

from auxdet.visualisation.kernels import filter2d, laplacian_5pt, separable_product_kernel

__all__ = ["plot_lwin_vs_bn", "plot_patch_responses", "plot_relu_polarity"]


def plot_patch_responses(patches: Mapping[str, np.ndarray]) -> Figure:
    """One column per patch: the patch, its 5-point-Laplacian response and its Eq. 17 response, each
    relative to the response to a one-pixel target (÷ 4 and ÷ ¼) and on its own colour scale."""
    fig, axes = plt.subplots(3, len(patches), figsize=(1.6 * len(patches), 5.4))
    for j, (name, img) in enumerate(patches.items()):
        r17 = filter2d(img, separable_product_kernel()) / 0.25
        rl = filter2d(img, laplacian_5pt()) / 4
        for i, (arr, cmap) in enumerate(((img, "gray"), (rl, "RdBu_r"), (r17, "RdBu_r"))):
            v = max(1e-9, np.abs(arr).max())
            axes[i, j].imshow(arr, cmap=cmap, vmin=-v if i else 0, vmax=v)
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
            if i:
                axes[i, j].text(0.5, 0.03, f"max |r| = {np.abs(arr).max():.3g}", transform=axes[i, j].transAxes,
                                ha="center", va="bottom", fontsize=6, color="k")
        axes[0, j].set_title(name, fontsize=7)
    fig.suptitle("Responses relative to a one-pixel target (each panel on its own colour scale)", y=1.02)
    for i, lab in enumerate(("patch", "Laplacian", "Eq. 17")):
        axes[i, 0].set_ylabel(lab, fontsize=8)
    fig.tight_layout()
    return fig


def plot_relu_polarity(responses: Mapping[str, np.ndarray], crop: slice = slice(2, 9), vmax: float = 0.25) -> Figure:
    """The taps of a few 11×11 responses around the target (``crop`` of rows and columns), their values
    written in the non-zero cells; ``responses``: panel title → response."""
    fig, axes = plt.subplots(1, len(responses), figsize=(3 * len(responses), 3))
    for ax, (title, arr) in zip(np.atleast_1d(axes), responses.items(), strict=True):
        ax.imshow(arr[crop, crop], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        for (i, j), val in np.ndenumerate(arr[crop, crop]):
            if abs(val) > 1e-12:
                ax.text(j, i, f"{val:+.3f}", ha="center", va="center", fontsize=6, color="w" if abs(val) > 0.2 else "k")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def plot_lwin_vs_bn(images: Tensor, lwin: Tensor, lwin_other: Tensor, bn: Tensor, bn_other: Tensor) -> Figure:
    """Top: images A, B, B' (``images`` ``[3, 1, H, W]``) and LW-IN(A); bottom: BN(A) in a batch with B
    (``bn``) and with B' (``bn_other``), their difference, and the (zero) difference of LW-IN(A) in
    the two batches (``lwin``, ``lwin_other``: sample 0 = A of each batch)."""
    fig, axes = plt.subplots(2, 4, figsize=(12, 6))
    for ax, im, t in zip(axes[0, :3], images[:, 0], ("A: Land/LWIR", "B: Space/NIR", "B': Land/LWIR"), strict=True):
        ax.imshow(im, cmap="gray")
        ax.set_title(t, fontsize=9)
    q = float(lwin[0].abs().quantile(0.99))
    axes[0, 3].imshow(lwin[0, 0], cmap="RdBu_r", vmin=-q, vmax=q)
    axes[0, 3].set_title("LW-IN(A), whatever the batch", fontsize=9)
    v = float(bn_other[0].abs().quantile(0.99))
    bottom = (bn[0, 0], bn_other[0, 0], bn[0, 0] - bn_other[0, 0], lwin[0, 0] - lwin_other[0, 0])
    titles = ("BN(A | batch with Space B)", "BN(A | batch with Land B')", "difference (BN)", "difference (LW-IN) = 0")
    for ax, im, t in zip(axes[1], bottom, titles, strict=True):
        ax.imshow(im, cmap="RdBu_r", vmin=-v, vmax=v)
        ax.set_title(t, fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
