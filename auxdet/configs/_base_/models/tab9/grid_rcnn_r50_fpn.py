"""Tab. 9 / Tab. 1: mmdet Grid R-CNN R50-FPN with the GN grid head, one class.

As ``grid_rcnn/grid-rcnn_r50_fpn_gn-head_2x_coco.py``, written as the deltas from the Faster R-CNN model.
"""

_base_ = ['./faster_rcnn_r50_fpn.py']

model = dict(
    type='GridRCNN',
    rpn_head=dict(loss_bbox=dict(_delete_=True, type='SmoothL1Loss', beta=1.0 / 9.0, loss_weight=1.0)),
    roi_head=dict(
        type='GridRoIHead',
        bbox_head=dict(
            _delete_=True,
            type='Shared2FCBBoxHead',
            with_reg=False,
            in_channels=256,
            fc_out_channels=1024,
            roi_feat_size=7,
            num_classes=1,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder', target_means=[0.0, 0.0, 0.0, 0.0], target_stds=[0.1, 0.1, 0.2, 0.2]
            ),
            reg_class_agnostic=False,
        ),
        grid_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32],
        ),
        grid_head=dict(
            type='GridHead',
            grid_points=9,
            num_convs=8,
            in_channels=256,
            point_feat_channels=64,
            norm_cfg=dict(type='GN', num_groups=36),
            loss_grid=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=15),
        ),
    ),
    train_cfg=dict(
        rpn=dict(allowed_border=0),
        rpn_proposal=dict(max_per_img=2000),
        rcnn=dict(
            assigner=dict(match_low_quality=True),  # MaxIoUAssigner's default, as in mmdet's Grid config
            pos_radius=1,
            max_num_grid=192,
        ),
    ),
    test_cfg=dict(rcnn=dict(score_thr=0.03, nms=dict(type='nms', iou_threshold=0.3), max_per_img=100)),
)
