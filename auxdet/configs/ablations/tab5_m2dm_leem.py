"""Tab. 5, M2DM + LEEM: the full AuxDet."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

paper_row = dict(table=5, row='M2DM + LEEM')
