"""Tab. 4 "W3x3 (Standard)": LEEM with leem_mode='conv3x3' (Eq. 15–18), no M2DM."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(leem_mode='conv3x3', m2dm_levels=()))

paper_row = dict(table=4, row='W3×3 (Standard)')
