"""Tab. 9: Cascade R-CNN R50-FPN without AuxDet (mmdet's detector, one class), on the paper's data and
schedule.
"""

_base_ = [
    '../_base_/models/tab9/cascade_rcnn_r50_fpn.py',
    '../_base_/datasets/wideirstd_voc_meta.py',
    '../_base_/schedules/sgd_12e.py',
    '../_base_/default_runtime.py',
]

# the same detector as Tab. 1's row (Tab. 9's 'Before' row repeats its AP50 / Recall); Tab. 1 adds params, FLOPs
paper_row = dict(table=1, row='Cascade R-CNN')
