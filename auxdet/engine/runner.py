"""Train / test with mmengine's ``Runner`` — config resolution, CLI overrides, auxdet's hooks.

No training loop is written here: :func:`load_config` prepares an mmengine ``Config`` (the CLI's
``--work-dir``, ``--cfg-options``, ``--resume``, ``--amp``, ``--launcher``, ``--seed``) and adds auxdet's
hooks; :func:`build_runner` builds mmengine's ``Runner`` from it; :func:`train` / :func:`test` run it.

* Logs and loss curves: mmengine's logger + ``LocalVisBackend`` write ``<work_dir>/<timestamp>/``
  (``vis_data/scalars.json`` holds every logged scalar); :class:`~auxdet.engine.hooks.LossCurveHook`
  draws ``<work_dir>/loss_curve.png``.
* Best checkpoint: ``CheckpointHook(save_best='auxvoc/AP50', rule='greater')`` (AuxVOCMetric's AP50).
* ``--resume``: mmengine's resume of the latest checkpoint in the work dir (or a given file), exact
  thanks to :class:`~auxdet.engine.hooks.RNGStateHook`; checkpoints load with ``weights_only=True``.
* ``--amp``: mmengine's ``AmpOptimWrapper`` (dynamic loss scale).
* ``--launcher pytorch``: mmengine's distributed setup under ``torchrun``. Without CUDA the process
  group uses gloo and the model is wrapped in ``MMDistributedDataParallel`` without device ids.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import auxdet.engine.hooks  # noqa: F401  (registers the hooks)
from auxdet.engine.checkpoint import CheckpointError, check_compatible, load_checkpoint_file
from auxdet.engine.config import ConfigError, config_path, read_config
from auxdet.engine.run_checks import check_config_dump, is_main_rank, new_test_dir
from auxdet.fileio import atomic_write_csv
from auxdet.locks import work_dir_lock

__all__ = [
    "AUXDET_HOOKS",
    "LAUNCHERS",
    "SAVE_BEST_KEY",
    "ConfigError",
    "OptionError",
    "DictAction",
    "build_runner",
    "load_config",
    "parse_cfg_options",
    "register_modules",
    "test",
    "train",
    "write_test_results",
]

LAUNCHERS: tuple[str, ...] = ("none", "pytorch", "slurm", "mpi")
#: the key AuxVOCMetric's AP50 is logged under (``default_prefix='auxvoc'``)
SAVE_BEST_KEY = "auxvoc/AP50"
#: hooks every auxdet run gets (added unless the config already lists a hook of that type)
AUXDET_HOOKS: tuple[dict[str, Any], ...] = (
    dict(type="WeightsOnlyCheckpointHook"),
    dict(type="RNGStateHook"),
    dict(type="NonFiniteLossHook"),
    dict(type="TqdmProgressHook"),
    dict(type="LossCurveHook"),
)


def register_modules() -> None:
    """Import auxdet's registering packages (models, data, metric, hooks) — idempotent.

    Configs also list ``custom_imports=['auxdet']``; this makes the API independent of that.
    """
    import auxdet.data  # noqa: F401
    import auxdet.evaluation  # noqa: F401
    import auxdet.models  # noqa: F401
    import auxdet.models.detector  # noqa: F401


class OptionError(ValueError):
    """An invalid run option (``--cfg-options`` syntax, launcher, ``--amp`` without an optimizer, …)."""


#: names of the packaged configs, relative to ``auxdet/configs`` (without ``_base_``)
#: a config file from a path, a name relative to ``auxdet/configs`` or a unique stem (one resolver)


def parse_cfg_options(options: Sequence[str] | Mapping[str, Any] | None) -> dict[str, Any]:
    """``['a.b=1', 'c=[1,2]']`` → ``{'a.b': 1, 'c': [1, 2]}`` with mmengine's ``DictAction`` parsing."""
    if options is None:
        return {}
    if isinstance(options, Mapping):
        return dict(options)
    out: dict[str, Any] = {}
    for item in options:
        if "=" not in item:
            raise OptionError(f"--cfg-options expects KEY=VALUE items, got {item!r}")
        key, value = item.split("=", maxsplit=1)
        out[key] = DictAction._parse_iterable(value)
    return out


def _has_hook(hooks: Sequence[Any], type_name: str) -> bool:
    return any(isinstance(h, Mapping) and str(h.get("type", "")).split(".")[-1] == type_name for h in hooks)


def load_config(
    config: str | os.PathLike,
    *,
    work_dir: str | os.PathLike | None = None,
    cfg_options: Sequence[str] | Mapping[str, Any] | None = None,
    resume: bool | str | os.PathLike = False,
    load_from: str | os.PathLike | None = None,
    amp: bool = False,
    launcher: str = "none",
    seed: int | None = None,
    progress_bar: bool = True,
) -> Config:
    """Read a config and apply the command-line settings and auxdet's defaults.

    Args:
        config: path or name under ``auxdet/configs`` (see :func:`auxdet.engine.config.config_path`).
        work_dir: output folder; default: the config's ``work_dir`` or ``./work_dirs/<config stem>``.
        cfg_options: ``KEY=VALUE`` overrides (mmengine ``--cfg-options`` syntax) or a dict.
        resume: ``True`` resumes from the latest checkpoint in ``work_dir``; a path resumes from that file.
        load_from: initial weights (not a resume).
        amp: use mmengine's ``AmpOptimWrapper`` (mixed precision, dynamic loss scale).
        launcher: ``none`` | ``pytorch`` (torchrun) | ``slurm`` | ``mpi``.
        seed: random seed (``randomness.seed``); ``None`` keeps the config's.
        progress_bar: add the tqdm training bar.
    """
    if launcher not in LAUNCHERS:
        raise OptionError(f"launcher must be one of {list(LAUNCHERS)}, got {launcher!r}")
    path = config_path(config)
    register_modules()
    cfg = read_config(path, parse_cfg_options(cfg_options))
    cfg.launcher = launcher

    if work_dir is not None:
        cfg.work_dir = str(work_dir)
    elif cfg.get("work_dir") is None:
        cfg.work_dir = str(Path("work_dirs") / path.stem)

    if resume:
        cfg.resume = True
        if not isinstance(resume, bool):
            if not Path(resume).is_file():
                raise FileNotFoundError(f"checkpoint to resume from '{resume}' not found")
            cfg.load_from = str(resume)
    if load_from is not None:
        if not Path(load_from).is_file():
            raise FileNotFoundError(f"checkpoint '{load_from}' not found")
        cfg.load_from = str(load_from)

    if amp:
        if not torch.cuda.is_available():
            raise OptionError("--amp (mixed precision, mmengine AmpOptimWrapper) needs a CUDA GPU; none is visible")
        optim = cfg.get("optim_wrapper")
        if optim is None:
            raise OptionError(f"--amp: config '{path}' has no optim_wrapper")
        if optim.get("type", "OptimWrapper") != "AmpOptimWrapper":
            optim.type = "AmpOptimWrapper"
            optim.setdefault("loss_scale", "dynamic")
    if seed is not None:
        randomness = dict(cfg.get("randomness") or {})
        randomness["seed"] = int(seed)
        cfg.randomness = randomness

    # auxdet's hooks
    hooks = list(cfg.get("custom_hooks") or [])
    for hook in hooks:  # --no-progress wins over a progress hook the config lists itself
        if not progress_bar and _has_hook([hook], "TqdmProgressHook"):
            hook["enabled"] = False
    for hook in AUXDET_HOOKS:
        if hook["type"] == "TqdmProgressHook" and not progress_bar:
            continue
        if not _has_hook(hooks, hook["type"]):
            hooks.append(dict(hook))
    cfg.custom_hooks = hooks

    # best checkpoint on AuxVOCMetric's AP50
    ckpt_hook = (cfg.get("default_hooks") or {}).get("checkpoint")
    evaluator = cfg.get("val_evaluator")
    metric_types = [m.get("type") for m in (evaluator if isinstance(evaluator, list) else [evaluator]) if m]
    if ckpt_hook is not None and "AuxVOCMetric" in metric_types and ckpt_hook.get("save_best") in (None, "auto"):
        ckpt_hook.save_best = SAVE_BEST_KEY
        ckpt_hook.rule = "greater"

    if launcher != "none" and not torch.cuda.is_available():
        # CPU processes: gloo, and DDP without device ids (mmengine's default assumes one GPU per rank).
        env_cfg = cfg.get("env_cfg") or {}
        env_cfg.setdefault("dist_cfg", {})["backend"] = "gloo"
        cfg.env_cfg = env_cfg
        if cfg.get("model_wrapper_cfg") is None:
            cfg.model_wrapper_cfg = dict(
                type="MMDistributedDataParallel",
                device_ids=None,
                broadcast_buffers=False,
                find_unused_parameters=cfg.get("find_unused_parameters", False),
            )
    # Every parameter of auxdet's detectors takes part in the loss (the neck builds no output conv it does
    # not return), so DDP need not search for unused ones each step; a config may still set it to True.
    cfg.setdefault("find_unused_parameters", False)
    return cfg


def _init_cpu_process_group(cfg: Config) -> None:
    """Initialise gloo before mmengine does: its ``init_dist('pytorch')`` calls ``torch.cuda.set_device``."""
    if cfg.get("launcher", "none") != "pytorch" or torch.cuda.is_available():
        return
    import torch.distributed as dist

    if not dist.is_initialized():
        missing = [k for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
        if missing:
            raise OptionError(
                f"--launcher pytorch needs the torchrun environment (missing {missing}); "
                "run: torchrun --nproc_per_node N -m auxdet train CONFIG --launcher pytorch"
            )
        timeout = (cfg.get("env_cfg") or {}).get("dist_cfg", {}).get("timeout", 1800)
        from datetime import timedelta

        dist.init_process_group("gloo", timeout=timedelta(seconds=timeout))


_RUNNERS_BUILT = itertools.count()


def _unique_instance_names(cfg: Config) -> None:
    """Give this run its own logger / message hub / visualizer instances.

    mmengine keeps these as process-wide singletons keyed by name: the experiment name
    (``<config>_<timestamp>``, second resolution) and, in mmdet's runtime, the fixed visualizer name
    ``'visualizer'``. A second runner in the same process (the demo trains two models; tests resume)
    would otherwise log its scalars into the first run's ``vis_data``.
    """
    n = next(_RUNNERS_BUILT)
    if cfg.get("experiment_name") is None:
        stem = Path(cfg.filename).stem if cfg.filename else "run"
        cfg.experiment_name = stem if n == 0 else f"{stem}_run{n}"
    vis = cfg.get("visualizer")
    if isinstance(vis, Mapping) and vis.get("name") == "visualizer":
        vis.pop("name")  # mmengine then names it after the (unique) experiment


def build_runner(cfg: Config) -> Runner:
    """mmengine's ``Runner`` for ``cfg`` (``runner_type`` honoured), distributed setup included."""
    _init_cpu_process_group(cfg)
    _unique_instance_names(cfg)
    if "runner_type" in cfg:
        from mmdet.registry import RUNNERS

        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def train(config: str | os.PathLike | Config, **kwargs: Any) -> Runner:
    """Train ``config`` (keyword arguments as :func:`load_config`); returns the finished runner.

    The work dir is locked for the run (:func:`auxdet.locks.work_dir_lock`): a second training in it
    is refused while this one runs; the lock of a run that died is taken over.
    """
    cfg = config if isinstance(config, Config) else load_config(config, **kwargs)
    with work_dir_lock(cfg.work_dir) if is_main_rank(cfg) else nullcontext():
        runner = build_runner(cfg)
        runner.train()
    return runner


def write_test_results(runner: Runner, metrics: Mapping[str, float], out: str | os.PathLike) -> Path:
    """Write the test results as CSV: AuxVOCMetric's per-group table, else ``metric,value`` rows."""
    import pandas as pd

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table = None
    for metric in getattr(runner.test_evaluator, "metrics", []):
        table = getattr(metric, "last_table", None)
        if table is not None:
            break
    if table is None:
        table = pd.DataFrame({"metric": list(metrics), "value": [float(v) for v in metrics.values()]})
    atomic_write_csv(out, table, index=False)
    return out


def test(
    config: str | os.PathLike,
    checkpoint: str | os.PathLike,
    *,
    work_dir: str | os.PathLike | None = None,
    cfg_options: Sequence[str] | Mapping[str, Any] | None = None,
    out: str | os.PathLike | None = None,
    launcher: str = "none",
) -> dict[str, float]:
    """Evaluate ``checkpoint`` on the config's test set; returns the metrics (optionally ``out`` CSV).

    Logs and the config dump go to ``work_dir``, by default a new ``test-<time>`` folder beside the
    checkpoint: never over the training's recorded config (:func:`auxdet.engine.run_checks.check_config_dump`).
    """
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"checkpoint '{checkpoint}' not found")
    if checkpoint.stat().st_size == 0:
        raise CheckpointError(f"checkpoint '{checkpoint}' is empty")
    cfg = load_config(config, work_dir=work_dir or checkpoint.parent, cfg_options=cfg_options,
                      launcher=launcher, load_from=checkpoint, progress_bar=False)
    cfg.resume = False
    if work_dir is None:
        cfg.work_dir = str(new_test_dir(checkpoint.parent))
    check_config_dump(cfg)
    runner = build_runner(cfg)
    # the architecture check before the (lazily built) test data: a wrong checkpoint fails fast
    check_compatible(runner.model, load_checkpoint_file(checkpoint), source=f"checkpoint '{checkpoint}'")
    metrics = dict(runner.test())
    if out is not None:
        path = write_test_results(runner, metrics, out)
        runner.logger.info(f"test results written to {path}")
    return metrics
