"""Distributions of the metadata table behind Fig. 1 (b), (c) and the target sizes (pandas).

Every function takes a metadata table (:class:`~auxdet.analysis.metadata_table.MetadataTable`'s
``table`` or a split of it; columns platform, band, width, height, target_area) and returns a tidy
DataFrame; platforms and bands appear in the vocabulary's order.

Target-size classes (pixel area ``a``, per image): ``point`` a ≤ 9 (≤ 3×3 px: a point source blurred
by the optics' PSF), ``spot`` 9 < a ≤ 81 (up to 9×9 px: SPIE's definition of a *small* target as
< 80 px, 0.15 % of a 256×256 frame), ``extended`` a > 81, ``none`` a = 0. These follow the
point / spot / extended taxonomy of the paper's introduction; the thresholds are ours.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from auxdet.metadata import BANDS, PLATFORMS

__all__ = [
    "SIZE_CLASSES",
    "SIZE_THRESHOLDS",
    "ordered",
    "platform_band_counts",
    "resolution_distribution",
    "size_class",
    "target_area_summary",
    "target_size_distribution",
]

SIZE_THRESHOLDS: dict[str, int] = {"point": 9, "spot": 81}  # inclusive upper bounds, pixels
SIZE_CLASSES: tuple[str, ...] = ("none", "point", "spot", "extended")


def ordered(values: Iterable[str], order: tuple[str, ...]) -> list[str]:
    """The distinct ``values`` (as strings): those in ``order`` first, in that order, then the rest sorted."""
    vals = {str(v) for v in values}
    return [v for v in order if v in vals] + sorted(vals - set(order))


def platform_band_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Joint platform × band counts (every combination of the values present, zeros included) in long form.

    Columns: platform, band, count, percent (of all images), percent_of_platform, percent_of_band.
    Platform/band may be strings or categoricals (as :func:`auxdet.data.statistics.read_statistics` gives).
    """
    platform, band = df.platform.astype(str), df.band.astype(str)
    ct = pd.crosstab(platform, band).reindex(index=ordered(platform, PLATFORMS), columns=ordered(band, BANDS),
                                             fill_value=0)
    out = ct.stack().rename("count").reset_index()
    out.columns = ["platform", "band", "count"]
    total = out["count"].sum()
    out["percent"] = 100.0 * out["count"] / total if total else np.nan
    out["percent_of_platform"] = 100.0 * out["count"] / out.groupby("platform")["count"].transform("sum")
    out["percent_of_band"] = 100.0 * out["count"] / out.groupby("band")["count"].transform("sum")
    return out


def resolution_distribution(df: pd.DataFrame) -> pd.DataFrame:
    """Image sizes per platform: platform, width, height, resolution ('W×H'), pixels, count, percent_of_platform."""
    g = df.groupby(["platform", "width", "height"]).size().rename("count").reset_index()
    g["resolution"] = g.width.astype(str) + "×" + g.height.astype(str)
    g["pixels"] = g.width * g.height
    g["percent_of_platform"] = 100.0 * g["count"] / g.groupby("platform")["count"].transform("sum")
    g["platform"] = pd.Categorical(g.platform, ordered(g.platform, PLATFORMS))
    g = g.sort_values(["platform", "count"], ascending=[True, False]).reset_index(drop=True)
    g["platform"] = g["platform"].astype(str)
    return g[["platform", "width", "height", "resolution", "pixels", "count", "percent_of_platform"]]


def size_class(area: pd.Series | np.ndarray | Iterable[float]) -> pd.Categorical:
    """Target-size class of each pixel area: none (0), point (≤ 9), spot (≤ 81), extended (> 81)."""
    a = np.asarray(list(area) if not isinstance(area, pd.Series | np.ndarray) else area, dtype=float)
    if np.isnan(a).any() or (a < 0).any():
        raise ValueError(f"target areas must be non-negative numbers; got {a[np.isnan(a) | (a < 0)][:5].tolist()}")
    bins = [-np.inf, 0, SIZE_THRESHOLDS["point"], SIZE_THRESHOLDS["spot"], np.inf]
    return pd.cut(a, bins=bins, labels=list(SIZE_CLASSES), right=True)


def target_size_distribution(df: pd.DataFrame) -> pd.DataFrame:
    """Per platform and size class: count and percent of the platform's images (all classes listed)."""
    d = df.assign(size_class=size_class(df.target_area))
    platforms = ordered(d.platform, PLATFORMS)
    ct = pd.crosstab(d.platform, d.size_class).reindex(index=platforms, columns=list(SIZE_CLASSES), fill_value=0)
    out = ct.stack().rename("count").reset_index()
    out.columns = ["platform", "size_class", "count"]
    out["percent_of_platform"] = 100.0 * out["count"] / out.groupby("platform")["count"].transform("sum")
    return out


def target_area_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per platform: images, images with targets, and quantiles of the non-zero target areas (pixels)."""
    with_t = df[df.target_area > 0]
    q = with_t.groupby("platform").target_area.quantile([0.1, 0.5, 0.9]).unstack()
    q.columns = ["area_p10", "area_median", "area_p90"]
    out = pd.DataFrame({"images": df.groupby("platform").size(), "with_targets": with_t.groupby("platform").size()})
    out = out.join(q).fillna({"with_targets": 0}).reindex(ordered(out.index, PLATFORMS))
    out["with_targets"] = out["with_targets"].astype(int)
    return out.reset_index(names="platform")

