"""Tab. 1: mmdet RetinaNet R50-FPN (strides 8–128), one class."""

_base_ = ['mmdet::_base_/models/retinanet_r50_fpn.py']

model = dict(bbox_head=dict(num_classes=1))
