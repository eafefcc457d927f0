"""The AuxDet neck shared by every AuxDet config (the paper's, the CPU-tiny ones, Tab. 9's): an ``AuxFPN`` with M2DM +
detail compensation and LEEM on the two shallowest laterals (the paper's depth 2), all three metadata
fields. A config that lists this file among its ``_base_`` uses it as ``neck={{_base_.auxdet_neck}}``;
the FPN arguments (channels, number of outputs) come from the detector's own base.
"""

auxdet_neck = dict(
    type='AuxFPN',
    m2dm_levels=(0, 1),
    leem_levels=(0, 1),
    metadata=dict(fields=('platform', 'band', 'resolution'), vocabulary=None, sigma=2048.0),
    aux_mode='full',  # Tab. 2: 'meta' | 'meta_semantic' | 'full'
    m2dm_mode='parallel',  # Tab. 3: 'pssm' | 'pscm' | 'pssm_pscm' | 'pscm_pssm' | 'parallel'
    leem_mode='separable',  # Tab. 4: 'separable' | 'conv3x3'
    aux_dim=128,
    embed_dim=32,
    dropout=0.5,
)
