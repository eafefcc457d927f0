"""Tab. 6 "platform": metadata fields ('platform',).

Row order of the extracted paper table assumed: columns Sensor, Resolution, Band; single fields, then
pairs.
"""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(metadata=dict(fields=('platform',))))

paper_ref = dict(_delete_=True, table='Tab. 6', row='platform', ap50=77.4, recall=87.2)
