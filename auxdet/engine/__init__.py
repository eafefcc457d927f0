"""Training, evaluation and prediction on mmengine's Runner (no hand-written loop).

* :mod:`auxdet.engine.runner` — config resolution, CLI overrides, :func:`train` / :func:`test`.
* :mod:`auxdet.engine.hooks` — weights-only checkpoints + architecture check, exact resume (RNG
  states), NaN/Inf stop, tqdm bar, loss curves (registered in mmdet's ``HOOKS``).
* :mod:`auxdet.engine.checkpoint` — checkpoints that load under torch ≥ 2.6 ``weights_only=True``.
* :mod:`auxdet.engine.inference` — :class:`Predictor`, sliding-window tiling, counterfactual metadata.
* :mod:`auxdet.engine.parallel` — independent trainings side by side, one process each (CPU); the
  experiments that use it (``auxdet demo``, notebooks, ablations) are in :mod:`auxdet.experiments`.

Importing this package registers the hooks and auxdet's weights-only loader for local checkpoints.
"""

from auxdet.engine.checkpoint import (
    CheckpointError,
    CheckpointMismatchError,
    check_compatible,
    convert_checkpoint,
    load_checkpoint_file,
    load_weights,
)
from auxdet.engine.hooks import (
    LossCurveHook,
    NonFiniteLossError,
    NonFiniteLossHook,
    RNGStateHook,
    TqdmProgressHook,
    WeightsOnlyCheckpointHook,
)
from auxdet.engine.inference import (
    Detections,
    Predictor,
    counterfactual,
    merge_detections,
    predict_tiled,
    tile_windows,
)
from auxdet.engine.runner import ConfigError, build_runner, load_config, resolve_config, test, train

__all__ = [
    "CheckpointError",
    "CheckpointMismatchError",
    "ConfigError",
    "Detections",
    "LossCurveHook",
    "NonFiniteLossError",
    "NonFiniteLossHook",
    "Predictor",
    "RNGStateHook",
    "TqdmProgressHook",
    "WeightsOnlyCheckpointHook",
    "build_runner",
    "check_compatible",
    "convert_checkpoint",
    "counterfactual",
    "load_checkpoint_file",
    "load_config",
    "load_weights",
    "merge_detections",
    "predict_tiled",
    "resolve_config",
    "test",
    "tile_windows",
    "train",
]
