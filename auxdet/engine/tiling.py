"""Detections of one image, and sliding-window tiling of large images.

* :class:`Detections` — boxes (mmdet 0-based xyxy, image pixels), scores, labels: what every
  prediction function of :mod:`auxdet.engine.inference` returns.
* Tiling (:func:`tile_windows`, :func:`predict_tiled`) — large images are cut into overlapping
  windows processed **one at a time** (only one tile ever reaches the model, so peak memory is
  bounded by the tile size), each with the metadata of the *whole* image (``width``/``height`` =
  full image size: the resolution embedding of Eq. 3 describes the sensor frame, not the crop).
  Boxes are shifted back to image pixels, boxes cut by an interior tile border are dropped (the
  overlap guarantees that a target smaller than it lies whole in a neighbouring tile), and the rest
  are merged with class-wise NMS (``torchvision.ops.batched_nms``): a target on a tile border is
  reported once.

The functions take any ``predict_fn`` callable, so they are independent of mmdet and testable with a
fake model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torchvision.ops import batched_nms

__all__ = [
    "Detections",
    "TilingError",
    "Window",
    "drop_cut_boxes",
    "merge_detections",
    "predict_tiled",
    "tile_windows",
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
