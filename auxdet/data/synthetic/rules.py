"""The rules of the synthetic benchmark: each domain's target look, the distractors that copy
another domain's look, blob shapes, and their placement (see the rules table in :mod:`auxdet.data.synthetic`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from auxdet.data.domains import DOMAIN_STATS, domain_key, sample_target_area
from auxdet.data.synthetic.config import SynthConfig
from auxdet.metadata import ImageMeta

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


def plan_blobs(
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


def place_blobs(
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

