"""Training and inference throughput (images/s) of the CPU-tiny baseline and AuxDet configs (both detectors).

    .venv/bin/python benchmarks/train_throughput.py [--size 256] [--iters 6] [--threads 2] [--device cpu] [--quick]

Synthetic images (longer side ``--size``, native aspect ratios) are fed through mmengine's Runner
(training: ``--iters`` timed iterations after one warm-up iteration, batch 4) and through
:class:`auxdet.engine.inference.Predictor` (one image per forward pass, after one warm-up). Prints one
row per config: train images/s, seconds per iteration, inference images/s, ms per image.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402
import torch  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402

CONFIGS = {
    "Faster R-CNN baseline (CPU-tiny, demo)": "cpu_tiny/faster_rcnn_r18_tiny_synthetic",
    "Faster R-CNN AuxDet (CPU-tiny, demo)": "cpu_tiny/auxdet_faster_rcnn_r18_tiny_synthetic",
    "Cascade-RPN baseline (CPU-tiny)": "cpu_tiny/cascade_rpn_r18_tiny_synthetic",
    "Cascade-RPN AuxDet (CPU-tiny)": "cpu_tiny/auxdet_r18_tiny_synthetic",
}


class IterTimer(Hook):
    """Wall time of every training iteration."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._t = 0.0

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._t = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.times.append(time.perf_counter() - self._t)


def bench(config: str, data_root: Path, num_images: int, size: int, iters: int, batch: int, device: str,
          work: Path) -> dict:  # fmt: skip
    from auxdet.data.loading import load_ir_image
    from auxdet.data.voc_io import read_split
    from auxdet.engine.inference import Predictor
    from auxdet.engine.runner import build_runner, load_config
    from auxdet.experiments.plan import RunPlan, cfg_options
    from auxdet.metadata import Vocabulary

    # iteration budget (no validation pass; one checkpoint at the end), constant lr
    plan = RunPlan(num_images=num_images, image_size=size, input_size=size, max_iters=iters + 1, batch_size=batch,
                   lr=0.01, warmup_iters=10)  # fmt: skip
    opts = cfg_options(plan, data_root, log_interval=1000)
    opts["param_scheduler"] = [dict(type="ConstantLR", factor=1.0)]
    cfg = load_config(config, work_dir=work, cfg_options=opts, seed=0, progress_bar=False)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if device != "cpu":
        cfg.device = device
    runner = build_runner(cfg)
    timer = IterTimer()
    runner.register_hook(timer)
    runner.train()
    train_s = sum(timer.times[1:]) / max(1, len(timer.times) - 1)

    ckpt = work / f"iter_{iters + 1}.pth"
    predictor = Predictor(config, ckpt, device=device, cfg_options={
        k: v for k, v in opts.items() if k.startswith("test_dataloader.dataset.pipeline")})
    ids = read_split(data_root / "ImageSets" / "Main" / "test.txt")[: max(4, iters)]
    vocab = Vocabulary()
    images = [load_ir_image(data_root / "PNGImages" / f"{i}.png") for i in ids]
    from auxdet.data.voc_io import read_voc_annotation

    metas = [read_voc_annotation(data_root / "Annotations" / f"{i}.xml", vocab)[0] for i in ids]
    predictor.predict(images[0], metas[0])  # warm-up
    t = time.perf_counter()
    for img, meta in zip(images, metas, strict=True):
        predictor.predict(img, meta)
    infer_s = (time.perf_counter() - t) / len(images)
    return {"train images/s": batch / train_s, "s/iteration": train_s,
            "inference images/s": 1 / infer_s, "ms/image": 1000 * infer_s}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256, help="longer image side = detector input scale")
    ap.add_argument("--iters", type=int, default=6, help="timed training iterations")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--quick", action="store_true", help="128-px inputs, 3 timed iterations (make bench)")
    args = ap.parse_args()
    if args.quick:
        args.size, args.iters = 128, 3
    torch.set_num_threads(args.threads)
    from auxdet.data.synthetic import generate_dataset

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = max(40, 2 * args.batch * (args.iters + 1))
        root = generate_dataset(tmp / "data", n, seed=0, max_size=args.size, progress=True)
        rows = []
        for name, config in CONFIGS.items():
            r = bench(config, root, n, args.size, args.iters, args.batch, args.device, tmp / config.replace("/", "_"))
            rows.append({"config": name, "input": f"≤{args.size}px", "batch": args.batch, **r})
    df = pd.DataFrame(rows)
    print(f"\ndevice={args.device} torch threads={args.threads}")
    print(df.to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
