"""Figures of notebook 09 (what the paper does not say): a conv kernel before and after initialisation."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

__all__ = ["plot_kernels"]


def plot_kernels(kernels: Mapping[str, torch.Tensor], title: str) -> Figure:
    """Panels of ``[C_out, C_in, k, 1]`` (or ``[C_out, C_in, 1, k]``) conv weights drawn as ``C_out × (C_in·k)``
    maps — each input channel's k taps side by side — on one diverging scale centred at 0, one colour bar."""
    maps = {name: w.detach().reshape(w.shape[0], -1).numpy() for name, w in kernels.items()}
    vmax = max(float(np.abs(m).max()) for m in maps.values())
    fig, axes = plt.subplots(1, len(maps), figsize=(3.4 * len(maps) + 0.8, 3.2), squeeze=False)
    first = next(iter(kernels.values()))
    taps = first.shape[2] * first.shape[3]
    for ax, (name, m) in zip(axes[0], maps.items(), strict=True):
        im = ax.imshow(m, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
        ax.set_xticks(np.arange(taps // 2, m.shape[1], taps), [str(i) for i in range(m.shape[1] // taps)])
        for k in range(1, m.shape[1] // taps):  # separate the input channels
            ax.axvline(k * taps - 0.5, color="0.6", lw=0.6)
        ax.set_yticks(np.arange(m.shape[0]))
        ax.set_xlabel(f"input channel ({taps} taps each)")
        ax.set_ylabel("output channel")
        ax.set_title(name, fontsize=9)
    fig.colorbar(im, ax=axes[0].tolist(), fraction=0.03, pad=0.03, label="weight")
    fig.suptitle(title, fontsize=10)
    return fig
