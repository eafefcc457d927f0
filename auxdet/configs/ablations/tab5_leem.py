"""Tab. 5, LEEM only (M2DM off)."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(m2dm_levels=()))

paper_row = dict(table=5, row='LEEM')
