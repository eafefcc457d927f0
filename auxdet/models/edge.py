"""Lightweight Edge Enhancement Module (LEEM), paper §3.4 Eq. 15–18.

* Eq. 15 — ``x_vert = σ(α) ⊙ ReLU(W_{3×1} ∗ x)``, ``x_hori = W_{1×3} ∗ x_vert`` (both ``C → C``,
  no bias; ``α`` a scalar, initialised to 0.1).
* Eq. 16 :func:`separable_laplacian_kernels` — ``W_{3×1}⁽⁰⁾ = ¼[1, −2, 1]ᵀ ⊙ I_C``,
  ``W_{1×3}⁽⁰⁾ = ¼[1, −2, 1] ⊙ I_C``: the 1-D Laplacian on the *same* channel, zero across channels
  (the official code fills every (out, in) channel pair, which sums all channels at init).
* Eq. 17 :func:`laplacian_3x3_kernel` — their composition ``(1/16)[[1,−2,1],[−2,4,−2],[1,−2,1]] ⊙ I``
  (the initial kernel of the ``mode='conv3x3'`` variant of Tab. 4: one 3×3 ``C → C`` conv, no α/ReLU).
* Eq. 18 :func:`lw_instance_norm` — ``x̄ = x + γ ⊙ (x_hori − μ)/√(σ² + ε)`` with ``μ, σ²`` per sample
  and channel over space (LW-IN), ``ε = 1e-5``, ``γ ∈ R^C``.

``γ`` initialisation: ``gamma_init=0.1`` (a LayerScale-like small gate). ``γ = 0`` would make the
module an exact identity at step 0 but would also zero the gradients of both convolutions (they only
reach the output through ``γ``) until ``γ`` has moved; 0.1 keeps the initial perturbation small
(the normalised edge map has unit variance per channel) while every parameter learns from step 0.

Scale of the edge term, switch ``scale``: ``'channel'`` (default) is Eq. 18 as printed, ``γ ∈ R^C``.
``'aux_gate'`` is the official code's form, which the paper does not describe: a scalar ``β`` times a
per-sample gate ``σ(MLP(a_i))`` computed from the level's auxiliary vector (:class:`LEEMGate`, shared
by the levels), so LEEM becomes a second metadata-conditioned path (``x̄ = x + g_i β ⊙ LW-IN(x_hori)``).
``β`` starts at ``gamma_init`` (official: 1, with a gate ≈ 0.5 at init).

Precision: LW-IN's mean and variance are computed in float32 whatever the input dtype (under autocast
or in a ``.half()`` model a float16 variance overflows above 65504 and the output collapses to 0); the
result is cast back to the input dtype.

Note on ``α``: LW-IN divides by the spatial standard deviation, so the positive scalar ``σ(α)`` is
cancelled up to ``ε``; its gradient is of order ``ε/σ²`` — tiny but non-zero. This follows the paper.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "LEEM",
    "LEEM_MODES",
    "LEEM_SCALES",
    "LEEMGate",
    "laplacian_3x3_kernel",
    "lw_instance_norm",
    "separable_laplacian_kernels",
]

LEEM_MODES: tuple[str, ...] = ("separable", "conv3x3")
LEEM_SCALES: tuple[str, ...] = ("channel", "aux_gate")
LW_IN_EPS = 1e-5


def separable_laplacian_kernels(channels: int) -> tuple[Tensor, Tensor]:
    """Eq. 16: initial ``(W_{3×1}, W_{1×3})`` of shapes ``[C, C, 3, 1]`` and ``[C, C, 1, 3]``.

    ``¼[1, −2, 1]`` on the diagonal (output channel = input channel), zero elsewhere (``⊙ I_C``).
    """
    taps = torch.tensor([1.0, -2.0, 1.0]) / 4.0
    eye = torch.eye(channels)
    w = eye[:, :, None] * taps  # [C, C, 3]
    return w[:, :, :, None].clone(), w[:, :, None, :].clone()


def laplacian_3x3_kernel(channels: int) -> Tensor:
    """Eq. 17: ``(1/16)[[1,−2,1],[−2,4,−2],[1,−2,1]] ⊙ I_C`` as a ``[C, C, 3, 3]`` conv weight."""
    taps = torch.tensor([1.0, -2.0, 1.0])
    kernel = torch.outer(taps, taps) / 16.0
    return torch.eye(channels)[:, :, None, None] * kernel


def lw_instance_norm(x: Tensor, eps: float = LW_IN_EPS) -> Tensor:
    """LW-IN of Eq. 18 without the scale: ``(x − μ_space)/√(σ²_space + ε)`` per sample and channel.

    The biased (population) spatial variance, as instance normalisation uses; computed by
    ``F.instance_norm`` (one fused pass, 4× faster on the CPU than an explicit ``var_mean``), except on
    a 1×1 map (a deep level of a tiny image), where it is defined as zeros instead of an error.
    Statistics in float32 (see the module docstring); the result has ``x``'s dtype.
    """
    if x.shape[-2] * x.shape[-1] == 1:
        return torch.zeros_like(x)
    return F.instance_norm(x.float(), eps=eps).to(x.dtype)


class LEEMGate(nn.Module):
    """Per-sample gate of the official LEEM (``scale='aux_gate'``): ``g = σ(W₂ ReLU(W₁ a_i))`` ``[B]``."""

    def __init__(self, aux_dim: int) -> None:
        super().__init__()
        hidden = max(1, aux_dim // 2)
        self.mlp = nn.Sequential(nn.Linear(aux_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1), nn.Sigmoid())

    def forward(self, aux: Tensor) -> Tensor:
        return self.mlp(aux).view(-1)


class LEEM(nn.Module):
    """Lightweight Edge Enhancement Module (Eq. 15–18) on a ``[B, C, H, W]`` feature.

    Args:
        channels: ``C``.
        mode: ``'separable'`` (Eq. 15–16, default) or ``'conv3x3'`` (Tab. 4's 3×3 variant, Eq. 17 init).
        alpha_init: initial gate parameter ``α`` (separable mode only).
        gamma_init: initial value of every entry of ``γ`` (of ``β`` with ``scale='aux_gate'``).
        eps: ``ε`` of LW-IN.
        scale: ``'channel'`` (Eq. 18, ``γ ∈ R^C``) or ``'aux_gate'`` (official: ``g_i · β``).
    """

    def __init__(
        self,
        channels: int,
        mode: str = "separable",
        alpha_init: float = 0.1,
        gamma_init: float = 0.1,
        eps: float = LW_IN_EPS,
        scale: str = "channel",
    ) -> None:
        super().__init__()
        if mode not in LEEM_MODES:
            raise ValueError(f"LEEM: unknown mode {mode!r}; valid: {list(LEEM_MODES)}")
        if scale not in LEEM_SCALES:
            raise ValueError(f"LEEM: unknown scale {scale!r}; valid: {list(LEEM_SCALES)}")
        self.channels, self.mode, self.eps, self.scale = channels, mode, eps, scale
        self.alpha_init, self.gamma_init = alpha_init, gamma_init
        if mode == "separable":
            self.conv_v = nn.Conv2d(channels, channels, (3, 1), padding=(1, 0), bias=False)  # W_{3×1}
            self.conv_h = nn.Conv2d(channels, channels, (1, 3), padding=(0, 1), bias=False)  # W_{1×3}
            self.alpha = nn.Parameter(torch.empty(()))
        else:
            self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.gamma = nn.Parameter(torch.empty(channels if scale == "channel" else 1))  # γ, or β for 'aux_gate'
        self.init_weights()

    @torch.no_grad()
    def init_weights(self) -> None:
        """Eq. 16 (or Eq. 17) kernels, ``α = alpha_init``, ``γ = gamma_init``.

        Also called by the neck after mmdet's FPN Xavier-initialises every Conv2d below it.
        """
        if self.mode == "separable":
            w_v, w_h = separable_laplacian_kernels(self.channels)
            self.conv_v.weight.copy_(w_v)
            self.conv_h.weight.copy_(w_h)
            self.alpha.fill_(self.alpha_init)
        else:
            self.conv.weight.copy_(laplacian_3x3_kernel(self.channels))
        self.gamma.fill_(self.gamma_init)

    def edge_response(self, x: Tensor) -> dict[str, Tensor]:
        """Eq. 15 (separable: ``x_vert``, ``x_hori``) or the 3×3 response (as ``x_hori``)."""
        if self.mode == "separable":
            x_vert = torch.sigmoid(self.alpha) * F.relu(self.conv_v(x))
            return {"x_vert": x_vert, "x_hori": self.conv_h(x_vert)}
        return {"x_hori": self.conv(x)}

    def _x_hori(self, x: Tensor) -> Tensor:
        """``x_hori`` of Eq. 15 in fewer passes over the feature map (the same function):
        ``W_{1×3} ∗ (σ(α) ReLU(W_{3×1} ∗ x)) = (σ(α) W_{1×3}) ∗ ReLU(W_{3×1} ∗ x)`` — the scalar is folded
        into the 1×3 kernel instead of multiplying the map, and the ReLU runs in place."""
        if self.mode != "separable":
            return self.conv(x)
        w_h = torch.sigmoid(self.alpha) * self.conv_h.weight
        return F.conv2d(F.relu(self.conv_v(x), inplace=True), w_h, padding=(0, 1))

    def _scale(self, x: Tensor, gate: Tensor | None) -> Tensor:
        scale = self.gamma.view(1, -1, 1, 1)
        if self.scale == "aux_gate":
            if gate is None or gate.shape != (x.shape[0],):
                raise ValueError(f"LEEM(scale='aux_gate') needs a per-sample gate of shape [{x.shape[0]}]")
            scale = scale * gate.view(-1, 1, 1, 1)
        return scale

    def forward(
        self, x: Tensor, return_intermediates: bool = False, gate: Tensor | None = None
    ) -> Tensor | dict[str, Any]:
        """``x̄ = x + γ ⊙ LW-IN(x_hori)`` (Eq. 18), or ``x + g_i β LW-IN(x_hori)`` with ``scale='aux_gate'``
        (``gate`` ``[B]`` from :class:`LEEMGate`). Intermediates: ``x_vert``, ``x_hori``, ``normed``, ``out``."""
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f"LEEM: expected [B, {self.channels}, H, W], got {tuple(x.shape)}")
        scale = self._scale(x, gate)
        if not return_intermediates:
            return torch.addcmul(x, scale, lw_instance_norm(self._x_hori(x), self.eps))
        inter: dict[str, Any] = self.edge_response(x)
        inter["normed"] = lw_instance_norm(inter["x_hori"], self.eps)
        inter["out"] = x + scale * inter["normed"]
        return inter
