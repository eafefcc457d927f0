"""Ablations: the plots of the paper's tables, the registry of measured rows, and the results cache.

The cache tests inject a fake trainer (no training); the registry tests load configs through the
engine's ``load_config`` for one row of every kind of switch and parse all 33 paper-scale ablation
configs to check that the CPU-tiny rows apply the same AuxFPN switches.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from auxdet.engine.parallel import TrainJob  # noqa: E402
from auxdet.experiments import ablation as A  # noqa: E402
from auxdet.experiments import registry as R  # noqa: E402
from auxdet.experiments.cache import ExperimentError  # noqa: E402
from auxdet.experiments.plan import ABLATION_SMOKE, RunPlan  # noqa: E402
from auxdet.paper_tables import paper_row, paper_rows, paper_table  # noqa: E402
from auxdet.visualisation import ablation_plots as P  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    plt.close("all")


def _texts(fig: Any) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


# ----------------------------------------------------------------------------- plots of the paper's tables
def test_metadata_matrix_has_one_cell_per_field_and_metric() -> None:
    t6 = paper_table(6)
    fig = P.plot_metadata_matrix(t6)
    fields_ax, values_ax = fig.axes
    on = fields_ax.collections[0].get_array()
    assert on.size == 8 * 3
    assert int(np.asarray(on).sum()) == 12  # 3 singles + 3 pairs × 2 + all 3 fields
    assert values_ax.collections[0].get_array().size == 8 * 2
    assert [t.get_text() for t in fields_ax.texts].count("✓") == 12
    assert "77.9" in [t.get_text() for t in values_ax.texts]
    assert [t.get_text() for t in fields_ax.get_yticklabels()][0] == "none"
    measured = pd.DataFrame({"row": ["none", "all"], "AP50": [10.0, 20.0], "Recall": [30.0, 40.0]})
    fig2 = P.plot_metadata_matrix(t6, measured)
    assert fig2.axes[1].collections[0].get_array().size == 8 * 4
    labels = [t.get_text() for t in fig2.axes[1].texts]
    assert "20.0" in labels and len(labels) == 8 * 2 + 2 * 2  # rows we did not measure stay blank


def test_m2dm_combinations_one_bar_per_row_best_is_parallel() -> None:
    fig = P.plot_m2dm_combinations(paper_table(3))
    ap_ax, recall_ax = fig.axes
    assert len(ap_ax.patches) == len(recall_ax.patches) == 6
    heights = [p.get_height() for p in ap_ax.patches]
    assert heights == pytest.approx([74.7, 75.8, 75.7, 76.3, 76.8, 77.2])
    widths = [p.get_linewidth() for p in ap_ax.patches]
    assert int(np.argmax(widths)) == 5  # outlined: (f) PSSM + PSCM
    assert "(f) PSSM + PSCM\n44.367 M" in [t.get_text() for t in ap_ax.get_xticklabels()]


def test_leem_vs_conv_bars_and_parameter_overhead() -> None:
    fig = P.plot_leem_vs_conv(paper_table(4))
    assert len(fig.axes) == 3 and all(len(ax.patches) == 3 for ax in fig.axes)
    assert [p.get_height() for p in fig.axes[2].patches] == pytest.approx([42.527, 43.116, 42.723])
    texts = " ".join(_texts(fig))
    assert "(+0.589)" in texts and "(+0.196)" in texts


def test_module_depth_two_lines_of_four_depths() -> None:
    fig = P.plot_module_depth(paper_table(7))
    for ax in fig.axes:
        lines = [ln for ln in ax.lines if not ln.get_label().startswith("_")]
        assert [ln.get_label() for ln in lines] == ["M2DM (other at 2)", "LEEM (other at 2)"]
        assert all(list(ln.get_xdata()) == [1, 2, 3, 4] for ln in lines)
    best_ap = [ln for ln in fig.axes[0].lines if ln.get_label() == "_best"]
    assert [float(ln.get_xdata()[0]) for ln in best_ap] == [2.0, 2.0]  # depth 2 is best for both modules


def test_backbone_depth_lines_and_gains() -> None:
    fig = P.plot_backbone_depth(paper_table(8))
    ap_ax = fig.axes[0]
    assert len(ap_ax.lines) == 2 and all(len(ln.get_xdata()) == 4 for ln in ap_ax.lines)
    assert [t.get_text() for t in ap_ax.texts] == ["+1.4", "+1.5", "+3.2", "+1.8"]
    assert [t.get_text() for t in ap_ax.get_xticklabels()] == [
        "ResNet-18",
        "ResNet-34",
        "ResNet-50",
        "ResNet-101",
    ]


def test_plugin_gains_bars_gains_and_printed_mismatch() -> None:
    fig = P.plot_plugin_gains(paper_table(9))
    ap_ax, recall_ax = fig.axes
    assert len(ap_ax.patches) == len(recall_ax.patches) == 12
    assert [t.get_text() for t in ap_ax.texts] == ["+3.6", "+1.7", "+1.8", "+1.6", "+1.5", "+1.8"]
    recall = [t.get_text() for t in recall_ax.texts]
    assert recall[2] == "+1.6*\n(printed +2.0)"  # Dynamic R-CNN: 38.8 − 37.2 ≠ the printed 2.0
    assert sum("*" in t for t in recall) == 1


def test_accuracy_vs_cost_one_point_per_method_auxdet_highlighted() -> None:
    t1 = paper_table(1)
    fig = P.plot_accuracy_vs_cost(t1)
    assert len(fig.axes) == 2
    for ax, cost in zip(fig.axes, ("Params (M)", "FLOPs (T)"), strict=True):
        offsets = np.vstack([c.get_offsets() for c in ax.collections])
        assert len(offsets) == len(t1) == 27
        star = ax.collections[-1]
        assert star.get_label() == "AuxDet (Ours)"
        x, y = star.get_offsets()[0]
        assert y == pytest.approx(77.9) and y == offsets[:, 1].max()
        assert x == pytest.approx(t1.loc[t1.method == "AuxDet (Ours)", cost].iloc[0])
        assert ax.get_xscale() == "log"
    single = P.plot_accuracy_vs_cost(t1, costs="FLOPs (T)", annotate=False)
    assert len(single.axes) == 1 and not single.axes[0].texts


def test_noise_band_drawn_around_the_best_row_and_axes_say_not_zero_based() -> None:
    fig = P.plot_table_bars(paper_table(5), noise=0.3)
    for ax in fig.axes:
        band = [p for p in ax.patches if p.get_label() == P.noise_label(0.3)]
        assert len(band) == 1 and "not zero-based" in ax.get_ylabel()
        ys = band[0].get_path().transformed(band[0].get_patch_transform()).vertices[:, 1]
        lo, hi = float(ys.min()), float(ys.max())
        best = 77.9 if ax is fig.axes[0] else 87.2
        assert (lo, hi) == pytest.approx((best - 0.3, best + 0.3))
    assert not [p for p in P.plot_table_bars(paper_table(5)).axes[0].patches if p.get_label().startswith("best")]
    depth = P.plot_module_depth(paper_table(7), noise=0.3)
    assert all(any(p.get_label() == P.noise_label(0.3) for p in ax.patches) for ax in depth.axes)


def test_leem_panel_shows_the_overheads_printed_and_from_the_mmdet_baseline() -> None:
    fig = P.plot_leem_vs_conv(paper_table(4), mmdet_baseline=41.936)
    heights = [round(p.get_height(), 3) for p in fig.axes[2].patches]
    assert heights == [0.589, 0.196, 1.180, 0.787]  # printed (vs 42.527 M), then from 41.936 M
    assert fig.axes[2].get_ylim()[0] == 0


def test_accuracy_vs_cost_names_only_the_top_methods_outside_the_axes() -> None:
    t1 = paper_table(1)
    ax = P.plot_accuracy_vs_cost(t1, costs="Params (M)", label_min_ap50=70.0).axes[0]
    names = [t.get_text() for t in ax.texts]
    assert len(names) == int((t1["AP50 (%)"] >= 70).sum()) == 7 and names[0] == "AuxDet (Ours) (77.9)"
    assert all(t.get_position()[0] > 1.0 and t.get_anncoords() == "axes fraction" for t in ax.texts)


def test_plots_reject_tables_without_their_columns() -> None:
    with pytest.raises(ValueError, match="missing columns"):
        P.plot_m2dm_combinations(paper_table(4))
    with pytest.raises(ValueError, match="missing columns"):
        P.plot_metadata_matrix(paper_table(3))


# ----------------------------------------------------------------------------- measured vs paper
def _fake_results(smoke: bool) -> pd.DataFrame:
    rows = [R.ABLATIONS[k] for k in ("tab3_baseline", "tab3_parallel", "tab4_conv3x3")]
    return pd.DataFrame({
        "table": [r.table for r in rows], "row": [r.row for r in rows], "key": [r.key for r in rows],
        "AP50": [5.0, 9.0, 7.0], "Recall": [10.0, 20.0, 15.0], "params": [3.9, 4.5, 4.0],
        "budget_iters": 6, "seed": 0, "smoke": smoke,
    })  # fmt: skip


def test_paper_comparison_pairs_our_rows_with_the_papers() -> None:
    comp = A.paper_comparison(_fake_results(smoke=False))
    paper = comp[comp.source == "paper"].set_index("key")
    assert sorted(paper.index) == ["tab3_baseline", "tab3_parallel", "tab4_conv3x3"]
    assert paper.loc["tab3_parallel", "AP50"] == 77.2 and paper.loc["tab4_conv3x3", "params"] == 43.116
    assert paper.loc["tab3_baseline", "Recall"] == 84.5
    measured = comp[comp.source == "measured"].set_index("key")
    assert measured.loc["tab3_parallel", "AP50"] == 9.0


def test_measured_vs_paper_bars_and_smoke_title() -> None:
    fig = P.plot_measured_vs_paper(A.paper_comparison(_fake_results(smoke=True)))
    assert len(fig.axes) == 4  # Tab. 3 and Tab. 4, paper | measured
    paper3, ours3, paper4, ours4 = fig.axes
    assert len(paper3.patches) == len(ours3.patches) == 2 and len(paper4.patches) == len(ours4.patches) == 1
    assert [p.get_width() for p in ours3.patches] == [5.0, 9.0]
    assert P.SMOKE_TITLE in fig.get_suptitle()
    full = P.plot_measured_vs_paper(A.paper_comparison(_fake_results(smoke=False)))
    assert "SMOKE" not in full.get_suptitle() and "6 training iterations" in full.get_suptitle()
    assert "one seed: no error bars" in full.get_suptitle()
    with_n = P.plot_measured_vs_paper(A.paper_comparison(_fake_results(smoke=False).assign(num_test_targets=171)),
                                      noise=0.3)  # fmt: skip
    assert "n = 171 test targets" in with_n.get_suptitle() and P.noise_label(0.3) in with_n.get_suptitle()
    assert any(p.get_label() == P.noise_label(0.3) for p in with_n.axes[0].patches)


# ----------------------------------------------------------------------------- registry
def _config_value(key: str, name: str) -> Any:
    """``<name> = ...`` of auxdet/configs/ablations/<key>.py, read without mmengine (``None`` if absent)."""
    from auxdet.engine.config import CONFIG_DIR as CONFIG_ROOT

    tree = ast.parse((CONFIG_ROOT / "ablations" / f"{key}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            return eval(compile(ast.Expression(node.value), key, "eval"), {"__builtins__": {}, "dict": dict})
    return None


def _paper_neck_overrides(key: str) -> dict[str, Any]:
    """``model = dict(neck=dict(...))`` of auxdet/configs/ablations/<key>.py."""
    return dict((_config_value(key, "model") or {}).get("neck", {}))


def test_registry_covers_the_paper_ablation_configs_with_the_same_switches() -> None:
    from auxdet.engine.config import config_names as list_configs

    paper_keys = {c.split("/", 1)[1] for c in list_configs() if re.fullmatch(r"ablations/tab[2-7]_\w+", c)}
    assert set(R.ABLATIONS) == paper_keys
    for key, row in R.ABLATIONS.items():
        paper_base = R.BASELINE_SWITCHES if "baseline" in key else R.DEFAULT_SWITCHES
        expected = R.effective_switches({**paper_base, **_paper_neck_overrides(key)})
        assert row.switches() == expected, key
        assert row.is_baseline == ("baseline" in key)
        # the row is the one its config names, and the paper has it (its numbers: paper_tables only)
        assert _config_value(key, "paper_row") == {"table": row.table, "row": row.row}, key
        assert paper_row(row.table, row.row)["table"] == row.table
    for n in range(2, 8):  # every row of Tab. 2–7 is measured, in the paper's order
        assert [r.row for r in R.ABLATIONS.values() if r.table == n] == paper_rows(n)["row"].tolist(), n
    assert R.ABLATIONS["tab3_parallel"].row == "(f) PSSM + PSCM"
    # identical networks share a fingerprint: 33 rows, 24 distinct models
    fps = {r.fingerprint() for r in R.ABLATIONS.values()}
    assert len(fps) == 24
    assert R.ABLATIONS["tab5_m2dm_leem"].fingerprint() == R.ABLATIONS["tab6_all"].fingerprint()
    assert R.ABLATIONS["tab4_separable"].fingerprint() == R.ABLATIONS["tab5_leem"].fingerprint()
    assert R.ABLATIONS["tab4_separable"].fingerprint() != R.ABLATIONS["tab4_conv3x3"].fingerprint()


@pytest.mark.parametrize("key", ["tab2_meta_semantic", "tab3_pscm_pssm", "tab4_conv3x3", "tab5_baseline",
                                 "tab6_resolution_band", "tab7_m2dm_depth4"])  # fmt: skip
def test_registry_overrides_load_through_the_engine(key: str) -> None:
    from auxdet.engine.runner import load_config

    row = R.ABLATIONS[key]
    tiny = load_config(row.config, cfg_options=row.neck_options(), progress_bar=False)
    paper = load_config(row.paper_config, progress_bar=False)
    assert tiny.model.neck.type == paper.model.neck.type == "AuxFPN"
    assert R.effective_switches(tiny.model.neck) == R.effective_switches(paper.model.neck) == row.switches()
    assert tiny.model.backbone.depth == 18 and paper.model.backbone.depth == 50


def test_registry_rejects_configs_with_unknown_rows_or_switches(tmp_path: Path) -> None:
    good = "_base_ = ['../auxdet_r50_fpn_1x_wideirstd.py']\nmodel = dict(neck=dict(leem_levels=()))\n"
    path = tmp_path / "tab5_x.py"
    path.write_text(good + "paper_row = dict(table=5, row='M2DM')\n")
    row = R.read_ablation_row(path)
    assert (row.table, row.row, row.config, dict(row.overrides)) == (5, "M2DM", R.AUXDET_CONFIG, {"leem_levels": ()})
    path.write_text(good + "paper_row = dict(table=5, row='M2DM only')\n")
    with pytest.raises(ValueError, match="no row 'M2DM only'.*'M2DM \\+ LEEM'"):
        R.read_ablation_row(path)
    path.write_text(good.replace("leem_levels", "leem_depth") + "paper_row = dict(table=5, row='M2DM')\n")
    with pytest.raises(ExperimentError, match="unknown neck switches.*leem_depth"):
        R.read_ablation_row(path)
    path.write_text(good + "paper_row = None\n")
    with pytest.raises(ExperimentError, match="paper_row"):
        R.read_ablation_row(path)


def test_ablation_options_give_an_iteration_budget_and_build_the_neck(tmp_path: Path) -> None:
    from mmdet.registry import MODELS

    from auxdet.engine.runner import load_config

    row = R.ABLATIONS["tab6_none"]
    plan = replace(ABLATION_SMOKE, max_iters=5)
    cfg = load_config(row.config, cfg_options=A.row_options(row, plan, tmp_path), progress_bar=False)
    assert cfg.train_cfg.type == "IterBasedTrainLoop" and cfg.train_cfg.max_iters == 5
    assert "max_epochs" not in cfg.train_cfg and cfg.train_cfg.val_begin > 5  # no validation pass
    assert cfg.default_hooks.checkpoint.by_epoch is False and cfg.log_processor.by_epoch is False
    assert cfg.train_dataloader.batch_size == ABLATION_SMOKE.batch_size
    for split in ("train", "val", "test"):
        loader = cfg[f"{split}_dataloader"]
        assert loader.dataset.data_root == str(tmp_path)
        resize = [s for s in loader.dataset.pipeline if s["type"] == "Resize"]
        assert [tuple(s["scale"]) for s in resize] == [(128, 128)]
    assert tuple(cfg.model.neck.metadata.fields) == ()
    neck = MODELS.build(cfg.model.neck)
    assert neck.m2dm_levels == (0, 1) and neck.leem_levels == (0, 1) and not neck.uses_metadata
    with pytest.raises(ExperimentError, match="max_iters"):
        A.row_options(row, replace(ABLATION_SMOKE, max_iters=0), tmp_path)


def test_resolve_rows_by_key_table_and_errors() -> None:
    assert [r.key for r in R.resolve_rows("tab4")] == ["tab4_baseline", "tab4_conv3x3", "tab4_separable"]
    assert len(R.resolve_rows(None)) == 33 and len(R.resolve_rows([7])) == 8
    assert [r.key for r in R.resolve_rows(["tab5_leem", "tab5_leem"])] == ["tab5_leem"]
    with pytest.raises(ExperimentError, match="tab5_m2dm_leem"):
        R.resolve_rows(["tab5_full"])


# ----------------------------------------------------------------------------- results cache
class FakeTrainer:
    """Records the rows it trains; AP50 = a per-row number; optionally fails on one row."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[str, int, int]] = []
        self.fail_on = fail_on

    def __call__(self, job: TrainJob, position: int | None = None) -> dict[str, float]:
        if job.name == self.fail_on:
            raise RuntimeError(f"boom on {job.name}")
        budget_iters = job.cfg_options["train_cfg"]["max_iters"]  # the row's budget, as its options give it
        self.calls.append((job.name, budget_iters, job.seed))
        baseline = job.config == R.BASELINE_CONFIG
        return {"AP50": 10.0 + len(job.name) + job.seed, "Recall": 50.0, "params": 4.0 if baseline else 5.0}


def _run(
    tmp_path: Path, rows: list[str], trainer: FakeTrainer, seed: int = 0, budget: int = 3
) -> pd.DataFrame:
    return A.run_ablations(rows, budget, seed, tmp_path / "work", tmp_path / "results.csv", progress=False,
                           data_root=tmp_path / "data", smoke=True, trainer=trainer)  # fmt: skip


def test_cache_skips_rows_already_measured_and_reuses_identical_models(tmp_path: Path) -> None:
    t1 = FakeTrainer()
    res = _run(tmp_path, ["tab5_baseline", "tab5_m2dm_leem"], t1)
    assert [c[0] for c in t1.calls] == ["tab5_baseline", "tab5_m2dm_leem"]
    assert list(res.key) == ["tab5_baseline", "tab5_m2dm_leem"] and res.AP50.tolist() == [23.0, 24.0]
    assert set(A.RESULT_COLUMNS) <= set(res.columns)

    t2 = FakeTrainer()
    res2 = _run(tmp_path, ["tab5_m2dm_leem", "tab6_all", "tab3_baseline", "tab5_leem"], t2)
    assert [c[0] for c in t2.calls] == ["tab5_leem"]  # cached, same model as tab5_m2dm_leem / the baseline
    r = res2.set_index("key")
    assert r.loc["tab6_all", "AP50"] == 24.0 and r.loc["tab6_all", "reused_from"] == "tab5_m2dm_leem"
    assert r.loc["tab3_baseline", "reused_from"] == "tab5_baseline" and r.loc["tab3_baseline", "table"] == 3

    t3 = FakeTrainer()  # another seed or budget is another measurement
    _run(tmp_path, ["tab5_baseline"], t3, seed=1)
    _run(tmp_path, ["tab5_baseline"], t3, budget=4)
    assert t3.calls == [("tab5_baseline", 3, 1), ("tab5_baseline", 4, 0)]

    cache = A.load_results(tmp_path / "results.csv")
    assert len(cache) == 7 and not cache.duplicated(["key", "budget_iters", "seed", "setup_id"]).any()
    assert cache.smoke.all() and cache.params.tolist()[:2] == [4.0, 5.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]  # no temp files, no data generated


def test_cache_survives_an_exception_mid_run(tmp_path: Path) -> None:
    rows = ["tab4_baseline", "tab4_conv3x3", "tab4_separable"]
    with pytest.raises(RuntimeError, match="boom on tab4_conv3x3"):
        _run(tmp_path, rows, FakeTrainer(fail_on="tab4_conv3x3"))
    cache = A.load_results(tmp_path / "results.csv")
    assert cache.key.tolist() == ["tab4_baseline"]
    again = FakeTrainer()
    res = _run(tmp_path, rows, again)
    assert [c[0] for c in again.calls] == ["tab4_conv3x3", "tab4_separable"]
    assert res.key.tolist() == rows and A.load_results(tmp_path / "results.csv").key.tolist() == rows
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


class PidTrainer(FakeTrainer):
    """A FakeTrainer that also writes which process trained the row (``<work_dir>/pid``)."""

    def __call__(self, job: TrainJob, position: int | None = None) -> dict[str, float]:
        import os

        job.work_dir.mkdir(parents=True, exist_ok=True)
        (job.work_dir / "pid").write_text(str(os.getpid()))
        return super().__call__(job, position)


def test_rows_train_side_by_side_in_pairs_and_twins_are_copied_not_retrained(tmp_path: Path) -> None:
    import os

    rows = ["tab5_baseline", "tab5_m2dm_leem", "tab6_all", "tab5_leem"]
    res = A.run_ablations(rows, 3, 0, tmp_path / "work", tmp_path / "results.csv", progress=False,
                          data_root=tmp_path / "data", smoke=True, trainer=PidTrainer(), processes=2)  # fmt: skip
    assert res.key.tolist() == rows  # request order, whatever the training order
    r = res.set_index("key")
    assert r.loc["tab6_all", "reused_from"] == "tab5_m2dm_leem" and r.loc["tab6_all", "AP50"] == 24.0
    assert r.loc["tab5_leem", "AP50"] == 10.0 + len("tab5_leem")
    pids = {p.parent.name.split("_it")[0]: int(p.read_text()) for p in (tmp_path / "work").glob("*/pid")}
    assert set(pids) == {"tab5_baseline", "tab5_m2dm_leem", "tab5_leem"}  # the twin tab6_all was never trained
    assert os.getpid() not in (pids["tab5_baseline"], pids["tab5_m2dm_leem"])  # the pair ran in spawned processes
    assert pids["tab5_leem"] == os.getpid()  # a batch of one trains here
    # a failing row of a pair: the other row is still saved, then the error is raised
    with pytest.raises(RuntimeError, match="boom on tab4_conv3x3"):
        A.run_ablations(["tab4_conv3x3", "tab4_separable"], 3, 0, tmp_path / "work", tmp_path / "r2.csv",
                        progress=False, data_root=tmp_path / "data", smoke=True,
                        trainer=PidTrainer(fail_on="tab4_conv3x3"), processes=2)  # fmt: skip
    assert A.load_results(tmp_path / "r2.csv").key.tolist() == ["tab4_separable"]


def test_cache_key_includes_the_setup_and_results_validation(tmp_path: Path) -> None:
    t = FakeTrainer()
    _run(tmp_path, ["tab5_baseline"], t)
    A.run_ablations(["tab5_baseline"], 3, 0, tmp_path / "work", tmp_path / "results.csv", progress=False,
                    data_root=tmp_path, smoke=True, trainer=t,
                    setup=RunPlan(num_images=10, image_size=128, input_size=128, batch_size=1))  # fmt: skip
    assert len(t.calls) == 2

    def no_recall(job: TrainJob, position: int | None = None) -> dict[str, float]:
        return {"AP50": 1.0, "params": 1.0}

    with pytest.raises(ExperimentError, match="Recall"):
        A.run_ablations(["tab4_conv3x3"], 3, 0, tmp_path / "w", tmp_path / "r2.csv", progress=False,
                        data_root=tmp_path, smoke=True, trainer=no_recall)  # fmt: skip
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ExperimentError, match="lacks the columns"):
        A.load_results(tmp_path / "other.csv")
    assert A.load_results(tmp_path / "missing.csv").empty
    with pytest.raises(ExperimentError, match="budget_iters"):
        _run(tmp_path, ["tab5_baseline"], FakeTrainer(), budget=0)
    assert math.isnan(float(A.load_results(tmp_path / "results.csv").num_test_images.iloc[0]))


def test_time_limit_leaves_rows_for_the_next_call(tmp_path: Path) -> None:
    _run(tmp_path, ["tab5_baseline"], FakeTrainer())
    t = FakeTrainer()
    res = A.run_ablations(["tab5_baseline", "tab3_baseline", "tab5_leem"], 3, 0, tmp_path / "work",
                          tmp_path / "results.csv", progress=False, data_root=tmp_path, smoke=True, trainer=t,
                          max_train_s=0.0)  # fmt: skip
    assert not t.calls and res.key.tolist() == [
        "tab5_baseline",
        "tab3_baseline",
    ]  # cached + reused still come
    assert res.attrs["missing"] == ["tab5_leem"]
    assert _run(tmp_path, ["tab5_leem"], t).attrs["missing"] == [] and len(t.calls) == 1
