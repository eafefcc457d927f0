"""Tab. 3 "(d) PSSM -> PSCM": M2DM with m2dm_mode='pssm_pscm' (Eq. 9–14), no LEEM."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(m2dm_mode='pssm_pscm', leem_levels=()))

paper_ref = dict(
    _delete_=True,
    table='Tab. 3',
    row='(d) PSSM -> PSCM',
    ap50=76.3,
    recall=86.1,
    params_m=44.367,
)
