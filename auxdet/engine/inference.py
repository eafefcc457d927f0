"""Prediction: one image, sliding-window tiles of large images, counterfactual metadata.

* :class:`Predictor` — a trained detector (config + checkpoint) that maps an ``H×W×3 uint8`` image
  and its :class:`~auxdet.metadata.ImageMeta` to :class:`Detections` (boxes in image pixels, scores).
  The image goes through the config's test pipeline (resize, normalisation) with the metadata in
  the data sample, exactly as in evaluation.
* Tiling (:func:`tile_windows`, :func:`predict_tiled`) — large images are cut into overlapping
  windows processed **one at a time** (only one tile ever reaches the model, so peak memory is
  bounded by the tile size), each with the metadata of the *whole* image (``width``/``height`` =
  full image size: the resolution embedding of Eq. 3 describes the sensor frame, not the crop).
  Boxes are shifted back to image pixels, boxes cut by an interior tile border are dropped (the
  overlap guarantees that a target smaller than it lies whole in a neighbouring tile), and the rest
  are merged with class-wise NMS (``torchvision.ops.batched_nms``): a target on a tile border is
  reported once.
* :func:`counterfactual` — the same image under every platform × band of the vocabulary, and how the
  detections change with respect to the image's actual metadata (a table).

The tiling / merging / counterfactual functions take any ``predict_fn`` callable, so they are
independent of mmdet and testable with a fake model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torchvision.ops import batched_nms, box_iou

from auxdet.fileio import atomic_path, atomic_write_text
from auxdet.metadata import ImageMeta, MetadataError, Vocabulary

__all__ = [
    "Detections",
    "Predictor",
    "TilingError",
    "counterfactual",
    "draw_detections",
    "drop_cut_boxes",
    "merge_detections",
    "predict_tiled",
    "read_meta_json",
    "resolve_image_meta",
    "tile_windows",
    "write_prediction",
]

Window = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive), image pixels


class TilingError(ValueError):
    """Invalid tile size / overlap."""


# --------------------------------------------------------------------------- detections
@dataclass
class Detections:
    """Boxes ``[N, 4]`` (mmdet 0-based xyxy, image pixels), ``scores`` ``[N]``, ``labels`` ``[N]``."""

    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    scores: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, np.float32).reshape(-1, 4)
        self.scores = np.asarray(self.scores, np.float32).reshape(-1)
        n = len(self.boxes)
        if self.labels is None or (len(self.labels) == 0 and n):
            self.labels = np.zeros(n, np.int64)  # one class
        self.labels = np.asarray(self.labels, np.int64).reshape(-1)
        if len(self.scores) != n or len(self.labels) != n:
            raise ValueError(f"Detections: {n} boxes, {len(self.scores)} scores, {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.boxes)

    def select(self, keep: np.ndarray | Sequence[int] | Sequence[bool]) -> Detections:
        keep = np.asarray(keep)
        return Detections(self.boxes[keep], self.scores[keep], self.labels[keep])

    def above(self, score_thr: float) -> Detections:
        """Detections with ``score >= score_thr``, best first."""
        keep = np.flatnonzero(self.scores >= score_thr)
        return self.select(keep[np.argsort(-self.scores[keep], kind="stable")])

    def shifted(self, dx: float, dy: float) -> Detections:
        return Detections(self.boxes + np.array([dx, dy, dx, dy], np.float32), self.scores, self.labels)

    @staticmethod
    def concat(parts: Iterable[Detections]) -> Detections:
        parts = list(parts)
        if not parts:
            return Detections()
        return Detections(np.concatenate([p.boxes for p in parts]), np.concatenate([p.scores for p in parts]),
                          np.concatenate([p.labels for p in parts]))

    def to_records(self, classes: Sequence[str] | None = None) -> list[dict[str, Any]]:
        out = []
        for box, score, label in zip(self.boxes, self.scores, self.labels, strict=True):
            rec: dict[str, Any] = {"bbox": [round(float(v), 2) for v in box], "score": round(float(score), 5),
                                   "label": int(label)}
            if classes is not None and 0 <= label < len(classes):
                rec["class"] = classes[label]
            out.append(rec)
        return out


# --------------------------------------------------------------------------- tiling
def _starts(length: int, tile: int, stride: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)  # last window flush with the image border
    return starts


def tile_windows(width: int, height: int, tile: int, overlap: int) -> list[Window]:
    """Overlapping windows of at most ``tile × tile`` covering a ``width × height`` image.

    Neighbouring windows overlap by at least ``overlap`` pixels; the last row/column is flush with the
    image border. An image no larger than ``tile`` is a single window.
    """
    if tile <= 0:
        raise TilingError(f"tile size must be a positive number of pixels, got {tile}")
    if not 0 <= overlap < tile:
        raise TilingError(f"tile overlap must be in [0, tile={tile}), got {overlap}")
    stride = tile - overlap
    return [
        (x, y, min(x + tile, width), min(y + tile, height))
        for y in _starts(height, tile, stride)
        for x in _starts(width, tile, stride)
    ]


def drop_cut_boxes(
    dets: Detections, window: Window, width: int, height: int, overlap: int, margin: float = 2.0
) -> Detections:
    """Drop the boxes (image pixels) that touch an interior border of ``window`` — cut by the tile.

    A box within ``margin`` pixels of a window side that is not an image border is a truncated view of
    a target that a neighbouring window (overlapping by ``overlap``) sees whole — provided the box is
    no wider/taller than ``overlap - 2*margin``; larger boxes are kept (left to NMS).
    """
    if not len(dets):
        return dets
    x0, y0, x1, y1 = window
    b = dets.boxes
    limit = overlap - 2 * margin
    small_w, small_h = (b[:, 2] - b[:, 0]) <= limit, (b[:, 3] - b[:, 1]) <= limit
    cut = np.zeros(len(b), bool)
    if x0 > 0:
        cut |= (b[:, 0] <= x0 + margin) & small_w
    if y0 > 0:
        cut |= (b[:, 1] <= y0 + margin) & small_h
    if x1 < width:
        cut |= (b[:, 2] >= x1 - margin) & small_w
    if y1 < height:
        cut |= (b[:, 3] >= y1 - margin) & small_h
    return dets.select(~cut)


def merge_detections(dets: Detections, iou_thr: float = 0.5) -> Detections:
    """Class-wise NMS (``torchvision.ops.batched_nms``) of detections gathered from several tiles."""
    if len(dets) <= 1:
        return dets
    keep = batched_nms(torch.from_numpy(dets.boxes), torch.from_numpy(dets.scores),
                       torch.from_numpy(dets.labels), iou_thr)
    return dets.select(keep.numpy())


def predict_tiled(
    predict_fn: Callable[[np.ndarray], Detections],
    image: np.ndarray,
    tile: int,
    overlap: int,
    *,
    iou_thr: float = 0.5,
    edge_margin: float = 2.0,
    progress: bool = False,
    desc: str = "tiles",
) -> Detections:
    """Sliding-window prediction over ``image`` (``H×W×C``), one tile at a time.

    ``predict_fn(crop)`` returns detections in crop pixels; it is called once per window with a view
    of at most ``tile × tile`` pixels (the caller binds the whole image's metadata). Boxes are shifted
    to image pixels, cut boxes dropped (:func:`drop_cut_boxes`) and the rest merged by NMS.
    """
    height, width = image.shape[:2]
    windows = tile_windows(width, height, tile, overlap)
    if len(windows) == 1:
        return predict_fn(image)
    parts = []
    iterator: Iterable[Window] = windows
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(windows, desc=desc, unit="tile", leave=False)
    for win in iterator:
        x0, y0, x1, y1 = win
        dets = predict_fn(image[y0:y1, x0:x1]).shifted(x0, y0)
        parts.append(drop_cut_boxes(dets, win, width, height, overlap, edge_margin))
    return merge_detections(Detections.concat(parts), iou_thr)


# --------------------------------------------------------------------------- counterfactual
def _match(reference: Detections, other: Detections, iou_thr: float) -> tuple[int, list[float]]:
    """Greedy one-to-one matching by score; returns (#matched, score changes of the matched pairs)."""
    if not len(reference) or not len(other):
        return 0, []
    iou = box_iou(torch.from_numpy(reference.boxes), torch.from_numpy(other.boxes)).numpy()
    used = np.zeros(len(other), bool)
    deltas = []
    for i in np.argsort(-reference.scores, kind="stable"):
        cand = np.where(~used & (iou[i] >= iou_thr))[0]
        if len(cand):
            j = cand[np.argmax(iou[i, cand])]
            used[j] = True
            deltas.append(float(other.scores[j] - reference.scores[i]))
    return len(deltas), deltas


def counterfactual(
    predict_fn: Callable[[ImageMeta], Detections],
    meta: ImageMeta,
    vocabulary: Vocabulary | None = None,
    *,
    score_thr: float = 0.3,
    iou_thr: float = 0.5,
    progress: bool = False,
) -> pd.DataFrame:
    """Detections of one image under every platform × band, compared with its actual metadata.

    ``predict_fn(meta)`` predicts the image with the given metadata (same width/height). Columns:
    ``platform, band, actual`` (the image's own metadata), ``num_detections`` (score ≥ ``score_thr``),
    ``mean_score``, ``max_score``, ``kept`` / ``lost`` / ``new`` (matched at IoU ≥ ``iou_thr`` against
    the actual metadata's detections), ``mean_score_change`` of the kept ones.
    """
    vocab = vocabulary or Vocabulary()
    combos = list(product(vocab.platforms, vocab.bands))
    if (meta.platform, meta.band) not in combos:
        combos.insert(0, (meta.platform, meta.band))
    iterator: Iterable[tuple[str, str]] = combos
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(combos, desc="counterfactual", unit="meta", leave=False)
    results = {c: predict_fn(ImageMeta(c[0], c[1], meta.width, meta.height)).above(score_thr) for c in iterator}
    reference = results[(meta.platform, meta.band)]
    rows = []
    for (platform, band), dets in results.items():
        kept, deltas = _match(reference, dets, iou_thr)
        rows.append({
            "platform": platform,
            "band": band,
            "actual": (platform, band) == (meta.platform, meta.band),
            "num_detections": len(dets),
            "mean_score": float(dets.scores.mean()) if len(dets) else float("nan"),
            "max_score": float(dets.scores.max()) if len(dets) else float("nan"),
            "kept": kept,
            "lost": len(reference) - kept,
            "new": len(dets) - kept,
            "mean_score_change": float(np.mean(deltas)) if deltas else float("nan"),
        })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- metadata for files
def read_meta_json(path: str | os.PathLike) -> dict[str, Any]:
    """A metadata JSON: one object ``{"platform", "band"}`` for all images, or ``{image: {...}}``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"metadata JSON '{path}' not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise MetadataError(f"metadata JSON '{path}' is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise MetadataError(f"metadata JSON '{path}' must hold an object, got {type(data).__name__}")
    return data


def resolve_image_meta(
    image: str | os.PathLike,
    width: int,
    height: int,
    vocabulary: Vocabulary,
    *,
    platform: str | None = None,
    band: str | None = None,
    meta_json: Mapping[str, Any] | None = None,
    meta_table: pd.DataFrame | None = None,
) -> ImageMeta:
    """The metadata of one image file; width/height always come from the image itself.

    Sources, later ones overriding earlier ones field by field: a statistics table
    (:func:`auxdet.data.wideirstd.load_statistics`, matched on the file stem), a metadata JSON (one
    object for all images, or keyed by file name or stem), then ``platform``/``band``.
    """
    path = Path(image)
    found: dict[str, Any] = {}
    if meta_table is not None:
        rows = meta_table[meta_table["id"].astype(str) == path.stem]
        if len(rows):
            found.update(platform=str(rows.iloc[0]["platform"]), band=str(rows.iloc[0]["band"]))
    if meta_json:
        entry = meta_json.get(path.name, meta_json.get(path.stem, meta_json.get(str(image))))
        if entry is None and {"platform", "band"} & set(meta_json):
            entry = meta_json
        if isinstance(entry, Mapping):
            found.update({k: entry[k] for k in ("platform", "band") if k in entry})
    if platform is not None:
        found["platform"] = platform
    if band is not None:
        found["band"] = band
    missing = [k for k in ("platform", "band") if found.get(k) is None]
    if missing:
        raise MetadataError(
            f"image '{path}': no {' / '.join(missing)} metadata — give --platform and --band, "
            "--meta-json FILE or --meta-table statistics.txt (valid platforms: "
            f"{list(vocabulary.platforms)}, bands: {list(vocabulary.bands)})"
        )
    return vocabulary.parse(found["platform"], found["band"], width, height, str(path))


# --------------------------------------------------------------------------- outputs
def draw_detections(image: np.ndarray, dets: Detections, color: tuple[int, int, int] = (0, 255, 0)) -> np.ndarray:
    """A copy of ``image`` (``H×W×3`` BGR uint8) with boxes and scores drawn (line width ∝ image size)."""
    import cv2

    out = np.ascontiguousarray(image.copy())
    h, w = out.shape[:2]
    thick = max(1, round(min(h, w) / 400))
    font = max(0.35, min(h, w) / 900)
    for box, score in zip(dets.boxes, dets.scores, strict=True):
        x0, y0, x1, y1 = (round(float(v)) for v in box)
        cv2.rectangle(out, (x0, y0), (x1, y1), color, thick)
        cv2.putText(out, f"{score:.2f}", (x0, max(0, y0 - 3)), cv2.FONT_HERSHEY_SIMPLEX, font, color,
                    max(1, thick // 2), cv2.LINE_AA)
    return out


def write_prediction(
    out_dir: str | os.PathLike,
    image_path: str | os.PathLike,
    image: np.ndarray,
    meta: ImageMeta,
    dets: Detections,
    *,
    score_thr: float,
    extra: Mapping[str, Any] | None = None,
    classes: Sequence[str] | None = None,
    stem: str | None = None,
) -> tuple[Path, Path]:
    """Write ``<stem>.json`` (metadata + boxes + scores) and ``<stem>.png`` (annotated) to ``out_dir``, atomically.

    ``stem``: the output name (default: the image's file stem; see :mod:`auxdet.engine.output_names`).
    """
    import cv2

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = stem or Path(image_path).stem
    record = {
        "image": str(image_path),
        **meta.as_dict(),
        "score_thr": score_thr,
        **(dict(extra) if extra else {}),
        "num_detections": len(dets),
        "detections": dets.to_records(classes),
    }
    json_path, png_path = out_dir / f"{stem}.json", out_dir / f"{stem}.png"
    atomic_write_text(json_path, json.dumps(record, indent=2))
    with atomic_path(png_path) as tmp:
        if not cv2.imwrite(str(tmp), draw_detections(image, dets)):
            raise OSError(f"could not write '{png_path}'")
    return json_path, png_path


# --------------------------------------------------------------------------- the detector
class Predictor:
    """A trained detector for single images: ``Predictor(config, checkpoint)(image, meta)``.

    Args:
        config: config path or name (see :func:`auxdet.engine.runner.resolve_config`).
        checkpoint: a checkpoint of that config (its architecture is checked: a mismatch raises
            :class:`~auxdet.engine.checkpoint.CheckpointMismatchError`).
        device: ``'cpu'``, ``'cuda'``, ``'cuda:1'`` …
        cfg_options: config overrides (``KEY=VALUE`` strings or a dict).
    """

    def __init__(
        self,
        config: str | os.PathLike,
        checkpoint: str | os.PathLike,
        *,
        device: str = "cpu",
        cfg_options: Sequence[str] | Mapping[str, Any] | None = None,
    ) -> None:
        from mmengine.dataset import Compose
        from mmengine.registry import init_default_scope
        from mmengine.utils import import_modules_from_strings

        from auxdet.engine.checkpoint import load_weights
        from auxdet.engine.runner import parse_cfg_options, register_modules
        from auxdet.models.detector import load_config

        checkpoint = Path(checkpoint)
        if not checkpoint.is_file():
            raise FileNotFoundError(f"checkpoint '{checkpoint}' not found")
        register_modules()
        cfg = load_config(config, parse_cfg_options(cfg_options))
        if cfg.get("custom_imports"):
            import_modules_from_strings(**cfg.custom_imports)
        init_default_scope(cfg.get("default_scope", "mmdet"))
        from mmdet.registry import MODELS

        backbone = cfg.model.get("backbone") or {}
        if "init_cfg" in backbone:
            backbone.init_cfg = None  # weights come from the checkpoint; never download
        model = MODELS.build(cfg.model)
        ckpt = load_weights(model, checkpoint)
        model.cfg = cfg
        self.model = model.to(device).eval()
        self.cfg, self.device, self.checkpoint = cfg, device, checkpoint
        self.dataset_meta = dict((ckpt.get("meta") or {}).get("dataset_meta") or {})
        self.classes = tuple(self.dataset_meta.get("classes") or ("Target",))
        self.vocabulary = Vocabulary.from_config(_model_vocabulary(cfg.model))

        steps = [dict(s) for s in cfg.test_dataloader.dataset.pipeline]
        steps = [s for s in steps if not str(s.get("type", "")).endswith("LoadAnnotations")]
        resize = [s for s in steps if str(s.get("type", "")).endswith("Resize") and s.get("scale")]
        #: the model's input scale (``Resize`` of the test pipeline), e.g. ``(256, 256)``; None if absent
        self.input_scale: tuple[int, ...] | None = tuple(resize[0]["scale"]) if resize else None
        steps[0] = dict(type="mmdet.LoadImageFromNDArray")
        self.pipeline = Compose(steps)

    @torch.no_grad()
    def predict_array(self, image: np.ndarray, meta: ImageMeta, name: str = "image") -> Detections:
        """Detections of one image (or tile) ``H×W×3 uint8`` under ``meta`` — one forward pass."""
        data = dict(img=image, img_id=name, platform=meta.platform, band=meta.band,
                    width=int(meta.width), height=int(meta.height))
        packed = self.pipeline(data)
        batch = dict(inputs=[packed["inputs"]], data_samples=[packed["data_samples"]])
        pred = self.model.test_step(batch)[0].pred_instances
        return Detections(pred.bboxes.detach().cpu().numpy(), pred.scores.detach().cpu().numpy(),
                          pred.labels.detach().cpu().numpy())

    def predict(
        self,
        image: np.ndarray,
        meta: ImageMeta,
        *,
        tile: int | None = None,
        overlap: int = 64,
        iou_thr: float = 0.5,
        name: str = "image",
        progress: bool = False,
    ) -> Detections:
        """Detections of a whole image; ``tile`` > 0 enables sliding-window inference (see module doc)."""
        h, w = image.shape[:2]
        if (meta.width, meta.height) != (w, h):
            raise MetadataError(
                f"image '{name}': metadata size {meta.width}×{meta.height} differs from the image {w}×{h}"
            )
        if not tile:
            return self.predict_array(image, meta, name)
        return predict_tiled(lambda crop: self.predict_array(crop, meta, name), image, tile, overlap,
                             iou_thr=iou_thr, progress=progress, desc=f"tiles of {Path(name).name}")

    __call__ = predict


def _model_vocabulary(model_cfg: Mapping[str, Any]) -> Any:
    """The metadata vocabulary configured on the neck (``neck.metadata.vocabulary``), if any."""
    neck = model_cfg.get("neck")
    for part in neck if isinstance(neck, list) else [neck]:
        if isinstance(part, Mapping) and isinstance(part.get("metadata"), Mapping):
            return part["metadata"].get("vocabulary")
    return None
