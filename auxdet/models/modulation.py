"""Multi-Modal Dynamic Modulation (M2DM), paper §3.3 Eq. 8–14.

Pipeline for a lateral ``x`` ``[B, C, H, W]`` and its auxiliary vector ``a`` ``[B, aux_dim]``:

* Eq. 8 — ``y' = F_dyn⁽²⁾(F_dyn⁽¹⁾(P_θ(GAP(x))))``: ``P_θ`` linear ``C → C/2``; two dynamic-MLP
  layers (:class:`DynamicLinear`, Yang et al. CVPR 2022 "type A") ``C/2 → hidden → C/2`` whose weight
  matrices are predicted per sample from ``a``; back to ``C`` with a residual; then a linear head to
  ``C + 8`` outputs.
* Eq. 9 — ``[cm, sm] = Split(y')``: ``cm`` ``[B, C]`` channel modulation, ``sm`` ``[B, 8]`` spatial.
* PSCM — ``x^c = σ(cm) ⊙ x`` (per sample and channel).
* Eq. 10–11 :func:`pssm_kernels` — two zero-corner 3×3 kernels per sample, centre = −(sum of the four).
* Eq. 12 :func:`pssm_response` — ``f_sm = K⁽¹⁾ ∗ mean_c(x) + K⁽²⁾ ∗ max_c(x)``, all samples in ONE
  grouped convolution (groups = batch).
* Eq. 13 — ``x^s = x + σ(f_sm) ⊗ x``.
* Eq. 14 — ``x̄ = x + x^c + x^s``.

Unlike the official code, the spatial parameters ``sm`` are **not** detached: the part of the dynamic
MLP that produces them is trained.

Tab. 3 switch ``mode`` (the dynamic MLP is shared, it runs once on ``GAP(x)``):

================  ==========================================  head outputs
``'parallel'``    ``x + x^c + x^s`` (Eq. 14, default)          C + 8
``'pscm'``        ``R_c(x) = x + σ(cm) ⊙ x``                   C
``'pssm'``        ``R_s(x) = x + σ(f_sm(x)) ⊗ x`` (Eq. 13)      8
``'pssm_pscm'``   ``R_c(R_s(x))`` — PSSM then PSCM              C + 8
``'pscm_pssm'``   ``R_s(R_c(x))`` — PSCM then PSSM              C + 8
================  ==========================================  ============

``R_c`` / ``R_s`` are the residual forms of the two branches (Eq. 14 with the other branch removed);
in the sequential modes the second branch acts on the first one's output (for PSSM its mean/max maps
are taken from that output). The official PSCM is ``x·σ(cm) + x``, i.e. its Eq. 14 carries one more
``x`` than ours in parallel mode; we follow the paper's printed Eq. 14 with ``x^c = σ(cm) ⊙ x``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["M2DM", "M2DM_MODES", "DynamicLinear", "pssm_kernels", "pssm_pool", "pssm_response"]

M2DM_MODES: tuple[str, ...] = ("pssm", "pscm", "pssm_pscm", "pscm_pssm", "parallel")
NUM_SPATIAL = 8  # two kernels × four free taps, Eq. 9–11

# Eq. 10–11 as a linear map: tap k (top, left, right, bottom) adds E_k − E_centre to the flattened 3×3.
_TAP_POSITIONS = (1, 3, 5, 7)  # row-major indices of (0,1), (1,0), (1,2), (2,1)
_CENTRE = 4


def _tap_basis(device: torch.device, dtype: torch.dtype) -> Tensor:
    basis = torch.zeros(4, 9, device=device, dtype=dtype)
    for k, pos in enumerate(_TAP_POSITIONS):
        basis[k, pos] = 1.0
        basis[k, _CENTRE] = -1.0
    return basis


def pssm_kernels(sm: Tensor) -> Tensor:
    """Eq. 10–11: zero-corner kernels from the spatial parameters ``sm`` ``[B, 8]`` → ``[B, 2, 3, 3]``.

    ``K⁽¹⁾ = [[0, sm¹, 0], [sm², −Σ_{k=1..4} smᵏ, sm³], [0, sm⁴, 0]]`` and ``K⁽²⁾`` likewise from
    ``sm⁵..sm⁸``. Every kernel sums to zero (no response on a constant map); ``sm ≡ 1`` gives the
    4-neighbour Laplacian. Differentiable in ``sm``.
    """
    if sm.dim() != 2 or sm.shape[1] != NUM_SPATIAL:
        raise ValueError(f"pssm_kernels: expected sm of shape [B, {NUM_SPATIAL}], got {tuple(sm.shape)}")
    taps = sm.view(-1, 2, 4)
    return (taps @ _tap_basis(sm.device, sm.dtype)).view(-1, 2, 3, 3)


def pssm_pool(x: Tensor) -> Tensor:
    """``f_pool = P_avg(x) ⊕ P_max(x)`` of Eq. 12: channel-mean and channel-max maps ``[B, 2, H, W]``."""
    return torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)


def pssm_response(f_pool: Tensor, kernels: Tensor) -> Tensor:
    """Eq. 12: ``f_sm = Σ_k K⁽ᵏ⁾ ∗ f_pool⁽ᵏ⁾`` per sample, as ONE grouped conv (groups = batch).

    Args:
        f_pool: ``[B, 2, H, W]`` (mean map, max map).
        kernels: ``[B, 2, 3, 3]`` from :func:`pssm_kernels`.
    Returns:
        ``[B, 1, H, W]`` (zero padding, same size).
    """
    b, k, h, w = f_pool.shape
    if kernels.shape != (b, k, 3, 3):
        raise ValueError(f"pssm_response: kernels {tuple(kernels.shape)} do not match f_pool {tuple(f_pool.shape)}")
    out = F.conv2d(f_pool.reshape(1, b * k, h, w), kernels, padding=1, groups=b)
    return out.view(b, 1, h, w)


class DynamicLinear(nn.Module):
    """Dynamic MLP layer "type A" (Yang et al., CVPR 2022): per-sample weights predicted from ``aux``.

    ``out_b = ReLU(LN(x_b · W(a_b)))`` with ``W(a) = reshape(Linear(a), [in, out])``; a batched matmul,
    no loop over samples.
    """

    def __init__(self, in_dim: int, out_dim: int, aux_dim: int) -> None:
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        self.weight_generator = nn.Linear(aux_dim, in_dim * out_dim)
        self.norm = nn.LayerNorm(out_dim)
        self.act = nn.ReLU()

    def generate(self, aux: Tensor) -> Tensor:
        """Per-sample weight matrices ``[B, in, out]``."""
        return self.weight_generator(aux).view(-1, self.in_dim, self.out_dim)

    def forward(self, x: Tensor, aux: Tensor, weights: Tensor | None = None) -> Tensor:
        weights = self.generate(aux) if weights is None else weights
        return self.act(self.norm(torch.bmm(x.unsqueeze(1), weights).squeeze(1)))


class M2DM(nn.Module):
    """Multi-Modal Dynamic Modulation of one lateral (Eq. 8–14).

    Args:
        channels: ``C``.
        aux_dim: width of the auxiliary vector ``a_i``.
        mode: one of :data:`M2DM_MODES` (Tab. 3); default ``'parallel'`` (Eq. 14).
        dyn_hidden: inner width of the two dynamic layers (official: 32).
    """

    def __init__(self, channels: int, aux_dim: int = 128, mode: str = "parallel", dyn_hidden: int = 32) -> None:
        super().__init__()
        if mode not in M2DM_MODES:
            raise ValueError(f"M2DM: unknown mode {mode!r}; valid: {list(M2DM_MODES)}")
        self.channels, self.mode = channels, mode
        self.use_channel = mode != "pssm"
        self.use_spatial = mode != "pscm"
        d = max(1, channels // 2)  # D = ⌊C/2⌋
        self.project = nn.Linear(channels, d)  # P_θ
        self.dyn1 = DynamicLinear(d, dyn_hidden, aux_dim)  # F_dyn^(1)
        self.dyn2 = DynamicLinear(dyn_hidden, d, aux_dim)  # F_dyn^(2)
        self.expand = nn.Linear(d, channels)  # back to C (residual)
        self.num_cm = channels if self.use_channel else 0
        self.num_sm = NUM_SPATIAL if self.use_spatial else 0
        self.head = nn.Linear(channels, self.num_cm + self.num_sm)  # → [cm, sm], Eq. 9

    def modulation_params(self, x: Tensor, aux: Tensor) -> dict[str, Tensor]:
        """Eq. 8–9: pooled feature → dynamic MLP → ``cm`` ``[B, C]`` / ``sm`` ``[B, 8]`` (where used)."""
        pooled = x.mean(dim=(-2, -1))
        w1, w2 = self.dyn1.generate(aux), self.dyn2.generate(aux)
        h = self.dyn2(self.dyn1(self.project(pooled), aux, w1), aux, w2)
        y = self.head(pooled + self.expand(h))
        out = {"pooled": pooled, "dyn_weights": [w1, w2], "y": y}
        if self.use_channel:
            out["cm"] = y[:, : self.num_cm]
        if self.use_spatial:
            out["sm"] = y[:, self.num_cm :]
            out["kernels"] = pssm_kernels(out["sm"])
        return out

    @staticmethod
    def _spatial(x: Tensor, kernels: Tensor, inter: dict[str, Any]) -> Tensor:
        """Eq. 12–13: ``x^s = x + σ(f_sm) ⊗ x``."""
        inter["f_pool"] = pssm_pool(x)
        inter["f_sm"] = pssm_response(inter["f_pool"], kernels)
        inter["x_s"] = x + torch.sigmoid(inter["f_sm"]) * x
        return inter["x_s"]

    def forward(self, x: Tensor, aux: Tensor, return_intermediates: bool = False) -> Tensor | dict[str, Any]:
        """Modulate ``x`` ``[B, C, H, W]`` with ``aux`` ``[B, aux_dim]``.

        With ``return_intermediates=True`` returns a dict: ``pooled``, ``dyn_weights`` (the two
        generated ``[B, in, out]`` matrices), ``y``, ``cm``, ``sm``, ``kernels``, ``f_pool``, ``f_sm``,
        ``x_c``, ``x_s`` (those the mode uses) and ``out``.
        """
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(f"M2DM: expected [B, {self.channels}, H, W], got {tuple(x.shape)}")
        if aux.shape[0] != x.shape[0]:
            raise ValueError(f"M2DM: {aux.shape[0]} auxiliary vectors for a batch of {x.shape[0]}")
        inter: dict[str, Any] = self.modulation_params(x, aux)
        gate_c = torch.sigmoid(inter["cm"])[:, :, None, None] if self.use_channel else None
        if self.mode == "parallel":
            inter["x_c"] = gate_c * x  # PSCM
            out = x + inter["x_c"] + self._spatial(x, inter["kernels"], inter)  # Eq. 14
        elif self.mode == "pscm":
            inter["x_c"] = gate_c * x
            out = x + inter["x_c"]
        elif self.mode == "pssm":
            out = self._spatial(x, inter["kernels"], inter)
        elif self.mode == "pssm_pscm":
            u = self._spatial(x, inter["kernels"], inter)
            inter["x_c"] = gate_c * u
            out = u + inter["x_c"]
        else:  # 'pscm_pssm'
            inter["x_c"] = gate_c * x
            out = self._spatial(x + inter["x_c"], inter["kernels"], inter)
        inter["out"] = out
        return inter if return_intermediates else out
