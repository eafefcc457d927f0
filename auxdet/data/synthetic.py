"""Synthetic omni-domain infrared small-target dataset — auxdet's embedded default (no download).

It mimics WideIRSTD-Full: image metadata (platform, band, resolution) and per-image target pixel area
are drawn from the real train split's mix baked in :mod:`auxdet.data.domains`; backgrounds, sensor noise
and targets are rendered per domain with physically motivated, numpy/OpenCV-vectorised models.

Rendering per platform (background) and band (sensor noise)
------------------------------------------------------------
* **Air** — sky seen from an aircraft: vertical LWIR gradient (cold zenith, warmer path near the
  horizon) + fractal clouds (warm in LWIR); in 30 % of images a ground band below a low horizon.
* **Land** — ground clutter (multi-octave fractal + field patches with sharp edges) below a tilted,
  undulating horizon; a tree line with a ragged top edge, buildings (sharp rectangular edges),
  a warm road; sky with light clouds above.
* **Space** — earth from orbit: dark sea, textured land (bright in NIR), bright fractal clouds; in
  30 % of images the curved earth limb with an airglow band and black space with faint stars.
* Every background goes through a small optical blur (MTF), targets are added, then band noise:
  **LWIR** fixed-pattern column/row offsets (stripe noise) + non-uniformity (vignetting) + temporal
  Gaussian noise; **NIR** signal-dependent shot noise + read noise; **SWIR** Gaussian noise, weak
  stripes and dead (0) / hot (255) single pixels.

Targets: PSF-blurred blobs ``I(r) = a·exp(-ln2 · r^(2p))`` on an ellipse (``r = 1`` at half maximum,
which is also the mask contour), ``p = 1`` (Gaussian PSF: points of 1–3 px) up to ``p = 2`` (flat-topped
*spot*/*extended* targets of tens to thousands of pixels). The per-image total target area is drawn from
the domain's real area distribution (``empty_fraction`` of images have none: 63.7 % of Space/NIR), split
over 1 / 2 / 3 targets (p = 0.80 / 0.15 / 0.05, an assumption: the table has no target count).

Metadata matters — the rules
----------------------------
Target *looks* (polarity, elongation) are tied to the domain, and the distractors of a domain are drawn
**from another domain's target look** (same polarity, same elongation range, that domain's size
distribution, the same peak-contrast range 0.08–0.30), so the same local pattern is a target in one
domain and clutter in another. A vision-only detector can only separate them through the surrounding
scene (which overlaps: Air images may show ground, Land images show sky); with the metadata the
rule is a lookup.

============  ===========================  =================================  ===========================================
domain        target (polarity, shape)     placed on                          distractors (look they copy, count, where)
============  ===========================  =================================  ===========================================
Air/LWIR      bright, round (1–1.5)        sky — hot engines vs cold sky      bright elongated blobs = Land/LWIR look,
                                                                              0–2, sky (birds, warm cloud fragments)
Land/LWIR     bright, elongated (1.2–2.5)  ground 80 % / sky 20 % — vehicles  bright round blobs = Air/LWIR look, 1–3,
                                           and people warmer than the         ground (lamps, hot vents, sun-lit roofs);
                                           ground (99.8 % of the real         dark round blobs = Space/SWIR look, 0–2,
                                           SIRST-V2 targets are bright)       ground (cold water, shadows)
Space/NIR     bright, elongated (1.5–4)    open sea — ships bright against    dark blobs = Space/SWIR look, 0–3, land or
                                           NIR-absorbing water                cloud (lakes, cloud gaps); bright round
                                                                              blobs = Air/LWIR look, 0–2, land (glints)
Space/SWIR    dark, round (1–1.6)          clouds — aircraft against bright   bright round blobs = Air/LWIR look, 1–4,
                                           SWIR cloud decks                   everywhere (stars, fires, hot pixels)
============  ===========================  =================================  ===========================================

So a small bright round blob is a target in Air/LWIR and clutter in Land/LWIR and Space/SWIR; a bright
elongated blob is a target in Land/LWIR (and Space/NIR) and clutter in Air/LWIR; a dark blob is a target
in Space/SWIR and clutter elsewhere: the platform decides within LWIR (shape), the band decides within
Space (polarity). Masks and boxes cover targets only. Polarity follows the real data where we have it:
the real SIRST-V2 Land/LWIR targets are bright (notebook 01), so the synthetic ones are too.

Sizes, scale and the recorded resolution
----------------------------------------
``SynthConfig(scale=…, max_size=…, size=…)`` renders smaller images for CPU runs: ``scale`` multiplies
the native size (0.25: 1024² → 256², 256² → 64²), ``max_size`` caps the longer side, ``size`` renders
every image as a fixed ``size × size`` square. Target sizes follow the same linear factor (with a
floor of ``min_target_area`` pixels so targets stay visible). ``min_target_scale`` floors that linear
factor for targets and distractors alike — a 1024² Space image shrunk 8× to 128² keeps its targets at
``min_target_scale`` of their native size instead of 1/8 (the image then looks like a wider field of
view at the same pixel scale for the targets). It keeps every domain's size *distribution* and the
ratios between domains, which a flat ``min_target_area`` floor would erase; CPU-size runs (the demo)
use it because a 70-px native target shrunk 64× in area is a single pixel no detector can box at IoU 0.5. The metadata (``ImageMeta``, XML
``<size>``, ``statistics.txt``) records the **rendered** size, because the resolution is metadata
*about the image the model sees*: mmdet takes ``ori_shape`` from the loaded file, the XML size must
agree with the PNG (``write_voc_annotation`` checks it), and a native size with no visual counterpart
would turn the resolution field into a hidden label rather than an imaging condition. The native size
is kept in ``info['native_size']`` and ``synthetic_info.csv``. With ``size`` every image has the same
resolution, so the resolution field then carries no information (platform and band still do).

Determinism: image ``index`` of a dataset with ``seed`` uses its own generator
``image_rng(seed, index)``, so any image can be regenerated alone (:func:`generate_sample`) and the
dataset does not depend on the order of generation.

Entry point: ``python -m auxdet.data.synthetic --out DIR --num N --seed S --scale X``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

import cv2
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from auxdet.data.domains import DOMAIN_STATS, STATISTICS_COLUMNS, domain_key, sample_meta, sample_target_area
from auxdet.data.voc_io import write_split, write_voc_annotation
from auxdet.metadata import ImageMeta, MetadataError

__all__ = [
    "DISTRACTORS",
    "GENERATOR_VERSION",
    "LOOKS",
    "Blob",
    "SynthConfig",
    "SyntheticSample",
    "generate_dataset",
    "generate_sample",
    "image_rng",
    "load_manifest",
    "main",
    "render_image",
    "synthetic_metadata_table",
]

#: Bump when the rendering changes: datasets with another version are regenerated, never reused.
GENERATOR_VERSION = 3
MANIFEST = "manifest.json"
DEFAULT_SPLITS: dict[str, float] = {"train": 0.7, "val": 0.1, "test": 0.2}
_LN2 = math.log(2.0)
_TAIL = math.log(100.0) / _LN2  # r^(2p) at which the profile falls to 1 % (patch extent)
_NUM_TARGETS_P = (0.80, 0.15, 0.05)  # 1, 2 or 3 targets in a non-empty image (assumption)
_CONTRAST = (0.08, 0.30)  # peak |contrast| of every look, targets and distractors alike


@dataclass(frozen=True)
class Look:
    """Appearance of a domain's targets (and of the distractors that copy them elsewhere)."""

    polarity: int  # +1 brighter than the background, -1 darker
    aspect: tuple[float, float]  # elongation (major / minor axis) range
    region: str  # where the domain places its targets (a background region name)
    story: str


#: The target look of each domain (keyed ``platform/band``).
LOOKS: dict[str, Look] = {
    "Air/LWIR": Look(+1, (1.0, 1.5), "sky", "hot engine / airframe against cold sky"),
    "Land/LWIR": Look(+1, (1.2, 2.5), "ground", "vehicle / person warmer than the ground (as in SIRST-V2)"),
    "Space/NIR": Look(+1, (1.5, 4.0), "sea", "ship bright against NIR-absorbing water"),
    "Space/SWIR": Look(-1, (1.0, 1.6), "cloud", "aircraft dark against a bright SWIR cloud deck"),
}
#: Distractors per domain: (look copied, (min, max) count, region).
DISTRACTORS: dict[str, tuple[tuple[str, tuple[int, int], str], ...]] = {
    "Air/LWIR": (("Land/LWIR", (0, 2), "sky"),),
    "Land/LWIR": (("Air/LWIR", (1, 3), "ground"), ("Space/SWIR", (0, 2), "ground")),
    "Space/NIR": (("Space/SWIR", (0, 3), "land_or_cloud"), ("Air/LWIR", (0, 2), "land")),
    "Space/SWIR": (("Air/LWIR", (1, 4), "everywhere"),),
}
#: Share of Land/LWIR targets placed in the sky instead of on the ground.
_LAND_SKY_TARGETS = 0.2


# ----------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class SynthConfig:
    """How images are rendered (see the module docstring, "Sizes, scale and the recorded resolution").

    ``empty_prob`` — probability of an image without targets; ``None`` uses each domain's real share.
    ``distractors`` — render the target-like distractors of the rules table.
    """

    scale: float = 1.0
    max_size: int | None = None
    size: int | None = None
    empty_prob: float | None = None
    distractors: bool = True
    min_target_area: float = 2.0
    min_target_scale: float | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.scale, int | float) and 0 < self.scale <= 4):
            raise ValueError(f"SynthConfig.scale must be in (0, 4], got {self.scale!r}")
        for name in ("max_size", "size"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int | np.integer) or v < 8):
                raise ValueError(f"SynthConfig.{name} must be None or an integer >= 8, got {v!r}")
        if self.empty_prob is not None and not 0 <= self.empty_prob <= 1:
            raise ValueError(f"SynthConfig.empty_prob must be None or in [0, 1], got {self.empty_prob!r}")
        if not self.min_target_area > 0:
            raise ValueError(f"SynthConfig.min_target_area must be > 0, got {self.min_target_area!r}")
        if self.min_target_scale is not None and not 0 < self.min_target_scale <= 4:
            raise ValueError(
                f"SynthConfig.min_target_scale must be None or in (0, 4], got {self.min_target_scale!r}"
            )

    def rendered_size(self, width: int, height: int) -> tuple[int, int, float]:
        """``(width, height, target_scale)`` of an image whose native size is ``width × height``.

        ``target_scale`` is the image's linear factor, raised to ``min_target_scale`` when that is set.
        """
        if self.size is not None:
            w, h = self.size, self.size
        else:
            s = float(self.scale)
            if self.max_size is not None:
                s = min(s, self.max_size / max(width, height))
            w, h = max(8, round(width * s)), max(8, round(height * s))
        ts = math.sqrt(w / width * h / height)
        if self.min_target_scale is not None:
            ts = max(ts, float(self.min_target_scale))
        return w, h, ts

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def image_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of image ``index`` of the dataset with ``seed`` (independent of every other image)."""
    if int(seed) < 0 or int(index) < 0:
        raise ValueError(f"seed and index must be non-negative integers, got seed={seed!r}, index={index!r}")
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(0, int(index))))


# ----------------------------------------------------------------------------- blobs (targets, distractors)


@dataclass
class Blob:
    """A PSF-blurred elliptical blob rendered on a local patch (a target or a distractor)."""

    kind: str  # 'target' | 'distractor'
    look: str  # the domain whose target look it has
    region: str
    polarity: int
    contrast: float
    profile: np.ndarray  # [P, Q] float32 in (0, 1], the PSF-blurred shape
    mask: np.ndarray  # [P, Q] bool, the half-maximum region (one 8-connected component)
    axes: tuple[float, float]
    angle: float
    y0: int = -1  # top-left of the patch once placed
    x0: int = -1
    amplitude: float = 0.0
    tries: int = 0  # placement attempts used (> 24: the region / uniformity preferences were relaxed)

    @property
    def area(self) -> int:
        return int(self.mask.sum())

    def box(self) -> np.ndarray:
        """mmdet 0-based xyxy (exclusive x2/y2) of the mask, in image coordinates."""
        ys, xs = np.nonzero(self.mask)
        return np.array(
            [self.x0 + xs.min(), self.y0 + ys.min(), self.x0 + xs.max() + 1, self.y0 + ys.max() + 1], np.float32
        )

    def record(self) -> dict[str, Any]:
        ys, xs = np.nonzero(self.mask)
        return {
            "look": self.look,
            "polarity": self.polarity,
            "amplitude": round(float(self.amplitude), 4),
            "area": self.area,
            "center": (float(self.x0 + xs.mean()), float(self.y0 + ys.mean())),
            "box": self.box().tolist(),
            "axes": (round(self.axes[0], 3), round(self.axes[1], 3)),
            "tries": self.tries,
        }


def _make_blob(
    rng: np.random.Generator, kind: str, look_key: str, region: str, area: float, max_axis: float
) -> Blob:
    """Shape one blob of ``area`` (rendered pixels) with the look of domain ``look_key``."""
    look = LOOKS[look_key]
    e = rng.uniform(*look.aspect)
    minor = max(math.sqrt(area / (math.pi * e)), 0.6)
    major = max(min(e * minor, max_axis), minor)
    minor = min(minor, major)
    sharp = 1.0 + float(np.clip((math.sqrt(area) - 3.0) / 8.0, 0.0, 1.0))  # 1: point (PSF), 2: extended
    theta = rng.uniform(0.0, math.pi)
    frac = rng.uniform(-0.5, 0.5, size=2)
    contrast = rng.uniform(*_CONTRAST)
    half = int(math.ceil(major * _TAIL ** (1.0 / (2.0 * sharp)))) + 1
    d = np.arange(-half, half + 1, dtype=np.float32)
    dx, dy = d[None, :] - frac[0], d[:, None] - frac[1]
    c, s = math.cos(theta), math.sin(theta)
    r2 = ((dx * c + dy * s) / major) ** 2 + ((-dx * s + dy * c) / minor) ** 2
    profile = np.exp(-_LN2 * r2**sharp).astype(np.float32)
    mask = r2 <= 1.0
    mask[half, half] = True  # the pixel nearest the centre always belongs to the target
    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if n > 2:  # keep the component holding the centre: one mask component per box
        mask = labels == labels[half, half]
    return Blob(kind, look_key, region, look.polarity, float(contrast), profile, mask, (major, minor), theta)


def _plan(
    meta: ImageMeta, rng: np.random.Generator, target_scale: float, cfg: SynthConfig
) -> tuple[list[Blob], list[Blob], bool]:
    """Targets and distractors of one image (shapes only; placed after the background is drawn)."""
    key = domain_key(meta.platform, meta.band)
    dom = DOMAIN_STATS["domains"][key]
    max_axis = min(meta.width, meta.height) / 6.0
    p_empty = dom["target_area"]["empty_fraction"] if cfg.empty_prob is None else cfg.empty_prob
    empty = bool(rng.random() < p_empty)
    targets: list[Blob] = []
    if not empty:
        total = sample_target_area(rng, meta.platform, meta.band)
        n = int(rng.choice(len(_NUM_TARGETS_P), p=_NUM_TARGETS_P)) + 1
        shares = rng.dirichlet(np.full(n, 2.0)) if n > 1 else np.ones(1)
        region = LOOKS[key].region
        for share in shares:
            area = max(total * share * target_scale**2, cfg.min_target_area)
            reg = "sky" if key == "Land/LWIR" and rng.random() < _LAND_SKY_TARGETS else region
            targets.append(_make_blob(rng, "target", key, reg, area, max_axis))
    distractors: list[Blob] = []
    if cfg.distractors:
        for look_key, (lo, hi), region in DISTRACTORS[key]:
            for _ in range(int(rng.integers(lo, hi + 1))):
                mimic = DOMAIN_STATS["domains"][look_key]
                area = sample_target_area(rng, mimic["platform"], mimic["band"])
                area = max(area * target_scale**2, cfg.min_target_area)
                distractors.append(_make_blob(rng, "distractor", look_key, region, area, max_axis))
    return targets, distractors, empty


# ----------------------------------------------------------------------------- backgrounds


def _fractal(
    rng: np.random.Generator, h: int, w: int, cells: float, octaves: int = 4, persistence: float = 0.55
) -> np.ndarray:
    """Zero-mean, unit-std multi-octave value noise.

    Octave ``o`` is a random grid of ``cells · 2^o`` cells (weight ``persistence^o``); the octaves are
    summed coarse-to-fine on the grids themselves (bicubic upsampling between octaves) and only the
    finest sum is upsampled to ``h × w``: one full-size resize per field.
    """
    acc: np.ndarray | None = None
    amp, m = 1.0, max(h, w)
    for o in range(octaves):
        c = cells * 2**o
        gh = min(h, max(2, round(c * h / m) + 1))
        gw = min(w, max(2, round(c * w / m) + 1))
        g = rng.standard_normal((gh, gw), dtype=np.float32) * np.float32(amp)
        acc = g if acc is None else cv2.resize(acc, (gw, gh), interpolation=cv2.INTER_CUBIC) + g
        amp *= persistence
    assert acc is not None
    out = acc if acc.shape == (h, w) else cv2.resize(acc, (w, h), interpolation=cv2.INTER_CUBIC)
    sub = out[:: max(1, h // 64), :: max(1, w // 64)]
    mu, inv = float(sub.mean()), 1.0 / (float(sub.std()) + 1e-6)
    out -= np.float32(mu)
    out *= np.float32(inv)
    return out


def _cover(field_: np.ndarray, coverage: float, softness: float) -> np.ndarray:
    """Soft mask covering ≈ ``coverage`` of a unit-normal field (smoothstep edge of width ``softness``)."""
    if coverage <= 0:
        return np.zeros_like(field_)
    thr = NormalDist().inv_cdf(min(max(1.0 - coverage, 1e-4), 1 - 1e-4))
    t = np.clip((field_ - thr) / softness + 0.5, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _sky(rng: np.random.Generator, h: int, w: int, horizon: float, coverage: float) -> np.ndarray:
    """LWIR sky: cold zenith, warmer towards the horizon row ``horizon``, warm fractal clouds."""
    y = np.clip(np.arange(h, dtype=np.float32) / max(horizon, 1.0), 0.0, 1.0)[:, None]
    sky = rng.uniform(0.12, 0.32) + rng.uniform(0.08, 0.25) * y ** rng.uniform(1.0, 3.0)
    f = _fractal(rng, h, w, rng.uniform(1.5, 4.0), octaves=5, persistence=0.6)
    cloud = _cover(f, coverage, rng.uniform(0.3, 1.2))
    return (sky + rng.uniform(0.12, 0.35) * cloud * (0.85 + 0.1 * f)).astype(np.float32)


def _ground(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """LWIR land clutter: fractal texture + field patches with sharp edges."""
    g = rng.uniform(0.42, 0.62) + rng.uniform(0.03, 0.08) * _fractal(rng, h, w, rng.uniform(3, 8), 5, 0.65)
    patches = np.floor(_fractal(rng, h, w, rng.uniform(1.5, 3.5), 2, 0.5) * 1.5) / 1.5
    return (g + rng.uniform(0.02, 0.06) * patches).astype(np.float32)


def _horizon_line(rng: np.random.Generator, h: int, w: int, y_frac: tuple[float, float]) -> np.ndarray:
    """Row of the horizon per column: tilted, undulating (hills)."""
    x = np.arange(w, dtype=np.float32) - w / 2
    undulation = _fractal(rng, 1, w, rng.uniform(2, 6), 3, 0.5)[0] * rng.uniform(0.0, 0.03) * h
    return rng.uniform(*y_frac) * h + math.tan(math.radians(rng.uniform(-3, 3))) * x + undulation


def _background_air(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    has_ground = rng.random() < 0.3
    line = _horizon_line(rng, h, w, (0.65, 0.9)) if has_ground else np.full(w, h * 1.5, np.float32)
    img = _sky(rng, h, w, float(line.mean()), rng.uniform(0.0, 0.7))
    rows = np.arange(h, dtype=np.float32)[:, None]
    below = rows > line[None, :]
    if has_ground:
        img = np.where(below, _ground(rng, h, w), img)
    return img, {"sky": ~below, "ground": below}


def _background_land(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    line = _horizon_line(rng, h, w, (0.1, 0.55))
    rows = np.arange(h, dtype=np.float32)[:, None]
    below = rows > line[None, :]
    sky = _sky(rng, h, w, float(line.mean()), rng.uniform(0.0, 0.4))
    ground = _ground(rng, h, w)
    # haze: the ground fades towards the horizon temperature with distance
    depth = np.clip((rows - line[None, :]) / (0.35 * h), 0.0, 1.0)
    ground = ground * (0.55 + 0.45 * depth) + 0.45 * (1.0 - depth) * float(sky[int(min(line.mean(), h - 1))].mean())
    img = np.where(below, ground, sky)
    occupied = np.zeros((h, w), bool)
    # tree line: ragged top edge above the horizon, cooler than the ground
    tree_h = rng.uniform(0.01, 0.07) * h * (0.6 + 0.4 * np.abs(_fractal(rng, 1, w, rng.uniform(8, 20), 3, 0.6)[0]))
    trees = (rows > (line - tree_h)[None, :]) & (rows <= line[None, :] + 1) & (rng.random() < 0.7)
    img = np.where(trees, rng.uniform(0.3, 0.45) + 0.04 * _fractal(rng, h, w, 16, 2, 0.5), img)
    occupied |= trees
    # buildings: rectangles standing on the horizon, warm or cool, sharp edges, some warm windows
    for _ in range(int(rng.integers(0, 6))):
        bw, bh = int(rng.uniform(0.03, 0.12) * w) + 2, int(rng.uniform(0.03, 0.15) * h) + 2
        x0 = int(rng.integers(0, max(1, w - bw)))
        base = int(np.clip(line[min(x0 + bw // 2, w - 1)] + rng.uniform(0, 0.02) * h, 1, h))
        y0 = max(0, base - bh)
        img[y0:base, x0 : x0 + bw] = rng.uniform(0.35, 0.75)
        occupied[y0:base, x0 : x0 + bw] = True
    # a warm road from the bottom edge towards the horizon
    if rng.random() < 0.5:
        xb, xt = rng.uniform(0.1, 0.9) * w, rng.uniform(0.3, 0.7) * w
        wb, yt = rng.uniform(0.03, 0.12) * w, float(line.mean()) + 2
        poly = np.array([[xb - wb, h], [xb + wb, h], [xt + wb / 8, yt], [xt - wb / 8, yt]], np.int32)
        road = np.zeros((h, w), np.uint8)
        cv2.fillPoly(road, [poly], 1)
        img = np.where(road.astype(bool), img + rng.uniform(0.05, 0.12), img)
    return img.astype(np.float32), {"sky": ~below & ~occupied, "ground": below & ~occupied}


def _background_space(
    rng: np.random.Generator, h: int, w: int, band: str
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    nir = band == "NIR"
    land = _cover(_fractal(rng, h, w, rng.uniform(1.5, 4.0), 6, 0.6), rng.uniform(0.1, 0.6), 0.15)
    sea_v = rng.uniform(0.05, 0.14) if nir else rng.uniform(0.05, 0.1)
    land_v = rng.uniform(0.35, 0.55) if nir else rng.uniform(0.25, 0.45)
    tex = _fractal(rng, h, w, rng.uniform(6, 16), 4, 0.6)
    img = sea_v + 0.01 * tex + land * (land_v - sea_v + 0.07 * tex)
    cf = _fractal(rng, h, w, rng.uniform(1.5, 4.0), 6, 0.62)
    cloud = _cover(cf, rng.uniform(0.05, 0.6), rng.uniform(0.4, 1.5))
    cloud_v = rng.uniform(0.72, 0.88) if nir else rng.uniform(0.62, 0.82)
    img = img * (1 - cloud) + cloud * (cloud_v + 0.05 * cf.clip(-2, 2) / 2)
    earth = np.ones((h, w), bool)
    if rng.random() < 0.3:  # earth limb, airglow, black space with faint stars
        radius = rng.uniform(1.5, 4.0) * max(h, w)
        ang = rng.uniform(0, 2 * math.pi)
        inset = rng.uniform(0.15, 0.45) * max(h, w)
        cx = w / 2 + math.cos(ang) * (radius - inset + max(h, w) / 2)
        cy = h / 2 + math.sin(ang) * (radius - inset + max(h, w) / 2)
        xs, ys = np.arange(w, dtype=np.float32) - cx, np.arange(h, dtype=np.float32)[:, None] - cy
        dist = np.sqrt(xs[None, :] ** 2 + ys**2) - radius  # > 0 outside the earth
        earth = dist < 0
        glow = rng.uniform(0.15, 0.35) * np.exp(-np.abs(dist) / (rng.uniform(0.004, 0.015) * max(h, w)))
        img = np.where(earth, img, 0.02) + glow
        stars = (rng.random((h, w)) < 4e-4) & ~earth
        img = img + stars * rng.uniform(0.05, 0.3)
    regions = {
        "sea": earth & (land < 0.5) & (cloud < 0.3),
        "land": earth & (land >= 0.5) & (cloud < 0.3),
        "cloud": earth & (cloud > 0.6),
        "space": ~earth,
    }
    regions["land_or_cloud"] = regions["land"] | regions["cloud"]
    regions["fallback"] = earth  # never a ship in space
    return img.astype(np.float32), regions


def _optics(img: np.ndarray) -> np.ndarray:
    """Optical MTF of the sensor: a small Gaussian blur of the scene."""
    return cv2.GaussianBlur(img, (0, 0), 0.7)


def _band_noise(rng: np.random.Generator, img: np.ndarray, band: str) -> tuple[np.ndarray, dict[str, Any]]:
    """Sensor noise of the band (see the module docstring); returns the noisy image and its parameters."""
    h, w = img.shape
    if band == "LWIR":
        s_col, s_row, s = rng.uniform(0.004, 0.014), rng.uniform(0.001, 0.005), rng.uniform(0.005, 0.015)
        yy = (np.arange(h, dtype=np.float32) / h - 0.5)[:, None]
        xx = (np.arange(w, dtype=np.float32) / w - 0.5)[None, :]
        v = np.float32(-rng.uniform(0.0, 0.12))
        cols = rng.normal(0, s_col, w).astype(np.float32) + v * xx[0] ** 2  # stripes + vignetting (x part)
        rows = rng.normal(0, s_row, h).astype(np.float32) + v * yy[:, 0] ** 2
        noise = rng.standard_normal((h, w), dtype=np.float32)
        noise *= np.float32(s)
        noise += cols[None, :]
        noise += rows[:, None]
        img = img + noise
        info = {"sigma": s, "column_fpn": s_col, "row_fpn": s_row}
    elif band == "NIR":
        k, read = rng.uniform(5e-5, 4e-4), rng.uniform(0.002, 0.006)
        n = rng.standard_normal((h, w), dtype=np.float32)
        img = img + n * np.sqrt(np.maximum(img, 0.0) * k + read**2)
        info = {"shot_k": k, "read_sigma": read}
    elif band == "SWIR":
        s, s_col = rng.uniform(0.006, 0.014), rng.uniform(0.0, 0.004)
        img = img + s * rng.standard_normal((h, w), dtype=np.float32) + rng.normal(0, s_col, w).astype(np.float32)
        n_bad = int(rng.binomial(h * w, rng.uniform(2e-4, 1e-3)))
        idx = rng.integers(0, h * w, n_bad)
        img = np.ascontiguousarray(img)
        img.reshape(-1)[idx] = (rng.random(n_bad) < 0.5).astype(np.float32)  # dead (0) or hot (1)
        info = {"sigma": s, "column_fpn": s_col, "bad_pixels": n_bad}
    else:
        raise MetadataError(f"no noise model for band {band!r}; valid: ['LWIR', 'NIR', 'SWIR']")
    return img, info


# ----------------------------------------------------------------------------- placement and rendering


def _place(
    rng: np.random.Generator,
    blobs: Sequence[Blob],
    bg: np.ndarray,
    regions: Mapping[str, np.ndarray],
    occupied: list[tuple[int, int, int, int]],
) -> list[Blob]:
    """Place blobs on their region without overlapping patches and with intensity headroom; returns dropped.

    Up to 48 random tries per blob: the first 24 want the whole patch inside the blob's region, the
    first 40 a background that does not oppose the blob's contrast; after 32 tries the region becomes
    the scene's ``fallback`` (the earth disc for Space, everywhere otherwise).
    """
    h, w = bg.shape
    step = max(1, min(h, w) // 64)
    cache: dict[str, np.ndarray] = {}
    dropped = []
    for blob in blobs:
        ph, pw = blob.profile.shape
        if ph > h or pw > w:
            dropped.append(blob)
            continue
        for attempt in range(48):
            name = blob.region if attempt < 32 else "fallback"
            if name not in cache:
                reg = regions.get(name)
                cache[name] = (
                    np.flatnonzero(reg[::step, ::step]) if reg is not None else np.empty(0, np.int64)
                )
            cand = cache[name]
            if len(cand):
                i = int(cand[rng.integers(len(cand))])
                gw = (w + step - 1) // step
                cy = (i // gw) * step + int(rng.integers(step))
                cx = (i % gw) * step + int(rng.integers(step))
            else:
                cy, cx = int(rng.integers(h)), int(rng.integers(w))
            y0, x0 = cy - ph // 2, cx - pw // 2
            if y0 < 0 or x0 < 0 or y0 + ph > h or x0 + pw > w:
                continue
            if any(y0 <= b[2] and b[0] <= y0 + ph and x0 <= b[3] and b[1] <= x0 + pw for b in occupied):
                continue
            win = (slice(max(0, y0 - 2), y0 + ph + 2), slice(max(0, x0 - 2), x0 + pw + 2))
            if attempt < 24 and name != "fallback" and not regions[name][win].all():
                continue  # first try: the whole patch on its region (a ship on open sea, not on the coast)
            local = bg[y0 : y0 + ph, x0 : x0 + pw]
            inside = local[blob.mask]
            against = blob.polarity * (float(inside.mean()) - float(local[~blob.mask].mean()))
            if attempt < 40 and against < -0.25 * blob.contrast:
                continue  # the background there has the opposite contrast: the blob would not stand out
            room = 0.97 - float(inside.max()) if blob.polarity > 0 else float(inside.min()) - 0.03
            if room < 0.06 and attempt < 40:
                continue
            blob.y0, blob.x0, blob.tries = y0, x0, attempt + 1
            blob.amplitude = blob.polarity * max(min(blob.contrast, room), 0.04)
            occupied.append((y0, x0, y0 + ph, x0 + pw))
            break
        else:
            dropped.append(blob)
    return dropped


def _background(rng: np.random.Generator, meta: ImageMeta) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    h, w = meta.height, meta.width
    if meta.platform == "Air":
        return _background_air(rng, h, w)
    if meta.platform == "Land":
        return _background_land(rng, h, w)
    return _background_space(rng, h, w, meta.band)


def render_image(
    meta: ImageMeta, rng: np.random.Generator, *, target_scale: float = 1.0, config: SynthConfig | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Render one image of ``meta``'s domain at ``meta.width × meta.height``.

    ``target_scale`` — linear factor from native to rendered target size (see :class:`SynthConfig`);
    ``config`` supplies ``empty_prob``, ``distractors`` and ``min_target_area`` (its size fields are
    ignored here). Returns ``(image uint8 [H, W], mask uint8 [H, W] in {0, 1} (targets only),
    boxes float32 [N, 4] mmdet 0-based xyxy with exclusive x2/y2 — one per mask component, info)``;
    ``info`` has ``targets`` / ``distractors`` (look, polarity, amplitude, area, center, box),
    ``dropped`` (blobs that found no room), ``empty``, ``noise``, ``target_scale``.
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
    targets, distractors, empty = _plan(meta, rng, target_scale, cfg)
    bg, regions = _background(rng, meta)
    bg = _optics(bg)
    regions = dict(regions)
    regions["everywhere"] = np.ones(bg.shape, bool)
    regions.setdefault("fallback", regions["everywhere"])
    occupied: list[tuple[int, int, int, int]] = []
    dropped = _place(rng, targets, bg, regions, occupied) + _place(rng, distractors, bg, regions, occupied)
    img = bg.copy()
    mask = np.zeros(bg.shape, np.uint8)
    placed_t = [b for b in targets if b.y0 >= 0]
    placed_d = [b for b in distractors if b.y0 >= 0]
    for b in placed_t + placed_d:
        ph, pw = b.profile.shape
        img[b.y0 : b.y0 + ph, b.x0 : b.x0 + pw] += b.amplitude * b.profile
        if b.kind == "target":
            mask[b.y0 : b.y0 + ph, b.x0 : b.x0 + pw] |= b.mask.astype(np.uint8)
    img, noise = _band_noise(rng, img, meta.band)
    out = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
    boxes = np.stack([b.box() for b in placed_t]) if placed_t else np.zeros((0, 4), np.float32)
    info = {
        "domain": key,
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


def _metas(index: int, seed: int, cfg: SynthConfig) -> tuple[np.random.Generator, ImageMeta, ImageMeta, float]:
    rng = image_rng(seed, index)
    native = sample_meta(rng)
    w, h, ts = cfg.rendered_size(native.width, native.height)
    return rng, native, ImageMeta(native.platform, native.band, w, h), ts


def generate_sample(index: int, seed: int = 0, config: SynthConfig | None = None) -> SyntheticSample:
    """Image ``index`` of the synthetic dataset with ``seed`` — identical to the one in a generated dataset."""
    cfg = config or SynthConfig()
    rng, native, meta, ts = _metas(index, seed, cfg)
    img, mask, boxes, info = render_image(meta, rng, target_scale=ts, config=cfg)
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
        rng, _, meta, ts = _metas(i, seed, cfg)
        targets, _, _ = _plan(meta, rng, ts, cfg)
        rows.append((_image_id(i), meta.platform, meta.band, meta.width, meta.height, sum(b.area for b in targets)))
    df = pd.DataFrame(rows, columns=list(STATISTICS_COLUMNS))
    return df.astype({"width": "int64", "height": "int64", "target_area": "int64"})


# ----------------------------------------------------------------------------- dataset on disk


def load_manifest(root: str | os.PathLike) -> dict[str, Any] | None:
    """The manifest of a generated dataset, or ``None`` if ``root`` holds none (or an unreadable one)."""
    path = Path(root) / MANIFEST
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _check_splits(splits: Mapping[str, float]) -> dict[str, float]:
    if not splits:
        raise ValueError("splits must name at least one split, e.g. {'train': 0.7, 'val': 0.1, 'test': 0.2}")
    out = {str(k): float(v) for k, v in splits.items()}
    bad = {k: v for k, v in out.items() if not v > 0 or not k or "/" in k}
    if bad or abs(sum(out.values()) - 1.0) > 1e-6:
        raise ValueError(f"splits must be positive fractions summing to 1 with plain names, got {dict(splits)}")
    return out


def _assign_splits(domains: Sequence[str], splits: Mapping[str, float], seed: int) -> dict[str, list[int]]:
    """Stratified split: each domain's images, shuffled, are dealt to the splits in proportion."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(1,)))
    order = sorted(range(len(domains)), key=lambda i: domains[i])
    order = [i for d in sorted(set(domains)) for i in rng.permutation([j for j in order if domains[j] == d])]
    names, frac = list(splits), np.array(list(splits.values()))
    given = np.zeros(len(names))
    out: dict[str, list[int]] = {n: [] for n in names}
    for k, i in enumerate(order, start=1):
        j = int(np.argmax(frac * k - given))
        given[j] += 1
        out[names[j]].append(int(i))
    return {n: sorted(v) for n, v in out.items()}


def _params(num_images: int, seed: int, cfg: SynthConfig, splits: Mapping[str, float]) -> dict[str, Any]:
    return {"num_images": int(num_images), "seed": int(seed), "splits": dict(splits), **cfg.as_dict()}


def _is_complete(root: Path, manifest: dict[str, Any]) -> bool:
    n = manifest.get("params", {}).get("num_images", -1)
    return sum(1 for _ in (root / "Annotations").glob("*.xml")) == n and (root / "PNGImages").is_dir()


def generate_dataset(
    out_dir: str | os.PathLike,
    num_images: int,
    seed: int = 0,
    scale: float = 1.0,
    splits: Mapping[str, float] | None = None,
    progress: bool = True,
    *,
    max_size: int | None = None,
    size: int | None = None,
    empty_prob: float | None = None,
    distractors: bool = True,
    min_target_scale: float | None = None,
    overwrite: bool = False,
) -> Path:
    """Write (or reuse) a synthetic dataset in the VOC-XML-with-metadata layout; returns its root.

    Layout: ``PNGImages/<id>.png`` (8-bit grey), ``Annotations/<id>.xml`` (via
    :func:`auxdet.data.voc_io.write_voc_annotation`), ``ImageSets/Main/<split>.txt`` (stratified by
    domain), ``Masks/<id>.png`` (0/255), ``statistics.txt`` (WideIRSTD format, rendered sizes),
    ``synthetic_info.csv`` (native size, split, target/distractor counts) and ``manifest.json``.

    Safe writes: the dataset is built in a hidden sibling folder and renamed into place only when
    complete, so an interrupted run never replaces a good dataset. If ``out_dir`` already holds a
    complete dataset with the same parameters and generator version it is reused as is. A folder that
    is not a synthetic dataset is never replaced unless ``overwrite=True``.
    """
    out_dir = Path(out_dir).expanduser().resolve()
    if int(num_images) < 1:
        raise ValueError(f"num_images must be >= 1, got {num_images!r}")
    cfg = SynthConfig(scale=scale, max_size=max_size, size=size, empty_prob=empty_prob, distractors=distractors,
                      min_target_scale=min_target_scale)
    split_fracs = _check_splits(DEFAULT_SPLITS if splits is None else splits)
    params = _params(num_images, seed, cfg, split_fracs)
    old = load_manifest(out_dir) if out_dir.exists() else None
    if old is not None and old.get("version") == GENERATOR_VERSION and old.get("params") == params:
        if _is_complete(out_dir, old):
            return out_dir
    if out_dir.exists() and old is None and any(out_dir.iterdir()) and not overwrite:
        raise FileExistsError(
            f"'{out_dir}' exists and is not a synthetic dataset (no {MANIFEST}); refusing to replace it "
            f"(pass overwrite=True or choose another folder)"
        )

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        _write_dataset(tmp, int(num_images), int(seed), cfg, split_fracs, params, progress)
        _swap_into_place(tmp, out_dir, params)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def _write_dataset(
    root: Path,
    num_images: int,
    seed: int,
    cfg: SynthConfig,
    splits: Mapping[str, float],
    params: dict[str, Any],
    progress: bool,
) -> None:
    for sub in ("PNGImages", "Annotations", "Masks", "ImageSets/Main"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rows, domains = [], []
    for i in tqdm(range(num_images), desc=f"synthetic → {root.name[1:].split('.tmp-')[0]}", disable=not progress):
        s = generate_sample(i, seed, cfg)
        if not cv2.imwrite(str(root / "PNGImages" / f"{s.image_id}.png"), s.image):
            raise OSError(f"could not write '{root / 'PNGImages' / s.image_id}.png'")
        if not cv2.imwrite(str(root / "Masks" / f"{s.image_id}.png"), s.mask * np.uint8(255)):
            raise OSError(f"could not write '{root / 'Masks' / s.image_id}.png'")
        write_voc_annotation(
            root / "Annotations" / f"{s.image_id}.xml", s.image_id, s.meta.width, s.meta.height, s.meta, s.boxes
        )
        domains.append(domain_key(s.meta.platform, s.meta.band))
        rows.append({
            "id": s.image_id, "platform": s.meta.platform, "band": s.meta.band, "width": s.meta.width,
            "height": s.meta.height, "target_area": int(s.mask.sum()), "native_width": s.native_meta.width,
            "native_height": s.native_meta.height, "num_targets": len(s.boxes),
            "num_distractors": len(s.info["distractors"]), "split": "",
        })
    assignment = _assign_splits(domains, splits, seed)
    for name, idx in assignment.items():
        write_split(root, name, [rows[i]["id"] for i in idx])
        for i in idx:
            rows[i]["split"] = name
    table = pd.DataFrame(rows)
    table[list(STATISTICS_COLUMNS)].to_csv(root / "statistics.txt", sep="\t", header=False, index=False)
    table.to_csv(root / "synthetic_info.csv", index=False)
    manifest = {
        "generator": "auxdet.data.synthetic",
        "version": GENERATOR_VERSION,
        "params": params,
        "split_sizes": {n: len(v) for n, v in assignment.items()},
        "domain_counts": {k: int(v) for k, v in pd.Series(domains).value_counts().sort_index().items()},
    }
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")  # written last: marks completion


def _swap_into_place(tmp: Path, out_dir: Path, params: dict[str, Any]) -> None:
    """Rename the complete ``tmp`` to ``out_dir``; an existing ``out_dir`` is moved aside, then deleted."""
    trash = None
    if out_dir.exists():
        other = load_manifest(out_dir)
        if other is not None and other.get("version") == GENERATOR_VERSION and other.get("params") == params:
            if _is_complete(out_dir, other):  # a concurrent run finished the same dataset first
                return
        trash = out_dir.parent / f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(out_dir, trash)
    try:
        os.rename(tmp, out_dir)
    except OSError:
        if trash is not None and not out_dir.exists():
            os.rename(trash, out_dir)  # put the previous dataset back
        raise
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)


# ----------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> Path:
    """``python -m auxdet.data.synthetic --out DIR --num N --seed S --scale X [--max-size M] [--size S]``."""
    ap = argparse.ArgumentParser(prog="python -m auxdet.data.synthetic", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="dataset root to write (reused if identical)")
    ap.add_argument("--num", type=int, default=1000, help="number of images")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale", type=float, default=1.0, help="render at this fraction of the native size")
    ap.add_argument("--max-size", type=int, default=None, help="cap the longer side (pixels)")
    ap.add_argument("--size", type=int, default=None, help="render every image as size×size")
    ap.add_argument("--empty-prob", type=float, default=None, help="share of images without targets")
    ap.add_argument("--no-distractors", action="store_true")
    ap.add_argument("--min-target-scale", type=float, default=None,
                    help="floor of the targets' linear scale (keeps small targets visible in shrunk images)")
    ap.add_argument("--splits", default="train=0.7,val=0.1,test=0.2", help="name=fraction,…")
    ap.add_argument("--overwrite", action="store_true", help="replace a folder that is not a synthetic dataset")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    a = ap.parse_args(argv)
    try:
        splits = {k.strip(): float(v) for k, v in (p.split("=") for p in a.splits.split(","))}
    except ValueError:
        ap.error(f"--splits must look like 'train=0.7,val=0.1,test=0.2', got {a.splits!r}")
    root = generate_dataset(
        a.out, a.num, seed=a.seed, scale=a.scale, splits=splits, progress=not a.quiet, max_size=a.max_size,
        size=a.size, empty_prob=a.empty_prob, distractors=not a.no_distractors,
        min_target_scale=a.min_target_scale, overwrite=a.overwrite,
    )
    print(root)
    return root


if __name__ == "__main__":
    main()
