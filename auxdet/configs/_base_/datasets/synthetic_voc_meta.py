"""Synthetic omni-domain IR data (auxdet.data.synthetic) in the same VOC-with-metadata layout.

Same pipeline and metric as WideIRSTD; only the root changes: ``AUXDET_SYNTH_VOC`` (default
``build/synthetic``), where the synthetic generator writes its PNGImages / Annotations / ImageSets.
"""

_base_ = ['./wideirstd_voc_meta.py']

data_root = '{{$AUXDET_SYNTH_VOC:build/synthetic}}/'

train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
