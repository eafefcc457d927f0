"""Tab. 3 "(f) PSSM + PSCM": M2DM with m2dm_mode='parallel' (Eq. 9–14), no LEEM."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(m2dm_mode='parallel', leem_levels=()))

paper_row = dict(table=3, row='(f) PSSM + PSCM')
