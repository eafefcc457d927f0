"""Tab. 9 / Tab. 1: mmdet Faster R-CNN R50-FPN (5 levels), one class."""

_base_ = ['mmdet::_base_/models/faster-rcnn_r50_fpn.py']

model = dict(roi_head=dict(bbox_head=dict(num_classes=1)))
