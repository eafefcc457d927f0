"""Tab. 2 "Baseline (No Aux.)": the Cascade-RPN baseline."""

_base_ = ['../cascade_rpn_r50_fpn_1x_wideirstd.py']

paper_ref = dict(
    _delete_=True,
    table='Tab. 2',
    row='Baseline (No Aux.)',
    ap50=74.7,
    recall=84.5,
    params_m=42.527,
)
