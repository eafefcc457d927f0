"""Tab. 3 "(b) PSSM Only": M2DM with m2dm_mode='pssm' (Eq. 9–14), no LEEM."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(m2dm_mode='pssm', leem_levels=()))

paper_ref = dict(_delete_=True, table='Tab. 3', row='(b) PSSM Only', ap50=75.8, recall=85.7, params_m=44.234)
