"""Runtime of every auxdet config: mmdet's default runtime + auxdet's registered components."""

_base_ = ['mmdet::_base_/default_runtime.py']

# Registers AuxFPN, Meta*Detector, VOCMetaDataset, LoadIRImageFromFile, AuxVOCMetric, ...
custom_imports = dict(imports=['auxdet'], allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
)
