"""Training, evaluation and prediction on mmengine's Runner (no hand-written loop).

* :mod:`auxdet.engine.config` — the one config resolver / reader, CPU-size model configs,
  :func:`build_detector`, :func:`demo_batch`.
* :mod:`auxdet.engine.runner` — a run's config (CLI overrides, auxdet's hooks), :func:`train` / :func:`test`.
* :mod:`auxdet.engine.hooks` — weights-only checkpoints + architecture check, exact resume (RNG
  states), NaN/Inf stop, tqdm bar, loss curves (registered in mmdet's ``HOOKS``).
* :mod:`auxdet.engine.checkpoint` — checkpoints that load under torch ≥ 2.6 ``weights_only=True``.
* :mod:`auxdet.engine.inference` — :class:`Predictor`, counterfactual metadata.
* :mod:`auxdet.engine.tiling` — :class:`Detections`, sliding-window tiling of large images.
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
from auxdet.engine.config import (
    ConfigError,
    build_detector,
    config_path,
    demo_batch,
    read_config,
    shrink_model_cfg,
)
from auxdet.engine.hooks import (
    LossCurveHook,
    NonFiniteLossError,
    NonFiniteLossHook,
    RNGStateHook,
    TqdmProgressHook,
    WeightsOnlyCheckpointHook,
)
from auxdet.engine.inference import Predictor, counterfactual
from auxdet.engine.runner import build_runner, load_config, test, train
from auxdet.engine.tiling import Detections, merge_detections, predict_tiled, tile_windows

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
    "build_detector",
    "build_runner",
    "check_compatible",
    "config_path",
    "convert_checkpoint",
    "counterfactual",
    "demo_batch",
    "load_checkpoint_file",
    "load_config",
    "load_weights",
    "merge_detections",
    "predict_tiled",
    "read_config",
    "shrink_model_cfg",
    "test",
    "tile_windows",
    "train",
]
