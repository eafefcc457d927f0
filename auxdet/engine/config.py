"""Configs and the detectors they build — the one home of config resolution and reading.

* :func:`config_path` — the one resolver: a path, a name under ``auxdet/configs`` or a unique stem;
  :func:`list_configs` / :func:`config_names` list the runnable configs; :class:`ConfigError` names
  the available ones.
* :func:`read_config` — an mmengine ``Config`` as the file says (plus ``cfg_options``), with mmengine's
  lookups of ``mmdet::`` bases memoised. :func:`auxdet.engine.runner.load_config` builds on it and adds
  a run's settings (work dir, hooks, resume, AMP, launcher, seed).
* :func:`shrink_model_cfg` — the CPU-size version of any model config (same switches, fewer
  channels); the CPU-tiny configs are written with it.
* :func:`build_detector` (no download: ImageNet init off unless asked) and :func:`demo_batch` (random
  images with small targets and per-image metadata) for tests, benchmarks and notebooks.

Imports no other auxdet module at import time (``build_detector`` imports the neck when called), so the
configs themselves may import :func:`shrink_model_cfg`.
"""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from mmdet.models.detectors import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config, ConfigDict
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from torch import Tensor

__all__ = [
    "CONFIG_DIR",
    "ConfigError",
    "build_detector",
    "config_names",
    "config_path",
    "demo_batch",
    "list_configs",
    "read_config",
    "shrink_model_cfg",
]

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


class ConfigError(FileNotFoundError):
    """A config name or path that does not resolve to a config file (lists the available ones)."""


def list_configs(subdir: str | None = None) -> list[Path]:
    """All runnable configs (not ``_base_`` fragments), sorted; optionally only those under ``subdir``."""
    root = CONFIG_DIR / subdir if subdir else CONFIG_DIR
    return sorted(
        p for p in root.rglob("*.py") if "_base_" not in p.relative_to(CONFIG_DIR).parts and p.name != "__init__.py"
    )


def config_names(subdir: str | None = None) -> list[str]:
    """Names of the packaged configs relative to ``auxdet/configs``, without ``.py`` (``cpu_tiny/…``)."""
    return [p.relative_to(CONFIG_DIR).with_suffix("").as_posix() for p in list_configs(subdir)]


def config_path(name: str | Path) -> Path:
    """The one config resolver: an existing file, a name relative to ``auxdet/configs`` (``.py``
    optional, e.g. ``'ablations/tab3_pssm'``), or a unique bare stem (``'auxdet_r18_tiny_synthetic'``).

    Raises :class:`ConfigError` listing the available names (or the ambiguous matches).
    """
    text = str(name)
    base = CONFIG_DIR / text
    for cand in (Path(text).expanduser(), base, base.with_name(base.name + ".py")):
        if cand.is_file():
            return cand.resolve()
    stem = Path(text).name.removesuffix(".py")
    matches = [p for p in list_configs() if p.stem == stem]
    if len(matches) == 1:
        return matches[0].resolve()
    if matches:
        hint = f"ambiguous, matches {[m.relative_to(CONFIG_DIR).as_posix() for m in matches]}"
    else:
        names = config_names()
        hint = f"available: {', '.join(names[:12])}{', …' if len(names) > 12 else ''}"
    raise ConfigError(f"config '{text}' not found (a path, or a name under {CONFIG_DIR}); {hint}")


@contextmanager
def _cached_external_configs() -> Iterator[None]:
    """Speed up ``mmdet::`` bases: mmengine re-imports ``pkg_resources`` to check that mmdet is installed
    and re-reads mmdet's ~200 ``metafile.yml`` for every such base; memoise both lookups."""
    import mmengine.config.config as cfg_module

    originals = cfg_module._get_external_cfg_path, cfg_module.is_installed
    cfg_module._get_external_cfg_path = _cached_external_cfg_path(originals[0])
    cfg_module.is_installed = _cached_is_installed(originals[1])
    try:
        yield
    finally:
        cfg_module._get_external_cfg_path, cfg_module.is_installed = originals


@functools.cache
def _cached_is_installed(original: Any) -> Any:
    return functools.cache(original)


@functools.cache
def _cached_external_cfg_path(original: Any) -> Any:
    """Memoise mmengine's ``_get_external_cfg_path``, including its ValueError for ``_base_`` files."""

    @functools.cache
    def lookup(package_path: str, cfg_file: str) -> tuple[str | None, str | None]:
        try:
            return original(package_path, cfg_file), None
        except ValueError as err:
            return None, str(err)

    def cached(package_path: str, cfg_file: str) -> str:
        path, error = lookup(package_path, cfg_file)
        if error is not None:
            raise ValueError(error)
        return path

    return cached


def read_config(cfg: str | Path | Config, cfg_options: Mapping[str, Any] | None = None) -> Config:
    """Load a config by path or name (see :func:`config_path`); ``cfg_options`` as mmengine's ``--cfg-options``."""
    if isinstance(cfg, Config):
        cfg = copy.deepcopy(cfg)
    else:
        with _cached_external_configs():
            cfg = Config.fromfile(str(config_path(cfg)))
    if cfg_options:
        # a deep copy: mmengine's merge pops ``_delete_`` from the option dicts, which callers may reuse
        cfg.merge_from_dict(copy.deepcopy(dict(cfg_options)))
    return cfg


_WIDTH_KEYS = (
    "in_channels", "out_channels", "feat_channels", "cls_in_channels", "reg_in_channels",
    "reg_offset_out_channels", "reg_cls_out_channels",
)


def _shrink(node: Any, channels: int, fc_channels: int, wide: int) -> Any:
    if isinstance(node, Mapping):
        out = {}
        for key, value in node.items():
            if key in _WIDTH_KEYS and value == wide:
                out[key] = channels
            elif key in ("fc_out_channels", "cls_out_channels") and isinstance(value, int) and value > fc_channels:
                out[key] = fc_channels
            else:
                out[key] = _shrink(value, channels, fc_channels, wide)
        return type(node)(out) if isinstance(node, ConfigDict) else out
    if isinstance(node, list):
        return [_shrink(v, channels, fc_channels, wide) for v in node]
    return node


def shrink_model_cfg(
    model: Mapping[str, Any], *, channels: int = 64, base_channels: int = 32, fc_channels: int = 256
) -> ConfigDict:
    """CPU-size copy of a detector config: same structure and switches, fewer channels.

    The ResNet keeps its depth but starts from ``base_channels`` (trained from scratch: no frozen
    stage, BN in training mode, no ImageNet weights); every 256-channel width of the neck and heads
    becomes ``channels``; fully connected layers wider than ``fc_channels`` shrink to it. The neck's
    ``in_channels`` follow the backbone (``[b, 2b, 4b, 8b]`` × 4 for Bottleneck ResNets).
    """
    model = ConfigDict(copy.deepcopy(dict(model)))
    backbone = model["backbone"]
    if backbone.get("type") != "ResNet":
        raise ValueError(f"shrink_model_cfg supports ResNet backbones, got {backbone.get('type')!r}")
    expansion = 4 if backbone.get("depth", 50) >= 50 else 1
    backbone.update(base_channels=base_channels, frozen_stages=-1, norm_eval=False, init_cfg=None)
    backbone_out = [base_channels * expansion * 2**i for i in range(4)]
    wide = 256
    for key in ("neck", "rpn_head", "roi_head", "bbox_head"):
        if key in model and model[key] is not None:
            model[key] = _shrink(model[key], channels, fc_channels, wide)
    necks = model.get("neck")
    first_neck = necks[0] if isinstance(necks, list) else necks
    if first_neck is not None:
        first_neck["in_channels"] = backbone_out
    return model


def _strip_pretrained(node: Any) -> None:
    """Remove ``init_cfg=dict(type='Pretrained', ...)`` everywhere (no download)."""
    if isinstance(node, Mapping):
        init_cfg = node.get("init_cfg")
        if isinstance(init_cfg, Mapping) and init_cfg.get("type") == "Pretrained":
            node["init_cfg"] = None
        for value in node.values():
            _strip_pretrained(value)
    elif isinstance(node, list):
        for value in node:
            _strip_pretrained(value)


def build_detector(
    cfg: str | Path | Config | Mapping[str, Any], *, pretrained: bool = False, init_weights: bool = True
) -> BaseDetector:
    """Build the detector of a config (path, name, ``Config`` or a ``model`` dict) on the CPU.

    ``pretrained=False`` (default) drops every ``Pretrained`` ``init_cfg`` (the ImageNet backbone needs
    the internet); ``init_weights`` runs mmengine's weight initialisation as the Runner does.
    """
    import auxdet.models.neck  # noqa: F401  (registers AuxFPN)

    init_default_scope("mmdet")
    if isinstance(cfg, (str, Path)):
        cfg = read_config(cfg)
    model_cfg = copy.deepcopy(cfg.model if isinstance(cfg, Config) else cfg)
    if isinstance(model_cfg, Mapping) and "model" in model_cfg and "type" not in model_cfg:
        model_cfg = model_cfg["model"]
    if not pretrained:
        _strip_pretrained(model_cfg)
    model = MODELS.build(model_cfg)
    if init_weights:
        # Outside a Runner mmengine logs every parameter's initialisation at INFO level: keep it quiet.
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(max(level, logging.WARNING))
        try:
            model.init_weights()
        finally:
            logger.setLevel(level)
    return model


_DEMO_METAS = (
    dict(platform="Air", band="LWIR", width=256, height=256),
    dict(platform="Space", band="NIR", width=640, height=512),
    dict(platform="Land", band="SWIR", width=1280, height=720),
)


def demo_batch(
    model: BaseDetector,
    image_sizes: Sequence[tuple[int, int]] = ((256, 256),),
    metas: Sequence[Mapping[str, Any]] | None = None,
    *,
    num_targets: int = 3,
    training: bool = True,
    seed: int = 0,
) -> tuple[Tensor, list[DetDataSample]]:
    """A preprocessed batch ``(inputs, data_samples)`` for ``model``: random IR-like images (H, W) with
    ``num_targets`` small bright targets (3–12 px boxes, label 0) and per-image metadata ``metas``
    (default: cycles Air/LWIR, Space/NIR, Land/SWIR). Runs the model's data preprocessor (padding)."""
    gen = torch.Generator().manual_seed(seed)
    metas = list(metas) if metas is not None else [_DEMO_METAS[i % len(_DEMO_METAS)] for i in range(len(image_sizes))]
    if len(metas) != len(image_sizes):
        raise ValueError(f"{len(metas)} metadata records for {len(image_sizes)} images")
    inputs, samples = [], []
    for i, ((h, w), meta) in enumerate(zip(image_sizes, metas, strict=True)):
        img = torch.randint(0, 60, (3, h, w), generator=gen, dtype=torch.uint8)
        size = torch.randint(3, 13, (num_targets, 2), generator=gen)
        x1 = (torch.rand(num_targets, generator=gen) * (w - size[:, 0] - 1)).floor()
        y1 = (torch.rand(num_targets, generator=gen) * (h - size[:, 1] - 1)).floor()
        boxes = torch.stack([x1, y1, x1 + size[:, 0], y1 + size[:, 1]], dim=1).float()
        for x_a, y_a, x_b, y_b in boxes.long().tolist():
            img[:, y_a:y_b, x_a:x_b] = 230
        sample = DetDataSample(
            metainfo=dict(
                img_id=str(i), img_path=f"<demo{i}>.png", ori_shape=(h, w), img_shape=(h, w),
                scale_factor=(1.0, 1.0), flip=False, flip_direction=None, **dict(meta),
            )
        )
        sample.gt_instances = InstanceData(bboxes=boxes, labels=torch.zeros(num_targets, dtype=torch.long))
        inputs.append(img)
        samples.append(sample)
    data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), training)
    return data["inputs"], data["data_samples"]
