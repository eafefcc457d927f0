"""Tab. 5, neither M2DM nor LEEM: the baseline."""

_base_ = ['../cascade_rpn_r50_fpn_1x_wideirstd.py']

paper_row = dict(table=5, row='none')
