"""Tab. 3 "(f) PSSM + PSCM": M2DM with m2dm_mode='parallel' (Eq. 9–14), no LEEM."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(m2dm_mode='parallel', leem_levels=()))

paper_ref = dict(
    _delete_=True,
    table='Tab. 3',
    row='(f) PSSM + PSCM',
    ap50=77.2,
    recall=86.7,
    params_m=44.367,
)
