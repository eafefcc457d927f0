"""Tab. 5, M2DM + LEEM: the full AuxDet."""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

paper_ref = dict(_delete_=True, table='Tab. 5', row='M2DM + LEEM', ap50=77.9, recall=87.2, params_m=45.279)
