"""Cross-modal feature compensation and auxiliary fusion, paper §3.2 Eq. 5–7.

For a shallow FPN lateral ``x_i`` and the deepest lateral ``x_4`` (both ``C`` channels):

* Eq. 5 :func:`detail_residual` — ``Δx = C↓(x_i) − x_4``: a grouped 3×3 convolution (groups ``C/8``
  as in the official code) whose stride is the size ratio of level ``i`` to the deepest level
  (8 for level 0, 4 for level 1 of a 4-level FPN) yields the "pseudo-deep" ``x̂_4``.
* Eq. 6 — ``x_e = F_e(GAP(Δx))``, ``F_e``: bottleneck ``C → C/4`` (Linear → LayerNorm → ReLU).
* Eq. 7 — ``a_i = Ψ_aux(⊕[x_e, z])``, ``Ψ_aux``: input projection + three residual MLP blocks →
  ``aux_dim`` (128). (Eq. 7 prints ``Δx`` inside the concatenation; the text and Eq. 6 make clear
  the compensation *feature* ``x_e`` is meant.)

Size mismatch: ``C↓`` maps ``H`` to ``ceil(H / stride)``, which differs from the deepest level's size
when a backbone rounds differently (odd input sizes). The strided output is then resized to
``x_4``'s size with adaptive average pooling before the subtraction, so Eq. 5 stays a per-position
difference and any input size works.

Two modules: :class:`DetailCompensation` (Eq. 5, the strided conv — one per level, since the stride
depends on the level) and :class:`AuxiliaryFusion` (Eq. 6–7, ``F_e`` and ``Ψ_aux``). The paper writes
``F_e`` and ``Ψ_aux`` without a level index and the official code builds them once for both levels:
the neck shares one :class:`AuxiliaryFusion` across levels by default (``shared_aux=True``); with
``shared_aux=False`` each level has its own (this repo's earlier reading, +1 module per level).

Tab. 2 switch ``mode``: ``'meta'`` — ``a_i = Ψ_aux(z)`` (metadata only, no visual term);
``'meta_semantic'`` — ``x_e = F_e(GAP(x_4))`` (high-level semantics of the deepest level instead of
the detail residual; no strided conv); ``'full'`` — Eq. 5–7 as above.
With ``meta_dim=0`` (encoder ``fields=()``) ``a_i`` comes from ``x_e`` alone.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from auxdet.models.metadata_encoder import ResidualMLPBlock

__all__ = ["AUX_MODES", "AuxiliaryFusion", "DetailCompensation", "detail_residual"]

AUX_MODES: tuple[str, ...] = ("meta", "meta_semantic", "full")


def detail_residual(strided: Tensor, deepest: Tensor) -> Tensor:
    """Eq. 5: ``Δx = C↓(x_i) − x_4`` given ``C↓(x_i)`` (``strided``) and ``x_4`` (``deepest``).

    ``strided`` is adaptively average-pooled to ``deepest``'s spatial size when they differ.
    """
    if strided.shape[-2:] != deepest.shape[-2:]:
        strided = F.adaptive_avg_pool2d(strided, deepest.shape[-2:])
    return strided - deepest


class DetailCompensation(nn.Module):
    """Eq. 5 for one level: ``Δx = C↓(x_i) − x_4`` with a grouped strided 3×3 conv ``C↓``.

    Args:
        channels: ``C`` of the laterals (FPN ``out_channels``).
        stride: size ratio of this level to the deepest level (``2 ** (L-1-i)`` in an FPN).
        group_width: channels per group of the strided conv (official: 8, i.e. ``groups = C/8``).
    """

    def __init__(self, channels: int, stride: int, group_width: int = 8) -> None:
        super().__init__()
        if stride < 1:
            raise ValueError(f"DetailCompensation: stride must be >= 1, got {stride}")
        groups = max(1, channels // group_width)
        if channels % groups:
            raise ValueError(f"DetailCompensation: {channels} channels not divisible into {groups} groups")
        self.stride, self.channels = stride, channels
        # C↓ of Eq. 5; its bias would only shift GAP(Δx) by a constant that F_e's bias absorbs.
        self.down = nn.Conv2d(channels, channels, 3, stride=stride, padding=1, groups=groups, bias=False)

    def init_weights(self) -> None:
        """Restore PyTorch's default init of ``C↓`` (mmdet's FPN Xavier-inits every Conv2d below it)."""
        self.down.reset_parameters()

    def forward(self, x_i: Tensor, x_deep: Tensor) -> Tensor:
        """``Δx`` ``[B, C, h_4, w_4]`` (Eq. 5)."""
        return detail_residual(self.down(x_i), x_deep)


class AuxiliaryFusion(nn.Module):
    """Eq. 6–7: ``x_e = F_e(GAP(Δx))``, ``a_i = Ψ_aux(⊕[x_e, z])``.

    Args:
        channels: ``C`` of the laterals.
        meta_dim: width of the metadata code ``z`` (0 = no metadata).
        aux_dim: width of ``a_i``.
        mode: ``'meta'`` | ``'meta_semantic'`` | ``'full'`` (Tab. 2); ``'meta'`` has no ``F_e``.
        dropout: dropout inside Ψ_aux's residual blocks.
        num_blocks: residual blocks of Ψ_aux (paper: three).
    """

    def __init__(
        self,
        channels: int,
        meta_dim: int,
        aux_dim: int = 128,
        mode: str = "full",
        dropout: float = 0.5,
        num_blocks: int = 3,
    ) -> None:
        super().__init__()
        if mode not in AUX_MODES:
            raise ValueError(f"AuxiliaryFusion: unknown aux mode {mode!r}; valid: {list(AUX_MODES)}")
        if mode == "meta" and meta_dim == 0:
            raise ValueError("AuxiliaryFusion: aux mode 'meta' needs metadata, but no metadata fields are used")
        self.mode, self.channels, self.meta_dim, self.aux_dim = mode, channels, meta_dim, aux_dim
        self.bottleneck: nn.Sequential | None = None
        visual_dim = 0
        if mode != "meta":
            visual_dim = channels // 4  # F_e ∈ R^{C×C/4}, Eq. 6
            self.bottleneck = nn.Sequential(nn.Linear(channels, visual_dim), nn.LayerNorm(visual_dim), nn.ReLU())
        self.fuse = nn.Sequential(
            nn.Linear(visual_dim + meta_dim, aux_dim),
            nn.ReLU(),
            *[ResidualMLPBlock(aux_dim, dropout) for _ in range(num_blocks)],
        )

    def forward(self, visual: Tensor | None, z: Tensor, return_intermediates: bool = False) -> Tensor | dict[str, Any]:
        """``a_i`` ``[B, aux_dim]`` from the visual map (``Δx``, or ``x_4`` in 'meta_semantic'; ``None``
        in 'meta') and the metadata code ``z``. Intermediates: ``pooled``, ``x_e``, ``fused_in``, ``aux``."""
        if z.shape[-1] != self.meta_dim:
            raise ValueError(f"AuxiliaryFusion: metadata code has {z.shape[-1]} dims, expected {self.meta_dim}")
        inter: dict[str, Any] = {}
        parts = []
        if self.bottleneck is not None:
            if visual is None:
                raise ValueError(f"AuxiliaryFusion: aux mode {self.mode!r} needs the visual map")
            inter["pooled"] = visual.mean(dim=(-2, -1))
            inter["x_e"] = self.bottleneck(inter["pooled"])  # Eq. 6
            parts.append(inter["x_e"])
        parts.append(z)
        inter["fused_in"] = torch.cat(parts, dim=-1)
        inter["aux"] = self.fuse(inter["fused_in"])  # Eq. 7
        return inter if return_intermediates else inter["aux"]
