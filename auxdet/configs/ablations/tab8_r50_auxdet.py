"""Tab. 8: ResNet-50 backbone, AuxDet."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(
    backbone=dict(depth=50, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(in_channels=[256, 512, 1024, 2048]),
)

paper_row = dict(table=8, row='R50 AuxDet')
