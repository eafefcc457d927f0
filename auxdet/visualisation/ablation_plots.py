"""Figures of the paper's ablations (Tab. 1–9) and of our measured ablations, from DataFrames.

Inputs are :func:`auxdet.paper_tables.paper_table` frames (column names with units, e.g. ``AP50 (%)``)
and, for our numbers, :func:`auxdet.experiments.ablation.paper_comparison` output. Nothing here loads data or trains.

* :func:`plot_metadata_matrix` — Tab. 6: which metadata fields are on (check-mark matrix) beside a
  heatmap of AP50 / Recall (each column coloured on its own range), optionally with our numbers;
* :func:`plot_m2dm_combinations` — Tab. 3: PSSM / PSCM combinations, bars coloured by combination,
  parameters annotated;
* :func:`plot_leem_vs_conv` — Tab. 4: AP50 / Recall and parameters of LEEM vs a 3×3 convolution;
* :func:`plot_table_bars` — any ablation table (e.g. Tab. 2, Tab. 5) as AP50 / Recall bars;
* :func:`plot_module_depth` — Tab. 7: AP50 / Recall vs the embedding depth of M2DM and LEEM;
* :func:`plot_backbone_depth` — Tab. 8: baseline vs AuxDet over ResNet-18/34/50/101, gain annotated;
* :func:`plot_plugin_gains` — Tab. 9: each detector with / without AuxDet, gain annotated;
* :func:`plot_accuracy_vs_cost` — Tab. 1: AP50 vs parameters / FLOPs of every method, AuxDet highlighted;
* :func:`plot_measured_vs_paper` — our measured rows beside the paper's (a SMOKE run says so in the title).

Axes of the paper's ablations are zoomed to their values (the rows differ by tenths of a point); every such
plot takes ``noise`` (pp) and then draws a grey band of that half-width around the best row (Tab. 7: the best
point; Tab. 8: the baseline line), so that a difference inside the band reads as what it is: below the noise
level. The paper reports no seeds or intervals; notebook 06 uses the spread between its two runs of the same
baseline (Tab. 1 vs Tab. 2–5: 0.3 AP50).

Every function returns the matplotlib Figure (bars are ``ax.patches``, points ``ax.collections`` /
``ax.lines``, one artist per table row, so tests can count them).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from auxdet.paper_tables import AP50, D_AP50, D_RECALL, FLOPS, PARAMS, RECALL, row_labels

SMOKE_TITLE = "SMOKE budget — not meaningful"
METRICS: tuple[str, ...] = (AP50, RECALL)
COMBINATION_COLORS: dict[str, str] = {"none": "0.6", "single": "#8172B3", "sequential": "#4C72B0",
                                      "parallel": "#C44E52"}  # fmt: skip
CATEGORY_COLORS: dict[str, str] = {
    "General: one-stage": "#4C72B0", "General: two-stage": "#55A868", "General: end-to-end": "#8172B3",
    "Small target specialized": "#DD8452", "Ours": "#C44E52",
}  # fmt: skip
MODEL_COLORS: dict[str, str] = {
    "Baseline": "0.45",
    "AuxDet": "#C44E52",
    "paper": "0.55",
    "measured": "#4C72B0",
}


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing columns {missing}; got {list(df.columns)}")
    if df.empty:
        raise ValueError(f"{what}: the table is empty")


def _zoom(ax: Axes, values: np.ndarray, pad: float = 0.35, axis: str = "y") -> None:
    """Limit an axis to the values' range (ablation differences are tenths of a point)."""
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    span = max(hi - lo, 1.0)
    (ax.set_ylim if axis == "y" else ax.set_xlim)(lo - pad * span, hi + pad * span)


def noise_label(noise: float) -> str:
    """Legend text of the noise band."""
    return f"best ± {noise:.1f} pp (noise level)"


def _noise_band(ax: Axes, center: float, noise: float | None, axis: str = "y") -> None:
    """A grey band ``center ± noise`` behind the data (nothing when ``noise`` is None)."""
    if noise is None or not np.isfinite(center):
        return
    span = ax.axhspan if axis == "y" else ax.axvspan
    span(center - noise, center + noise, color="0.88", zorder=0, lw=0, label=noise_label(noise))


def _bars(ax: Axes, labels: list[str], values: np.ndarray, colors: Sequence[str], metric: str,
          best: bool = True, fmt: str = "{:.1f}", noise: float | None = None) -> None:  # fmt: skip
    """Vertical bars with value labels, the best one outlined; the y axis zoomed to the values (not
    zero-based: ``noise`` draws the band of that half-width around the best value, and a note says so)."""
    x = np.arange(len(labels))
    if np.isfinite(values).any():
        _noise_band(ax, float(np.nanmax(values)), noise)
    bars = ax.bar(x, values, color=colors, edgecolor="k", linewidth=0.4)
    ax.bar_label(bars, [fmt.format(v) for v in values], fontsize=7, padding=2)
    if best and np.isfinite(values).any():
        b = bars[int(np.nanargmax(values))]
        b.set_linewidth(2.0)
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"{metric} — axis not zero-based")
    _zoom(ax, values)


# ----------------------------------------------------------------------------- Tab. 6
def plot_metadata_matrix(
    t6: pd.DataFrame, measured: pd.DataFrame | None = None, title: str | None = None
) -> Figure:
    """Tab. 6: check-mark matrix of the metadata fields used (left) and AP50 / Recall heatmap (right).

    ``t6`` has boolean columns ``sensor``, ``resolution``, ``band`` and ``AP50 (%)``, ``Recall (%)``.
    ``measured`` (optional) has ``row`` (labels as :func:`auxdet.paper_tables.row_labels`), ``AP50``,
    ``Recall``; its values are added as extra heatmap columns (mean over seeds; rows not measured stay
    blank). Each heatmap column is
    coloured on its own range; the best AP50 row is framed.
    """
    fields = ["sensor", "resolution", "band"]
    _require(t6, [*fields, AP50, RECALL], "plot_metadata_matrix")
    labels = row_labels(t6)
    values = t6[[AP50, RECALL]].rename(columns={AP50: "AP50\n(paper)", RECALL: "Recall\n(paper)"})
    values.index = labels
    if measured is not None:
        _require(measured, ["row", "AP50", "Recall"], "plot_metadata_matrix(measured)")
        m = measured.groupby("row")[["AP50", "Recall"]].mean()
        values["AP50\n(ours)"] = m["AP50"].reindex(labels).to_numpy()
        values["Recall\n(ours)"] = m["Recall"].reindex(labels).to_numpy()
    on = t6[fields].astype(bool).to_numpy()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(4.6 + 1.0 * values.shape[1], 0.45 * len(t6) + 1.8),
                                   layout="constrained", gridspec_kw={"width_ratios": [3, values.shape[1]]})  # fmt: skip
    sns.heatmap(on.astype(float), ax=ax0, cmap=sns.light_palette("#4C72B0", as_cmap=True), vmin=0, vmax=1,
                cbar=False, linewidths=0.5, linecolor="white", annot=np.where(on, "✓", ""), fmt="",
                annot_kws={"fontsize": 11}, xticklabels=fields, yticklabels=labels)  # fmt: skip
    ax0.set_title("metadata fields used", fontsize=9)
    ax0.tick_params(axis="y", labelsize=8)
    v = values.to_numpy(dtype=float)
    lo, hi = np.nanmin(v, axis=0), np.nanmax(v, axis=0)
    norm = (v - lo) / np.where(hi > lo, hi - lo, 1.0)
    sns.heatmap(norm, ax=ax1, cmap="rocket_r", vmin=0, vmax=1, cbar=False, linewidths=0.5, linecolor="white",
                annot=np.vectorize(lambda x: f"{x:.1f}")(v), fmt="",
                annot_kws={"fontsize": 8}, xticklabels=list(values.columns), yticklabels=False)  # fmt: skip
    best = int(np.nanargmax(v[:, 0]))
    ax1.add_patch(Rectangle((0, best), v.shape[1], 1, fill=False, edgecolor="k", linewidth=2))
    ax1.set_title("% (colour: range of each column)", fontsize=8)
    ax1.tick_params(axis="x", labelsize=8, rotation=0)
    inferred = bool(t6.get("components inferred", pd.Series(False)).any())
    note = "\n(1–2-field check marks inferred from the column order, see paper_tables)" if inferred else ""
    fig.suptitle((title or "Tab. 6 — metadata composition") + note, fontsize=10)
    return fig


# ----------------------------------------------------------------------------- Tab. 3, 4, generic
def plot_table_bars(df: pd.DataFrame, title: str | None = None, colors: Sequence[str] | None = None,
                    params: bool = True, noise: float | None = None) -> Figure:  # fmt: skip
    """An ablation table as two bar panels (AP50, Recall), one bar per row; parameters (M) under the labels;
    ``noise`` (pp): the band around the best row."""
    _require(df, list(METRICS), "plot_table_bars")
    labels = row_labels(df)
    if params and PARAMS in df.columns:  # parameters under each label
        labels = [f"{lab}\n{p:.3f} M" for lab, p in zip(labels, df[PARAMS].to_numpy(float), strict=True)]
    colors = list(colors) if colors is not None else ["#4C72B0"] * len(df)
    fig, axes = plt.subplots(1, 2, figsize=(2.2 + 0.75 * len(df) * 2, 3.8), layout="constrained")
    for ax, metric in zip(axes, METRICS, strict=True):
        _bars(ax, labels, df[metric].to_numpy(float), colors, metric, noise=noise)
    if noise is not None:
        axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(title or df.attrs.get("title", "ablation"), fontsize=10)
    return fig


def plot_m2dm_combinations(t3: pd.DataFrame, title: str | None = None, noise: float | None = None) -> Figure:
    """Tab. 3: AP50 / Recall of the PSSM / PSCM combinations, coloured by combination, params annotated."""
    _require(t3, ["combination", *METRICS], "plot_m2dm_combinations")
    colors = [COMBINATION_COLORS.get(c, "0.5") for c in t3["combination"]]
    fig = plot_table_bars(
        t3, title=title or "Tab. 3 — PSSM / PSCM combinations (outlined: best)", colors=colors, noise=noise
    )
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in COMBINATION_COLORS.values()]
    labels = list(COMBINATION_COLORS)
    if noise is not None:
        handles.append(Rectangle((0, 0), 1, 1, color="0.88"))
        labels.append(noise_label(noise))
        fig.axes[0].get_legend().remove()
    fig.axes[1].legend(handles, labels, title="combination", fontsize=7, title_fontsize=7,
                       loc="upper left")  # fmt: skip
    return fig


def plot_leem_vs_conv(t4: pd.DataFrame, title: str | None = None, noise: float | None = None,
                      mmdet_baseline: float | None = None) -> Figure:  # fmt: skip
    """Tab. 4: AP50 and Recall (left, middle) and parameters (right) per edge kernel.

    The right panel shows the totals (zero-based, Δ vs the paper's baseline annotated) or, with
    ``mmdet_baseline`` (M, mmdet's count of the same baseline, 41.936 M), the overhead of each module
    twice: as printed (Δ vs the paper's 42.527 M) and measured from ``mmdet_baseline``.
    """
    _require(t4, [*METRICS, PARAMS], "plot_leem_vs_conv")
    labels = row_labels(t4)
    colors = ["0.6", "#8172B3", "#C44E52"][: len(t4)] + ["#4C72B0"] * max(0, len(t4) - 3)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), layout="constrained")
    for ax, metric in zip(axes[:2], METRICS, strict=True):
        _bars(ax, labels, t4[metric].to_numpy(float), colors, metric, noise=noise)
    if noise is not None:
        axes[0].legend(fontsize=7, loc="upper left")
    p = t4[PARAMS].to_numpy(float)
    if mmdet_baseline is None:
        x = np.arange(len(p))
        bars = axes[2].bar(x, p, color=colors, edgecolor="k", linewidth=0.4)
        axes[2].bar_label(bars, [f"{v:.3f}\n(+{v - p[0]:.3f})" if i else f"{v:.3f}" for i, v in enumerate(p)],
                          fontsize=7, padding=2)  # fmt: skip
        axes[2].set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
        axes[2].set_ylabel(PARAMS)
        axes[2].set_ylim(0, p.max() * 1.15)
    else:
        x, w = np.arange(len(p) - 1), 0.38
        sources = ((p[0], f"printed (vs {p[0]:.3f} M)", "0.7"),
                   (mmdet_baseline, f"from mmdet's {mmdet_baseline:.3f} M", "#4C72B0"))  # fmt: skip
        for j, (base, name, color) in enumerate(sources):
            bars = axes[2].bar(x + (j - 0.5) * w, p[1:] - base, w, color=color, edgecolor="k", linewidth=0.4,
                               label=name)  # fmt: skip
            axes[2].bar_label(bars, [f"{v:.3f}" for v in p[1:] - base], fontsize=7, padding=2)
        axes[2].set_xticks(x, labels[1:], rotation=30, ha="right", fontsize=8)
        axes[2].set_ylabel("Δ parameters over the baseline (M)")
        axes[2].set_ylim(0, float(np.max(p[1:] - min(p[0], mmdet_baseline))) * 1.3)
        axes[2].legend(fontsize=7, loc="upper left")
    fig.suptitle(title or "Tab. 4 — LEEM (1×3→3×1) vs a standard 3×3 convolution", fontsize=10)
    return fig


# ----------------------------------------------------------------------------- Tab. 7, 8
def plot_module_depth(t7: pd.DataFrame, title: str | None = None, noise: float | None = None) -> Figure:
    """Tab. 7: AP50 / Recall vs embedding depth, one line per varied module (the other fixed at 2);
    ``noise`` (pp): the band around the best point of each panel."""
    _require(t7, ["varied", "M2DM depth", "LEEM depth", *METRICS], "plot_module_depth")
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.6), layout="constrained")
    colors = {"M2DM": "#4C72B0", "LEEM": "#C44E52"}
    for ax, metric in zip(axes, METRICS, strict=True):
        _noise_band(ax, float(t7[metric].max()), noise)
        for module, g in t7.groupby("varied", sort=False):
            depth = g[f"{module} depth"].to_numpy(int)
            y = g[metric].to_numpy(float)
            ax.plot(depth, y, "o-", color=colors.get(str(module), "0.3"), label=f"{module} (other at 2)")
            ax.plot(depth[np.argmax(y)], y.max(), "*", ms=13, color=colors.get(str(module), "0.3"), mec="k",
                    label="_best")  # fmt: skip
        ax.set_xticks(sorted(set(t7["M2DM depth"]) | set(t7["LEEM depth"])))
        ax.set_xlabel("embedding depth (modules after stages 1..k)")
        ax.set_ylabel(f"{metric} — axis not zero-based")
        _zoom(ax, t7[metric].to_numpy(float), pad=0.2)
    axes[0].legend(fontsize=8)
    fig.suptitle(title or "Tab. 7 — embedding depth of M2DM and LEEM (★ best)", fontsize=10)
    return fig


def plot_backbone_depth(t8: pd.DataFrame, title: str | None = None, noise: float | None = None) -> Figure:
    """Tab. 8: baseline vs AuxDet per ResNet depth (AP50, Recall), the gain annotated at each depth;
    ``noise`` (pp): a band of that half-width around the baseline line."""
    _require(t8, ["backbone depth", "model", *METRICS], "plot_backbone_depth")
    depths = sorted(set(t8["backbone depth"]))
    x = np.arange(len(depths))
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.6), layout="constrained")
    for ax, metric in zip(axes, METRICS, strict=True):
        wide = t8.pivot(index="backbone depth", columns="model", values=metric).reindex(depths)
        if noise is not None and "Baseline" in wide.columns:
            b = wide["Baseline"].to_numpy(float)
            ax.fill_between(x, b - noise, b + noise, color="0.88", lw=0, zorder=0,
                            label=f"baseline ± {noise:.1f} pp (noise level)")  # fmt: skip
        for model in wide.columns:
            ax.plot(x, wide[model].to_numpy(float), "o-", color=MODEL_COLORS.get(model, "0.3"), label=model)
        if {"Baseline", "AuxDet"} <= set(wide.columns):
            for i, (b, a) in enumerate(zip(wide["Baseline"], wide["AuxDet"], strict=True)):
                ax.annotate(f"{a - b:+.1f}", (i, max(a, b)), xytext=(0, 6), textcoords="offset points",
                            ha="center", fontsize=8, color=MODEL_COLORS["AuxDet"])  # fmt: skip
        ax.set_xticks(x, [f"ResNet-{d}" for d in depths])
        ax.set_ylabel(f"{metric} — axis not zero-based")
        _zoom(ax, wide.to_numpy(float), pad=0.25)
    axes[0].legend(fontsize=8)
    fig.suptitle(title or "Tab. 8 — backbone depth: baseline vs AuxDet (gain in pp)", fontsize=10)
    return fig


# ----------------------------------------------------------------------------- Tab. 9
def plot_plugin_gains(t9: pd.DataFrame, title: str | None = None) -> Figure:
    """Tab. 9: grouped bars (before / after AuxDet) per detector for AP50 and Recall, gain annotated.

    The gain is recomputed from the two values; where the paper prints another gain it is marked
    with ``*`` and the printed value (e.g. Dynamic R-CNN's recall).
    """
    _require(t9, ["method", "setting", *METRICS], "plot_plugin_gains")
    methods = list(dict.fromkeys(t9["method"]))
    settings = list(dict.fromkeys(t9["setting"]))
    if len(settings) != 2:
        raise ValueError(f"plot_plugin_gains: expected two settings (before / after), got {settings}")
    x = np.arange(len(methods))
    w = 0.38
    fig, axes = plt.subplots(1, 2, figsize=(2.0 + 1.4 * len(methods), 4.0), layout="constrained")
    printed_cols = {AP50: D_AP50, RECALL: D_RECALL}
    for ax, metric in zip(axes, METRICS, strict=True):
        wide = t9.pivot(index="method", columns="setting", values=metric).reindex(methods)[settings]
        for j, (s, color) in enumerate(zip(settings, ["0.6", "#C44E52"], strict=True)):
            ax.bar(x + (j - 0.5) * w, wide[s].to_numpy(float), w, color=color, edgecolor="k", linewidth=0.4,
                   label=s)  # fmt: skip
        printed = None
        if printed_cols[metric] in t9.columns:
            printed = (
                t9[t9["setting"] == settings[1]].set_index("method")[printed_cols[metric]].reindex(methods)
            )
        for i, m in enumerate(methods):
            b, a = wide.loc[m, settings[0]], wide.loc[m, settings[1]]
            text = f"{a - b:+.1f}"
            if printed is not None and np.isfinite(printed[m]) and abs(printed[m] - (a - b)) > 0.05:
                text += f"*\n(printed {printed[m]:+.1f})"
            ax.annotate(
                text, (i, max(a, b)), xytext=(0, 3), textcoords="offset points", ha="center", fontsize=7
            )
        ax.set_xticks(x, methods, rotation=25, ha="right", fontsize=8)
        ax.set_ylabel(metric)
        ax.set_ylim(0, float(np.nanmax(wide.to_numpy(float))) * 1.15)
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(title or "Tab. 9 — general detectors without / with AuxDet (gain in pp)", fontsize=10)
    return fig


# ----------------------------------------------------------------------------- Tab. 1
def plot_accuracy_vs_cost(t1: pd.DataFrame, costs: Sequence[str] = (PARAMS, FLOPS), highlight: str = "AuxDet (Ours)",
                          title: str | None = None, annotate: bool = True, label_min_ap50: float = 70.0
                          ) -> Figure:  # fmt: skip
    """Tab. 1: AP50 vs parameters and/or FLOPs (log x) for every method, coloured by category.

    ``highlight`` (AuxDet) is drawn as a large star; each method is one point (``ax.collections``:
    one scatter per category + the highlight). With ``annotate`` the methods with AP50 ≥ ``label_min_ap50``
    are named in a column right of each panel (in AP50 order), joined to their point by a thin line, so no
    name is printed over the data.
    """
    costs = [costs] if isinstance(costs, str) else list(costs)
    _require(t1, ["method", "category", AP50, *costs], "plot_accuracy_vs_cost")
    fig, axes = plt.subplots(
        1, len(costs), figsize=(6.2 * len(costs), 4.8), layout="constrained", squeeze=False
    )
    hl = t1["method"] == highlight
    for ax, cost in zip(axes[0], costs, strict=True):
        for cat, g in t1[~hl].groupby("category", sort=False):
            ax.scatter(g[cost], g[AP50], s=36, color=CATEGORY_COLORS.get(str(cat), "0.5"), edgecolors="k",
                       linewidths=0.3, label=cat, zorder=2)  # fmt: skip
        if hl.any():
            h = t1[hl]
            ax.scatter(h[cost], h[AP50], s=260, marker="*", color=CATEGORY_COLORS["Ours"], edgecolors="k",
                       linewidths=0.8, label=highlight, zorder=3)  # fmt: skip
        if annotate:
            named = t1[t1[AP50] >= label_min_ap50].sort_values(AP50, ascending=False)
            for i, (method, c, ap) in enumerate(zip(named["method"], named[cost], named[AP50], strict=True)):
                is_hl = method == highlight
                ax.annotate(f"{method} ({ap:.1f})", (c, ap), xytext=(1.03, 0.97 - 0.07 * i), textcoords="axes fraction",
                            va="center", fontsize=8 if is_hl else 7, fontweight="bold" if is_hl else "normal",
                            arrowprops=dict(arrowstyle="-", color="0.6", lw=0.5, shrinkA=0, shrinkB=3))  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel(f"{cost} (log)")
        ax.set_ylabel(AP50)
        ax.grid(True, which="both", alpha=0.25)
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.suptitle(title or "Tab. 1 — accuracy vs cost on WideIRSTD-Full (★ AuxDet)", fontsize=10)
    return fig


# ----------------------------------------------------------------------------- measured vs paper
def plot_measured_vs_paper(
    comparison: pd.DataFrame, metric: str = "AP50", title: str | None = None, noise: float | None = None
) -> Figure:
    """Our measured ablation rows beside the paper's: one row of panels per table (paper | measured).

    ``comparison`` is :func:`auxdet.experiments.ablation.paper_comparison` output (``table``, ``row``, ``source``,
    ``AP50``, ``Recall``; optional ``smoke``, ``budget_iters``, ``seed``). Measured bars are the mean
    over seeds with the min–max range as error bar. A SMOKE run puts ``SMOKE budget — not meaningful``
    in the title, and so does the number of test targets (``num_test_targets``, when given). The axes of
    the two sources are separate: the paper's numbers are on WideIRSTD-Full with an R50 at 12 epochs
    (zoomed; ``noise`` draws the band around its best row), ours on synthetic data with the CPU-tiny
    detector (zero-based).
    """
    _require(comparison, ["table", "row", "source", metric], "plot_measured_vs_paper")
    if metric not in ("AP50", "Recall"):
        raise ValueError(f"metric must be 'AP50' or 'Recall', got {metric!r}")
    tables = sorted(set(comparison["table"].astype(int)))
    sizes = [comparison.loc[comparison["table"] == n, "row"].nunique() for n in tables]
    fig, axes = plt.subplots(len(tables), 2, figsize=(10, 0.8 + sum(0.42 * s + 0.6 for s in sizes)),
                             layout="constrained", squeeze=False, gridspec_kw={"height_ratios": sizes})  # fmt: skip
    measured_all = comparison[comparison["source"] == "measured"]
    for (ax_p, ax_m), n in zip(axes, tables, strict=True):
        d = comparison[comparison["table"] == n]
        order = list(dict.fromkeys(d.loc[d["source"] == "paper", "row"])) or []
        order += [r for r in dict.fromkeys(d["row"]) if r not in order]
        y = np.arange(len(order))
        for ax, source in ((ax_p, "paper"), (ax_m, "measured")):
            s = d[d["source"] == source].groupby("row")[metric].agg(["mean", "min", "max"]).reindex(order)
            vals = s["mean"].to_numpy(float)
            err = np.vstack([vals - s["min"].to_numpy(float), s["max"].to_numpy(float) - vals])
            bars = ax.barh(y, np.nan_to_num(vals), color=MODEL_COLORS[source], edgecolor="k", linewidth=0.4,
                           xerr=err if source == "measured" and np.nanmax(err, initial=0) > 0 else None)  # fmt: skip
            ax.bar_label(bars, ["–" if np.isnan(v) else f"{v:.1f}" for v in vals], fontsize=7, padding=2)
            ax.set_yticks(y, order if ax is ax_p else [""] * len(order), fontsize=8)
            ax.invert_yaxis()
            finite = vals[np.isfinite(vals)]
            if source == "paper" and finite.size:
                _noise_band(ax, float(finite.max()), noise, axis="x")
                _zoom(ax, finite, pad=0.6, axis="x")
            else:
                ax.set_xlim(0, max(5.0, float(finite.max()) * 1.2 if finite.size else 5.0))
        ax_p.set_title(f"Tab. {n} — paper (WideIRSTD-Full, R50)", fontsize=9)
        ax_m.set_title(f"Tab. {n} — ours (synthetic, CPU-tiny)", fontsize=9)
        ax_p.set_xlabel(f"{metric} (%) — axis not zero-based", fontsize=8)
        ax_m.set_xlabel(f"{metric} (%)", fontsize=8)
    smoke = bool(measured_all["smoke"].astype(bool).any()) if "smoke" in measured_all else False
    info = []
    if "budget_iters" in measured_all and len(measured_all):
        info.append(
            f"{', '.join(str(int(b)) for b in sorted(set(measured_all['budget_iters'])))} training iterations"
        )
    if "seed" in measured_all and len(measured_all):
        seeds = sorted(int(s) for s in set(measured_all["seed"]))
        info.append(f"seeds {seeds}" + (" (one seed: no error bars)" if len(seeds) == 1 else ""))
    if "num_test_targets" in measured_all and measured_all["num_test_targets"].notna().any():
        n = sorted(int(v) for v in set(measured_all["num_test_targets"].dropna()))
        info.append(f"n = {'/'.join(map(str, n))} test targets")
    head = title or f"Measured ablations vs the paper ({metric})"
    if info:
        head += " — " + ", ".join(info)
    if noise is not None:
        head += f"\ngrey: the paper's {noise_label(noise)}"
    if smoke:
        head = f"{SMOKE_TITLE}\n{head}"
    fig.suptitle(head, fontsize=11 if smoke else 10, color="#C44E52" if smoke else "k",
                 fontweight="bold" if smoke else "normal")  # fmt: skip
    return fig
