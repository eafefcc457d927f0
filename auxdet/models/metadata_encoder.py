"""Heterogeneous metadata encoding, paper §3.2 Eq. 1–4.

``z = Ψ_z(⊕[F_r(z_r), F_p(z_p), F_b(z_b)])`` where ``z_p``/``z_b`` are the one-hot platform / band
(Eq. 1–2, :func:`auxdet.metadata.one_hot`) and ``z_r`` is the periodic resolution embedding (Eq. 3,
:func:`auxdet.metadata.resolution_embedding`).

Design choices (the paper leaves them open; the official code's choices noted where we differ):

* Each field projection ``F_k`` is ``Linear → ReLU → LayerNorm`` to ``embed_dim`` (official:
  ``Linear → ReLU → BatchNorm1d``). **No BatchNorm over the batch**: the modulation is per sample,
  so one image's code must not depend on the other images of its batch, and a batch of one must
  train (BatchNorm1d raises on it in train mode).
* ``Ψ_z`` = ``Linear(n·embed_dim → out_dim) → ReLU`` followed by ``num_blocks`` residual MLP
  blocks (:class:`ResidualMLPBlock`, with dropout).
* ``fields`` selects any subset of ``('platform', 'band', 'resolution')`` (paper Tab. 6). Only the
  selected projections are built. ``fields=()`` means *no metadata at all*: the encoder has no
  parameters and returns a ``[B, 0]`` tensor, so the auxiliary vector ``a_i`` of Eq. 7 is computed
  from the visual (compensation) branch alone.
* ``withheld=True`` keeps every parameter but feeds the encoder a constant input (all field inputs
  zero) whatever the image's metadata: ``z`` becomes a learned constant. This is the no-metadata
  *control* of the same architecture and parameter count (the "auxdet-nometa" arm of the study).
* GPU readiness: indices are validated on the host before the batch is moved to the device (no
  host–device synchronisation in the forward pass), and the encodings take the dtype of the
  encoder's parameters (a ``.half()`` / ``.bfloat16()`` model runs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from auxdet.metadata import (
    OFFICIAL_SIGMA,
    MetaBatch,
    MetadataError,
    Vocabulary,
    one_hot,
    resolution_embedding,
)

__all__ = ["FIELDS", "MetadataEncoder", "ResidualMLPBlock", "normalise_fields"]

FIELDS: tuple[str, ...] = ("platform", "band", "resolution")
RESOLUTION_DIM = 6  # Eq. 3: sin and cos of (w/σ_w, h/σ_h, w/h)


def normalise_fields(fields: Sequence[str] | str | None) -> tuple[str, ...]:
    """Validate a metadata-field subset (Tab. 6) and return it in canonical order.

    Raises:
        MetadataError: an unknown or repeated field name.
    """
    if fields is None:
        return ()
    if isinstance(fields, str):
        fields = (fields,)
    fields = tuple(fields)
    bad = [f for f in fields if f not in FIELDS]
    if bad:
        raise MetadataError(f"unknown metadata field(s) {bad} in 'fields'; valid: {list(FIELDS)} (any subset)")
    if len(set(fields)) != len(fields):
        raise MetadataError(f"repeated metadata field in 'fields': {list(fields)}")
    return tuple(f for f in FIELDS if f in fields)


class ResidualMLPBlock(nn.Module):
    """Residual fully-connected block used by Ψ_z (Eq. 4) and Ψ_aux (Eq. 7).

    ``y = x + ReLU(W₂ · Dropout(ReLU(LN(W₁ x))))`` — the residual FC layer of Dynamic-MLP / FCNet with
    a LayerNorm (per sample) after the first linear map instead of any batch statistics.
    """

    def __init__(self, dim: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(dim, dim)
        self.act = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return x + self.act(self.fc2(self.dropout(self.act(self.norm(self.fc1(x))))))


def _field_projection(in_dim: int, embed_dim: int) -> nn.Sequential:
    """``F_k`` of Eq. 1, 2 and 4: Linear → ReLU → LayerNorm (per-sample; no BatchNorm)."""
    return nn.Sequential(nn.Linear(in_dim, embed_dim), nn.ReLU(), nn.LayerNorm(embed_dim))


class MetadataEncoder(nn.Module):
    """Metadata encoder of Eq. 1–4: ``MetaBatch`` → ``z`` ``[B, out_dim]``.

    Args:
        vocabulary: a :class:`~auxdet.metadata.Vocabulary`, its config dict, or ``None`` (default
            platforms Air/Space/Land, bands LWIR/NIR/SWIR). Sets the one-hot sizes.
        fields: subset of ``('platform', 'band', 'resolution')`` (Tab. 6); ``()`` = no metadata.
        embed_dim: width of each field projection ``F_k``.
        out_dim: width of ``z``.
        sigma: ``σ_w = σ_h`` of Eq. 3 (official 2048), or a pair ``(σ_w, σ_h)``.
        dropout: dropout probability inside the residual blocks of Ψ_z.
        num_blocks: residual blocks in Ψ_z.
        withheld: feed a constant instead of the metadata (same parameters; the no-metadata control).
    """

    def __init__(
        self,
        vocabulary: Vocabulary | Mapping[str, Any] | None = None,
        fields: Sequence[str] = FIELDS,
        embed_dim: int = 32,
        out_dim: int = 128,
        sigma: float | Sequence[float] = OFFICIAL_SIGMA,
        dropout: float = 0.5,
        num_blocks: int = 1,
        withheld: bool = False,
    ) -> None:
        super().__init__()
        self.withheld = bool(withheld)
        self.vocab = Vocabulary.from_config(vocabulary)
        self.fields = normalise_fields(fields)
        if isinstance(sigma, int | float):
            sigma = (float(sigma), float(sigma))
        self.sigma_w, self.sigma_h = (float(s) for s in sigma)
        if self.sigma_w <= 0 or self.sigma_h <= 0:
            raise ValueError(f"MetadataEncoder: sigma must be positive, got {sigma!r}")
        in_dims = {"platform": self.vocab.num_platforms, "band": self.vocab.num_bands, "resolution": RESOLUTION_DIM}
        self.projections = nn.ModuleDict({f: _field_projection(in_dims[f], embed_dim) for f in self.fields})
        self.out_dim = out_dim if self.fields else 0
        if self.fields:
            self.fuse = nn.Sequential(
                nn.Linear(embed_dim * len(self.fields), out_dim),
                nn.ReLU(),
                *[ResidualMLPBlock(out_dim, dropout) for _ in range(num_blocks)],
            )
        else:
            self.fuse = None

    def field_inputs(self, meta: MetaBatch) -> dict[str, Tensor]:
        """The raw per-field inputs: one-hot platform/band (Eq. 1–2) and ``z_r`` (Eq. 3), in the
        encoder's dtype (all zeros when the metadata is withheld)."""
        dtype = self._dtype()
        out: dict[str, Tensor] = {}
        if "platform" in self.fields:
            out["platform"] = one_hot(meta.platform, self.vocab.num_platforms)
        if "band" in self.fields:
            out["band"] = one_hot(meta.band, self.vocab.num_bands)
        if "resolution" in self.fields:
            out["resolution"] = resolution_embedding(meta.width, meta.height, self.sigma_w, self.sigma_h)
        return {k: (torch.zeros_like(v) if self.withheld else v).to(dtype) for k, v in out.items()}

    def forward(self, meta: MetaBatch) -> Tensor:
        """Encode a batch of metadata (Eq. 4). Returns ``[B, out_dim]`` (``[B, 0]`` when ``fields=()``).

        A batch on the host is validated first (:meth:`check`), then moved to the encoder's device; a
        batch already on an accelerator is trusted (validate before moving it: checking there would
        synchronise the host with the device).
        """
        if not isinstance(meta, MetaBatch):
            raise MetadataError(f"MetadataEncoder expects a MetaBatch, got {type(meta).__name__}")
        if meta.platform.device.type == "cpu":
            self.check(meta)
        device = self._device(meta)
        if self.fuse is None:
            return torch.zeros(len(meta), 0, device=device, dtype=self._dtype())
        inputs = self.field_inputs(meta.to(device))
        parts = [self.projections[f](inputs[f]) for f in self.fields]
        return self.fuse(torch.cat(parts, dim=-1))

    def _device(self, meta: MetaBatch) -> torch.device:
        p = next(self.parameters(), None)
        return p.device if p is not None else meta.platform.device

    def _dtype(self) -> torch.dtype:
        p = next(self.parameters(), None)
        return p.dtype if p is not None else torch.get_default_dtype()

    def check(self, meta: MetaBatch) -> None:
        """Reject indices outside the vocabulary (they would one-hot wrongly / raise deep in torch).

        Call it on a host (CPU) batch: on an accelerator it would synchronise."""
        for name, idx, size in (
            ("platform", meta.platform, self.vocab.num_platforms),
            ("band", meta.band, self.vocab.num_bands),
        ):
            if name in self.fields and idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= size):
                raise MetadataError(
                    f"metadata field '{name}' index out of range [0, {size}): got {idx.tolist()}; "
                    f"valid values: {list(self.vocab.values(name))}"
                )
