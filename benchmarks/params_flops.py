"""Parameters and FLOPs of the baseline, AuxDet and the ablation rows, beside the paper's numbers.

Paper: Tab. 1 (AuxDet 45.279 M / 0.215 T, Cascade RPN baseline 42.527 M / 0.190 T, other detectors),
Tab. 3 (M2DM variants), Tab. 4 (LEEM vs 3×3), Tab. 5 (M2DM +1.840 M, LEEM +0.196 M).

FLOPs are counted as mmdet's ``tools/analysis_tools/get_flops.py`` does: mmengine's
``get_model_complexity_info`` (fvcore-style, one multiply-add = one FLOP) on the tensor-mode forward
with real data samples, one image of ``--size``² (default 1024², the paper's input size). Operators
the tracer does not know (mmcv's deformable conv of the Cascade RPN's second stage, NMS) count 0.

    python benchmarks/params_flops.py            # params of every row + FLOPs (baseline, AuxDet, Tab. 5) at 1024²
    python benchmarks/params_flops.py --quick    # params of every row + FLOPs of baseline/AuxDet at 256²
    python benchmarks/params_flops.py --detectors --csv build/params_flops.csv   # + Tab. 9 detectors
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from mmengine.logging import MMLogger
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auxdet.engine.config import build_detector, demo_batch, read_config  # noqa: E402
from auxdet.models import dead_fpn_conv_params  # noqa: E402
from auxdet.paper_tables import FLOPS, PARAMS, paper_row  # noqa: E402

GROUPS = ("metadata_encoder", "compensation", "aux_fusion", "m2dm", "leem", "leem_gate")

# (label, config, with FLOPs by default). Paper numbers: the ``paper_row`` each config names, in paper_tables.
ROWS: list[tuple[str, str, bool]] = [
    ("Baseline (Cascade RPN)", "cascade_rpn_r50_fpn_1x_wideirstd", True),
    ("AuxDet", "auxdet_r50_fpn_1x_wideirstd", True),
    ("Tab.3 (b) PSSM only", "ablations/tab3_pssm", False),
    ("Tab.3 (c) PSCM only", "ablations/tab3_pscm", False),
    ("Tab.3 (d) PSSM->PSCM", "ablations/tab3_pssm_pscm", False),
    ("Tab.3 (e) PSCM->PSSM", "ablations/tab3_pscm_pssm", False),
    ("Tab.3 (f) PSSM+PSCM", "ablations/tab3_parallel", False),
    ("Tab.4 LEEM 3x3", "ablations/tab4_conv3x3", False),
    ("Tab.4 LEEM 1x3->3x1", "ablations/tab4_separable", False),
    ("Tab.5 M2DM only", "ablations/tab5_m2dm", True),
    ("Tab.5 LEEM only", "ablations/tab5_leem", True),
]
DETECTOR_ROWS: list[tuple[str, str, bool]] = [
    (f"{title}{suffix}", f"ablations/tab9_{name}_{kind}", False)
    for name, title in (
        ("faster_rcnn", "Faster R-CNN"), ("cascade_rcnn", "Cascade R-CNN"), ("dynamic_rcnn", "Dynamic R-CNN"),
        ("grid_rcnn", "Grid R-CNN"), ("libra_rcnn", "Libra R-CNN"), ("sabl_retinanet", "SABL (RetinaNet)"),
        ("sabl_faster_rcnn", "SABL (Faster R-CNN)"), ("retinanet", "RetinaNet"),
    )
    for kind, suffix in (("baseline", ""), ("auxdet", " + AuxDet"))
]


def _count(module: torch.nn.Module | None) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def count_flops(model: torch.nn.Module, size: int) -> float:
    """FLOPs (multiply-adds) of one ``size``×``size`` image, mmdet get_flops style."""
    from mmengine.analysis import get_model_complexity_info

    model.eval()
    inputs, samples = demo_batch(model, [(size, size)], training=False)
    forward = model.forward
    model.forward = lambda x: forward(x, samples, mode="tensor")  # samples reach the (metadata) neck
    try:
        with torch.no_grad():
            info = get_model_complexity_info(model, inputs=(inputs,), show_table=False, show_arch=False)
    finally:
        del model.forward
    return float(info["flops"])


def measure(rows: list[tuple[str, str, bool]], size: int, all_flops: bool, quick: bool = False) -> pd.DataFrame:
    records = []
    for i, (label, name, flops_default) in enumerate(tqdm(rows, desc="params/FLOPs", unit="model")):
        cfg = read_config(name)
        with_flops = all_flops or (flops_default and (not quick or i < 2))  # quick: baseline and AuxDet
        # parameters only: build on the meta device (no weights allocated)
        with torch.device("cpu" if with_flops else "meta"):
            model = build_detector(cfg, init_weights=False)
        neck = model.neck[0] if isinstance(model.neck, torch.nn.Sequential) else model.neck
        groups = {g: _count(getattr(neck, g, None)) for g in GROUPS}
        ref = cfg.get("paper_row")  # the row the config names; its numbers come from paper_tables
        paper = paper_row(ref.table, ref.row) if ref else {}
        neck_cfg = cfg.model.neck
        dead = (dead_fpn_conv_params(neck_cfg.out_channels, len(neck_cfg.in_channels), neck_cfg.out_indices)
                if neck_cfg.get("out_indices") is not None else 0)  # fmt: skip
        rec = {
            "model": label,
            "params_M": _count(model) / 1e6,
            "official_counting_M": (_count(model) + dead) / 1e6,  # + the FPN output convs mmdet builds unused
            "paper_params_M": paper.get(PARAMS),
            "m2dm_M": sum(groups[g] for g in ("metadata_encoder", "compensation", "aux_fusion", "m2dm")) / 1e6,
            "leem_M": (groups["leem"] + groups["leem_gate"]) / 1e6,
            f"FLOPs_T@{size}": None,
            "paper_FLOPs_T@1024": paper.get(FLOPS),
        }
        if with_flops:
            t0 = time.perf_counter()
            rec[f"FLOPs_T@{size}"] = count_flops(model, size) / 1e12
            rec["flops_s"] = time.perf_counter() - t0
        records.append(rec)
        del model
    return pd.DataFrame.from_records(records)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="FLOPs at 256², baseline and AuxDet only")
    parser.add_argument("--size", type=int, default=None, help="square input size for FLOPs (default 1024)")
    parser.add_argument("--all-flops", action="store_true", help="FLOPs for every row (slow)")
    parser.add_argument("--detectors", action="store_true", help="add the Tab. 9 detectors with / without AuxDet")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--csv", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    MMLogger.get_current_instance().setLevel(logging.ERROR)  # the FLOP counter warns per unknown operator
    size = args.size or (256 if args.quick else 1024)
    rows = ROWS + (DETECTOR_ROWS if args.detectors else [])
    df = measure(rows, size, args.all_flops, args.quick)

    base = df.iloc[0]
    # Δ against the row's own reference: the Cascade-RPN baseline, or the same detector without AuxDet.
    ref = {r: (r.removesuffix(" + AuxDet") if r.endswith(" + AuxDet") else base["model"]) for r in df["model"]}
    by_model = df.set_index("model")["params_M"]
    df.insert(2, "delta_M", [p - by_model[ref[m]] if ref[m] != m else 0.0 for m, p in zip(df["model"], df["params_M"], strict=True)])
    df.insert(5, "official_minus_paper_M", df["official_counting_M"] - df["paper_params_M"])
    with pd.option_context("display.width", 220, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(df.drop(columns=[c for c in ("flops_s",) if c in df]).to_string(index=False))
    aux = df[df["model"] == "AuxDet"].iloc[0]
    print(
        f"\nAuxDet modules: M2DM (+ metadata encoder, compensation, fusion) {aux['m2dm_M']:.3f} M, LEEM {aux['leem_M']:.3f} M, "
        f"together {aux['params_M'] - base['params_M']:.3f} M.\n"
        f"Counting: ours builds no unused FPN output conv (baseline {base['params_M']:.3f} M); mmdet's FPN and the official\n"
        f"code build two more that get no gradient ({base['official_counting_M']:.3f} M, 'official counting'); the paper's\n"
        "42.527 M is one more 3×3 256→256 conv (0.590 M). Tab. 5's deltas +1.840 / +0.196 / +2.752 M are relative to 42.527 M;\n"
        "its absolute totals (44.367 / 42.723 / 45.279 M) are 41.936 M + 2.431 / 0.787 / 3.343 M (see docs/paper_gaps.md)."
    )
    flops_col = f"FLOPs_T@{size}"
    if pd.notna(aux[flops_col]) and pd.notna(base[flops_col]):
        print(f"FLOPs at {size}²: AuxDet / baseline = {aux[flops_col] / base[flops_col]:.3f} "
              f"(paper at 1024²: 0.215 / 0.190 = {0.215 / 0.190:.3f})")
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(args.csv, index=False)
    return df


if __name__ == "__main__":
    main()
