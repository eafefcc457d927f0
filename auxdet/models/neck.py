"""AuxFPN — mmdet's FPN with AuxDet's metadata-driven modules on its laterals (paper §3, Fig. 2).

For every lateral index ``i`` in ``m2dm_levels`` the lateral ``x_i`` (``C = out_channels`` channels,
after the 1×1 lateral conv, before the top-down fusion) is replaced by ``M2DM(x_i, a_i)`` (Eq. 8–14)
with ``a_i = DetailCompensation_i(x_i, x_deepest, z)`` (Eq. 5–7) and ``z = MetadataEncoder(meta)``
(Eq. 1–4, computed once per batch and shared by the levels). Then every lateral in ``leem_levels``
goes through ``LEEM`` (Eq. 15–18). The top-down path and output convs are mmdet's FPN unchanged;
``out_indices`` selects the returned outputs (the paper's detector uses strides 4 and 8: ``(0, 1)``).

Level indices count laterals from the shallowest (0 = stride 4 for a ResNet with ``start_level=0``);
the paper's "depth d" (Tab. 7) is ``levels = tuple(range(d))``. The compensation stride of level ``i``
is ``2 ** (L-1-i)`` (``L`` laterals), i.e. the FPN's factor-2 level spacing.

``m2dm_levels=()`` and ``leem_levels=()`` give exactly mmdet's ``FPN`` (same parameters, same
outputs), plus ``out_indices`` selection.

Metadata comes from the ``DetDataSample.metainfo`` of each image (``platform``, ``band``,
``width``, ``height``) via :func:`auxdet.metadata.metas_from_data_samples`; a ready
:class:`~auxdet.metadata.MetaBatch` is accepted too. Missing metadata raises
:class:`~auxdet.metadata.MetadataError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from mmdet.models.necks import FPN
from mmdet.registry import MODELS
from torch import Tensor, nn

from auxdet.metadata import OFFICIAL_SIGMA, MetaBatch, MetadataError, metas_from_data_samples
from auxdet.models.compensation import AUX_MODES, DetailCompensation
from auxdet.models.edge import LEEM, LEEM_MODES
from auxdet.models.metadata_encoder import FIELDS, MetadataEncoder
from auxdet.models.modulation import M2DM, M2DM_MODES

__all__ = ["AuxFPN"]

_METADATA_KEYS = ("fields", "vocabulary", "sigma", "num_blocks")


class _LevelModules(nn.ModuleDict):
    """Per-level modules keyed by level index; forwards mmengine's ``init_weights`` to them.

    mmdet's FPN Xavier-initialises *every* ``Conv2d`` below it; mmengine then calls ``init_weights``
    of the direct children that have one, which restores LEEM's Eq. 16 kernels and the default init
    of the compensation conv (and still runs before any ``Pretrained`` init_cfg).
    """

    def init_weights(self) -> None:
        for m in self.values():
            if hasattr(m, "init_weights"):
                m.init_weights()

    def __getitem__(self, level: int | str) -> nn.Module:  # type: ignore[override]
        return super().__getitem__(str(level))


def _levels(name: str, levels: Sequence[int], num_levels: int) -> tuple[int, ...]:
    levels = tuple(levels)
    bad = [lv for lv in levels if not isinstance(lv, int) or isinstance(lv, bool) or not 0 <= lv < num_levels]
    if bad or len(set(levels)) != len(levels):
        raise ValueError(
            f"AuxFPN: {name}={list(levels)} invalid; valid: distinct lateral indices in {list(range(num_levels))}"
        )
    return tuple(sorted(levels))


def _choice(name: str, value: str, valid: Sequence[str]) -> str:
    if value not in valid:
        raise ValueError(f"AuxFPN: unknown {name} {value!r}; valid: {list(valid)}")
    return value


@MODELS.register_module()
class AuxFPN(FPN):
    """FPN with M2DM + detail compensation + LEEM on selected laterals (AuxDet's neck).

    Args:
        in_channels, out_channels, num_outs: as mmdet ``FPN``.
        out_indices: outputs to return (``None`` = all ``num_outs``); the paper uses ``(0, 1)``.
        m2dm_levels: laterals modulated by M2DM (paper: ``(0, 1)``).
        leem_levels: laterals refined by LEEM (paper: ``(0, 1)``).
        metadata: ``dict(fields=('platform','band','resolution'), vocabulary=None, sigma=2048.0,
            num_blocks=1)``; ``fields`` any subset (Tab. 6); ``()`` = no metadata.
        aux_mode: ``'meta'`` | ``'meta_semantic'`` | ``'full'`` (Tab. 2).
        m2dm_mode: ``'pssm'`` | ``'pscm'`` | ``'pssm_pscm'`` | ``'pscm_pssm'`` | ``'parallel'`` (Tab. 3).
        leem_mode: ``'separable'`` | ``'conv3x3'`` (Tab. 4).
        aux_dim: width of ``z`` and of the auxiliary vectors ``a_i``.
        embed_dim: width of each metadata field projection.
        dropout: dropout of the residual MLP blocks.
        dyn_hidden: inner width of M2DM's dynamic MLP.
        leem_gamma_init: initial ``γ`` of LEEM.
        **fpn_kwargs: any other mmdet ``FPN`` argument (start_level, add_extra_convs, norm_cfg, ...).
    """

    needs_data_samples = True

    def __init__(
        self,
        in_channels: list[int],
        out_channels: int,
        num_outs: int,
        *,
        out_indices: Sequence[int] | None = None,
        m2dm_levels: Sequence[int] = (0, 1),
        leem_levels: Sequence[int] = (0, 1),
        metadata: Mapping[str, Any] | None = None,
        aux_mode: str = "full",
        m2dm_mode: str = "parallel",
        leem_mode: str = "separable",
        aux_dim: int = 128,
        embed_dim: int = 32,
        dropout: float = 0.5,
        dyn_hidden: int = 32,
        leem_gamma_init: float = 0.1,
        **fpn_kwargs: Any,
    ) -> None:
        super().__init__(list(in_channels), out_channels, num_outs, **fpn_kwargs)
        num_levels = len(self.lateral_convs)
        self.m2dm_levels = _levels("m2dm_levels", m2dm_levels, num_levels)
        self.leem_levels = _levels("leem_levels", leem_levels, num_levels)
        self.aux_mode = _choice("aux_mode", aux_mode, AUX_MODES)
        self.m2dm_mode = _choice("m2dm_mode", m2dm_mode, M2DM_MODES)
        self.leem_mode = _choice("leem_mode", leem_mode, LEEM_MODES)
        if out_indices is not None:
            out_indices = tuple(out_indices)
            if not out_indices or any(not 0 <= i < num_outs for i in out_indices):
                raise ValueError(f"AuxFPN: out_indices={list(out_indices)} invalid; valid: {list(range(num_outs))}")
        self.out_indices = out_indices
        meta_cfg = dict(fields=FIELDS, vocabulary=None, sigma=OFFICIAL_SIGMA, num_blocks=1)
        unknown = set(metadata or {}) - set(_METADATA_KEYS)
        if unknown:
            raise ValueError(f"AuxFPN: unknown metadata keys {sorted(unknown)}; valid: {list(_METADATA_KEYS)}")
        meta_cfg.update(metadata or {})

        self.metadata_encoder: MetadataEncoder | None = None
        if self.m2dm_levels:
            self.metadata_encoder = MetadataEncoder(
                vocabulary=meta_cfg["vocabulary"],
                fields=meta_cfg["fields"],
                embed_dim=embed_dim,
                out_dim=aux_dim,
                sigma=meta_cfg["sigma"],
                dropout=dropout,
                num_blocks=meta_cfg["num_blocks"],
            )
            meta_dim = self.metadata_encoder.out_dim
            self.compensation = _LevelModules(
                {
                    str(i): DetailCompensation(
                        out_channels, 2 ** (num_levels - 1 - i), meta_dim, aux_dim, aux_mode, dropout
                    )
                    for i in self.m2dm_levels
                }
            )
            self.m2dm = _LevelModules(
                {str(i): M2DM(out_channels, aux_dim, m2dm_mode, dyn_hidden) for i in self.m2dm_levels}
            )
        if self.leem_levels:
            self.leem = _LevelModules(
                {str(i): LEEM(out_channels, leem_mode, gamma_init=leem_gamma_init) for i in self.leem_levels}
            )

    @property
    def uses_metadata(self) -> bool:
        """Whether forward reads per-image metadata (some M2DM level and a non-empty field set)."""
        return self.metadata_encoder is not None and bool(self.metadata_encoder.fields)

    def encode_metadata(self, data_samples: Any, batch_size: int, device: torch.device) -> Tensor:
        """``z`` ``[B, aux_dim]`` (Eq. 1–4) from the data samples (or a :class:`MetaBatch`)."""
        assert self.metadata_encoder is not None
        if not self.uses_metadata:
            return torch.zeros(batch_size, 0, device=device)
        if data_samples is None:
            raise MetadataError(
                "AuxFPN needs per-image metadata: pass data_samples whose metainfo carries 'platform', "
                "'band', 'width', 'height' (PackDetInputs meta_keys must include them), or a MetaBatch"
            )
        meta = (
            data_samples
            if isinstance(data_samples, MetaBatch)
            else metas_from_data_samples(data_samples, self.metadata_encoder.vocab)
        )
        if len(meta) != batch_size:
            raise MetadataError(f"AuxFPN: metadata for {len(meta)} images but the feature batch has {batch_size}")
        return self.metadata_encoder(meta.to(device))

    def forward(self, inputs: Sequence[Tensor], data_samples: Any = None) -> tuple[Tensor, ...]:
        """FPN forward with the AuxDet modules on the laterals. Returns the ``out_indices`` outputs."""
        return self._forward(inputs, data_samples, None)

    def forward_with_intermediates(
        self, inputs: Sequence[Tensor], data_samples: Any = None
    ) -> tuple[tuple[Tensor, ...], dict[str, Any]]:
        """Like :meth:`forward`, also returning a dict for teaching / visualisation: ``z``,
        ``laterals`` (before the modules), ``compensation[i]``, ``m2dm[i]``, ``leem[i]`` (each module's
        intermediates dict) and ``fused_laterals`` (after the top-down path)."""
        record: dict[str, Any] = {"compensation": {}, "m2dm": {}, "leem": {}}
        outs = self._forward(inputs, data_samples, record)
        return outs, record

    def _forward(self, inputs: Sequence[Tensor], data_samples: Any, record: dict[str, Any] | None) -> tuple:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f"AuxFPN: got {len(inputs)} feature maps, expected {len(self.in_channels)}")
        laterals = [conv(inputs[i + self.start_level]) for i, conv in enumerate(self.lateral_convs)]
        if record is not None:
            record["laterals"] = list(laterals)

        if self.m2dm_levels:
            x0 = laterals[0]
            z = self.encode_metadata(data_samples, x0.shape[0], x0.device)
            deepest = laterals[-1]
            modulated = list(laterals)
            for i in self.m2dm_levels:
                if record is None:
                    aux = self.compensation[i](laterals[i], deepest, z)
                    modulated[i] = self.m2dm[i](laterals[i], aux)
                else:
                    comp = record["compensation"][i] = self.compensation[i](laterals[i], deepest, z, True)
                    mod = record["m2dm"][i] = self.m2dm[i](laterals[i], comp["aux"], True)
                    modulated[i] = mod["out"]
            laterals = modulated
            if record is not None:
                record["z"] = z
        for i in self.leem_levels:
            if record is None:
                laterals[i] = self.leem[i](laterals[i])
            else:
                record["leem"][i] = self.leem[i](laterals[i], True)
                laterals[i] = record["leem"][i]["out"]

        # top-down path: mmdet FPN.forward verbatim in behaviour
        used = len(laterals)
        for i in range(used - 1, 0, -1):
            if "scale_factor" in self.upsample_cfg:
                laterals[i - 1] = laterals[i - 1] + F.interpolate(laterals[i], **self.upsample_cfg)
            else:
                laterals[i - 1] = laterals[i - 1] + F.interpolate(
                    laterals[i], size=laterals[i - 1].shape[2:], **self.upsample_cfg
                )
        if record is not None:
            record["fused_laterals"] = list(laterals)

        if self.out_indices is not None and max(self.out_indices) < used:
            # only the selected backbone-level outputs are needed: skip the other output convs
            return tuple(self.fpn_convs[i](laterals[i]) for i in self.out_indices)
        outs = [self.fpn_convs[i](laterals[i]) for i in range(used)]
        if self.num_outs > len(outs):
            if not self.add_extra_convs:
                for _ in range(self.num_outs - used):
                    outs.append(F.max_pool2d(outs[-1], 1, stride=2))
            else:
                if self.add_extra_convs == "on_input":
                    extra_source = inputs[self.backbone_end_level - 1]
                elif self.add_extra_convs == "on_lateral":
                    extra_source = laterals[-1]
                else:  # 'on_output'
                    extra_source = outs[-1]
                outs.append(self.fpn_convs[used](extra_source))
                for i in range(used + 1, self.num_outs):
                    src = F.relu(outs[-1]) if self.relu_before_extra_convs else outs[-1]
                    outs.append(self.fpn_convs[i](src))
        if self.out_indices is None:
            return tuple(outs)
        return tuple(outs[i] for i in self.out_indices)
