"""The study's differences with their uncertainty: per seed, mean ± std over seeds, paired bootstrap CI.

For every cell of a :class:`~auxdet.experiments.study.Study` and every comparison of
:data:`COMPARISONS` whose two sides were measured there, and for every group (``overall`` and each
platform/band domain), :func:`summarise` reports

* ``a_mean`` / ``b_mean`` — AP50 (or Recall) of the two sides, mean over seeds (%);
* ``diff_mean ± diff_std`` — the mean and standard deviation over seeds of the per-seed difference
  (the spread of training seeds and data draws);
* ``ci_lo`` / ``ci_hi`` — the 95 % paired bootstrap interval of the mean difference over test images
  (:func:`auxdet.evaluation.bootstrap.pooled_bootstrap`: each seed's test images resampled, both sides
  on the same resample; the spread of the test set for these trained models);
* ``num_targets`` — test targets in the group (summed over seeds) and ``small`` when any seed has
  fewer than 10 (such groups are drawn hatched or left out).

The summary CSV carries a ``fingerprint`` of everything it was computed from (the run fingerprints,
the bootstrap settings), so a notebook can check it belongs to the runs it shows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from auxdet.experiments.cache import ExperimentError, fingerprint

__all__ = ["COMPARISONS", "MIN_TARGETS", "SUMMARY_COLUMNS", "comparison_table", "summarise"]

#: name → ((arm, variant) of side a, (arm, variant) of side b); the difference is a − b
COMPARISONS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "metadata effect": (("auxdet", "true"), ("auxdet-nometa", "true")),
    "metadata reliance (swap)": (("auxdet", "true"), ("auxdet", "swap")),
    "metadata reliance (shuffle)": (("auxdet", "true"), ("auxdet", "shuffle")),
    "modules without metadata": (("auxdet-nometa", "true"), ("baseline", "true")),
    "AuxDet vs baseline": (("auxdet", "true"), ("baseline", "true")),
}
MIN_TARGETS = 10
SUMMARY_COLUMNS: tuple[str, ...] = (
    "setting", "ambiguity", "domain_mix", "comparison", "metric", "group", "value", "n_seeds", "a_mean",
    "b_mean", "diff_mean", "diff_std", "ci_lo", "ci_hi", "per_seed", "num_targets", "small", "fingerprint",
)  # fmt: skip


def _domain_of(value: str) -> str:
    return value.replace("_", "/", 1)


def summarise(study: Any, runs: Sequence[Any], rows: pd.DataFrame, *, path: str | os.PathLike | None = None,
              metrics: Sequence[str] = ("AP50", "Recall")) -> pd.DataFrame:  # fmt: skip
    """The summary table of ``study`` from its result ``rows`` and its runs' per-image outcomes."""
    from auxdet.evaluation.bootstrap import pooled_bootstrap
    from auxdet.experiments.study import load_outcomes

    by_key = {(r.cell.setting.name, r.seed, r.arm): r for r in runs}
    records = []
    for cell in study.cells:
        s = cell.setting
        for name, (side_a, side_b) in COMPARISONS.items():
            if side_a[0] not in cell.arms or side_b[0] not in cell.arms:
                continue
            outcomes = []
            for seed in study.seeds:
                oa = load_outcomes(by_key[(s.name, seed, side_a[0])], side_a[1])
                ob = load_outcomes(by_key[(s.name, seed, side_b[0])], side_b[1])
                if oa is None or ob is None:
                    raise ExperimentError(f"summary: per-image outcomes of {s.name} seed {seed} are missing; "
                                          "run the study again (they are kept beside each run's checkpoint)")
                outcomes.append((oa["outcomes"], ob["outcomes"]))
            groups = sorted(set(outcomes[0][0].groups))
            for metric in metrics:
                for group, keep in [("overall", None)] + [("domain", g) for g in groups]:
                    records.append(_record(s, name, metric, group, keep, outcomes, rows, side_a, side_b,
                                           study, pooled_bootstrap))  # fmt: skip
    df = pd.DataFrame(records, columns=list(SUMMARY_COLUMNS))
    df["fingerprint"] = fingerprint(sorted(r.fingerprint for r in runs), study.bootstrap, study.shuffle_seed)
    if path is not None:
        from auxdet.fileio import atomic_write_csv

        atomic_write_csv(path, df)
    return df


def _record(setting: Any, name: str, metric: str, group: str, keep: str | None, outcomes: list, rows: pd.DataFrame,
            side_a: tuple[str, str], side_b: tuple[str, str], study: Any, bootstrap: Any) -> dict[str, Any]:  # fmt: skip
    pairs = [(a, b) if keep is None else (a.subset(lambda g: g == keep), b.subset(lambda g: g == keep))
             for a, b in outcomes]  # fmt: skip
    res = bootstrap(pairs, metric=metric, n=study.bootstrap, seed=0)
    value = "all" if keep is None else keep.replace("/", "_")
    sel = rows[(rows["setting"] == setting.name) & (rows["group"] == group) & (rows["value"] == value)]

    def side(arm_variant: tuple[str, str]) -> pd.Series:
        arm, variant = arm_variant
        part = sel[(sel["arm"] == arm) & (sel["variant"] == variant)].set_index("seed")
        return part[metric].reindex([int(x) for x in study.seeds]).astype(float)

    diffs = (side(side_a) - side(side_b)).to_numpy()
    finite = diffs[np.isfinite(diffs)]
    targets = sel[(sel["arm"] == side_a[0]) & (sel["variant"] == side_a[1])]["num_targets"].astype(int)
    return {
        "setting": setting.name, "ambiguity": setting.ambiguity, "domain_mix": setting.domain_mix,
        "comparison": name, "metric": metric, "group": group, "value": value, "n_seeds": len(finite),
        "a_mean": float(side(side_a).mean()), "b_mean": float(side(side_b).mean()),
        "diff_mean": float(finite.mean()) if len(finite) else np.nan,
        "diff_std": float(finite.std(ddof=1)) if len(finite) > 1 else np.nan,
        "ci_lo": 100.0 * res.lo, "ci_hi": 100.0 * res.hi, "per_seed": ";".join(f"{d:.2f}" for d in diffs),
        "num_targets": int(targets.sum()), "small": bool((targets < MIN_TARGETS).any()), "fingerprint": "",
    }  # fmt: skip


def comparison_table(summary: pd.DataFrame, comparison: str, metric: str = "AP50",
                     group: str = "overall") -> pd.DataFrame:  # fmt: skip
    """One comparison across the settings, formatted for reading: ``setting, a, b, Δ mean ± std, 95 % CI``."""
    sel = summary[(summary["comparison"] == comparison) & (summary["metric"] == metric)
                  & (summary["group"] == group)]  # fmt: skip
    if sel.empty:
        raise ExperimentError(f"no rows for comparison {comparison!r}, metric {metric!r}, group {group!r}; "
                              f"comparisons: {sorted(set(summary['comparison']))}")
    return pd.DataFrame({
        "setting": sel["setting"], "value": sel["value"], "targets": sel["num_targets"],
        "a": sel["a_mean"].round(1), "b": sel["b_mean"].round(1),
        "Δ (mean ± std over seeds)": [f"{m:+.1f} ± {s:.1f}" if n > 1 else f"{m:+.1f} (one seed)"
                                      for m, s, n in zip(sel["diff_mean"], sel["diff_std"], sel["n_seeds"], strict=True)],
        "95 % CI (bootstrap)": [f"[{lo:+.1f}, {hi:+.1f}]" for lo, hi in zip(sel["ci_lo"], sel["ci_hi"], strict=True)],
        "seeds": sel["per_seed"],
    }).reset_index(drop=True)  # fmt: skip
