"""Metadata-aware mmdet detectors: the batch data samples reach the neck, mmdet's source untouched.

mmdet 3.3's ``loss`` / ``predict`` / ``_forward`` call ``self.extract_feat(batch_inputs)`` without the
data samples, so a neck that conditions on per-image metadata (``AuxFPN``, which reads ``platform``,
``band``, ``width``, ``height`` from each ``DetDataSample.metainfo``) cannot see them. The official
AuxDet code edited ``TwoStageDetector.extract_feat`` in place; here :class:`MetadataAwareMixin` does it
from the outside, generically:

* ``loss`` / ``predict`` / ``_forward`` put the call's data samples *in scope* (an attribute restored in
  ``try/finally``, so nested or failing calls leave no stale state) and then run the parent's method
  unchanged — every RoI head, RPN head, cascade, grid head or dense head of mmdet keeps working.
* ``extract_feat(batch_inputs, batch_data_samples=None)`` runs the backbone and then the neck through
  :func:`forward_neck`, which hands the samples to every neck (or every module of a neck list such as
  Libra R-CNN's ``[FPN, BFP]``) whose class sets ``needs_data_samples = True``. Plain necks are called
  exactly as mmdet calls them, so a Meta detector with a plain FPN *is* the mmdet detector.
* A neck that needs samples and gets none (e.g. ``model(inputs)`` in tensor mode) raises
  :class:`~auxdet.metadata.MetadataError` saying how to pass them.

Registered in mmdet's ``MODELS``: :class:`MetaTwoStageDetector` (Faster / Cascade / Dynamic / Grid /
Libra R-CNN, SABL and Cascade-RPN heads are all configured on it) and :class:`MetaSingleStageDetector`
(RetinaNet, SABL-RetinaNet).

Helpers for tests, benchmarks and notebooks: :func:`config_path` / :func:`list_configs` /
:func:`load_config` (the configs shipped in ``auxdet/configs``), :func:`shrink_model_cfg` (the CPU-tiny
version of any model config, same switches), :func:`build_detector` (no download: ImageNet init off
unless asked) and :func:`demo_batch` (random images with small targets and per-image metadata).
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
from mmdet.models.detectors import BaseDetector, SingleStageDetector, TwoStageDetector
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, OptSampleList, SampleList
from mmengine.config import Config, ConfigDict
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from torch import Tensor, nn

from auxdet.metadata import MetadataError

__all__ = [
    "CONFIG_DIR",
    "ConfigError",
    "config_names",
    "MetaSingleStageDetector",
    "MetaTwoStageDetector",
    "MetadataAwareMixin",
    "build_detector",
    "config_path",
    "demo_batch",
    "forward_neck",
    "list_configs",
    "load_config",
    "neck_needs_data_samples",
    "shrink_model_cfg",
]

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


def _needs(module: nn.Module) -> bool:
    return bool(getattr(module, "needs_data_samples", False))


def neck_needs_data_samples(neck: nn.Module | None) -> bool:
    """True when ``neck`` (or any module of a neck list, built as ``nn.Sequential``) needs data samples."""
    if neck is None:
        return False
    if isinstance(neck, nn.Sequential):
        return any(_needs(m) for m in neck)
    return _needs(neck)


def forward_neck(neck: nn.Module, feats: Any, data_samples: OptSampleList = None) -> Any:
    """Run ``neck`` on backbone features, passing ``data_samples`` to the necks that need them.

    A neck list (mmdet builds ``neck=[dict(...), dict(...)]`` as an ``nn.Sequential``) is run module by
    module, so ``[AuxFPN, BFP]`` works. Necks without ``needs_data_samples`` are called as ``neck(feats)``.

    A neck that needs data samples but reports ``uses_metadata = False`` (AuxFPN without metadata
    fields or without M2DM) is called with ``data_samples=None`` when there are none.

    Raises:
        MetadataError: a neck needs data samples and ``data_samples`` is ``None``.
    """
    if isinstance(neck, nn.Sequential):
        for module in neck:
            feats = forward_neck(module, feats, data_samples)
        return feats
    if not _needs(neck):
        return neck(feats)
    if data_samples is None:
        if not getattr(neck, "uses_metadata", True):
            return neck(feats, data_samples=None)
        raise MetadataError(
            f"neck {type(neck).__name__} conditions on per-image metadata but received no data samples. "
            "Call the detector with them, e.g. model(inputs, data_samples, mode='tensor'|'predict'|'loss'), "
            "where each DetDataSample.metainfo carries 'platform', 'band', 'width', 'height' "
            "(PackDetInputs meta_keys must include them)."
        )
    return neck(feats, data_samples=data_samples)


class MetadataAwareMixin:
    """Makes an mmdet detector hand each call's data samples to a metadata-aware neck.

    Put it *before* the mmdet detector class in the bases. Works for any detector whose
    ``extract_feat`` is "backbone, then optional neck" (``TwoStageDetector`` and
    ``SingleStageDetector`` and their subclasses).
    """

    _scoped_data_samples: OptSampleList = None

    @contextmanager
    def data_samples_in_scope(self, batch_data_samples: OptSampleList) -> Iterator[None]:
        """Make ``batch_data_samples`` visible to :meth:`extract_feat` for the duration of a call."""
        previous = self._scoped_data_samples
        self._scoped_data_samples = batch_data_samples
        try:
            yield
        finally:
            self._scoped_data_samples = previous

    def extract_feat(self, batch_inputs: Tensor, batch_data_samples: OptSampleList = None) -> tuple[Tensor, ...]:
        """Backbone then neck; the neck receives ``batch_data_samples`` (or the samples in scope).

        Args:
            batch_inputs: images ``[N, C, H, W]``.
            batch_data_samples: optional; defaults to the samples of the running ``loss`` /
                ``predict`` / ``_forward`` call. Pass them explicitly when calling
                ``extract_feat`` directly (e.g. for feature visualisation).
        """
        samples = self._scoped_data_samples if batch_data_samples is None else batch_data_samples
        if samples is not None and len(samples) != batch_inputs.shape[0]:
            raise ValueError(
                f"{len(samples)} data samples for a batch of {batch_inputs.shape[0]} images: "
                "the metadata-aware neck needs exactly one data sample per image"
            )
        x = self.backbone(batch_inputs)
        if self.with_neck:
            x = forward_neck(self.neck, x, samples)
        return x

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList) -> dict | list:
        with self.data_samples_in_scope(batch_data_samples):
            return super().loss(batch_inputs, batch_data_samples)

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList, rescale: bool = True) -> SampleList:
        with self.data_samples_in_scope(batch_data_samples):
            return super().predict(batch_inputs, batch_data_samples, rescale=rescale)

    def _forward(self, batch_inputs: Tensor, batch_data_samples: OptSampleList = None) -> Any:
        with self.data_samples_in_scope(batch_data_samples):
            return super()._forward(batch_inputs, batch_data_samples)

    @property
    def needs_data_samples(self) -> bool:
        """Whether this detector's neck conditions on the data samples' metadata."""
        return neck_needs_data_samples(getattr(self, "neck", None))


@MODELS.register_module()
class MetaTwoStageDetector(MetadataAwareMixin, TwoStageDetector):
    """mmdet ``TwoStageDetector`` whose neck receives the batch data samples (AuxDet's detector).

    Takes exactly ``TwoStageDetector``'s arguments; RPN / RoI heads are chosen in the config
    (Cascade-RPN + Fast R-CNN head for AuxDet; Faster, Cascade, Dynamic, Grid, Libra R-CNN, SABL).
    """


@MODELS.register_module()
class MetaSingleStageDetector(MetadataAwareMixin, SingleStageDetector):
    """mmdet ``SingleStageDetector`` whose neck receives the batch data samples (e.g. RetinaNet)."""



# --------------------------------------------------------------------------------------------------
# Helpers: configs, CPU-size models, demo batches
# --------------------------------------------------------------------------------------------------


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


def load_config(cfg: str | Path | Config, cfg_options: Mapping[str, Any] | None = None) -> Config:
    """Load a config by path or name (see :func:`config_path`); ``cfg_options`` as mmengine's ``--cfg-options``."""
    if isinstance(cfg, Config):
        cfg = copy.deepcopy(cfg)
    else:
        with _cached_external_configs():
            cfg = Config.fromfile(str(config_path(cfg)))
    if cfg_options:
        cfg.merge_from_dict(dict(cfg_options))
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
        cfg = load_config(cfg)
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
