"""Tab. 9: Cascade R-CNN R50-FPN without AuxDet (mmdet's detector, one class), on the paper's data and
schedule.
"""

_base_ = [
    '../_base_/models/tab9/cascade_rcnn_r50_fpn.py',
    '../_base_/datasets/wideirstd_voc_meta.py',
    '../_base_/schedules/sgd_12e.py',
    '../_base_/default_runtime.py',
]

paper_ref = dict(
    _delete_=True,
    table='Tab. 9',
    row='Cascade R-CNN (baseline)',
    ap50=35.8,
    recall=37.5,
    params_m=69.152,
    flops_t=0.228,
)
