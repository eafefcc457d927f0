"""Tab. 5, neither M2DM nor LEEM: the baseline."""

_base_ = ['../cascade_rpn_r50_fpn_1x_wideirstd.py']

paper_ref = dict(_delete_=True, table='Tab. 5', row='none', ap50=74.7, recall=84.5, params_m=42.527)
