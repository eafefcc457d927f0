"""Tab. 3 "(e) PSCM -> PSSM": M2DM with m2dm_mode='pscm_pssm' (Eq. 9–14), no LEEM."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(m2dm_mode='pscm_pssm', leem_levels=()))

paper_row = dict(table=3, row='(e) PSCM → PSSM')
