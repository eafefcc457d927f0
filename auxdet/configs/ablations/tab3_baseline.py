"""Tab. 3 (a) "Baseline"."""

_base_ = ['../cascade_rpn_r50_fpn_1x_wideirstd.py']

paper_ref = dict(_delete_=True, table='Tab. 3', row='(a) Baseline', ap50=74.7, recall=84.5, params_m=42.527)
