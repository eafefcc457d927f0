"""``auxdet demo``: does the metadata matter? Three arms, two counterfactuals, one seed → report.

The demo is the first cell of the study (:func:`auxdet.experiments.study.demo_study`) with one seed:

1. a synthetic omni-domain dataset (:data:`~auxdet.experiments.plan.FULL`: 1200 images whose longer side
   is 128 px, native-size targets) at **full domain ambiguity on the balanced mix** — every image's
   scene (background, noise, size) is drawn independently of its domain, so only the metadata tells
   which domain's rule applies (a bright round blob is a target under Air/LWIR, clutter under
   Land/LWIR; a dark blob is a target under Space/SWIR, clutter under Space/NIR);
2. three arms trained side by side with the same data, seed and budget — ``baseline`` (plain FPN),
   ``auxdet`` (AuxFPN, true metadata), ``auxdet-nometa`` (the same AuxFPN with the metadata withheld);
3. ``auxdet`` evaluated with its true metadata, with the metadata **swapped** to the domain whose rule
   is the opposite, and **shuffled** across the test images;
4. ``report.md`` / ``report.png`` in the work dir: AP50 / Recall overall and per domain (with the number
   of test targets), *metadata effect* (auxdet − auxdet-nometa) and *metadata reliance*
   (auxdet − auxdet under swap) with 95 % paired bootstrap intervals over the test images.

One seed is one sample: the report says so; ``auxdet study`` runs three seeds and the ambiguity sweep.
About 12 minutes on 2 CPU cores; ``quick=True`` (:data:`~auxdet.experiments.plan.QUICK`) is a
smoke run of a minute or two whose numbers say nothing.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from auxdet.experiments.plan import FULL, QUICK, RunPlan
from auxdet.fileio import atomic_path, atomic_write_text

__all__ = ["results_table", "run_demo", "write_report"]


def _markdown(df: pd.DataFrame, floatfmt: str = "{:.1f}") -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        cells = [floatfmt.format(v) if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def results_table(rows: pd.DataFrame, metric: str = "AP50") -> pd.DataFrame:
    """``metric`` (%) per arm / variant (columns) and group (rows: overall, then each domain with its targets)."""
    rows = rows.assign(column=[a if v == "true" else f"{a} ({v})" for a, v in zip(rows["arm"], rows["variant"],
                                                                                   strict=True)])  # fmt: skip
    wide = rows.pivot_table(index=["group", "value"], columns="column", values=metric, sort=False)
    targets = rows.groupby(["group", "value"], sort=False)["num_targets"].first()
    wide.insert(0, "targets", targets.reindex(wide.index).astype(int))
    return wide.reset_index().drop(columns="group").rename(columns={"value": "group"})


def write_report(rows: pd.DataFrame, summary: pd.DataFrame, work_dir: str | os.PathLike, *,
                 settings: dict[str, Any] | None = None, quick: bool = False) -> Path:  # fmt: skip
    """``report.md`` and ``report.png`` of a demo run from its result rows and summary."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from auxdet.experiments.summary import comparison_table
    from auxdet.visualisation.study import plot_arms

    work_dir = Path(work_dir)
    fig = plot_arms(rows)
    png = work_dir / "report.png"
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    lines = ["# auxdet demo: does the metadata matter?", ""]
    if settings:
        lines += ["Settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()), ""]
    lines += ["**One seed: one sample.** The differences below carry a 95 % paired bootstrap interval over the "
              "test images of this run; the spread over training seeds is in `auxdet study` (3 seeds).", ""]
    if quick:
        lines += ["**Quick (smoke) run:** the models are essentially untrained; the numbers check the pipeline, "
                  "not the methods.", ""]
    for metric in ("AP50", "Recall"):
        lines += [f"## {metric} (%, IoU 0.5) per arm and test-time metadata", "", _markdown(results_table(rows, metric)), ""]
    for name in ("metadata effect", "metadata reliance (swap)", "metadata reliance (shuffle)",
                 "modules without metadata"):  # fmt: skip
        tables = []
        for group in ("overall", "domain"):
            try:
                tables.append(comparison_table(summary, name, group=group).drop(columns=["setting", "seeds"]))
            except ValueError:  # the comparison (or its per-domain rows) is not in this summary
                pass
        if tables:
            lines += [f"## {name} (AP50, percentage points)", "", _markdown(pd.concat(tables)), ""]
    lines += [f"![AP50 per arm]({png.name})", "",
              "Groups with fewer than 10 test targets are too small to read a difference from.", ""]
    return atomic_write_text(work_dir / "report.md", "\n".join(lines))


def run_demo(
    work_dir: str | os.PathLike = "work_dirs/demo",
    *,
    quick: bool = False,
    seed: int = 0,
    plan: RunPlan | None = None,
    progress: bool = True,
    processes: int | None = None,
) -> Path:
    """Run the demo (see the module docstring); returns the path of ``report.md``.

    ``processes``: trainings side by side (default 3: the three arms at once, sharing the cores)."""
    from auxdet.experiments.study import demo_study, run_study

    plan = plan or (QUICK if quick else FULL)
    work_dir = Path(work_dir).expanduser().resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    study = demo_study(seed, plan)
    rows = run_study(study, results=work_dir / "results.csv", work_root=work_dir, summary=work_dir / "summary.csv",
                     processes=processes or 3, progress=progress)  # fmt: skip
    summary = pd.read_csv(work_dir / "summary.csv")
    settings = {**{k: v for k, v in asdict(study.plan_for(study.cells[0].setting)).items() if v not in (None, {})},
                "seed": seed, "total_s": round(time.perf_counter() - t0)}  # fmt: skip
    return write_report(rows, summary, work_dir, settings=settings, quick=quick)
