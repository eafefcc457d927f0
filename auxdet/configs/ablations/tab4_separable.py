"""Tab. 4 "W1x3 -> W3x1": LEEM with leem_mode='separable' (Eq. 15–18), no M2DM."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(leem_mode='separable', m2dm_levels=()))

paper_ref = dict(_delete_=True, table='Tab. 4', row='W1x3 -> W3x1', ap50=77.2, recall=86.8, params_m=42.723)
