"""The panels of the paper's Fig. 1 (metadata analysis of WideIRSTD-Full), from DataFrames.

* (a) :func:`plot_contrast` — target–background contrast per platform (and band): violins / boxes;
* (b) :func:`plot_platform_band_heatmap` — platform × band joint counts with percentages;
* (c) :func:`plot_resolution_distribution` — image sizes per platform on log–log axes;
* :func:`plot_target_sizes` — per-image target pixel area per platform with the point/spot/extended
  thresholds; :func:`figure1` puts the four panels together.

Inputs are the outputs of :mod:`auxdet.analysis` (``contrast_table``, ``platform_band_counts``,
``resolution_distribution``, the metadata table); nothing here loads data. Every function draws into
``ax`` when given and returns the matplotlib Figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from auxdet.analysis import SIZE_CLASSES, SIZE_THRESHOLDS, ordered
from auxdet.metadata import BANDS, PLATFORMS
from auxdet.visualisation.style import BAND_COLORS, PLATFORM_COLORS

#: groups with fewer values are marked (faded, "< 10" in the label): too few for a distribution
MIN_GROUP = 10
#: §1 / Fig. 1 of the paper: "resolutions from 256×256 to 6000×6000" (the released table does not reach it)
PAPER_RESOLUTION_RANGE: tuple[int, int] = (256, 6000)

CONTRAST_LABELS: dict[str, str] = {
    "contrast": "local contrast $\\mu_T-\\mu_R$ (intensity, 0–1)",
    "peak_contrast": "peak contrast $\\max_T-\\mu_R$ (intensity, 0–1)",
    "scr": "signal-to-clutter ratio $(\\mu_T-\\mu_R)/\\sigma_R$",
    "lcr": "local contrast ratio $\\mu_T/\\mu_R$",
}


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _require(df: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing columns {missing}; got {list(df.columns)}")


def plot_contrast(
    contrast: pd.DataFrame,
    metric: str = "contrast",
    kind: str = "violin",
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Fig. 1(a): distribution of ``metric`` per platform, split by band (hue).

    ``contrast`` is :func:`auxdet.analysis.contrast_table` output (columns platform, band, ``metric``;
    optional ``source``, shown in the x labels when it varies). Non-finite values (flat rings) — and,
    on LCR's log axis, values ≤ 0 — are left out and counted in the title. ``kind``: 'violin' or 'box'.
    SCR uses a symlog y axis (signed: dark targets have SCR < 0), LCR a log axis.
    """
    if metric not in CONTRAST_LABELS:
        raise ValueError(f"metric must be one of {list(CONTRAST_LABELS)}, got {metric!r}")
    if kind not in ("violin", "box"):
        raise ValueError(f"kind must be 'violin' or 'box', got {kind!r}")
    _require(contrast, ["platform", "band", metric], "plot_contrast")
    d = contrast[np.isfinite(contrast[metric].astype(float))].copy()
    if metric == "lcr":
        d = d[d[metric] > 0]
    dropped = len(contrast) - len(d)
    if d.empty:
        raise ValueError(f"plot_contrast: no finite '{metric}' values to plot")
    # one violin per platform/band (and source): x carries the band, hue only colours it (no dodging)
    d["x"] = d["platform"].astype(str) + "/" + d["band"].astype(str)
    if "source" in d.columns and d["source"].nunique() > 1:
        d["x"] = d["x"] + "\n(" + d["source"].astype(str) + ")"
    rank = {p: i for i, p in enumerate(PLATFORMS)} | {b: i for i, b in enumerate(BANDS)}
    keys = d.drop_duplicates("x").set_index("x")
    order = sorted(keys.index, key=lambda x: (rank.get(keys.platform[x], 99), rank.get(keys.band[x], 99), x))
    bands = ordered(d["band"], BANDS)
    fig, ax = _axes(ax, (1.4 + 1.3 * len(order), 4.2))
    common = dict(data=d, x="x", y=metric, hue="band", order=order, hue_order=bands,
                  palette={b: BAND_COLORS.get(b, "0.5") for b in bands}, dodge=False, ax=ax)  # fmt: skip
    if kind == "violin":
        sns.violinplot(**common, cut=0, inner="quart", density_norm="width", linewidth=0.8,
                       log_scale=metric == "lcr")  # fmt: skip
    else:
        sns.boxplot(**common, showfliers=False, log_scale=metric == "lcr")
    if metric == "scr":  # signed and heavy-tailed: linear within ±1, logarithmic beyond
        ax.set_yscale("symlog", linthresh=1.0)
        ax.axhline(0.0, color="0.5", linewidth=0.6)
    counts = d.groupby("x").size()
    synthetic = {x for x in order if "source" in keys.columns and str(keys.source[x]) == "synthetic"}
    _mark_groups(ax, order, synthetic, {x for x in order if counts[x] < MIN_GROUP})
    ax.set_xticks(range(len(order)), [f"{x}\n(n={counts[x]}{'' if counts[x] >= MIN_GROUP else ', < 10'})"
                                      for x in order])  # fmt: skip
    if metric == "contrast":  # signed: the zero line separates bright from dark targets
        ax.axhline(0.0, color="0.5", linewidth=0.6)
    ax.set_xlabel("")
    ax.set_ylabel(CONTRAST_LABELS[metric])
    why = "non-finite or ≤ 0 (log axis)" if metric == "lcr" else "non-finite (flat ring)"
    suffix = f"\n{dropped} targets with {why} values left out" if dropped else ""
    ax.set_title((title or "(a) target–background contrast per platform") + suffix, fontsize=10)
    handles, _ = ax.get_legend_handles_labels()
    labels = list(bands)
    if synthetic:
        handles.append(Patch(facecolor="white", edgecolor="0.3", hatch="///"))
        labels.append("synthetic: the generator's design, not data")
    if len(synthetic) < len(order) and "source" in keys.columns:
        handles.append(Patch(facecolor="0.6", edgecolor="0.3"))
        labels.append("real pixels")
    ax.legend(handles, labels, title="band / source", fontsize=7, title_fontsize=7, loc="best")
    return fig


def _mark_groups(ax: Axes, order: list[str], synthetic: set[str], small: set[str]) -> None:
    """Hatch the violins / boxes of synthetic groups and fade those with fewer than :data:`MIN_GROUP` values."""
    artists = [c for c in ax.collections if isinstance(c, PolyCollection)] + [
        p for p in ax.patches if isinstance(p, PathPatch)]  # fmt: skip
    for artist in artists:
        paths = artist.get_paths() if isinstance(artist, PolyCollection) else [artist.get_path()]
        if not paths:
            continue
        box = paths[0].get_extents()
        i = int(round((box.x0 + box.x1) / 2))
        if not 0 <= i < len(order):
            continue
        if order[i] in synthetic:
            artist.set_hatch("///")
            artist.set_edgecolor("0.3")
        if order[i] in small:
            artist.set_alpha(0.35)


def plot_platform_band_heatmap(counts: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Fig. 1(b): platform × band heatmap annotated with count and percent of all images.

    ``counts`` is :func:`auxdet.analysis.platform_band_counts` output (platform, band, count, percent).
    """
    _require(counts, ["platform", "band", "count", "percent"], "plot_platform_band_heatmap")
    rows, cols = ordered(counts.platform, PLATFORMS), ordered(counts.band, BANDS)
    n = counts.pivot(index="platform", columns="band", values="count").reindex(index=rows, columns=cols).fillna(0)
    p = counts.pivot(index="platform", columns="band", values="percent").reindex(index=rows, columns=cols).fillna(0)
    labels = np.vectorize(lambda c, q: f"{int(c)}\n({q:.2f} %)")(n.to_numpy(), p.to_numpy())
    fig, ax = _axes(ax, (4.6, 3.6))
    sns.heatmap(np.log10(n + 1), annot=labels, fmt="", cmap="Blues", cbar=True, linewidths=0.5,
                linecolor="white", ax=ax, annot_kws={"fontsize": 8},
                cbar_kws={"label": "log$_{10}$(images + 1)", "shrink": 0.8})  # fmt: skip
    ax.set_xlabel("band")
    ax.set_ylabel("platform")
    ax.set_title(title or f"(b) platform × band (n = {int(n.to_numpy().sum())})", fontsize=10)
    return fig


def plot_resolution_distribution(
    res: pd.DataFrame,
    ax: Axes | None = None,
    title: str | None = None,
    claimed_range: tuple[int, int] | None = PAPER_RESOLUTION_RANGE,
) -> Figure:
    """Fig. 1(c): image width × height per platform on log–log axes, marker area ∝ image count.

    ``res`` is :func:`auxdet.analysis.resolution_distribution` output. Each platform's most common
    size and its share are given in the legend (not printed over the data). ``claimed_range``
    ``(lo, hi)``: the paper's stated range of sides, drawn as a dashed square from lo² to hi² (``None``:
    not drawn), so the extent of the data can be compared with it.
    """
    _require(res, ["platform", "width", "height", "count"], "plot_resolution_distribution")
    fig, ax = _axes(ax, (5.0, 4.2))
    scale = 600.0 / max(float(res["count"].max()), 1.0)
    by_sizes = res.groupby("platform").size().sort_values(ascending=False).index  # many sizes drawn first
    for platform in sorted(ordered(res.platform, PLATFORMS), key=list(by_sizes).index):
        g = res[res.platform == platform]
        top = g.sort_values("count").iloc[-1]
        share = 100 * top["count"] / g["count"].sum()
        ax.scatter(g.width, g.height, s=8 + scale * g["count"], alpha=0.55, edgecolors="k", linewidths=0.3,
                   color=PLATFORM_COLORS.get(platform, "0.5"),
                   label=f"{platform}: n={int(g['count'].sum())}, {len(g)} sizes; top {top.width}×{top.height} "
                         f"({share:.0f} %)")  # fmt: skip
    lo_px = min(res.width.min(), res.height.min())
    hi_px = max(res.width.max(), res.height.max())
    if claimed_range is not None:
        lo, hi = claimed_range
        ax.add_patch(Rectangle((lo, lo), hi - lo, hi - lo, fill=False, ec="0.3", ls="--", lw=1.0,
                               label=f"paper's range {lo}²–{hi}²"))  # fmt: skip
        lo_px, hi_px = min(lo_px, lo), max(hi_px, hi)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo_px / 1.3, hi_px * 1.3)
    ax.set_ylim(lo_px / 1.3, hi_px * 1.3)
    ticks = [t for t in (64, 128, 256, 512, 1024, 2048, 4096, 8192) if lo_px / 2 <= t <= 2 * hi_px]
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(FixedLocator(ticks))
        axis.set_major_formatter(FixedFormatter([str(t) for t in ticks]))
        axis.set_minor_locator(NullLocator())
    ax.set_xlabel("width (px, log)")
    ax.set_ylabel("height (px, log)")
    ax.legend(fontsize=6.5, markerscale=0.4, loc="upper left")
    ax.set_title(title or "(c) resolution per platform (marker area ∝ count)", fontsize=10)
    return fig


def plot_target_sizes(table: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Per-image target pixel area per platform (log x), with the point / spot / extended thresholds.

    ``table`` is the metadata table (columns platform, target_area). Images with area 0 are counted
    in the legend, not drawn.
    """
    _require(table, ["platform", "target_area"], "plot_target_sizes")
    fig, ax = _axes(ax, (6.0, 3.8))
    pos = table[table.target_area > 0]
    if pos.empty:
        raise ValueError("plot_target_sizes: no image has a non-zero target area")
    # log-spaced edges on half-integers: every bin holds whole pixel counts (no empty/aliased bins)
    top = np.log10(max(float(pos.target_area.max()), 10.0))
    bins = np.unique(np.concatenate([[0.5], np.round(np.logspace(0, top, 32)) + 0.5]))
    for platform in ordered(table.platform, PLATFORMS):
        g = table[table.platform == platform]
        a = g.target_area[g.target_area > 0]
        if a.empty:
            continue
        empty = 100.0 * (g.target_area == 0).mean()
        ax.hist(a, bins=bins, weights=np.full(len(a), 100.0 / len(a)), histtype="step", linewidth=1.6,
                color=PLATFORM_COLORS.get(platform, "0.5"),
                label=f"{platform} (n={len(a)}, median {a.median():.0f} px"
                      + (f"; {empty:.1f} % of its images area 0)" if empty else ")"))  # fmt: skip
    lo = 0.5
    for name in SIZE_CLASSES[1:]:
        hi = float(SIZE_THRESHOLDS.get(name, bins[-1]))
        if name in SIZE_THRESHOLDS:
            ax.axvline(hi, color="0.4", linestyle=":", linewidth=1)
        ax.text(np.sqrt(lo * hi), 0.98, name, transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=8)
        lo = hi
    ax.set_xscale("log")
    ax.set_xlabel("target pixel area per image (px, log)")
    ax.set_ylabel("% of the platform's images with targets")
    ax.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1.0, 0.92))  # below the class names, above the tail
    ax.set_title(title or "target size per platform (≤9 point, ≤81 spot, >81 extended)", fontsize=10)
    return fig


def figure1(
    contrast: pd.DataFrame,
    counts: pd.DataFrame,
    res: pd.DataFrame,
    table: pd.DataFrame,
    metric: str = "contrast",
    suptitle: str | None = None,
) -> Figure:
    """The four panels side by side: (a) contrast, (b) platform × band, (c) resolution, target sizes."""
    fig, axes = plt.subplots(1, 4, figsize=(22, 4.8), layout="constrained",
                             gridspec_kw={"width_ratios": [1.5, 1.0, 1.2, 1.3]})  # fmt: skip
    plot_contrast(contrast, metric=metric, ax=axes[0])
    plot_platform_band_heatmap(counts, ax=axes[1])
    plot_resolution_distribution(res, ax=axes[2])
    plot_target_sizes(table, ax=axes[3])
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    return fig
