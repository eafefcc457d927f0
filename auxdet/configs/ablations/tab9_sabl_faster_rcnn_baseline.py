"""Tab. 9: SABL (Faster R-CNN variant) R50-FPN without AuxDet (mmdet's detector, one class), on the paper's
data and schedule.
"""

_base_ = [
    '../_base_/models/tab9/sabl_faster_rcnn_r50_fpn.py',
    '../_base_/datasets/wideirstd_voc_meta.py',
    '../_base_/schedules/sgd_12e.py',
    '../_base_/default_runtime.py',
]

paper_ref = dict(
    _delete_=True,
    table='Tab. 9',
    row='SABL (Faster R-CNN variant) (baseline)',
    ap50=None,
    recall=None,
)
