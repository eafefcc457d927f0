"""Neck-feature maps and Grad-CAM for mmdet detectors (the paper's Fig. 4, notebook 05).

Feature maps
    :func:`neck_features` runs backbone + neck of a detector on a preprocessed batch (the metadata-aware
    neck gets the data samples); :func:`channel_activation` aggregates a ``[B, C, H, W]`` map over its
    channels (``mean_abs``: mean |x|, the default; ``l2``; ``max_abs``; ``mean``) and
    :func:`to_image_frame` brings a map on the padded batch grid back to the original image's pixels
    (crop the padding, undo the resize), so that target masks can be drawn on it.

Grad-CAM (the ``grad-cam`` package, :mod:`pytorch_grad_cam`)
    The package expects ``model(input_tensor)`` to return one output per image and a *target* callable
    turning that output into a scalar. An mmdet detector needs its data samples (metadata, image
    shapes) and returns post-processed detections whose scores come out of NMS without gradient, so
    :class:`DetectionScoreModel` adapts it: it holds the data samples, and its ``forward(inputs)``
    returns for each image the ``top_k`` highest *detection scores before NMS* (``source='roi'``: the
    RoI head's foreground probability of every RPN proposal — the detections are a subset of these) or
    the ``top_k`` highest RPN objectness scores (``source='rpn'``), as a differentiable ``[B, top_k]``
    tensor. :class:`TopScoresTarget` sums the first ``k`` of them. :func:`target_layers` names the neck
    layers one can explain (``out0`` = the stride-4 output conv, ``lateral0``, ``leem0`` …) and
    :func:`grad_cam` runs ``pytorch_grad_cam.GradCAM`` with them.

Metadata counterfactuals
    :func:`with_metadata` (from :mod:`auxdet.analysis.metadata_use`, which also measures how much a
    model's gates and features change under swapped metadata) copies data samples with another
    platform / band (same image, same size).

Plots: :func:`plot_feature_rows` (an image row with target masks outlined in white, then one row of
maps per model) and :func:`plot_counterfactual` (images under true and counterfactual metadata, one
row each: detections, feature maps on a shared scale, their signed difference).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import Tensor, nn

from auxdet.analysis.metadata_use import with_metadata
from auxdet.metadata import ImageMeta

__all__ = [
    "REDUCTIONS",
    "SCORE_SOURCES",
    "DetectionScoreModel",
    "TopScoresTarget",
    "channel_activation",
    "grad_cam",
    "neck_features",
    "neck_intermediates",
    "normalise",
    "plot_counterfactual",
    "plot_feature_rows",
    "prepare_batch",
    "target_layers",
    "to_image_frame",
    "with_metadata",
]

#: channel aggregations of :func:`channel_activation`
REDUCTIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "mean_abs": lambda x: x.abs().mean(dim=1),
    "l2": lambda x: x.pow(2).sum(dim=1).sqrt(),
    "max_abs": lambda x: x.abs().amax(dim=1),
    "mean": lambda x: x.mean(dim=1),
}
#: where :class:`DetectionScoreModel` reads its scores
SCORE_SOURCES: tuple[str, ...] = ("roi", "rpn")


# --------------------------------------------------------------------------- batches
def prepare_batch(predictor: Any, images: Sequence[np.ndarray], metas: Sequence[ImageMeta]) -> tuple[Tensor, list]:
    """A preprocessed batch ``(inputs, data_samples)`` for a :class:`auxdet.engine.inference.Predictor`.

    Each image (``H×W`` grey or ``H×W×3`` uint8) goes through the predictor's test pipeline (resize,
    packing with its metadata) and the model's data preprocessor (normalisation, padding), exactly as
    in :meth:`Predictor.predict_array`.
    """
    import cv2

    if len(images) != len(metas):
        raise ValueError(f"{len(images)} images but {len(metas)} metadata records")
    inputs, samples = [], []
    for i, (image, meta) in enumerate(zip(images, metas, strict=True)):
        image = np.asarray(image)
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"image {i}: expected H×W or H×W×3, got shape {image.shape}")
        if (meta.width, meta.height) != (image.shape[1], image.shape[0]):
            raise ValueError(f"image {i}: metadata size {meta.width}×{meta.height} differs from the image "
                             f"{image.shape[1]}×{image.shape[0]}")
        packed = predictor.pipeline(dict(img=image, img_id=str(i), platform=meta.platform, band=meta.band,
                                         width=int(meta.width), height=int(meta.height)))
        inputs.append(packed["inputs"])
        samples.append(packed["data_samples"])
    data = predictor.model.data_preprocessor(dict(inputs=inputs, data_samples=samples), False)
    return data["inputs"], data["data_samples"]


# --------------------------------------------------------------------------- feature maps
def neck_features(model: nn.Module, inputs: Tensor, data_samples: Sequence[Any]) -> tuple[Tensor, ...]:
    """The neck outputs of ``model`` (``MetaTwoStageDetector`` / any mmdet detector) for a batch, no grad."""
    with torch.no_grad():
        try:
            return tuple(model.extract_feat(inputs, list(data_samples)))
        except TypeError:  # a plain mmdet detector: extract_feat(batch_inputs) only
            return tuple(model.extract_feat(inputs))


def neck_intermediates(model: nn.Module, inputs: Tensor, data_samples: Sequence[Any]) -> tuple[tuple, dict]:
    """``(outputs, record)`` of an ``AuxFPN`` neck's ``forward_with_intermediates`` (laterals before the
    modules, M2DM / LEEM intermediates, fused laterals), no grad."""
    neck = getattr(model, "neck", None)
    if not hasattr(neck, "forward_with_intermediates"):
        raise ValueError(f"the neck {type(neck).__name__} has no forward_with_intermediates (an AuxFPN has)")
    with torch.no_grad():
        return neck.forward_with_intermediates(model.backbone(inputs), list(data_samples))


def channel_activation(feature: Tensor, reduce: str = "mean_abs") -> Tensor:
    """Aggregate ``[B, C, H, W]`` (or ``[C, H, W]``) over channels → ``[B, H, W]`` (or ``[H, W]``)."""
    if reduce not in REDUCTIONS:
        raise ValueError(f"unknown channel reduction {reduce!r}; valid: {list(REDUCTIONS)}")
    if feature.dim() == 3:
        return REDUCTIONS[reduce](feature[None])[0]
    if feature.dim() != 4:
        raise ValueError(f"expected a [B, C, H, W] or [C, H, W] feature map, got shape {tuple(feature.shape)}")
    return REDUCTIONS[reduce](feature)


def normalise(array: np.ndarray | Tensor) -> np.ndarray:
    """Min–max scaling to [0, 1] (a constant map becomes 0)."""
    a = np.asarray(array.detach().cpu() if isinstance(array, Tensor) else array, dtype=np.float32)
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def to_image_frame(map2d: np.ndarray | Tensor, sample: Any) -> np.ndarray:
    """A map on the padded batch grid (any resolution, e.g. a stride-4 feature map or a Grad-CAM of
    the input size) → the original image's pixels ``[ori_h, ori_w]``: stretch to the padded input
    size (``batch_input_shape``), crop the padding (``img_shape``), resize to ``ori_shape``."""
    m = torch.as_tensor(np.asarray(map2d.detach().cpu() if isinstance(map2d, Tensor) else map2d),
                        dtype=torch.float32)
    if m.dim() != 2:
        raise ValueError(f"expected a 2-D map, got shape {tuple(m.shape)}")
    meta = sample.metainfo
    pad_h, pad_w = meta.get("batch_input_shape", meta.get("pad_shape", meta["img_shape"]))[:2]
    img_h, img_w = meta["img_shape"][:2]
    ori_h, ori_w = meta["ori_shape"][:2]
    m = F.interpolate(m[None, None], size=(int(pad_h), int(pad_w)), mode="bilinear", align_corners=False)
    m = m[..., : int(img_h), : int(img_w)]
    m = F.interpolate(m, size=(int(ori_h), int(ori_w)), mode="bilinear", align_corners=False)
    return m[0, 0].numpy()


# --------------------------------------------------------------------------- Grad-CAM adapter
def target_layers(model: nn.Module) -> dict[str, nn.Module]:
    """Neck layers Grad-CAM can explain, by name: ``out<i>`` (output conv of FPN level ``i``; ``out0`` is
    the stride-4 output the heads read), ``lateral<i>`` (1×1 lateral conv) and, for an ``AuxFPN``,
    ``leem<i>`` (the LEEM module of level ``i``)."""
    neck = getattr(model, "neck", None)
    if neck is None or not hasattr(neck, "fpn_convs"):
        raise ValueError(f"{type(model).__name__} has no FPN-style neck (fpn_convs / lateral_convs)")
    layers: dict[str, nn.Module] = {}
    for i, conv in enumerate(neck.fpn_convs):
        layers[f"out{i}"] = conv
    for i, conv in enumerate(neck.lateral_convs):
        layers[f"lateral{i}"] = conv
    leem = getattr(neck, "leem", None)
    if leem is not None:
        for key, module in leem.items():
            layers[f"leem{key}"] = module
    return layers


class DetectionScoreModel(nn.Module):
    """Grad-CAM adapter: ``forward(inputs) -> [B, top_k]`` differentiable detection scores per image.

    Args:
        detector: an mmdet two-stage detector (RPN + a RoI head whose ``forward`` returns
            ``(cls_score, bbox_pred, …)``, e.g. ``StandardRoIHead``); ``source='rpn'`` also works for
            single-stage detectors (their dense head's classification maps).
        data_samples: the batch's data samples (metadata, image shapes), held for every call.
        source: ``'roi'`` — foreground probability of each RPN proposal by the RoI head (the scores of
            the detections before NMS); ``'rpn'`` — RPN objectness of every anchor (sigmoid).
        top_k: scores kept per image, highest first (padded with zeros if fewer).
        logits: return log-odds (``log p / (1 - p)``: the sigmoid logit, or foreground minus background
            logit of a softmax head) instead of probabilities. Same ranking, but no saturation: a
            barely trained head whose probabilities are all ≈ 0 still gives usable gradients (as
            Grad-CAM for classifiers explains logits, not softmax outputs).
    """

    def __init__(self, detector: nn.Module, data_samples: Sequence[Any], source: str = "roi", top_k: int = 5,
                 logits: bool = True):
        super().__init__()
        if source not in SCORE_SOURCES:
            raise ValueError(f"unknown score source {source!r}; valid: {list(SCORE_SOURCES)}")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        if source == "roi" and not (hasattr(detector, "rpn_head") and hasattr(detector, "roi_head")):
            raise ValueError(f"source='roi' needs a two-stage detector; {type(detector).__name__} has no "
                             "rpn_head/roi_head (use source='rpn')")
        self.detector = detector
        self.data_samples = list(data_samples)
        self.source = source
        self.top_k = int(top_k)
        self.logits = bool(logits)

    def _features(self, inputs: Tensor) -> tuple[Tensor, ...]:
        try:
            return tuple(self.detector.extract_feat(inputs, self.data_samples))
        except TypeError:
            return tuple(self.detector.extract_feat(inputs))

    def _rpn_scores(self, feats: tuple[Tensor, ...]) -> list[Tensor]:
        head = self.detector.rpn_head if hasattr(self.detector, "rpn_head") else self.detector.bbox_head
        if hasattr(head, "stages"):  # mmdet CascadeRPNHead: the stage loop of its predict()
            metas = [s.metainfo for s in self.data_samples]
            sizes = [f.shape[-2:] for f in feats]
            anchors, _ = head.stages[0].get_anchors(sizes, metas, device=feats[0].device)
            x, cls_scores = feats, None
            for i, stage in enumerate(head.stages):
                offsets = (stage.anchor_offset(anchors, stage.anchor_strides, sizes)
                           if stage.adapt_cfg["type"] == "offset" else None)
                x, cls_scores, bbox_pred = stage(x, offsets)
                if i < len(head.stages) - 1:
                    anchors = stage.refine_bboxes(anchors, bbox_pred, metas)
            sigmoid = head.stages[-1].use_sigmoid_cls
        else:
            cls_scores = head(feats)[0]
            sigmoid = getattr(head, "use_sigmoid_cls", True)
        if not sigmoid:
            raise ValueError(f"{type(head).__name__} uses softmax objectness; source='rpn' supports sigmoid heads")
        per_image = [torch.cat([level[b].flatten() for level in cls_scores]) for b in range(feats[0].shape[0])]
        return per_image if self.logits else [s.sigmoid() for s in per_image]

    def _roi_scores(self, feats: tuple[Tensor, ...]) -> list[Tensor]:
        with torch.no_grad():  # proposals are boxes (no gradient in mmdet either)
            proposals = self.detector.rpn_head.predict(feats, self.data_samples, rescale=False)
        cls_score = self.detector.roi_head.forward(feats, proposals, self.data_samples)[0]
        bbox_head = self.detector.roi_head.bbox_head
        if getattr(bbox_head, "custom_cls_channels", False) or getattr(bbox_head.loss_cls, "use_sigmoid", False):
            fg = cls_score[:, : bbox_head.num_classes]
            fg = fg if self.logits else fg.sigmoid()
        elif self.logits:  # softmax over (classes, background): log-odds of each class vs background
            fg = cls_score[:, :-1] - cls_score[:, -1:]
        else:
            fg = F.softmax(cls_score, dim=-1)[:, :-1]  # the last column is the background
        fg = fg.amax(dim=-1)
        return list(fg.split([len(p) for p in proposals]))

    def forward(self, inputs: Tensor) -> Tensor:
        """``[B, top_k]``: each image's highest scores, in decreasing order (missing ones: 0)."""
        if inputs.shape[0] != len(self.data_samples):
            raise ValueError(f"{inputs.shape[0]} images but {len(self.data_samples)} data samples held")
        feats = self._features(inputs)
        per_image = self._rpn_scores(feats) if self.source == "rpn" else self._roi_scores(feats)
        rows = []
        for scores in per_image:
            top = scores.topk(min(self.top_k, scores.numel())).values
            rows.append(F.pad(top, (0, self.top_k - top.numel())))
        return torch.stack(rows)


class TopScoresTarget:
    """Grad-CAM target: the sum of the first ``k`` scores of one image's :class:`DetectionScoreModel`
    output (its ``k`` best detections)."""

    def __init__(self, k: int = 5) -> None:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = int(k)

    def __call__(self, model_output: Tensor) -> Tensor:
        return model_output[..., : self.k].sum()


def grad_cam(
    model: nn.Module,
    inputs: Tensor,
    data_samples: Sequence[Any],
    *,
    layer: str | nn.Module = "out0",
    source: str = "roi",
    top_k: int = 5,
    logits: bool = True,
) -> np.ndarray:
    """Grad-CAM maps ``[B, H, W]`` (input size, values in [0, 1]) of the top-``top_k`` detection scores
    (log-odds by default, see :class:`DetectionScoreModel`) with respect to a neck layer (a name of
    :func:`target_layers` or a module), via ``pytorch_grad_cam.GradCAM`` + :class:`DetectionScoreModel`
    + :class:`TopScoresTarget`. Grad-CAM keeps only the positive evidence (ReLU): a map that is 0
    everywhere means the layer's gradient-weighted channels only lower the scores."""
    from pytorch_grad_cam import GradCAM

    if isinstance(layer, str):
        layers = target_layers(model)
        if layer not in layers:
            raise ValueError(f"unknown Grad-CAM layer {layer!r}; valid: {list(layers)}")
        layer = layers[layer]
    was_training = model.training
    wrapper = DetectionScoreModel(model, data_samples, source=source, top_k=top_k, logits=logits)
    try:
        with torch.enable_grad(), GradCAM(model=wrapper, target_layers=[layer]) as cam:
            maps = cam(input_tensor=inputs, targets=[TopScoresTarget(top_k)] * inputs.shape[0])
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return np.asarray(maps, dtype=np.float32)


# --------------------------------------------------------------------------- plots
def _grey(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    return image.mean(axis=-1) if image.ndim == 3 else image


def _bare(ax: Any) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def plot_feature_rows(
    images: Sequence[np.ndarray],
    rows: Mapping[str, Sequence[np.ndarray]],
    masks: Sequence[np.ndarray | None] | None = None,
    *,
    titles: Sequence[str] | None = None,
    cmap: str = "inferno",
    overlay: bool = False,
    suptitle: str | None = None,
    panel_size: float = 2.4,
) -> Figure:
    """A grid: the images (top row, grey), then one row per model of maps in the images' frame.

    ``rows``: model name → one map per image (same size as the image, e.g. from :func:`to_image_frame`),
    min–max scaled per panel to [0, 1] (one colour bar for all). ``masks`` (binary, image size) are
    outlined in white on every panel. ``overlay=True`` blends the maps over the image (Grad-CAM style).
    """
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    n = len(images)
    if any(len(maps) != n for maps in rows.values()):
        raise ValueError(f"every row needs {n} maps, got {[len(m) for m in rows.values()]}")
    masks = list(masks) if masks is not None else [None] * n
    fig, axes = plt.subplots(1 + len(rows), n, figsize=(panel_size * n + 0.8, panel_size * (1 + len(rows))),
                             squeeze=False, layout="constrained")  # fmt: skip
    for j, image in enumerate(images):
        grey = _grey(image)
        axes[0, j].imshow(grey, cmap="gray")
        if titles is not None:
            axes[0, j].set_title(titles[j], fontsize=9)
        for i, maps in enumerate(rows.values(), start=1):
            if overlay:
                axes[i, j].imshow(grey, cmap="gray")
            axes[i, j].imshow(normalise(maps[j]), cmap=cmap, vmin=0, vmax=1, alpha=0.55 if overlay else 1.0)
        for i in range(1 + len(rows)):
            if masks[j] is not None and np.any(masks[j]):
                axes[i, j].contour(np.asarray(masks[j]) > 0, levels=[0.5], colors="white", linewidths=0.9)
            _bare(axes[i, j])
    axes[0, 0].set_ylabel("image", fontsize=9)
    for i, name in enumerate(rows, start=1):
        axes[i, 0].set_ylabel(name, fontsize=9)
    bar = fig.colorbar(ScalarMappable(Normalize(0, 1), cmap), ax=axes[1:, :].ravel().tolist(), shrink=0.8)
    bar.set_label("min–max scaled per panel", fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig


def _draw_boxes(ax: Any, boxes: np.ndarray, color: str, ls: str = "-") -> None:
    from matplotlib.patches import Rectangle

    for x1, y1, x2, y2 in np.asarray(boxes, dtype=float).reshape(-1, 4):
        ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, ec=color, lw=1.2, ls=ls))


def plot_counterfactual(cases: Sequence[Mapping[str, Any]], *, cmap: str = "inferno",
                        suptitle: str | None = None) -> Figure:  # fmt: skip
    """One row per case — an image under its true and under counterfactual metadata.

    Each case: ``image``, ``labels`` (true, counterfactual metadata, e.g. ``('Space/SWIR', 'Space/NIR')``),
    ``maps`` (two feature maps in the image frame), optional ``detections`` (two objects with ``boxes``,
    drawn in red), ``gt_boxes`` (dashed lime) and ``mask`` (outlined in white). Columns: the image with
    its detections under each metadata, the two maps on one shared scale (colour bar), and their
    difference (counterfactual − true) on a diverging scale centred at 0 (colour bar).
    """
    import matplotlib.pyplot as plt

    if not cases:
        raise ValueError("plot_counterfactual needs at least one case")
    fig, axes = plt.subplots(len(cases), 5, figsize=(13.5, 2.7 * len(cases)), squeeze=False, layout="constrained")
    for row, case in zip(axes, cases, strict=True):
        true_label, cf_label = case["labels"]
        maps = [np.asarray(m, dtype=float) for m in case["maps"]]
        dets = case.get("detections") or (None, None)
        for k, label in enumerate((true_label, cf_label)):
            row[k].imshow(_grey(case["image"]), cmap="gray")
            if case.get("gt_boxes") is not None:
                _draw_boxes(row[k], case["gt_boxes"], "lime", ls="--")
            if dets[k] is not None:
                _draw_boxes(row[k], dets[k].boxes, "red")
            count = f" — {len(np.asarray(dets[k].boxes).reshape(-1, 4))} det." if dets[k] is not None else ""
            row[k].set_title(f"image, told {label}{count}", fontsize=8)
        top = max(float(m.max()) for m in maps) or 1.0
        for k, label in enumerate((true_label, cf_label)):
            im = row[2 + k].imshow(maps[k], cmap=cmap, vmin=0, vmax=top)
            row[2 + k].set_title(f"features, told {label}", fontsize=8)
        fig.colorbar(im, ax=row[2:4].tolist(), shrink=0.85)
        diff = maps[1] - maps[0]
        bound = float(np.abs(diff).max()) or 1.0
        im = row[4].imshow(diff, cmap="RdBu_r", vmin=-bound, vmax=bound)
        row[4].set_title(f"{cf_label} − {true_label}", fontsize=8)
        fig.colorbar(im, ax=row[4], shrink=0.85)
        for ax in row:
            if case.get("mask") is not None and np.any(case["mask"]):
                ax.contour(np.asarray(case["mask"]) > 0, levels=[0.5], colors="white", linewidths=0.8)
            _bare(ax)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig
