"""AuxDet (paper Fig. 2): the Cascade-RPN baseline with the metadata-aware ``AuxFPN`` neck.

M2DM (Eq. 8–14, auxiliary vector of Eq. 1–7) and LEEM (Eq. 15–18) act on the lateral features of the
two shallowest FPN levels (the paper's "depth 2", Tab. 7); the detector hands each image's metadata
(platform, band, original width/height) to the neck (``MetaTwoStageDetector``).
"""

_base_ = ['./cascade_rpn_r50_fpn.py']

model = dict(
    type='MetaTwoStageDetector',
    neck=dict(
        type='AuxFPN',
        m2dm_levels=(0, 1),
        leem_levels=(0, 1),
        metadata=dict(fields=('platform', 'band', 'resolution'), vocabulary=None, sigma=2048.0),
        aux_mode='full',  # Tab. 2: 'meta' | 'meta_semantic' | 'full'
        m2dm_mode='parallel',  # Tab. 3: 'pssm' | 'pscm' | 'pssm_pscm' | 'pscm_pssm' | 'parallel'
        leem_mode='separable',  # Tab. 4: 'separable' | 'conv3x3'
        aux_dim=128,
        embed_dim=32,
        dropout=0.5,
    ),
)
