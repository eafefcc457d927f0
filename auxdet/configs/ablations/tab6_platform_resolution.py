"""Tab. 6 "platform + resolution": metadata fields ('platform', 'resolution').

Row order of the extracted paper table assumed: columns Sensor, Resolution, Band; single fields, then
pairs.
"""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(metadata=dict(fields=('platform', 'resolution'))))

paper_ref = dict(_delete_=True, table='Tab. 6', row='platform + resolution', ap50=77.7, recall=87.0)
