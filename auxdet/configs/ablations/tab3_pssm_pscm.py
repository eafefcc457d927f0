"""Tab. 3 "(d) PSSM -> PSCM": M2DM with m2dm_mode='pssm_pscm' (Eq. 9–14), no LEEM."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(m2dm_mode='pssm_pscm', leem_levels=()))

paper_row = dict(table=3, row='(d) PSSM → PSCM')
