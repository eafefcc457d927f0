"""Tab. 8: ResNet-18 backbone, AuxDet."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(
    backbone=dict(depth=18, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]),
)

paper_row = dict(table=8, row='R18 AuxDet')
