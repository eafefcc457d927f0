"""CPU-tiny baseline: the Cascade-RPN + Fast R-CNN detector shrunk for 2 CPU cores, on synthetic data.

Same structure and switches as the paper's baseline, smaller everywhere: ResNet-18 with 32 base
channels trained from scratch (no frozen stage, BN in training mode, no ImageNet weights), FPN / RPN
64 channels, a 256-wide Fast R-CNN head, 256² inputs (the stride-4 deformable-conv backward of the
Cascade RPN dominates CPU time, so the stride-4 map is kept at 64×64). Used by tests, notebooks and
the 15-minute demo.
"""

_base_ = [
    '../_base_/models/cascade_rpn_r50_fpn.py',
    '../_base_/datasets/synthetic_voc_meta.py',
    '../_base_/schedules/sgd_12e.py',
    '../_base_/default_runtime.py',
]

channels = 64
strides = [4, 8]
rpn_weight = 0.7
img_scale = (256, 256)

model = dict(
    backbone=dict(depth=18, base_channels=32, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=channels),
    rpn_head=dict(
        stages=[
            dict(
                type='StageCascadeRPNHead',
                in_channels=channels,
                feat_channels=channels,
                anchor_generator=dict(type='AnchorGenerator', scales=[8], ratios=[1.0], strides=strides),
                adapt_cfg=dict(type='dilation', dilation=3),
                bridged_feature=True,
                with_cls=False,
                reg_decoded_bbox=True,
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder',
                    target_means=(0.0, 0.0, 0.0, 0.0),
                    target_stds=(0.1, 0.1, 0.5, 0.5),
                ),
                loss_bbox=dict(type='IoULoss', linear=True, loss_weight=10.0 * rpn_weight),
            ),
            dict(
                type='StageCascadeRPNHead',
                in_channels=channels,
                feat_channels=channels,
                adapt_cfg=dict(type='offset'),
                bridged_feature=False,
                with_cls=True,
                reg_decoded_bbox=True,
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder',
                    target_means=(0.0, 0.0, 0.0, 0.0),
                    target_stds=(0.05, 0.05, 0.1, 0.1),
                ),
                loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0 * rpn_weight),
                loss_bbox=dict(type='IoULoss', linear=True, loss_weight=10.0 * rpn_weight),
            ),
        ],
    ),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(in_channels=channels, fc_out_channels=256),
    ),
)

train_pipeline = [
    dict(type='LoadIRImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys={{_base_.meta_keys}}),
]
test_pipeline = [
    dict(type='LoadIRImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(batch_size=4, num_workers=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))

# From scratch on CPU: a larger lr than the paper's (which starts from ImageNet weights), shorter warm-up.
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
default_hooks = dict(logger=dict(interval=10))
env_cfg = dict(mp_cfg=dict(opencv_num_threads=1))
