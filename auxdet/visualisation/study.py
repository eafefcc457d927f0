"""Figures of the metadata study (:mod:`auxdet.experiments.study`): arms per domain, the ambiguity sweep.

Every panel is in percent (AP50 or Recall) or percentage points (differences), with a zero-based axis
for levels and a zero line for differences; group labels carry the number of test targets; error bars
are the spread over seeds (levels) or the 95 % paired bootstrap interval (differences).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["ARM_COLORS", "plot_arms", "plot_domain_differences", "plot_domain_probe", "plot_rule_examples", "plot_sweep"]

#: one colour per arm / test-time variant, the same in every figure
ARM_COLORS: dict[str, str] = {
    "baseline": "0.55",
    "auxdet-nometa": "#8172B3",
    "auxdet": "#C44E52",
    "auxdet (swap)": "#DD8452",
    "auxdet (shuffle)": "#E9B36B",
}
_MIX_STYLE = {"balanced": ("-", "o"), "real": ("--", "s")}


def _label(value: str, targets: int) -> str:
    return f"{'overall' if value == 'all' else value.replace('_', '/')}\n(n={targets})"


def plot_arms(rows: pd.DataFrame, metric: str = "AP50", setting: str | None = None,
              ax: plt.Axes | None = None) -> Figure:  # fmt: skip
    """Bars of ``metric`` (%) per group (overall, each domain) and arm / variant; mean over seeds ± std."""
    if setting is not None:
        rows = rows[rows["setting"] == setting]
    if rows.empty:
        raise ValueError(f"plot_arms: no rows{f' for setting {setting!r}' if setting else ''}")
    rows = rows.assign(arm_variant=[a if v == "true" else f"{a} ({v})" for a, v in zip(rows["arm"], rows["variant"],
                                                                                        strict=True)])  # fmt: skip
    order = [k for k in ARM_COLORS if k in set(rows["arm_variant"])]
    groups = list(dict.fromkeys(rows["value"]))
    targets = rows.groupby("value")["num_targets"].sum() / rows.groupby("value")["seed"].nunique() / rows.groupby(
        "value")["arm_variant"].nunique()  # fmt: skip
    stats = rows.groupby(["value", "arm_variant"])[metric].agg(["mean", "std", "count"])
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(1.6 + 1.35 * len(groups), 3.6))
    width = 0.8 / len(order)
    for k, name in enumerate(order):
        xs = np.arange(len(groups)) + (k - (len(order) - 1) / 2) * width
        mean = [stats["mean"].get((g, name), np.nan) for g in groups]
        std = [stats["std"].get((g, name), np.nan) for g in groups]
        ax.bar(xs, mean, width, yerr=None if np.all(np.isnan(std)) else std, color=ARM_COLORS[name],
               label=name, capsize=2, edgecolor="white", linewidth=0.5)  # fmt: skip
    ax.set_xticks(np.arange(len(groups)), [_label(g, int(round(targets[g]))) for g in groups])
    n_seeds = rows["seed"].nunique()
    ax.set(ylabel=f"{metric} (%)", ylim=(0, None),
           title=f"{metric} per arm ({n_seeds} seed{'s' if n_seeds > 1 else ''}"
                 f"{', mean ± std' if n_seeds > 1 else ''}; n = test targets per seed)")  # fmt: skip
    ax.legend(fontsize=8, ncol=min(5, len(order)), loc="upper right", frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_sweep(summary: pd.DataFrame, comparisons: Sequence[str] = ("metadata effect", "metadata reliance (swap)"),
               metric: str = "AP50", group: str = "overall") -> Figure:  # fmt: skip
    """Differences (pp) against the ambiguity level, one line per domain mix, 95 % bootstrap CI as bars."""
    sel = summary[(summary["metric"] == metric) & (summary["group"] == group)]
    fig, axes = plt.subplots(1, len(comparisons), figsize=(4.6 * len(comparisons), 3.6), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, name in zip(axes, comparisons, strict=True):
        part = sel[sel["comparison"] == name]
        for mix, (ls, marker) in _MIX_STYLE.items():
            line = part[part["domain_mix"] == mix].sort_values("ambiguity")
            if line.empty:
                continue
            err = np.vstack([line["diff_mean"] - line["ci_lo"], line["ci_hi"] - line["diff_mean"]])
            drawn = ax.errorbar(line["ambiguity"], line["diff_mean"], yerr=np.clip(err, 0, None), ls=ls,
                                marker=marker, capsize=3, label=f"{mix} mix: mean, 95 % CI")  # fmt: skip
            # each seed's own difference: the training noise the bootstrap over test images leaves out
            for k, (a, seeds) in enumerate(zip(line["ambiguity"], line["per_seed"].astype(str), strict=True)):
                per_seed = [float(v) for v in seeds.split(";") if v not in ("", "nan")]
                ax.scatter(np.full(len(per_seed), a) + 0.025, per_seed, s=14, marker="x", lw=0.9,
                           color=drawn.lines[0].get_color(), label=f"{mix} mix: one seed" if k == 0 else None)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set(title=name, xticks=sorted(set(sel["ambiguity"])))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"Δ {metric} (percentage points)")
    fig.supxlabel("domain ambiguity (share of images whose scene is drawn independently of the domain)", fontsize=9)
    axes[-1].legend(frameon=False)
    n = int(sel["n_seeds"].max()) if len(sel) else 0
    fig.suptitle(f"When does metadata matter? ({group}; mean of {n} seeds with the 95 % paired bootstrap CI over "
                 "test images; × = each seed)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_domain_differences(summary: pd.DataFrame, setting: str,
                            comparisons: Sequence[str] = ("metadata effect", "metadata reliance (swap)"),
                            metric: str = "AP50") -> Figure:  # fmt: skip
    """Per-domain differences (pp) at one setting with 95 % CIs; groups with < 10 targets hatched."""
    sel = summary[(summary["setting"] == setting) & (summary["metric"] == metric)]
    if sel.empty:
        raise ValueError(f"plot_domain_differences: no summary rows for setting {setting!r}")
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    values = list(dict.fromkeys(sel["value"]))
    width = 0.8 / len(comparisons)
    colors = ("#C44E52", "#DD8452", "#8172B3", "0.55")
    for k, name in enumerate(comparisons):
        part = sel[sel["comparison"] == name].set_index("value").reindex(values)
        xs = np.arange(len(values)) + (k - (len(comparisons) - 1) / 2) * width
        err = np.vstack([part["diff_mean"] - part["ci_lo"], part["ci_hi"] - part["diff_mean"]])
        bars = ax.bar(xs, part["diff_mean"], width, yerr=np.clip(err, 0, None), capsize=3, color=colors[k % 4],
                      label=name)  # fmt: skip
        for bar, small in zip(bars, part["small"].fillna(False), strict=True):
            if small:
                bar.set_hatch("///")
    targets = sel.groupby("value")["num_targets"].first().reindex(values)
    ax.set_xticks(np.arange(len(values)), [_label(v, int(t)) for v, t in zip(values, targets, strict=True)])
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set(ylabel=f"Δ {metric} (percentage points)", title=f"{setting}: per domain (n = test targets, all seeds)")
    ax.legend(frameon=False, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_rule_examples(samples: dict[str, Sequence], titles: Sequence[str] | None = None) -> Figure:
    """Rendered synthetic images, one row per setting (``{row label: [SyntheticSample, …]}``), one column
    per domain: targets boxed green, distractors (another domain's target look) boxed orange; grey map with
    its intensity colour bar (0–255, 8-bit image)."""
    rows = list(samples)
    cols = max(len(v) for v in samples.values())
    fig, axes = plt.subplots(len(rows), cols, figsize=(2.7 * cols + 0.6, 2.8 * len(rows)), squeeze=False)
    im = None
    for r, label in enumerate(rows):
        for c, sample in enumerate(samples[label]):
            ax = axes[r, c]
            im = ax.imshow(sample.image, cmap="gray", vmin=0, vmax=255)
            for kind, color in (("targets", "#2ca02c"), ("distractors", "#ff7f0e")):
                for rec in sample.info[kind]:
                    x0, y0, x1, y1 = rec["box"]
                    ax.add_patch(plt.Rectangle((x0 - 1.5, y0 - 1.5), x1 - x0 + 2, y1 - y0 + 2, fill=False, lw=1.2,
                                               ec=color))  # fmt: skip
            scene = sample.info.get("scene", sample.info["domain"])
            title = f"{sample.info['domain']}" + (f"\nscene: {scene}" if sample.info.get("decoupled") else "")
            ax.set_title(title if titles is None else titles[c], fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, fontsize=9)
        for c in range(len(samples[label]), cols):
            axes[r, c].axis("off")
    if im is not None:
        fig.colorbar(im, ax=axes, fraction=0.02, pad=0.01, label="8-bit intensity")
    fig.suptitle("green: targets (the domain's own look) · orange: distractors (another domain's target look)",
                 fontsize=9)  # fmt: skip
    return fig


def plot_domain_probe(probe: pd.DataFrame) -> Figure:
    """Held-out accuracy (%) of the linear domain probe against the ambiguity level, per domain mix, with the
    chance level (always guessing the most frequent training domain) dashed."""
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    overall = probe[probe["domain"] == "overall"]
    for mix, (ls, marker) in _MIX_STYLE.items():
        line = overall[overall["domain_mix"] == mix].sort_values("ambiguity")
        if line.empty:
            continue
        p = ax.plot(line["ambiguity"], 100 * line["accuracy"], ls=ls, marker=marker,
                    label=f"{mix} mix (n = {int(line['n'].iloc[0])} test images)")  # fmt: skip
        ax.plot(line["ambiguity"], 100 * line["chance"], ls=":", color=p[0].get_color(), lw=1,
                label=f"{mix} mix: chance")  # fmt: skip
    ax.set(xlabel="domain ambiguity", ylabel="domain recovered from the pixels (%)", ylim=(0, 100),
           xticks=sorted(set(overall["ambiguity"])), title="Can the domain be read off the image?")  # fmt: skip
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
