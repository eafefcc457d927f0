"""Tab. 5, M2DM only (LEEM off)."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(leem_levels=()))

paper_row = dict(table=5, row='M2DM')
