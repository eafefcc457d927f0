"""Tab. 4 "W3x3 (Standard)": LEEM with leem_mode='conv3x3' (Eq. 15–18), no M2DM."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(leem_mode='conv3x3', m2dm_levels=()))

paper_ref = dict(
    _delete_=True,
    table='Tab. 4',
    row='W3x3 (Standard)',
    ap50=77.3,
    recall=86.7,
    params_m=43.116,
)
