"""Tab. 9: Libra R-CNN R50-FPN without AuxDet (mmdet's detector, one class), on the paper's data and
schedule.
"""

_base_ = [
    '../_base_/models/tab9/libra_rcnn_r50_fpn.py',
    '../_base_/datasets/wideirstd_voc_meta.py',
    '../_base_/schedules/sgd_12e.py',
    '../_base_/default_runtime.py',
]

paper_ref = dict(
    _delete_=True,
    table='Tab. 9',
    row='Libra R-CNN (baseline)',
    ap50=30.7,
    recall=33.8,
    params_m=41.611,
    flops_t=0.209,
)
