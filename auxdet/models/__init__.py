"""AuxDet model components (paper §3).

Pure-torch modules (their files import no mmdet): :class:`MetadataEncoder` (Eq. 1–4), :class:`DetailCompensation`
(Eq. 5) and :class:`AuxiliaryFusion` (Eq. 6–7), :class:`M2DM` (Eq. 8–14), :class:`LEEM` (Eq. 15–18) and their equation functions.

:class:`AuxFPN` (the neck) is imported here, so ``import auxdet.models`` registers it in mmdet's
``MODELS``. The detectors live in :mod:`auxdet.models.detector` (imported by the package root, not here).
"""

from __future__ import annotations

from auxdet.models.compensation import AUX_MODES, AuxiliaryFusion, DetailCompensation, detail_residual
from auxdet.models.edge import (
    LEEM,
    LEEM_MODES,
    LEEM_SCALES,
    LEEMGate,
    laplacian_3x3_kernel,
    lw_instance_norm,
    separable_laplacian_kernels,
)
from auxdet.models.metadata_encoder import FIELDS, MetadataEncoder, ResidualMLPBlock, normalise_fields
from auxdet.models.modulation import (
    M2DM,
    M2DM_MODES,
    PSCM_FORMS,
    SM_BOUNDS,
    DynamicLinear,
    pssm_kernels,
    pssm_pool,
    pssm_response,
)
from auxdet.models.neck import AuxFPN, dead_fpn_conv_params

__all__ = [
    "AUX_MODES",
    "FIELDS",
    "LEEM",
    "LEEM_MODES",
    "LEEM_SCALES",
    "M2DM",
    "M2DM_MODES",
    "PSCM_FORMS",
    "SM_BOUNDS",
    "AuxFPN",
    "AuxiliaryFusion",
    "DetailCompensation",
    "LEEMGate",
    "DynamicLinear",
    "MetadataEncoder",
    "ResidualMLPBlock",
    "dead_fpn_conv_params",
    "detail_residual",
    "laplacian_3x3_kernel",
    "lw_instance_norm",
    "normalise_fields",
    "pssm_kernels",
    "pssm_pool",
    "pssm_response",
    "separable_laplacian_kernels",
]

