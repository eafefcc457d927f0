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

Configs and building a detector from one (``config_path``, ``read_config``, ``shrink_model_cfg``,
``build_detector``, ``demo_batch``) live in :mod:`auxdet.engine.config`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mmdet.models.detectors import SingleStageDetector, TwoStageDetector
from mmdet.registry import MODELS
from mmdet.structures import OptSampleList, SampleList
from torch import Tensor, nn

from auxdet.metadata import MetadataError

__all__ = [
    "MetaSingleStageDetector",
    "MetaTwoStageDetector",
    "MetadataAwareMixin",
    "forward_neck",
    "neck_needs_data_samples",
]


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
