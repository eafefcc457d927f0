"""Tab. 2 "+ Metadata + High-Level": M2DM with aux_mode='meta_semantic' (Eq. 7), no LEEM."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(aux_mode='meta_semantic', leem_levels=()))

paper_row = dict(table=2, row='+ Metadata + High-Level')
