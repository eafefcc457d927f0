"""Tab. 7: M2DM depth 2 (levels (0, 1)), LEEM depth 2."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(m2dm_levels=(0, 1), leem_levels=(0, 1)))

paper_row = dict(table=7, row='M2DM depth 2')
