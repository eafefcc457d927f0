"""Tab. 6 "no metadata": metadata fields () (only the detail-compensation part of the auxiliary vector
remains).

Row order of the extracted paper table assumed: columns Sensor, Resolution, Band; single fields, then
pairs.
"""

_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']

model = dict(neck=dict(metadata=dict(fields=())))

paper_row = dict(table=6, row='none')
