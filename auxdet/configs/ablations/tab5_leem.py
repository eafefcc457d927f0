"""Tab. 5, LEEM only (M2DM off)."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(m2dm_levels=()))

paper_ref = dict(_delete_=True, table='Tab. 5', row='LEEM', ap50=77.2, recall=86.7, params_m=42.723)
