"""CPU-tiny AuxDet: the CPU-tiny baseline + the metadata-aware AuxFPN, switched as the paper's AuxDet."""

_base_ = ['./cascade_rpn_r18_tiny_synthetic.py', '../_base_/models/auxdet_neck.py']

model = dict(type='MetaTwoStageDetector', neck={{_base_.auxdet_neck}})
