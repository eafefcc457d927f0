"""CPU-tiny AuxDet on Faster R-CNN: the CPU-tiny Faster R-CNN baseline + the metadata-aware AuxFPN
(M2DM + detail compensation and LEEM on the two shallowest laterals, all metadata), as Tab. 9 plugs
AuxDet into Faster R-CNN."""

_base_ = ['./faster_rcnn_r18_tiny_synthetic.py', '../_base_/models/auxdet_neck.py']

model = dict(type='MetaTwoStageDetector', neck={{_base_.auxdet_neck}})
