"""Tab. 7: LEEM depth 4 (levels (0, 1, 2, 3)), M2DM depth 2."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(m2dm_levels=(0, 1), leem_levels=(0, 1, 2, 3)))

paper_row = dict(table=7, row='LEEM depth 4')
