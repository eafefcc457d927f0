"""Tab. 2 "Baseline (No Aux.)": the Cascade-RPN baseline."""

_base_ = ['../cascade_rpn_r50_fpn_1x_wideirstd.py']

paper_row = dict(table=2, row='Baseline (No Aux.)')
