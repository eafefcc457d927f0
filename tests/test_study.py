"""The metadata study: one cached row re-run at quick size — rows, summary, cache hits, stale rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from auxdet.experiments.plan import RunPlan
from auxdet.experiments.study import ARMS, Cell, Setting, Study, run_study, study_runs
from auxdet.experiments.trainer import EngineTrainer

PLAN = RunPlan(num_images=16, image_size=64, input_size=64, min_target_scale=1.0, max_iters=2, batch_size=2,
               lr=1e-3, warmup_iters=1)  # fmt: skip
STUDY = Study("test", PLAN, (Cell(Setting(1.0, "balanced"), ("auxdet", "auxdet-nometa")),), seeds=(0,), bootstrap=20)


class CountingTrainer:
    """The engine trainer, counting its trainings (runs in this process: processes=1)."""

    calls: list[str] = []

    def __call__(self, job: Any, position: int | None = None) -> dict[str, Any]:
        CountingTrainer.calls.append(job.name)
        return EngineTrainer()(job, position)


def _run(tmp_path: Path) -> pd.DataFrame:
    return run_study(STUDY, results=tmp_path / "runs.csv", work_root=tmp_path / "work",
                     summary=tmp_path / "summary.csv", processes=1, progress=False, trainer=CountingTrainer())


@pytest.mark.slow
def test_study_rows_summary_and_cache(tmp_path: Path) -> None:
    CountingTrainer.calls = []
    rows = _run(tmp_path)
    assert sorted(CountingTrainer.calls) == ["a1-balanced_seed0_auxdet", "a1-balanced_seed0_auxdet-nometa"]
    overall = rows[rows["group"] == "overall"]
    assert sorted(zip(overall["arm"], overall["variant"], strict=True)) == [
        ("auxdet", "shuffle"), ("auxdet", "swap"), ("auxdet", "true"), ("auxdet-nometa", "true")]
    assert set(rows["group"]) == {"overall", "domain"} and (rows["num_targets"] >= 0).all()
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert {"metadata effect", "metadata reliance (swap)", "metadata reliance (shuffle)"} <= set(summary["comparison"])
    eff = summary[(summary["comparison"] == "metadata effect") & (summary["metric"] == "AP50")
                  & (summary["group"] == "overall")].iloc[0]  # fmt: skip
    assert eff["diff_mean"] == pytest.approx(eff["a_mean"] - eff["b_mean"])
    assert eff["ci_lo"] <= eff["ci_hi"]

    # a second run is all cache: no training, the same rows
    CountingTrainer.calls = []
    again = _run(tmp_path)
    assert CountingTrainer.calls == []
    pd.testing.assert_frame_equal(again.sort_values(list(again.columns)).reset_index(drop=True),
                                  rows.sort_values(list(rows.columns)).reset_index(drop=True))  # fmt: skip

    # a stale row (another fingerprint) is measured again — from the cached checkpoint, not retrained —
    # and lost per-image outcomes are re-evaluated for the summary
    csv = pd.read_csv(tmp_path / "runs.csv", dtype={"fingerprint": str})
    csv.loc[csv["arm"] == "auxdet-nometa", "fingerprint"] = "stale"
    csv.to_csv(tmp_path / "runs.csv", index=False)
    (run,) = [r for r in study_runs(STUDY, tmp_path / "work", progress=False) if r.arm == "auxdet"]
    (run.work_dir / "outcomes-swap.pkl").unlink()
    CountingTrainer.calls = []
    third = _run(tmp_path)
    assert CountingTrainer.calls == []
    assert (run.work_dir / "outcomes-swap.pkl").is_file()
    assert set(third["arm"]) == {"auxdet", "auxdet-nometa"} and "stale" not in set(third["fingerprint"])

    # another seed is another run: trained
    CountingTrainer.calls = []
    run_study(Study("test", PLAN, STUDY.cells, seeds=(1,), bootstrap=20), results=tmp_path / "runs.csv",
              work_root=tmp_path / "work", processes=1, progress=False, trainer=CountingTrainer())  # fmt: skip
    assert len(CountingTrainer.calls) == 2


def test_study_definitions() -> None:
    from auxdet.experiments.study import QUICK_STUDY
    from auxdet.experiments.study import STUDY as FULL_STUDY

    assert set(ARMS) == {"baseline", "auxdet", "auxdet-nometa"}
    first = FULL_STUDY.cells[0]
    assert first.setting == Setting(1.0, "balanced") and set(first.arms) == set(ARMS)
    assert sorted({c.setting.ambiguity for c in FULL_STUDY.cells if c.setting.domain_mix == "balanced"}) == [0, 0.5, 1]
    assert {c.setting.domain_mix for c in FULL_STUDY.cells} == {"balanced"}  # the real mix: left out (CPU budget)
    assert len(FULL_STUDY.seeds) >= 3
    assert FULL_STUDY.plan_for(Setting(0.5, "real")).synth == {"ambiguity": 0.5, "domain_mix": "real"}
    assert QUICK_STUDY.plan.num_images < FULL_STUDY.plan.num_images
    with pytest.raises(ValueError, match="unknown study arms"):
        Cell(Setting(1.0), ("auxdet", "oracle"))


def test_sweep_figure_draws_every_seed() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from auxdet.visualisation.study import plot_sweep

    summary = pd.DataFrame([{"setting": f"a{a}-balanced", "ambiguity": a, "domain_mix": "balanced", "comparison": c,
                             "metric": "AP50", "group": "overall", "value": "all", "n_seeds": 3, "diff_mean": 1.0,
                             "ci_lo": 0.5, "ci_hi": 1.5, "per_seed": "0.00;1.50;1.50"}
                            for a in (0.0, 0.5, 1.0) for c in ("metadata effect", "metadata reliance (swap)")])
    fig = plot_sweep(summary)
    for ax in fig.axes:
        seeds = [c for c in ax.collections if c.get_offsets().shape == (3, 2)]  # one scatter of 3 seeds per level
        assert len(seeds) == 3
    plt.close(fig)
