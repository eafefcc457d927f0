"""Tab. 9: Dynamic R-CNN R50-FPN without AuxDet (mmdet's detector, one class), on the paper's data and
schedule.
"""

_base_ = [
    '../_base_/models/tab9/dynamic_rcnn_r50_fpn.py',
    '../_base_/datasets/wideirstd_voc_meta.py',
    '../_base_/schedules/sgd_12e.py',
    '../_base_/default_runtime.py',
]

paper_ref = dict(
    _delete_=True,
    table='Tab. 9',
    row='Dynamic R-CNN (baseline)',
    ap50=35.0,
    recall=37.2,
    params_m=41.348,
    flops_t=0.2,
)
