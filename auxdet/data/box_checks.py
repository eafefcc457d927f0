"""Annotation boxes checked against their image when a dataset loads.

A box outside its image changes every metric silently (a trial: ``xmax=5000`` in a 128-px image moved
AP50 from 0.247 to 0.195), so :func:`fit_boxes_to_image` — called by the VOC reader
(:func:`auxdet.data.voc_io.parse_voc_xml`, hence ``VOCMetaDataset``) — accepts only boxes that lie in
the image:

* at most ``tolerance`` (1 px) outside: clipped to the image, with an
  :class:`~auxdet.errors.AuxdetWarning` naming the file (annotation tools round, and some put the
  right edge one pixel past the last column);
* further outside, non-finite, or empty (``x2 <= x1`` / ``y2 <= y1``, also after clipping):
  :class:`BoxError` naming the file, the object, its box as written in the file and the image size.

Boxes are mmdet's 0-based ``xyxy`` with exclusive right/bottom edges, valid when
``0 <= x1 < x2 <= width`` and ``0 <= y1 < y2 <= height``; messages show them in the file's own
convention (``offset``: +1 for this VOC layout, see :mod:`auxdet.data.voc_io`).
"""

from __future__ import annotations

import warnings

import numpy as np

from auxdet.errors import AuxdetWarning

__all__ = ["BOX_TOLERANCE", "BoxError", "fit_boxes_to_image"]

#: how far (pixels) a box may reach outside its image and still be clipped rather than refused
BOX_TOLERANCE = 1.0


class BoxError(ValueError):
    """An annotation box outside its image (beyond the tolerance), empty or non-finite."""


def _fmt_box(box: np.ndarray, offset: float) -> str:
    vals = [float(v) + offset for v in box]
    return "(" + ", ".join(f"{t} {v:g}" for t, v in zip(("xmin", "ymin", "xmax", "ymax"), vals, strict=True)) + ")"


def fit_boxes_to_image(
    boxes: np.ndarray,
    width: float,
    height: float,
    source: str,
    *,
    tolerance: float = BOX_TOLERANCE,
    offset: float = 1.0,
) -> np.ndarray:
    """Return ``boxes`` ``[N, 4]`` clipped to a ``width × height`` image, or raise :class:`BoxError`.

    ``source`` names the file in messages (e.g. ``"annotation 'a/b.xml'"``); ``offset`` converts the
    0-based boxes back to the file's coordinates for the message (VOC layout: +1).
    """
    arr = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    if not len(arr):
        return arr
    size = f"the {width:g}×{height:g} image"
    valid = (f"valid: {offset:g} ≤ xmin < xmax ≤ {width + offset:g} and {offset:g} ≤ ymin < ymax ≤ "
             f"{height + offset:g}")
    for i, box in enumerate(arr):
        if not np.isfinite(box).all():
            raise BoxError(f"{source}: object {i} box {_fmt_box(box, offset)} is not finite")
        if box[2] <= box[0] or box[3] <= box[1]:
            raise BoxError(f"{source}: object {i} box {_fmt_box(box, offset)} is empty (xmax ≤ xmin or "
                           f"ymax ≤ ymin); {valid}")
        excess = float(max(-box[0], -box[1], box[2] - width, box[3] - height))
        if excess > tolerance:
            raise BoxError(f"{source}: object {i} box {_fmt_box(box, offset)} lies {excess:g} px outside {size} "
                           f"(more than the {tolerance:g} px that are clipped); {valid}")
    lo = np.zeros(2, np.float32)
    hi = np.array([width, height], np.float32)
    clipped = np.concatenate([np.clip(arr[:, :2], lo, hi), np.clip(arr[:, 2:], lo, hi)], axis=1)
    moved = (clipped != arr).any(axis=1)
    if moved.any():
        empty = (clipped[:, 2] <= clipped[:, 0]) | (clipped[:, 3] <= clipped[:, 1])
        if empty.any():
            i = int(np.flatnonzero(empty)[0])
            raise BoxError(f"{source}: object {i} box {_fmt_box(arr[i], offset)} lies outside {size} "
                           f"(nothing left after clipping); {valid}")
        excess = float(np.abs(clipped - arr).max())
        warnings.warn(f"{source}: {int(moved.sum())} box(es) up to {excess:g} px outside {size} clipped to it "
                      f"(e.g. object {int(np.flatnonzero(moved)[0])} {_fmt_box(arr[moved][0], offset)})",
                      AuxdetWarning, stacklevel=2)
    return clipped
