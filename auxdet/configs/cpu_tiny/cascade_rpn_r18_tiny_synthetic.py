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

from auxdet.engine.config import shrink_model_cfg  # after _base_: mmengine reads this file as a plain config

channels = 64
img_scale = (256, 256)

# The paper's model with a ResNet-18 (32 base channels, from scratch) and every 256-channel width →
# `channels`: both Cascade-RPN stages, the FPN and the RoI head; the 1024-wide fully connected layers → 256.
model = shrink_model_cfg(dict(_base_.model, backbone=dict(_base_.model.backbone, depth=18)),
                         channels=channels, base_channels=32, fc_channels=256)

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
