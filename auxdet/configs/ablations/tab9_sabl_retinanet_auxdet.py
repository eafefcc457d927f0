"""Tab. 9: SABL R50-FPN with AuxDet: the FPN replaced by AuxFPN (same FPN arguments, all outputs), M2DM +
LEEM on the two shallowest laterals, metadata handed to the neck by ``MetaSingleStageDetector``.
RetinaNet's FPN starts at ResNet stage 2 (``start_level=1``), so M2DM / LEEM act on its two shallowest
laterals, strides 8 and 16.
"""

_base_ = ['./tab9_sabl_retinanet_baseline.py', '../_base_/models/auxdet_neck.py']

model = dict(
    type='MetaSingleStageDetector',
    neck={{_base_.auxdet_neck}},
)

paper_row = dict(table=9, row='SABL w/ AuxDet')
