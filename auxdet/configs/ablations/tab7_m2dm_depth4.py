"""Tab. 7: M2DM depth 4 (levels (0, 1, 2, 3)), LEEM depth 2."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(m2dm_levels=(0, 1, 2, 3), leem_levels=(0, 1)))

paper_ref = dict(_delete_=True, table='Tab. 7', row='M2DM 4, LEEM 2', ap50=77.5, recall=87.2)
