"""Tab. 9: Libra R-CNN R50-FPN with AuxDet: the FPN replaced by AuxFPN (same FPN arguments, all outputs),
M2DM + LEEM on the two shallowest laterals, metadata handed to the neck by ``MetaTwoStageDetector``.
"""

_base_ = ['./tab9_libra_rcnn_baseline.py']

model = dict(
    type='MetaTwoStageDetector',
    neck=[
        dict(
            type='AuxFPN',
            in_channels=[256, 512, 1024, 2048],
            out_channels=256,
            num_outs=5,
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
        dict(type='BFP', in_channels=256, num_levels=5, refine_level=2, refine_type='non_local'),
    ],
)

paper_row = dict(table=9, row='Libra R-CNN w/ AuxDet')
