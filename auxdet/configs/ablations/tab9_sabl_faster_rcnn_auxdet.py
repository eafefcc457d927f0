"""SABL Faster R-CNN R50-FPN with AuxDet (the paper's SABL is the RetinaNet variant, by its parameters): the
FPN replaced by AuxFPN (same FPN arguments, all outputs), M2DM + LEEM on the two shallowest laterals,
metadata handed to the neck by ``MetaTwoStageDetector``.
"""

_base_ = ['./tab9_sabl_faster_rcnn_baseline.py']

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

paper_ref = dict(
    _delete_=True,
    table='Tab. 9',
    row='SABL (Faster R-CNN variant) w/ AuxDet (not in the paper)',
    ap50=None,
    recall=None,
)
