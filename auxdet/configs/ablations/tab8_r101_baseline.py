"""Tab. 8: ResNet-101 backbone, baseline."""

_base_ = ['../cascade_rpn_r50_fpn_1x_wideirstd.py']

model = dict(
    backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')),
    neck=dict(in_channels=[256, 512, 1024, 2048]),
)

paper_row = dict(table=8, row='R101 Baseline')
