"""Tab. 6 "resolution": metadata fields ('resolution',).

Row order of the extracted paper table assumed: columns Sensor, Resolution, Band; single fields, then
pairs.
"""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(metadata=dict(fields=('resolution',))))

paper_row = dict(table=6, row='resolution')
