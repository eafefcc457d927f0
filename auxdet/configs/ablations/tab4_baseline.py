"""Tab. 4 "Baseline"."""

_base_ = ['../cascade_rpn_r50_fpn_1x_wideirstd.py']

paper_row = dict(table=4, row='Baseline')
