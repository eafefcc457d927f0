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

``m2dm_levels=()`` and ``leem_levels=()`` give exactly mmdet's ``FPN`` (same outputs), plus
``out_indices`` selection. **No parameter without a gradient**: when ``out_indices`` selects only
backbone levels (the paper's ``(0, 1)``), the output convs of the other levels are not built (mmdet's
FPN and the official AuxFPN build all four and return two: 1.18 M parameters at C = 256 that never
receive a gradient, force ``find_unused_parameters=True`` under DDP and inflate every parameter count;
:func:`dead_fpn_conv_params` gives that number for the "official counting" column of parameter tables).

Readings of what the paper leaves open (each a switch; defaults follow the official code, see
:mod:`auxdet.models.modulation`, :mod:`auxdet.models.compensation`, :mod:`auxdet.models.edge`):
``pscm_form`` (``'residual'``: ``x^c = x + σ(cm)⊙x`` | ``'gate'``: ``σ(cm)⊙x``), ``dmlp_out_norm``
(LayerNorms on the dynamic MLP's output path), ``sm_bound`` (``'sigmoid'`` | ``'none'``),
``shared_aux`` (one ``F_e``/``Ψ_aux`` for all levels, as the paper's unindexed symbols and the official
code | one per level), ``leem_scale`` (``'channel'``: Eq. 18's ``γ ∈ R^C`` | ``'aux_gate'``: the
official per-sample gate from ``a_i``).

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
from auxdet.models.compensation import AUX_MODES, AuxiliaryFusion, DetailCompensation
from auxdet.models.edge import LEEM, LEEM_MODES, LEEM_SCALES, LEEMGate
from auxdet.models.metadata_encoder import FIELDS, MetadataEncoder
from auxdet.models.modulation import M2DM, M2DM_MODES, PSCM_FORMS, SM_BOUNDS

__all__ = ["AuxFPN", "dead_fpn_conv_params"]

_METADATA_KEYS = ("fields", "vocabulary", "sigma", "num_blocks", "withheld")


def dead_fpn_conv_params(out_channels: int, num_levels: int, out_indices: Sequence[int], bias: bool = True) -> int:
    """Parameters of the 3×3 output convs that a 4-level FPN returning only ``out_indices`` builds but
    never uses (the official AuxDet and mmdet's FPN; 2 × 0.590 M at C = 256, levels (0, 1) of 4)."""
    unused = num_levels - len(set(out_indices))
    return unused * (9 * out_channels * out_channels + (out_channels if bias else 0))


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
            num_blocks=1, withheld=False)``; ``fields`` any subset (Tab. 6); ``()`` = no metadata (and no
            encoder); ``withheld=True`` = same encoder fed a constant (the parameter-matched control).
        aux_mode: ``'meta'`` | ``'meta_semantic'`` | ``'full'`` (Tab. 2).
        m2dm_mode: ``'pssm'`` | ``'pscm'`` | ``'pssm_pscm'`` | ``'pscm_pssm'`` | ``'parallel'`` (Tab. 3).
        leem_mode: ``'separable'`` | ``'conv3x3'`` (Tab. 4).
        pscm_form, dmlp_out_norm, sm_bound, shared_aux, leem_scale: the readings listed in the module
            docstring (defaults: the official design).
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
        pscm_form: str = "residual",
        dmlp_out_norm: bool = True,
        sm_bound: str = "sigmoid",
        shared_aux: bool = True,
        leem_scale: str = "channel",
        **fpn_kwargs: Any,
    ) -> None:
        super().__init__(list(in_channels), out_channels, num_outs, **fpn_kwargs)
        num_levels = len(self.lateral_convs)
        self.m2dm_levels = _levels("m2dm_levels", m2dm_levels, num_levels)
        self.leem_levels = _levels("leem_levels", leem_levels, num_levels)
        self.aux_mode = _choice("aux_mode", aux_mode, AUX_MODES)
        self.m2dm_mode = _choice("m2dm_mode", m2dm_mode, M2DM_MODES)
        self.leem_mode = _choice("leem_mode", leem_mode, LEEM_MODES)
        self.leem_scale = _choice("leem_scale", leem_scale, LEEM_SCALES)
        _choice("pscm_form", pscm_form, PSCM_FORMS)
        _choice("sm_bound", sm_bound, SM_BOUNDS)
        if self.leem_scale == "aux_gate" and not set(self.leem_levels) <= set(self.m2dm_levels):
            raise ValueError("AuxFPN: leem_scale='aux_gate' gates LEEM with the level's auxiliary vector, so every "
                             f"LEEM level must be an M2DM level; got leem_levels={list(self.leem_levels)}, "
                             f"m2dm_levels={list(self.m2dm_levels)}")
        if out_indices is not None:
            out_indices = tuple(out_indices)
            if not out_indices or any(not 0 <= i < num_outs for i in out_indices):
                raise ValueError(f"AuxFPN: out_indices={list(out_indices)} invalid; valid: {list(range(num_outs))}")
        self.out_indices = out_indices
        if out_indices is not None and max(out_indices) < num_levels:
            # only backbone-level outputs are returned: drop the output convs nobody uses (no dead parameters)
            for i in range(len(self.fpn_convs)):
                if i not in out_indices:
                    self.fpn_convs[i] = nn.Identity()
        meta_cfg = dict(fields=FIELDS, vocabulary=None, sigma=OFFICIAL_SIGMA, num_blocks=1, withheld=False)
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
                withheld=meta_cfg["withheld"],
            )
            meta_dim = self.metadata_encoder.out_dim
            if self.aux_mode == "full":  # Eq. 5: one strided conv per level (the stride depends on it)
                self.compensation = _LevelModules(
                    {str(i): DetailCompensation(out_channels, 2 ** (num_levels - 1 - i)) for i in self.m2dm_levels}
                )

            def fusion() -> AuxiliaryFusion:  # Eq. 6–7
                return AuxiliaryFusion(out_channels, meta_dim, aux_dim, self.aux_mode, dropout)

            self.shared_aux = bool(shared_aux)
            self.aux_fusion: nn.Module = (
                fusion() if self.shared_aux else _LevelModules({str(i): fusion() for i in self.m2dm_levels})
            )
            self.m2dm = _LevelModules(
                {
                    str(i): M2DM(out_channels, aux_dim, m2dm_mode, dyn_hidden, pscm_form=pscm_form,
                                 out_norm=dmlp_out_norm, sm_bound=sm_bound)
                    for i in self.m2dm_levels
                }
            )
            if self.leem_scale == "aux_gate":
                self.leem_gate = LEEMGate(aux_dim)  # one gate MLP for all levels, as the official code
        if self.leem_levels:
            self.leem = _LevelModules(
                {
                    str(i): LEEM(out_channels, leem_mode, gamma_init=leem_gamma_init, scale=self.leem_scale)
                    for i in self.leem_levels
                }
            )

    def _visual(self, level: int, lateral: Tensor, deepest: Tensor) -> Tensor | None:
        """The visual input of Eq. 6 (Tab. 2): ``Δx`` (Eq. 5, 'full'), ``x_4`` ('meta_semantic') or none ('meta')."""
        if self.aux_mode == "full":
            return self.compensation[level](lateral, deepest)
        return deepest if self.aux_mode == "meta_semantic" else None

    def _fusion(self, level: int) -> nn.Module:
        return self.aux_fusion if self.shared_aux else self.aux_fusion[level]

    @property
    def uses_metadata(self) -> bool:
        """Whether forward reads per-image metadata (some M2DM level and a non-empty field set)."""
        return self.metadata_encoder is not None and bool(self.metadata_encoder.fields)

    def encode_metadata(self, data_samples: Any, batch_size: int, device: torch.device) -> Tensor:
        """``z`` ``[B, aux_dim]`` (Eq. 1–4) from the data samples (or a :class:`MetaBatch`).

        The metadata is gathered and validated on the host, then moved to ``device`` (pinned, non-blocking
        on CUDA): the forward pass never synchronises the host with the device for it.
        """
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
        if meta.platform.device.type == "cpu":
            self.metadata_encoder.check(meta)
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

        auxes: dict[int, Tensor] = {}
        if self.m2dm_levels:
            x0 = laterals[0]
            z = self.encode_metadata(data_samples, x0.shape[0], x0.device)
            deepest = laterals[-1]
            modulated = list(laterals)
            for i in self.m2dm_levels:
                visual = self._visual(i, laterals[i], deepest)
                if record is None:
                    auxes[i] = self._fusion(i)(visual, z)  # Eq. 6–7
                    modulated[i] = self.m2dm[i](laterals[i], auxes[i])  # Eq. 8–14
                else:
                    comp = record["compensation"][i] = self._fusion(i)(visual, z, True)
                    if visual is not None:
                        comp["delta"] = visual
                    auxes[i] = comp["aux"]
                    mod = record["m2dm"][i] = self.m2dm[i](laterals[i], auxes[i], True)
                    modulated[i] = mod["out"]
            laterals = modulated
            if record is not None:
                record["z"] = z
        for i in self.leem_levels:  # Eq. 15–18
            gate = self.leem_gate(auxes[i]) if self.leem_scale == "aux_gate" else None
            if record is None:
                laterals[i] = self.leem[i](laterals[i], gate=gate)
            else:
                record["leem"][i] = self.leem[i](laterals[i], True, gate=gate)
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
