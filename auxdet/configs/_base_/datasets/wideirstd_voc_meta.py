"""WideIRSTD-Full in the official AuxDet VOC-with-metadata layout (paper §4.1).

<root>/PNGImages/<id>.png, <root>/Annotations/<id>.xml (with <view> and <band_type>),
<root>/ImageSets/Main/{train,val,test}.txt. The root comes from the environment variable
``AUXDET_WIDEIRSTD_VOC`` (default ``data/WideIRSTD-Full``) or ``--cfg-options``.
Images are resized to 1024×1024 keeping the ratio, flipped with p = 0.5, batch 4.
Each image's metadata (platform, band, original width/height) is packed into its data sample.
"""

dataset_type = 'VOCMetaDataset'
data_root = '{{$AUXDET_WIDEIRSTD_VOC:data/WideIRSTD-Full}}/'
img_scale = (1024, 1024)
backend_args = None

# = auxdet.data.META_KEYS_TO_PACK: PackDetInputs' default meta_keys + the metadata fields.
meta_keys = (
    'img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip', 'flip_direction',
    'platform', 'band', 'width', 'height', 'true_platform', 'true_band',
)

train_pipeline = [
    dict(type='LoadIRImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadIRImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    # after Resize, so that the ground-truth boxes stay in original-image pixels
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=meta_keys),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageSets/Main/train.txt',
        data_prefix=dict(img='PNGImages'),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline,
        backend_args=backend_args,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageSets/Main/val.txt',
        data_prefix=dict(img='PNGImages'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args,
    ),
)
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='ImageSets/Main/test.txt',
        data_prefix=dict(img='PNGImages'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args,
    ),
)

# AP50 and recall at IoU 0.5, VOC "area" mode (the paper's metric), overall and per platform / band.
val_evaluator = dict(type='AuxVOCMetric', iou_thr=0.5, eval_mode='area', by=('platform', 'band'))
test_evaluator = val_evaluator
