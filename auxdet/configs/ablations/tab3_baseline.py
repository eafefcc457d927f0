"""Tab. 3 (a) "Baseline"."""

_base_ = ['../cascade_rpn_r50_fpn_1x_wideirstd.py']

paper_row = dict(table=3, row='(a) Baseline')
