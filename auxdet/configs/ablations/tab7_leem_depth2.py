"""Tab. 7: LEEM depth 2 (levels (0, 1)), M2DM depth 2."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(m2dm_levels=(0, 1), leem_levels=(0, 1)))

paper_ref = dict(_delete_=True, table='Tab. 7', row='M2DM 2, LEEM 2', ap50=77.9, recall=87.2)
