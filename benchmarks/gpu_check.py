"""One-command GPU check (``make gpu-check``): mmcv's CUDA ops, then the paper's two detectors trained
with AMP on synthetic 1024² data — img/s, peak memory and the AuxDet / baseline step-time ratio.

On a machine without CUDA it says so and exits 0 (nothing to check). Steps on a CUDA machine:

1. **mmcv ops on the GPU** — ``nms``, ``RoIAlign`` and ``DeformConv2d`` (the Cascade RPN's adaptive
   convolution) on CUDA tensors, compared with the same ops on the CPU.
2. **Data** — a synthetic omni-domain dataset rendered at 1024² (``auxdet synth --size 1024``),
   written once under ``--work-dir``.
3. **Training** — the paper's configs (``cascade_rpn_r50_fpn_1x_wideirstd`` and
   ``auxdet_r50_fpn_1x_wideirstd``: R50, Cascade RPN, batch 4, 1024², SGD) for ``--iters`` iterations
   each with mmengine's ``AmpOptimWrapper`` (``auxdet train --amp``), random backbone weights (no
   download). Per-iteration wall time is taken after ``torch.cuda.synchronize()`` and the first
   ``--warmup`` iterations are dropped.
4. **Report** — a table (model, s/iter median, img/s, peak allocated GiB, final loss) and the
   AuxDet / baseline median step-time ratio; also written to ``<work-dir>/gpu_check.csv``.

    python benchmarks/gpu_check.py                       # 300 iterations per model
    python benchmarks/gpu_check.py --iters 50 --images 64
    python benchmarks/gpu_check.py --allow-cpu --tiny --iters 3 --size 128   # exercise the code path on a CPU
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from mmengine.hooks import Hook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PAPER = ("cascade_rpn_r50_fpn_1x_wideirstd", "auxdet_r50_fpn_1x_wideirstd")
TINY = ("cpu_tiny/cascade_rpn_r18_tiny_synthetic", "cpu_tiny/auxdet_r18_tiny_synthetic")


def check_mmcv_ops(device: str) -> list[tuple[str, bool, str]]:
    """Each mmcv op on ``device`` vs the CPU: ``(op, ok, detail)``."""
    from mmcv.ops import DeformConv2d, RoIAlign, nms

    torch.manual_seed(0)
    rows = []
    boxes = torch.rand(200, 4) * 100
    boxes[:, 2:] += boxes[:, :2] + 1
    scores = torch.rand(200)
    _, keep_cpu = nms(boxes, scores, 0.5)
    _, keep_dev = nms(boxes.to(device), scores.to(device), 0.5)
    rows.append(("nms", torch.equal(keep_cpu, keep_dev.cpu()), f"{len(keep_cpu)} boxes kept"))
    feat = torch.randn(2, 16, 32, 32)
    rois = torch.tensor([[0, 2.0, 3.0, 20.0, 25.0], [1, 5.0, 5.0, 30.0, 12.0]])
    align = RoIAlign((7, 7), 1.0, 2)
    diff = (align(feat, rois) - align.to(device)(feat.to(device), rois.to(device)).cpu()).abs().max().item()
    rows.append(("RoIAlign", diff < 1e-4, f"max |Δ| {diff:.1e}"))
    dcn = DeformConv2d(16, 8, 3, padding=1)
    offset = torch.randn(2, 18, 32, 32) * 0.5
    ref = dcn(feat, offset)
    diff = (ref - dcn.to(device)(feat.to(device), offset.to(device)).cpu()).abs().max().item()
    rows.append(("DeformConv2d", diff < 1e-3, f"max |Δ| {diff:.1e}"))
    return rows


class StepTimer(Hook):
    """mmengine hook: wall time of every training iteration (synchronised) and the last loss."""

    priority = "VERY_LOW"

    def __init__(self) -> None:
        self.times: list[float] = []
        self.loss = float("nan")
        self._t0 = 0.0

    def before_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self._t0 = time.perf_counter()

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.times.append(time.perf_counter() - self._t0)
        if outputs and "loss" in outputs:
            self.loss = float(outputs["loss"])


def train_timed(config: str, data_root: Path, work_dir: Path, iters: int, size: int, batch: int,
                amp: bool) -> StepTimer:
    from auxdet.engine.runner import build_runner, load_config

    options: dict[str, Any] = {
        "train_cfg": dict(_delete_=True, type="IterBasedTrainLoop", max_iters=iters, val_interval=iters + 1),
        "val_cfg": None, "val_dataloader": None, "val_evaluator": None,
        "test_cfg": None, "test_dataloader": None, "test_evaluator": None,
        "model.backbone.init_cfg": None,  # no download: random weights time the same
        "train_dataloader.batch_size": batch,
        "train_dataloader.dataset.data_root": str(data_root),
        "default_hooks.checkpoint": None,
        "default_hooks.logger.interval": max(1, iters // 10),
        "param_scheduler": [dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=min(50, iters))],
    }
    cfg = load_config(config, work_dir=work_dir, cfg_options=options, amp=amp, progress_bar=False)
    for i, step in enumerate(cfg.train_dataloader.dataset.pipeline):
        if str(step.get("type", "")).endswith("Resize"):
            cfg.train_dataloader.dataset.pipeline[i]["scale"] = (size, size)
    runner = build_runner(cfg)
    timer = StepTimer()
    runner.register_hook(timer, priority="VERY_LOW")
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    runner.train()
    return timer


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=300, help="training iterations per model")
    ap.add_argument("--warmup", type=int, default=None, help="iterations dropped from the timing (default 10 %%)")
    ap.add_argument("--images", type=int, default=200, help="synthetic training images")
    ap.add_argument("--size", type=int, default=1024, help="image and input size")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--work-dir", type=Path, default=Path("build/gpu-check"))
    ap.add_argument("--allow-cpu", action="store_true", help="run the training part on the CPU (code-path test)")
    ap.add_argument("--tiny", action="store_true", help="the CPU-tiny Cascade-RPN pair instead of the paper's")
    args = ap.parse_args(argv)

    cuda = torch.cuda.is_available()
    print(f"gpu-check: torch {torch.__version__} (CUDA build {torch.version.cuda}), "
          f"CUDA available: {cuda}" + (f", {torch.cuda.get_device_name(0)}" if cuda else ""))
    if not cuda and not args.allow_cpu:
        print("gpu-check: no CUDA device on this machine — nothing to check (exit 0). "
              "Run it on a GPU machine after `make setup` with a CUDA build of torch.")
        return 0
    import auxdet  # noqa: F401  (registers the components)
    from auxdet.data.synthetic import generate_dataset

    ok = True
    if cuda:
        for op, good, detail in check_mmcv_ops("cuda"):
            print(f"  mmcv {op:<13} {'ok' if good else 'MISMATCH'}  ({detail})")
            ok &= good
    data = generate_dataset(args.work_dir / "data", args.images, seed=0, size=args.size,
                            splits={"train": 1.0}, progress=True)
    warmup = args.warmup if args.warmup is not None else max(1, args.iters // 10)
    rows = []
    for name, config in zip(("baseline", "auxdet"), TINY if args.tiny else PAPER, strict=True):
        timer = train_timed(config, data, args.work_dir / name, args.iters, args.size, args.batch, amp=cuda)
        steps = timer.times[warmup:] or timer.times
        med = statistics.median(steps)
        rows.append({"model": name, "config": config, "iters": len(timer.times), "s_per_iter": med,
                     "img_per_s": args.batch / med, "peak_GiB": torch.cuda.max_memory_allocated() / 2**30 if cuda
                     else float("nan"), "final_loss": timer.loss})
    df = pd.DataFrame(rows)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.work_dir / "gpu_check.csv", index=False)
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 160):
        print(df.to_string(index=False))
    ratio = df.loc[1, "s_per_iter"] / df.loc[0, "s_per_iter"]
    print(f"AuxDet / baseline step time: {ratio:.3f} (median over iterations {warmup + 1}–{args.iters}, "
          f"{'AMP' if cuda else 'fp32 CPU'}, batch {args.batch}, {args.size}²)")
    finite = bool(df["final_loss"].apply(lambda v: v == v and abs(v) < float("inf")).all())
    if not finite:
        print("gpu-check: a final loss is not finite")
    return 0 if ok and finite else 1


if __name__ == "__main__":
    raise SystemExit(main())
