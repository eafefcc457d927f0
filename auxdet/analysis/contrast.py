"""Local contrast of infrared targets against their background (the paper's Fig. 1 a).

For a target T and the ring R of pixels at Chebyshev distance ``gap`` < d ≤ ``gap + ring`` from T's
bounding box (pixels of any target excluded), with means μ_T, μ_R and ring standard deviation σ_R
(vectorised with integral images):
``contrast = μ_T − μ_R``, ``peak_contrast = max_T − μ_R``, ``scr = (μ_T − μ_R) / σ_R`` (signal-to-clutter
ratio; ±inf on a perfectly flat ring), ``lcr = μ_T / μ_R`` (local contrast ratio).

Samples come from :func:`auxdet.data.sirst.sirst_v2_samples` (real Land/LWIR images) or
:func:`synthetic_contrast_samples` (every platform/band domain, by the generator's design).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage
from tqdm import tqdm

from auxdet.analysis.metadata_table import SyntheticUnavailable

__all__ = [
    "CONTRAST_COLUMNS",
    "contrast_table",
    "summarise_contrast",
    "synthetic_contrast_samples",
    "target_contrast",
]

CONTRAST_COLUMNS: tuple[str, ...] = (
    "target", "x0", "y0", "x1", "y1", "target_pixels", "target_mean", "target_peak",
    "bg_pixels", "bg_mean", "bg_std", "contrast", "peak_contrast", "scr", "lcr",
)  # fmt: skip


def _as_gray(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim == 3:
        img = img.mean(axis=2)
    if img.ndim != 2 or 0 in img.shape:
        raise ValueError(f"image must be H×W or H×W×C with non-empty H, W; got shape {np.shape(image)}")
    return img.astype(np.float64)


def _integral(a: np.ndarray) -> np.ndarray:
    s = np.zeros((a.shape[0] + 1, a.shape[1] + 1), dtype=np.float64)
    s[1:, 1:] = a.cumsum(0).cumsum(1)
    return s


def _rect_sum(s: np.ndarray, r0: np.ndarray, c0: np.ndarray, r1: np.ndarray, c1: np.ndarray) -> np.ndarray:
    """Sums over [r0, r1) × [c0, c1) for arrays of rectangles (integral image ``s``)."""
    return s[r1, c1] - s[r0, c1] - s[r1, c0] + s[r0, c0]


def target_contrast(
    image: np.ndarray, targets: np.ndarray, ring: int = 8, gap: int = 2
) -> pd.DataFrame:
    """Local contrast / signal-to-clutter ratio of every target against a surrounding ring.

    ``image``: H×W (or H×W×C, averaged) intensities. ``targets``: either an H×W mask (non-zero =
    target; targets are its 8-connected components, target statistics use the mask pixels) or an
    ``[N, 4]`` array of mmdet-style 0-based ``x1, y1, x2, y2`` boxes (pixels ``[floor x1, ceil x2)``;
    target statistics use the box pixels). The background ring of a target is the band of width
    ``ring`` around its bounding box grown by ``gap`` pixels, clipped to the image, with every target
    pixel excluded. Returns one row per target with :data:`CONTRAST_COLUMNS` (formulas in the module
    docstring); ``scr`` is ±inf for a flat ring, NaN if the ring is empty.
    """
    img = _as_gray(image)
    h, w = img.shape
    if ring < 1 or gap < 0:
        raise ValueError(f"ring must be ≥ 1 and gap ≥ 0 pixels; got ring={ring}, gap={gap}")
    t = np.asarray(targets)
    if t.shape == img.shape:  # a mask (checked first: an [N, 4] box array only matches a 4-px-wide image)
        tmask = t != 0
        labels, n = ndimage.label(tmask, structure=np.ones((3, 3), dtype=int))
        if n == 0:
            return pd.DataFrame(columns=list(CONTRAST_COLUMNS))
        slices = ndimage.find_objects(labels)
        r0 = np.array([s[0].start for s in slices]); r1 = np.array([s[0].stop for s in slices])  # noqa: E702
        c0 = np.array([s[1].start for s in slices]); c1 = np.array([s[1].stop for s in slices])  # noqa: E702
        idx = np.arange(1, n + 1)
        t_pix = np.asarray(ndimage.sum_labels(np.ones_like(img), labels, idx))
        t_mean = np.asarray(ndimage.mean(img, labels, idx))
        t_peak = np.asarray(ndimage.maximum(img, labels, idx))
    elif t.ndim == 2 and t.shape[1] == 4:
        if len(t) == 0:
            return pd.DataFrame(columns=list(CONTRAST_COLUMNS))
        b = t.astype(np.float64)
        if not np.isfinite(b).all() or (b[:, 2] <= b[:, 0]).any() or (b[:, 3] <= b[:, 1]).any():
            raise ValueError(f"boxes must be finite x1<x2, y1<y2 (0-based xyxy); got {b[:3].tolist()}…")
        c0 = np.clip(np.floor(b[:, 0]), 0, w).astype(int); c1 = np.clip(np.ceil(b[:, 2]), 0, w).astype(int)  # noqa: E702
        r0 = np.clip(np.floor(b[:, 1]), 0, h).astype(int); r1 = np.clip(np.ceil(b[:, 3]), 0, h).astype(int)  # noqa: E702
        if ((c1 <= c0) | (r1 <= r0)).any():
            raise ValueError(f"boxes lie outside the {w}×{h} image: {b[(c1 <= c0) | (r1 <= r0)][:3].tolist()}")
        n = len(b)
        tmask = np.zeros_like(img, dtype=bool)
        for i in range(n):  # rasterise the union of the boxes (N is small)
            tmask[r0[i]:r1[i], c0[i]:c1[i]] = True
        s_img = _integral(img)
        t_pix = ((r1 - r0) * (c1 - c0)).astype(float)
        t_mean = _rect_sum(s_img, r0, c0, r1, c1) / t_pix
        t_peak = np.array([img[r0[i]:r1[i], c0[i]:c1[i]].max() for i in range(n)])
    else:
        raise ValueError(
            f"targets must be an H×W mask matching the image {img.shape} or an [N, 4] box array; got shape {t.shape}"
        )
    bg = ~tmask
    s_cnt, s_sum, s_sq = _integral(bg.astype(float)), _integral(img * bg), _integral(img * img * bg)

    def grown(k: int) -> tuple[np.ndarray, ...]:
        return (np.clip(r0 - k, 0, h), np.clip(c0 - k, 0, w), np.clip(r1 + k, 0, h), np.clip(c1 + k, 0, w))

    outer, inner = grown(gap + ring), grown(gap)
    cnt = _rect_sum(s_cnt, *outer) - _rect_sum(s_cnt, *inner)
    tot = _rect_sum(s_sum, *outer) - _rect_sum(s_sum, *inner)
    sq = _rect_sum(s_sq, *outer) - _rect_sum(s_sq, *inner)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
        var = np.where(cnt > 0, sq / np.maximum(cnt, 1) - mu**2, np.nan)
        sd = np.sqrt(np.clip(var, 0, None))
        sd = np.where(sd < 1e-9 * np.maximum(np.abs(mu), 1.0), 0.0, sd)  # round-off on flat rings
        contrast = t_mean - mu
        scr = contrast / sd
        lcr = t_mean / mu
    return pd.DataFrame({
        "target": np.arange(n), "x0": c0, "y0": r0, "x1": c1, "y1": r1, "target_pixels": t_pix.astype(int),
        "target_mean": t_mean, "target_peak": t_peak, "bg_pixels": cnt.astype(int), "bg_mean": mu, "bg_std": sd,
        "contrast": contrast, "peak_contrast": t_peak - mu, "scr": scr, "lcr": lcr,
    })  # fmt: skip


def contrast_table(
    samples: Iterable[Mapping[str, Any]], ring: int = 8, gap: int = 2, progress: bool = True, total: int | None = None
) -> pd.DataFrame:
    """:func:`target_contrast` over many images.

    Each sample is a mapping with ``image``, either ``mask`` or ``boxes``, and metadata keys
    (``image_id``, ``platform``, ``band``, …) that are copied onto each of its target rows.
    """
    frames = []
    for s in tqdm(samples, desc="target contrast", disable=not progress, total=total, mininterval=2.0):
        if "mask" in s and s["mask"] is not None:
            targets = s["mask"]
        elif "boxes" in s:
            targets = s["boxes"]
        else:
            raise ValueError(f"sample {s.get('image_id', '?')!r} has neither 'mask' nor 'boxes'")
        df = target_contrast(s["image"], targets, ring=ring, gap=gap)
        if df.empty:
            continue
        for k, v in s.items():
            if k not in ("image", "mask", "boxes") and np.isscalar(v):
                df.insert(0, k, v)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=list(CONTRAST_COLUMNS))
    return pd.concat(frames, ignore_index=True)



def summarise_contrast(df: pd.DataFrame, by: tuple[str, ...] = ("platform", "band")) -> pd.DataFrame:
    """Median / IQR of contrast and SCR per group (finite SCR values only; flat rings are counted)."""
    g = df.groupby(list(by))
    finite = df[np.isfinite(df.scr)]
    out = pd.DataFrame({
        "targets": g.size(),
        "contrast_median": g.contrast.median(),
        "contrast_iqr": g.contrast.quantile(0.75) - g.contrast.quantile(0.25),
        "scr_median": finite.groupby(list(by)).scr.median(),
        "flat_rings": g.scr.apply(lambda s: int(np.isinf(s).sum())),
    })  # fmt: skip
    return out.reset_index()


def synthetic_contrast_samples(
    n_per_domain: int, seed: int = 0, max_size: int | None = 512, progress: bool = False
) -> Iterator[dict[str, Any]]:
    """Synthetic images of every platform/band domain for :func:`contrast_table` (``auxdet.data.synthetic``).

    ``n_per_domain`` images per domain (stratified: Space/SWIR is 0.2 % of the real mix), each at the
    domain's most common native resolution, rendered with ``SynthConfig(max_size=max_size,
    empty_prob=0)`` (every image has targets). Their contrast reflects the generator's design, not
    the real data. Raises :class:`SyntheticUnavailable` if the generator is missing.
    """
    try:
        from auxdet.data import domains, synthetic
        from auxdet.metadata import ImageMeta
    except ImportError as e:  # pragma: no cover - depends on the synthetic helper's module
        raise SyntheticUnavailable(f"synthetic images were requested, but auxdet.data.synthetic cannot be imported: {e}") from None
    cfg = synthetic.SynthConfig(max_size=max_size, empty_prob=0.0)
    for d, (platform, band) in enumerate(domains.DOMAINS):
        native_w, native_h = domains.DOMAIN_STATS["domains"][domains.domain_key(platform, band)]["resolutions"][0][:2]
        w, h, target_scale = cfg.rendered_size(native_w, native_h)
        for i in tqdm(range(n_per_domain), desc=f"render {platform}/{band}", disable=not progress):
            rng = synthetic.image_rng(seed, d * 1_000_000 + i)
            image, mask, _, _ = synthetic.render_image(
                ImageMeta(platform, band, w, h), rng, target_scale=target_scale, config=cfg
            )
            yield dict(image_id=f"synth-{platform}-{band}-{i:05d}", platform=platform, band=band, width=w, height=h,
                       source="synthetic", image=image.astype(np.float32) / 255.0, mask=mask)  # fmt: skip
