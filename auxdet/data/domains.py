"""The omni-domain mix of WideIRSTD-Full, baked into the package (numbers computed once from the real table).

The synthetic generator (:mod:`auxdet.data.synthetic`) samples image metadata from these numbers, so the
embedded default dataset has the real dataset's platform/band mix, resolutions and target sizes without
any download. :func:`compute_domain_stats` recomputes them from a WideIRSTD-Full ``statistics.txt``
(read by :func:`auxdet.data.statistics.read_statistics`) and a split file;
``tests/test_synthetic.py`` checks that the baked :data:`DOMAIN_STATS` equal what the real table gives.

What is baked, per (platform, band) domain of the **train split** (7000 ids in ``train.txt``; 6882 of
them are in ``statistics.txt`` — ids 08852–09000 are not, and the statistics are over those 6882):

* ``count`` — number of images (the domain proportion is ``count / num_images``);
* ``resolutions`` — every ``(width, height)`` seen at least ``MIN_RESOLUTION_COUNT`` (5) times, with its
  count, e.g. Air/LWIR 256×256; Land/LWIR 512², 640×512, 720×480, 320×240, 1024²; Space/NIR 1024²,
  740×1024, 1024×740, 740², 512²; Space/SWIR 512²;
* ``other`` — the rarer resolutions lumped together (Air/LWIR: 90 images in 86 sizes around 305×210;
  Land/LWIR: 326 images in 301 sizes): their count and the quantiles of width and of the aspect
  ratio height/width at :data:`OTHER_LEVELS`, sampled independently by inverse CDF;
* ``target_area`` — ``empty_fraction`` (share of images whose target area is 0: 63.7 % of Space/NIR
  images, none elsewhere), the quantiles of the non-zero per-image target pixel area at
  :data:`AREA_LEVELS` (sampled by piecewise-linear inverse CDF), its mean and median.

All floats are rounded to 4 decimals so that recomputation compares equal, not approximately.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from auxdet.data.statistics import read_statistics
from auxdet.data.voc_io import read_split
from auxdet.metadata import ImageMeta

__all__ = [
    "AREA_LEVELS",
    "DOMAIN_MIXES",
    "DOMAIN_STATS",
    "DOMAINS",
    "OTHER_LEVELS",
    "compute_domain_stats",
    "domain_key",
    "domain_probabilities",
    "domain_table",
    "resolution_table",
    "sample_domain",
    "sample_meta",
    "sample_resolution",
    "sample_target_area",
]

#: A resolution seen fewer times than this in a domain goes to the domain's lumped ``other`` bucket.
MIN_RESOLUTION_COUNT = 5
#: Quantile levels of the non-zero target area (dense in the long right tail).
AREA_LEVELS: tuple[float, ...] = (
    0.0, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975, 0.99, 1.0,
)
#: Quantile levels of width and aspect (h/w) of the lumped rare resolutions.
OTHER_LEVELS: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
_ROUND = 4


def domain_key(platform: str, band: str) -> str:
    """The key of a domain in :data:`DOMAIN_STATS`, e.g. ``'Air/LWIR'``."""
    return f"{platform}/{band}"


def _quantiles(values: np.ndarray, levels: tuple[float, ...]) -> list[float]:
    return [round(float(q), _ROUND) for q in np.quantile(values.astype(np.float64), levels)]


def compute_domain_stats(
    statistics: str | os.PathLike | pd.DataFrame,
    split: str | os.PathLike | None = "train.txt",
    min_count: int = MIN_RESOLUTION_COUNT,
) -> dict[str, Any]:
    """Recompute :data:`DOMAIN_STATS` from a ``statistics.txt`` (path or DataFrame) and a split file.

    ``split`` — ids to keep (one per line); a relative path is taken beside ``statistics``; ``None``
    uses every row. Ids of the split absent from the table are counted in ``missing_ids``.
    """
    if isinstance(statistics, pd.DataFrame):
        df, base = statistics.copy(), Path(".")
    else:
        df, base = read_statistics(statistics), Path(statistics).parent
    df = df.astype({"platform": str, "band": str})  # plain strings: group only the domains that occur
    n_split = None
    if split is not None:
        ids = set(read_split(Path(split) if Path(split).is_absolute() else base / split))
        n_split = len(ids)
        df = df[df["id"].astype(str).isin(ids)]
    if df.empty:
        raise ValueError("no rows left: the split shares no ids with the statistics table")

    domains: dict[str, Any] = {}
    for (platform, band), g in df.groupby(["platform", "band"], sort=True):
        res = g.groupby(["width", "height"]).size().sort_values(ascending=False, kind="stable")
        common = res[res >= min_count]
        rare = res[res < min_count]
        other: dict[str, Any] = {"count": int(rare.sum())}
        if len(rare):
            rows = g.set_index(["width", "height"]).loc[rare.index].reset_index()
            other["width"] = _quantiles(rows["width"].to_numpy(), OTHER_LEVELS)
            other["aspect"] = _quantiles((rows["height"] / rows["width"]).to_numpy(), OTHER_LEVELS)
        area = g["target_area"].to_numpy()
        nonzero = area[area > 0]
        domains[domain_key(platform, band)] = {
            "platform": str(platform),
            "band": str(band),
            "count": len(g),
            "resolutions": [[int(w), int(h), int(c)] for (w, h), c in common.items()],
            "other": other,
            "target_area": {
                "empty_fraction": round(float(np.mean(area == 0)), _ROUND),
                "quantiles": _quantiles(nonzero, AREA_LEVELS) if len(nonzero) else [],
                "mean": round(float(nonzero.mean()), _ROUND) if len(nonzero) else 0.0,
                "median": round(float(np.median(nonzero)), _ROUND) if len(nonzero) else 0.0,
            },
        }
    return {
        "num_images": len(df),
        "missing_ids": (n_split - len(df)) if n_split is not None else 0,
        "min_resolution_count": int(min_count),
        "domains": domains,
    }


def _bake(stats: dict[str, Any]) -> str:  # pragma: no cover - used once to write the literal below
    """Python source of ``DOMAIN_STATS`` (how the literal below was produced)."""

    def fmt(obj: Any, ind: int) -> str:
        if isinstance(obj, dict):
            pad = " " * (ind + 4)
            items = "".join(f"{pad}{k!r}: {fmt(v, ind + 4)},\n" for k, v in obj.items())
            return "{\n" + items + " " * ind + "}"
        return repr(obj)

    return "DOMAIN_STATS: dict[str, Any] = " + fmt(stats, 0) + "\n"


# fmt: off
# Computed once by: _bake(compute_domain_stats(wideirstd_metadata_dir() / "statistics.txt", "train.txt"))
DOMAIN_STATS: dict[str, Any] = {
    'num_images': 6882,
    'missing_ids': 118,
    'min_resolution_count': 5,
    'domains': {
        'Air/LWIR': {
            'platform': 'Air',
            'band': 'LWIR',
            'count': 1097,
            'resolutions': [[256, 256, 1007]],
            'other': {
                'count': 90,
                'width': [209.0, 251.9, 280.0, 304.5, 328.75, 340.7, 407.0],
                'aspect': [0.567, 0.6236, 0.6551, 0.6918, 0.75, 0.8453, 1.0033],
            },
            'target_area': {
                'empty_fraction': 0.0,
                'quantiles': [2.0, 5.0, 5.0, 9.0, 9.0, 14.0, 19.0, 30.0, 38.0, 45.0, 56.0, 62.0, 75.4, 98.0, 123.6, 138.0, 178.0],
                'mean': 41.5187,
                'median': 38.0,
            },
        },
        'Land/LWIR': {
            'platform': 'Land',
            'band': 'LWIR',
            'count': 1222,
            'resolutions': [[512, 512, 761], [640, 512, 61], [720, 480, 59], [320, 240, 10], [1024, 1024, 5]],
            'other': {
                'count': 326,
                'width': [135.0, 254.0, 282.0, 303.0, 324.75, 353.0, 992.0],
                'aspect': [0.5568, 0.6329, 0.6548, 0.6945, 0.7624, 0.94, 1.0929],
            },
            'target_area': {
                'empty_fraction': 0.0,
                'quantiles': [2.0, 4.0, 6.0, 7.0, 10.0, 17.0, 21.0, 28.0, 36.0, 45.0, 59.0, 83.0, 120.9, 196.65, 283.325, 401.11, 1779.0],
                'mean': 60.4771,
                'median': 36.0,
            },
        },
        'Space/NIR': {
            'platform': 'Space',
            'band': 'NIR',
            'count': 4550,
            'resolutions': [[1024, 1024, 3777], [740, 1024, 365], [1024, 740, 351], [740, 740, 38], [512, 512, 19]],
            'other': {
                'count': 0,
            },
            'target_area': {
                'empty_fraction': 0.6369,
                'quantiles': [2.0, 4.0, 7.0, 9.0, 14.0, 22.2, 33.0, 49.0, 70.0, 101.0, 157.0, 272.0, 710.8, 1569.7, 2803.225, 3932.38, 5400.0],
                'mean': 305.9764,
                'median': 70.0,
            },
        },
        'Space/SWIR': {
            'platform': 'Space',
            'band': 'SWIR',
            'count': 13,
            'resolutions': [[512, 512, 13]],
            'other': {
                'count': 0,
            },
            'target_area': {
                'empty_fraction': 0.0,
                'quantiles': [14.0, 14.0, 14.0, 14.0, 15.0, 20.2, 32.8, 48.0, 51.0, 69.6, 132.0, 166.8, 310.8, 480.0, 583.5, 645.6, 687.0],
                'mean': 134.3077,
                'median': 51.0,
            },
        },
    },
}
# fmt: on

#: The (platform, band) domains of the real table, in :data:`DOMAIN_STATS` order.
DOMAINS: tuple[tuple[str, str], ...] = tuple((d["platform"], d["band"]) for d in DOMAIN_STATS["domains"].values())


def domain_table(stats: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per domain: platform, band, count, proportion, empty_fraction, median/mean target area."""
    stats = DOMAIN_STATS if stats is None else stats
    rows = [
        {
            "platform": d["platform"],
            "band": d["band"],
            "count": d["count"],
            "proportion": d["count"] / stats["num_images"],
            "empty_fraction": d["target_area"]["empty_fraction"],
            "median_target_area": d["target_area"]["median"],
            "mean_target_area": d["target_area"]["mean"],
        }
        for d in stats["domains"].values()
    ]
    return pd.DataFrame(rows)


def resolution_table(stats: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per (domain, resolution) with its probability within the domain (``other`` = lumped rare)."""
    stats = DOMAIN_STATS if stats is None else stats
    rows = []
    for d in stats["domains"].values():
        for w, h, c in d["resolutions"]:
            rows.append({"platform": d["platform"], "band": d["band"], "resolution": f"{w}x{h}",
                         "width": w, "height": h, "count": c, "probability": c / d["count"]})
        if d["other"]["count"]:
            rows.append({"platform": d["platform"], "band": d["band"], "resolution": "other",
                         "width": None, "height": None, "count": d["other"]["count"],
                         "probability": d["other"]["count"] / d["count"]})
    return pd.DataFrame(rows).astype({"width": "Int64", "height": "Int64"})


def _inverse_cdf(rng: np.random.Generator, levels: tuple[float, ...], quantiles: list[float]) -> float:
    """One draw from the piecewise-linear distribution with the given quantiles."""
    return float(np.interp(rng.random(), levels, quantiles))


#: Domain mixes of the synthetic generator: the real train split's proportions, or every domain equally
#: often (so that every domain's rule has enough examples; the real mix has 0.2 % Space/SWIR).
DOMAIN_MIXES: tuple[str, ...] = ("real", "balanced")


def domain_probabilities(mix: str = "real", stats: dict[str, Any] | None = None) -> dict[str, float]:
    """``{domain key: probability}`` of a domain mix (:data:`DOMAIN_MIXES`)."""
    stats = DOMAIN_STATS if stats is None else stats
    if mix not in DOMAIN_MIXES:
        raise ValueError(f"unknown domain mix {mix!r}; valid: {list(DOMAIN_MIXES)}")
    counts = {k: float(d["count"]) if mix == "real" else 1.0 for k, d in stats["domains"].items()}
    total = sum(counts.values())
    return {k: c / total for k, c in counts.items()}


def sample_domain(rng: np.random.Generator, mix: str = "real", stats: dict[str, Any] | None = None) -> str:
    """Draw a domain key (``'platform/band'``) from a domain mix."""
    probs = domain_probabilities(mix, stats)
    keys = list(probs)
    return keys[int(rng.choice(len(keys), p=np.array(list(probs.values()))))]


def sample_resolution(rng: np.random.Generator, key: str, stats: dict[str, Any] | None = None) -> tuple[int, int]:
    """Draw a native ``(width, height)`` of domain ``key``: a common resolution by its count, or the lumped
    ``other`` bucket (width and aspect by inverse CDF, independently)."""
    stats = DOMAIN_STATS if stats is None else stats
    d = stats["domains"][key]
    res_counts = [c for _, _, c in d["resolutions"]] + [d["other"]["count"]]
    p = np.asarray(res_counts, dtype=np.float64)
    k = int(rng.choice(len(p), p=p / p.sum()))
    if k < len(d["resolutions"]):
        w, h = d["resolutions"][k][:2]
    else:
        w = round(_inverse_cdf(rng, OTHER_LEVELS, d["other"]["width"]))
        h = max(1, round(w * _inverse_cdf(rng, OTHER_LEVELS, d["other"]["aspect"])))
    return int(w), int(h)


def sample_meta(rng: np.random.Generator, stats: dict[str, Any] | None = None, mix: str = "real") -> ImageMeta:
    """Draw one image's metadata at its *native* resolution: the domain from the mix, then its resolution."""
    stats = DOMAIN_STATS if stats is None else stats
    key = sample_domain(rng, mix, stats)
    w, h = sample_resolution(rng, key, stats)
    d = stats["domains"][key]
    return ImageMeta(d["platform"], d["band"], w, h)


def sample_target_area(
    rng: np.random.Generator, platform: str, band: str, stats: dict[str, Any] | None = None
) -> float:
    """Draw a non-zero per-image target pixel area (native resolution) of a domain, by inverse CDF."""
    stats = DOMAIN_STATS if stats is None else stats
    d = stats["domains"][domain_key(platform, band)]
    return _inverse_cdf(rng, AREA_LEVELS, d["target_area"]["quantiles"])
