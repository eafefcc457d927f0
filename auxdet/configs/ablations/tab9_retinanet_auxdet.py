"""RetinaNet R50-FPN with AuxDet (not in the paper; Tab. 1 has RetinaNet alone): the FPN replaced by AuxFPN
(same FPN arguments, all outputs), M2DM + LEEM on the two shallowest laterals, metadata handed to the neck
by ``MetaSingleStageDetector``. RetinaNet's FPN starts at ResNet stage 2 (``start_level=1``), so M2DM /
LEEM act on its two shallowest laterals, strides 8 and 16.
"""

_base_ = ['./tab9_retinanet_baseline.py']

model = dict(
    type='MetaSingleStageDetector',
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

paper_ref = dict(
    _delete_=True,
    table='Tab. 1',
    row='RetinaNet w/ AuxDet (not in the paper)',
    ap50=None,
    recall=None,
)
