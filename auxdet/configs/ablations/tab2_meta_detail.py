"""Tab. 2 "+ Metadata + Detail Comp.": M2DM with aux_mode='full' (Eq. 7), no LEEM."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(aux_mode='full', leem_levels=()))

paper_ref = dict(_delete_=True, table='Tab. 2', row='+ Metadata + Detail Comp.', ap50=77.2, recall=86.7)
