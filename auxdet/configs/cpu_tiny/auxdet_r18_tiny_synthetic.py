"""CPU-tiny AuxDet: the CPU-tiny baseline + the metadata-aware AuxFPN, switched as the paper's AuxDet."""

_base_ = ['./cascade_rpn_r18_tiny_synthetic.py']

model = dict(
    type='MetaTwoStageDetector',
    neck=dict(
        type='AuxFPN',
        m2dm_levels=(0, 1),
        leem_levels=(0, 1),
        metadata=dict(fields=('platform', 'band', 'resolution'), vocabulary=None, sigma=2048.0),
        aux_mode='full',
        m2dm_mode='parallel',
        leem_mode='separable',
        aux_dim=128,
        embed_dim=32,
        dropout=0.5,
    ),
)
