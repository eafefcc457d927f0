"""Tab. 3 "(c) PSCM Only": M2DM with m2dm_mode='pscm' (Eq. 9–14), no LEEM."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(m2dm_mode='pscm', leem_levels=()))

paper_ref = dict(_delete_=True, table='Tab. 3', row='(c) PSCM Only', ap50=75.7, recall=85.3, params_m=44.23)
