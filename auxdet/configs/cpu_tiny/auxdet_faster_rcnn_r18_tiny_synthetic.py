"""CPU-tiny AuxDet on Faster R-CNN: the CPU-tiny Faster R-CNN baseline + the metadata-aware AuxFPN
(M2DM + detail compensation and LEEM on the two shallowest laterals, all metadata), as Tab. 9 plugs
AuxDet into Faster R-CNN."""

_base_ = ['./faster_rcnn_r18_tiny_synthetic.py']

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
