"""Tab. 5, M2DM only (LEEM off)."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(leem_levels=()))

paper_ref = dict(_delete_=True, table='Tab. 5', row='M2DM', ap50=77.2, recall=86.7, params_m=44.367)
