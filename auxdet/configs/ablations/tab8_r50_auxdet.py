"""Tab. 8: ResNet-50 backbone, AuxDet."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(
    backbone=dict(depth=50, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(in_channels=[256, 512, 1024, 2048]),
)

paper_ref = dict(_delete_=True, table='Tab. 8', row='R50 AuxDet', ap50=77.9, recall=87.2)
