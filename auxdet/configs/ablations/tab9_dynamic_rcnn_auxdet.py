"""Tab. 9: Dynamic R-CNN R50-FPN with AuxDet: the FPN replaced by AuxFPN (same FPN arguments, all outputs),
M2DM + LEEM on the two shallowest laterals, metadata handed to the neck by ``MetaTwoStageDetector``.
"""

_base_ = ['./tab9_dynamic_rcnn_baseline.py', '../_base_/models/auxdet_neck.py']

model = dict(
    type='MetaTwoStageDetector',
    neck={{_base_.auxdet_neck}},
)

paper_row = dict(table=9, row='Dynamic R-CNN w/ AuxDet')
