"""Prediction: one image, sliding-window tiles of large images, counterfactual metadata.

* :class:`Predictor` — a trained detector (config + checkpoint) that maps an ``H×W×3 uint8`` image
  and its :class:`~auxdet.metadata.ImageMeta` to :class:`~auxdet.engine.tiling.Detections` (boxes in
  image pixels, scores). The image goes through the config's test pipeline (resize, normalisation)
  with the metadata in the data sample, exactly as in evaluation; ``tile=`` runs it window by window
  (:mod:`auxdet.engine.tiling`, which holds ``Detections`` and the tiling functions).
* :func:`counterfactual` — the same image under every platform × band of the vocabulary, and how the
  detections change with respect to the image's actual metadata (a table). It takes any
  ``predict_fn`` callable, so it is independent of mmdet and testable with a fake model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from auxdet.engine.tiling import Detections, TilingError, predict_tiled, tile_windows
from auxdet.evaluation.matching import greedy_iou_match
from auxdet.fileio import atomic_path, atomic_write_text
from auxdet.metadata import ImageMeta, MetadataError, Vocabulary

__all__ = [
    "Predictor",
    "counterfactual",
    "draw_detections",
    "read_meta_json",
    "resolve_image_meta",
    "write_prediction",
    # re-exported from auxdet.engine.tiling for the CLI
    "Detections",
    "TilingError",
    "tile_windows",
]


# --------------------------------------------------------------------------- counterfactual
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
        match = greedy_iou_match(reference.boxes, dets.boxes, reference.scores, iou_thr)
        deltas = (dets.scores[match[match >= 0]] - reference.scores[match >= 0]).astype(np.float64)
        kept = len(deltas)
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
            "mean_score_change": float(np.mean(deltas)) if kept else float("nan"),
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
    (:func:`auxdet.data.statistics.read_statistics`, matched on the file stem), a metadata JSON (one
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
        config: config path or name (see :func:`auxdet.engine.config.config_path`).
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
        from auxdet.engine.config import read_config
        from auxdet.engine.runner import parse_cfg_options, register_modules

        checkpoint = Path(checkpoint)
        if not checkpoint.is_file():
            raise FileNotFoundError(f"checkpoint '{checkpoint}' not found")
        register_modules()
        cfg = read_config(config, parse_cfg_options(cfg_options))
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
