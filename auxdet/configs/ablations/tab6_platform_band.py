"""Tab. 6 "platform + band": metadata fields ('platform', 'band').

Row order of the extracted paper table assumed: columns Sensor, Resolution, Band; single fields, then
pairs.
"""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(metadata=dict(fields=('platform', 'band'))))

paper_ref = dict(_delete_=True, table='Tab. 6', row='platform + band', ap50=77.4, recall=87.4)
