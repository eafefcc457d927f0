"""Paper §4.1 schedule: 12 epochs, SGD lr 0.005 (momentum 0.9, wd 1e-4), 500-iteration linear warm-up."""

max_epochs = 12
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    # Step decay of mmdet's 1x schedule (the paper does not state one).
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[8, 11], gamma=0.1),
]

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=0.0001),
    # As in mmdet's Cascade-RPN configs.
    clip_grad=dict(max_norm=35, norm_type=2),
)

# lr 0.005 is for batch 4 on one GPU (paper); scale it with --auto-scale-lr for other batch sizes.
auto_scale_lr = dict(enable=False, base_batch_size=4)
