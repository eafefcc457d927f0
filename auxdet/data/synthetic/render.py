"""Rendering one synthetic image (background, targets, distractors, noise) and its metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from auxdet.data.domains import domain_key, sample_domain, sample_meta, sample_resolution
from auxdet.data.statistics import STATISTICS_COLUMNS
from auxdet.data.synthetic.config import SynthConfig, image_rng
from auxdet.data.synthetic.rules import LOOKS, place_blobs, plan_blobs
from auxdet.data.synthetic.scenes import background, band_noise, optics
from auxdet.metadata import ImageMeta, MetadataError


def render_image(
    meta: ImageMeta,
    rng: np.random.Generator,
    *,
    target_scale: float = 1.0,
    config: SynthConfig | None = None,
    scene: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Render one image of ``meta``'s domain at ``meta.width × meta.height``.

    ``scene`` — a *decoupled* scene (the ambiguity knob): the domain key (``'platform/band'``) whose
    background and sensor noise render the image, every blob placed anywhere; the targets and
    distractors still follow ``meta``'s domain. ``None``: the domain's own scene and placement rules.

    ``target_scale`` — linear factor from native to rendered target size (see :class:`SynthConfig`);
    ``config`` supplies ``empty_prob``, ``distractors`` and ``min_target_area`` (its size fields are
    ignored here). Returns ``(image uint8 [H, W], mask uint8 [H, W] in {0, 1} (targets only),
    boxes float32 [N, 4] mmdet 0-based xyxy with exclusive x2/y2 — one per mask component, info)``;
    ``info`` has ``targets`` / ``distractors`` (look, polarity, amplitude, area, center, box),
    ``dropped`` (blobs that found no room), ``empty``, ``noise``, ``target_scale``, ``scene`` and
    ``decoupled``.
    """
    cfg = config or SynthConfig()
    key = domain_key(meta.platform, meta.band)
    if int(meta.width) < 8 or int(meta.height) < 8:
        raise ValueError(f"render_image: image size must be at least 8x8, got {meta.width}x{meta.height}")
    if key not in LOOKS:
        raise MetadataError(
            f"no synthetic model for domain platform={meta.platform!r}, band={meta.band!r}; "
            f"valid (platform/band): {list(LOOKS)}"
        )
    if scene is not None and scene not in LOOKS:
        raise MetadataError(f"render_image: unknown scene {scene!r}; valid (platform/band): {list(LOOKS)}")
    targets, distractors, empty = plan_blobs(meta, rng, target_scale, cfg)
    scene_meta = meta
    if scene is not None:  # decoupled: the scene says nothing about the domain
        platform, band = scene.split("/")
        scene_meta = ImageMeta(platform, band, meta.width, meta.height)
        for b in targets + distractors:
            b.region = "everywhere"
    bg, regions = background(rng, scene_meta)
    bg = optics(bg)
    regions = dict(regions)
    regions["everywhere"] = np.ones(bg.shape, bool)
    regions.setdefault("fallback", regions["everywhere"])
    occupied: list[tuple[int, int, int, int]] = []
    dropped = place_blobs(rng, targets, bg, regions, occupied) + place_blobs(rng, distractors, bg, regions, occupied)
    img = bg.copy()
    mask = np.zeros(bg.shape, np.uint8)
    placed_t = [b for b in targets if b.y0 >= 0]
    placed_d = [b for b in distractors if b.y0 >= 0]
    for b in placed_t + placed_d:
        ph, pw = b.profile.shape
        img[b.y0 : b.y0 + ph, b.x0 : b.x0 + pw] += b.amplitude * b.profile
        if b.kind == "target":
            mask[b.y0 : b.y0 + ph, b.x0 : b.x0 + pw] |= b.mask.astype(np.uint8)
    img, noise = band_noise(rng, img, scene_meta.band)
    out = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
    boxes = np.stack([b.box() for b in placed_t]) if placed_t else np.zeros((0, 4), np.float32)
    info = {
        "domain": key,
        "scene": domain_key(scene_meta.platform, scene_meta.band),
        "decoupled": scene is not None,
        "empty": empty,
        "target_scale": float(target_scale),
        "targets": [b.record() for b in placed_t],
        "distractors": [b.record() for b in placed_d],
        "dropped": [{"kind": b.kind, "look": b.look, "area": b.area} for b in dropped],
        "noise": noise,
    }
    return out, mask, boxes, info


@dataclass
class SyntheticSample:
    """One generated image with its (rendered-size) metadata, native metadata, mask, boxes and info."""

    image_id: str
    index: int
    meta: ImageMeta
    native_meta: ImageMeta
    image: np.ndarray
    mask: np.ndarray
    boxes: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def _image_id(index: int) -> str:
    return f"{index:05d}"


def _metas(
    index: int, seed: int, cfg: SynthConfig
) -> tuple[np.random.Generator, ImageMeta, ImageMeta, float, str | None]:
    """``(rng, native meta, rendered meta, target scale, decoupled scene or None)`` of image ``index``.

    The domain and its native resolution are drawn first (the same draws whatever the ambiguity, so
    ``ambiguity=0`` reproduces the generator without the knob); with probability ``cfg.ambiguity`` a
    scene domain is then drawn from the same mix and the native resolution is redrawn from *its*
    resolutions: the recorded size then no longer tells the domain either.
    """
    rng = image_rng(seed, index)
    native = sample_meta(rng, mix=cfg.domain_mix)
    scene = None
    if cfg.ambiguity > 0 and rng.random() < cfg.ambiguity:
        scene = sample_domain(rng, cfg.domain_mix)
        w, h = sample_resolution(rng, scene)
        native = ImageMeta(native.platform, native.band, w, h)
    w, h, ts = cfg.rendered_size(native.width, native.height)
    return rng, native, ImageMeta(native.platform, native.band, w, h), ts, scene


def generate_sample(index: int, seed: int = 0, config: SynthConfig | None = None) -> SyntheticSample:
    """Image ``index`` of the synthetic dataset with ``seed`` — identical to the one in a generated dataset."""
    cfg = config or SynthConfig()
    rng, native, meta, ts, scene = _metas(index, seed, cfg)
    img, mask, boxes, info = render_image(meta, rng, target_scale=ts, config=cfg, scene=scene)
    info["native_size"] = (native.width, native.height)
    return SyntheticSample(_image_id(index), index, meta, native, img, mask, boxes, info)


def synthetic_metadata_table(
    num_images: int = 2000, seed: int = 0, config: SynthConfig | None = None
) -> pd.DataFrame:
    """The synthetic dataset's metadata as a DataFrame with the columns of WideIRSTD's ``statistics.txt``.

    ``id, platform, band, width, height, target_area`` (rendered size and rendered target pixel area;
    with the default config these are native sizes, comparable with the real table). Cheap: draws the
    metadata and target shapes of each image without rendering backgrounds. Notebooks fall back to it
    when the real table is absent. (A target that finds no room when rendered — rare — would be counted
    here but absent from the image.)
    """
    cfg = config or SynthConfig()
    rows = []
    for i in range(int(num_images)):
        rng, _, meta, ts, _ = _metas(i, seed, cfg)
        targets, _, _ = plan_blobs(meta, rng, ts, cfg)
        rows.append((_image_id(i), meta.platform, meta.band, meta.width, meta.height, sum(b.area for b in targets)))
    df = pd.DataFrame(rows, columns=list(STATISTICS_COLUMNS))
    return df.astype({"width": "int64", "height": "int64", "target_area": "int64"})

