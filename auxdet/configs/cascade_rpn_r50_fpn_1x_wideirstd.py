"""Baseline of the paper (Tab. 1 "Cascade RPN", Tab. 2–5 "Baseline"): Cascade-RPN + Fast R-CNN, R50-FPN.

Same data, schedule and metric as ``auxdet_r50_fpn_1x_wideirstd.py``; run either with mmengine,
``Runner.from_cfg(Config.fromfile(path)).train()``.
"""

_base_ = [
    '_base_/models/cascade_rpn_r50_fpn.py',
    '_base_/datasets/wideirstd_voc_meta.py',
    '_base_/schedules/sgd_12e.py',
    '_base_/default_runtime.py',
]

paper_row = dict(table=1, row='Cascade RPN')
