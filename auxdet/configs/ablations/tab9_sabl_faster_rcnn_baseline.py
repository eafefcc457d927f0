"""Tab. 9: SABL (Faster R-CNN variant) R50-FPN without AuxDet (mmdet's detector, one class), on the paper's
data and schedule.
"""

_base_ = [
    '../_base_/models/tab9/sabl_faster_rcnn_r50_fpn.py',
    '../_base_/datasets/wideirstd_voc_meta.py',
    '../_base_/schedules/sgd_12e.py',
    '../_base_/default_runtime.py',
]

paper_row = None  # not in the paper
