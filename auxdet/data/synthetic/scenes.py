"""Scenes of the synthetic generator: per-platform backgrounds, optics and per-band sensor noise."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import cv2
import numpy as np

from auxdet.metadata import ImageMeta, MetadataError


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


def optics(img: np.ndarray) -> np.ndarray:
    """Optical MTF of the sensor: a small Gaussian blur of the scene."""
    return cv2.GaussianBlur(img, (0, 0), 0.7)


def band_noise(rng: np.random.Generator, img: np.ndarray, band: str) -> tuple[np.ndarray, dict[str, Any]]:
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


def background(rng: np.random.Generator, meta: ImageMeta) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    h, w = meta.height, meta.width
    if meta.platform == "Air":
        return _background_air(rng, h, w)
    if meta.platform == "Land":
        return _background_land(rng, h, w)
    return _background_space(rng, h, w, meta.band)

