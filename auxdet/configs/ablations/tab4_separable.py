"""Tab. 4 "W1x3 -> W3x1": LEEM with leem_mode='separable' (Eq. 15–18), no M2DM."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(leem_mode='separable', m2dm_levels=()))

paper_row = dict(table=4, row='W1×3→W3×1')
