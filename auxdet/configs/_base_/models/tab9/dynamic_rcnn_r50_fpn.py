"""Tab. 9 / Tab. 1: mmdet Dynamic R-CNN R50-FPN (``dynamic_rcnn/dynamic-rcnn_r50_fpn_1x_coco.py``)."""

_base_ = ['./faster_rcnn_r50_fpn.py']

model = dict(
    roi_head=dict(
        type='DynamicRoIHead',
        bbox_head=dict(loss_bbox=dict(_delete_=True, type='SmoothL1Loss', beta=1.0, loss_weight=1.0)),
    ),
    train_cfg=dict(
        rpn_proposal=dict(nms=dict(iou_threshold=0.85)),
        rcnn=dict(
            dynamic_rcnn=dict(
                iou_topk=75, beta_topk=10, update_iter_interval=100, initial_iou=0.4, initial_beta=1.0
            )
        ),
    ),
    test_cfg=dict(rpn=dict(nms=dict(iou_threshold=0.85))),
)
