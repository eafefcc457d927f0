"""Tab. 2 "+ Metadata + Detail Comp.": M2DM with aux_mode='full' (Eq. 7), no LEEM."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(aux_mode='full', leem_levels=()))

paper_row = dict(table=2, row='+ Metadata + Detail Comp.')
