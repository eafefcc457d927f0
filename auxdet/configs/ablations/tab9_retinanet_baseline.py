"""Tab. 1: RetinaNet R50-FPN without AuxDet (mmdet's detector, one class), on the paper's data and schedule.
"""

_base_ = [
    '../_base_/models/tab9/retinanet_r50_fpn.py',
    '../_base_/datasets/wideirstd_voc_meta.py',
    '../_base_/schedules/sgd_12e.py',
    '../_base_/default_runtime.py',
]

paper_ref = dict(
    _delete_=True,
    table='Tab. 1',
    row='RetinaNet (baseline)',
    ap50=60.7,
    recall=74.8,
    params_m=36.33,
    flops_t=0.197,
)
