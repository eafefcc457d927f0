"""The paper's baseline: mmdet Cascade-RPN + Fast R-CNN head, ResNet-50 FPN, one class ("Target").

Settings of the official AuxDet config (see notes/official.md): ResNet-50 (frozen_stages=1, norm_eval,
ImageNet init), an FPN over the 4 ResNet levels returning only strides (4, 8), a 2-stage Cascade RPN
(anchor scale 8, ratio 1) and a Fast R-CNN (Shared2FC) head — as mmdet's
``cascade_rpn/cascade-rpn_faster-rcnn_r50-caffe_fpn_1x_coco.py`` but trained end to end, pytorch-style
ResNet, strides (4, 8) and one class.

The neck is ``AuxFPN`` with no module: mmdet's ``FPN`` (same outputs) plus the selection of its first
two outputs (``out_indices=(0, 1)``), which a plain FPN cannot do — and without the output convs of
the two levels it never returns. Parameters: 40.756 M here; 41.936 M with mmdet's plain 4-output FPN
(those two convs, 1.180 M, never receive a gradient); the paper reports 42.527 M (= 41.936 M + one
more 3×3 256→256 conv, 0.590 M).
"""

_base_ = ['mmdet::_base_/models/faster-rcnn_r50_fpn.py']

strides = [4, 8]  # the two FPN levels used by the RPN and the RoI head
rpn_weight = 0.7  # all RPN losses × 0.7

model = dict(
    type='TwoStageDetector',
    backbone=dict(
        depth=50,
        frozen_stages=1,
        norm_eval=True,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50'),
    ),
    neck=dict(
        _delete_=True,
        type='AuxFPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        num_outs=4,
        out_indices=(0, 1),
        m2dm_levels=(),
        leem_levels=(),
    ),
    rpn_head=dict(
        _delete_=True,
        type='CascadeRPNHead',
        num_stages=2,
        stages=[
            dict(
                type='StageCascadeRPNHead',
                in_channels=256,
                feat_channels=256,
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
                in_channels=256,
                feat_channels=256,
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
        bbox_roi_extractor=dict(featmap_strides=strides),
        bbox_head=dict(
            num_classes=1,
            bbox_coder=dict(target_stds=[0.04, 0.04, 0.08, 0.08]),
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.5),
            loss_bbox=dict(_delete_=True, type='SmoothL1Loss', beta=1.0, loss_weight=1.0),
        ),
    ),
    train_cfg=dict(
        rpn=[
            dict(
                assigner=dict(type='RegionAssigner', center_ratio=0.2, ignore_ratio=0.5),
                allowed_border=-1,
                pos_weight=-1,
                debug=False,
            ),
            dict(
                assigner=dict(
                    type='MaxIoUAssigner',
                    pos_iou_thr=0.7,
                    neg_iou_thr=0.7,
                    min_pos_iou=0.3,
                    ignore_iof_thr=-1,
                ),
                sampler=dict(
                    type='RandomSampler', num=256, pos_fraction=0.5, neg_pos_ub=-1, add_gt_as_proposals=False
                ),
                allowed_border=-1,
                pos_weight=-1,
                debug=False,
            ),
        ],
        rpn_proposal=dict(
            nms_pre=2000, max_per_img=300, nms=dict(type='nms', iou_threshold=0.8), min_bbox_size=0
        ),
        rcnn=dict(
            assigner=dict(pos_iou_thr=0.65, neg_iou_thr=0.65, min_pos_iou=0.65),
            sampler=dict(type='RandomSampler', num=256),
        ),
    ),
    test_cfg=dict(
        rpn=dict(nms_pre=1000, max_per_img=300, nms=dict(type='nms', iou_threshold=0.8), min_bbox_size=0),
        rcnn=dict(score_thr=1e-3),
    ),
)
