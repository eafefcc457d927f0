"""Tab. 6 "platform + resolution + band": metadata fields ('platform', 'band', 'resolution').

Row order of the extracted paper table assumed: columns Sensor, Resolution, Band; single fields, then
pairs.
"""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(metadata=dict(fields=('platform', 'band', 'resolution'))))

paper_ref = dict(_delete_=True, table='Tab. 6', row='platform + resolution + band', ap50=77.9, recall=87.2)
