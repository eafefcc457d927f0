"""AuxDet (paper Fig. 2): the Cascade-RPN baseline with the metadata-aware ``AuxFPN`` neck.

M2DM (Eq. 8–14, auxiliary vector of Eq. 1–7) and LEEM (Eq. 15–18) act on the lateral features of the
two shallowest FPN levels (the paper's "depth 2", Tab. 7); the detector hands each image's metadata
(platform, band, original width/height) to the neck (``MetaTwoStageDetector``). The neck switches are
in ``auxdet_neck.py`` (Tab. 2 ``aux_mode``, Tab. 3 ``m2dm_mode``, Tab. 4 ``leem_mode``, Tab. 6 fields,
Tab. 7 levels).
"""

_base_ = ['./cascade_rpn_r50_fpn.py', './auxdet_neck.py']

model = dict(type='MetaTwoStageDetector', neck={{_base_.auxdet_neck}})
