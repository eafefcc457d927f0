"""CPU-tiny AuxDet with the metadata *withheld*: the no-metadata control of the study (Tab. 6's "none").

The same AuxFPN, parameters and compute as ``auxdet_faster_rcnn_r18_tiny_synthetic``; only the metadata
encoder's input is a constant instead of the image's platform / band / resolution, so its code ``z``
is a learned constant. *Metadata effect* = AP(auxdet) − AP(this), same data, seed and budget.
(Tab. 6's config ``ablations/tab6_none`` removes the encoder instead: −1.4 % parameters at CPU size.)
"""

_base_ = ['./auxdet_faster_rcnn_r18_tiny_synthetic.py']

model = dict(neck=dict(metadata=dict(withheld=True)))
