"""AuxDet, the paper's setting (Tab. 1 "AuxDet (Ours)"): R50, M2DM + LEEM at depth 2, all metadata.

WideIRSTD-Full (VOC-with-metadata layout), 1024² keep-ratio, flip 0.5, batch 4, 12 epochs,
SGD lr 0.005 with a 500-iteration linear warm-up; AP50 / recall at IoU 0.5.
"""

_base_ = [
    '_base_/models/auxdet_r50_fpn.py',
    '_base_/datasets/wideirstd_voc_meta.py',
    '_base_/schedules/sgd_12e.py',
    '_base_/default_runtime.py',
]

paper_row = dict(table=1, row='AuxDet (Ours)')
