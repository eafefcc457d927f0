"""``auxdet`` command line: train, test, predict, synth, demo, study.

::

    auxdet train CONFIG [--work-dir D] [--cfg-options K=V ...] [--resume [CKPT]] [--amp]
                        [--launcher none|pytorch|slurm|mpi] [--seed S]
    auxdet test CONFIG CHECKPOINT [--work-dir D] [--out results.csv] [--cfg-options K=V ...]
    auxdet predict CONFIG CHECKPOINT IMAGE... (--platform P --band B | --meta-json F | --meta-table T)
                        [--out-dir D] [--score-thr T] [--tile SIZE --overlap O] [--counterfactual]
    auxdet synth OUT_DIR [--num-images N] [--seed S] [--scale X] [--max-size M] [--size S] [--min-target-scale T]
                         [--ambiguity A] [--domain-mix real|balanced] [--overwrite]
    auxdet demo [--work-dir D] [--quick] [--seed S]
    auxdet study [--results CSV] [--summary CSV] [--work-dir D] [--processes N] [--quick]

``CONFIG`` is a path or a name under ``auxdet/configs`` (e.g. ``cpu_tiny/auxdet_r18_tiny_synthetic``).
Multi-GPU / multi-machine: ``torchrun --nproc_per_node N -m auxdet train CONFIG --launcher pytorch``.

User errors (missing config / checkpoint / image, missing or invalid metadata, a checkpoint of another
architecture, bad option values, unwritable outputs, a work dir in use) print one line ``auxdet: error: …``
on stderr and exit with code 2 (``AUXDET_DEBUG=1`` shows the traceback); outputs are checked before the
expensive work. A NaN/Inf loss stops training with exit code 1; Ctrl-C exits with 130, SIGTERM with 143
(temporary files removed, locks released either way). See :mod:`auxdet.cli_errors`.

Nothing is lost: ``synth`` replaces only datasets it generated, with ``--overwrite`` when the settings
differ, and never files it did not write; ``train`` locks its work dir; ``test`` logs into a new
``test-<time>`` folder beside the checkpoint; ``predict`` names outputs uniquely per input file
(:mod:`auxdet.engine.output_names`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from auxdet.cli_checks import (
    check_checkpoint_file,
    check_config_file,
    check_device,
    check_output_dir,
    check_output_file,
    check_tile_options,
    note,
    positive_float,
    positive_int,
)
from auxdet.cli_checks import nonneg_int as _nonneg_int
from auxdet.cli_checks import unit_interval as _score
from auxdet.cli_errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USER_ERROR,  # noqa: F401  (re-exported)
    OneLineParser,
    Terminated,
    auxdet_warnings,
    debug_enabled,
    describe_error,
    interrupt_message,
    is_user_error,
    sigterm_raises,
)

__all__ = ["build_parser", "is_user_error", "main"]

EXIT_TRAINING_FAILED = EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    """The ``auxdet`` argument parser (sub-commands train / test / predict / synth / demo)."""
    p = OneLineParser(prog="auxdet", description="AuxDet: metadata-aware infrared small target detection")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("train", help="train a config with mmengine's Runner")
    t.add_argument("config", help="config path or name under auxdet/configs")
    t.add_argument("--work-dir", help="output folder (default ./work_dirs/<config name>)")
    t.add_argument("--cfg-options", nargs="+", metavar="KEY=VALUE", help="override config entries")
    t.add_argument("--resume", nargs="?", const=True, default=False, metavar="CKPT",
                   help="resume from the latest checkpoint in the work dir (or from CKPT)")
    t.add_argument("--load-from", metavar="CKPT", help="initial weights (not a resume)")
    t.add_argument("--amp", action="store_true", help="mixed precision (mmengine AmpOptimWrapper)")
    t.add_argument("--launcher", choices=("none", "pytorch", "slurm", "mpi"), default="none")
    t.add_argument("--seed", type=int, help="random seed")
    t.add_argument("--no-progress", action="store_true", help="no tqdm bar")
    t.add_argument("--local_rank", "--local-rank", type=int, default=0, help=argparse.SUPPRESS)
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("test", help="evaluate a checkpoint on the config's test set")
    e.add_argument("config")
    e.add_argument("checkpoint")
    e.add_argument("--work-dir", help="log folder (default: a new test-<time> folder beside the checkpoint)")
    e.add_argument("--out", help="write the per-platform/band results table as CSV (a file path)")
    e.add_argument("--cfg-options", nargs="+", metavar="KEY=VALUE")
    e.add_argument("--launcher", choices=("none", "pytorch", "slurm", "mpi"), default="none")
    e.set_defaults(func=_cmd_test)

    d = sub.add_parser("predict", help="detect targets in image files")
    d.add_argument("config")
    d.add_argument("checkpoint")
    d.add_argument("images", nargs="+", metavar="IMAGE")
    d.add_argument("--platform", help="sensor platform of the images (e.g. Air, Space, Land)")
    d.add_argument("--band", help="spectral band of the images (e.g. LWIR, NIR, SWIR)")
    d.add_argument("--meta-json", help="JSON: {platform, band} for all images or {image: {platform, band}}")
    d.add_argument("--meta-table", help="WideIRSTD statistics.txt (id platform band width height area)")
    d.add_argument("--out-dir", default="predictions",
                   help="where <image>.json / <image>.png go (images with the same file name in different "
                        "folders get <image>-<hash of the path>)")
    d.add_argument("--score-thr", type=_score, default=0.3, help="keep detections with score ≥ this")
    d.add_argument("--tile", type=_nonneg_int, default=0, help="sliding-window tile size in pixels (0: off)")
    d.add_argument("--overlap", type=_nonneg_int, default=None,
                   help="tile overlap in pixels with --tile (default 64; must exceed the largest target)")
    d.add_argument("--nms-iou", type=_score, default=0.5, help="IoU of the NMS merging tiles")
    d.add_argument("--counterfactual", action="store_true",
                   help="also run every platform × band of the vocabulary and tabulate the changes")
    d.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    d.add_argument("--cfg-options", nargs="+", metavar="KEY=VALUE")
    d.set_defaults(func=_cmd_predict)

    s = sub.add_parser("synth", help="generate the synthetic omni-domain dataset")
    s.add_argument("out_dir")
    s.add_argument("--num-images", type=positive_int, default=1000)
    s.add_argument("--seed", type=_nonneg_int, default=0)
    s.add_argument("--scale", type=positive_float, default=1.0, help="fraction of the native image size (≤ 4)")
    s.add_argument("--max-size", type=positive_int, help="cap the longer image side (≥ 8)")
    s.add_argument("--size", type=positive_int, help="render every image as SIZE × SIZE (≥ 8)")
    s.add_argument("--min-target-scale", type=positive_float,
                   help="floor of the targets' linear scale (keeps small targets visible in shrunk images)")
    s.add_argument("--ambiguity", type=_score, default=0.0,
                   help="domain-ambiguity knob in [0, 1]: share of images whose scene (background, noise, size) is "
                        "drawn independently of their domain; 1 = only the metadata tells which rule applies")
    s.add_argument("--domain-mix", choices=("real", "balanced"), default="real",
                   help="platform/band mix: the real table's proportions (default) or every domain equally often")
    s.add_argument("--overwrite", action="store_true",
                   help="replace a dataset generated with other settings (never files the generator did not write)")
    s.set_defaults(func=_cmd_synth)

    m = sub.add_parser("demo", help="synthetic data → train baseline & AuxDet (CPU-tiny) → report")
    m.add_argument("--work-dir", default="work_dirs/demo")
    m.add_argument("--quick", action="store_true", help="a 1–2 minute version (tests, notebooks)")
    m.add_argument("--seed", type=_nonneg_int, default=0)
    m.set_defaults(func=_cmd_demo)

    st = sub.add_parser("study", help="the metadata study: arms × seeds × ambiguity settings → cached CSVs")
    st.add_argument("--results", default="figures/study_runs.csv", help="result rows (CSV, cached by fingerprint)")
    st.add_argument("--summary", default="figures/study_summary.csv", help="differences with bootstrap CIs (CSV)")
    st.add_argument("--work-dir", default="build/study", help="data, checkpoints and per-image outcomes")
    st.add_argument("--processes", type=positive_int, default=None, help="trainings side by side (default: cores)")
    st.add_argument("--quick", action="store_true", help="a minutes-long smoke version (its numbers mean nothing)")
    st.set_defaults(func=_cmd_study)
    return p


# --------------------------------------------------------------------------- commands
def _cmd_train(args: argparse.Namespace) -> int:
    from auxdet.engine.runner import load_config, train

    cfg = load_config(
        args.config, work_dir=args.work_dir, cfg_options=args.cfg_options, resume=args.resume,
        load_from=args.load_from, amp=args.amp, launcher=args.launcher, seed=args.seed,
        progress_bar=not args.no_progress,
    )
    check_output_dir(cfg.work_dir, "--work-dir")
    for option, path in (("--load-from", args.load_from), ("--resume", args.resume)):
        if isinstance(path, str):
            check_checkpoint_file(path, f"{option} checkpoint")
    if args.resume is True and not (Path(cfg.work_dir) / "last_checkpoint").is_file():
        note(f"--resume: no checkpoint to resume from in '{cfg.work_dir}' (no last_checkpoint file); "
             "training starts from scratch")
    runner = train(cfg)
    print(f"training finished: {runner.work_dir}")
    best = runner.message_hub.get_info("best_ckpt")
    if best:
        print(f"best checkpoint ({runner.message_hub.get_info('best_score'):.4f}): {best}")
    return 0


def _cmd_test(args: argparse.Namespace) -> int:
    from auxdet.engine.config import config_path
    from auxdet.engine.runner import test

    config_path(args.config)  # config errors before checkpoint errors
    check_checkpoint_file(args.checkpoint)
    if args.out:  # before the evaluation: a bad path must not cost the results
        check_output_file(args.out, "--out")
    if args.work_dir:
        check_output_dir(args.work_dir, "--work-dir")
    metrics = test(args.config, args.checkpoint, work_dir=args.work_dir, cfg_options=args.cfg_options,
                   out=args.out, launcher=args.launcher)
    for key, value in metrics.items():
        print(f"{key}\t{value:.4f}")
    if args.out:
        print(f"results written to {args.out}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from auxdet.data.large_images import load_prediction_image, prediction_image_size
    from auxdet.engine.config import config_path
    from auxdet.engine.inference import (
        Predictor,
        TilingError,
        counterfactual,
        read_meta_json,
        resolve_image_meta,
        tile_windows,
        write_prediction,
    )
    from auxdet.engine.output_names import unique_stems
    from auxdet.fileio import atomic_write_csv

    config_path(args.config)
    for path in (args.checkpoint, *args.images):
        if not Path(path).is_file():
            kind = "checkpoint" if path == args.checkpoint else "image"
            if Path(path).is_dir():
                raise IsADirectoryError(f"{kind} '{path}' is a folder; give files (e.g. {Path(path) / '*.png'})")
            raise FileNotFoundError(f"{kind} '{path}' not found")
    check_checkpoint_file(args.checkpoint)
    check_tile_options(args.tile, args.overlap)
    overlap = 64 if args.overlap is None else args.overlap
    if args.tile:
        try:
            tile_windows(args.tile, args.tile, args.tile, overlap)
        except TilingError as err:
            raise TilingError(f"--tile/--overlap: {err}") from None
    check_output_dir(args.out_dir, "--out-dir")
    check_device(args.device)
    sizes = [prediction_image_size(img, tiled=bool(args.tile)) for img in args.images]  # readable, not too large
    names = unique_stems(args.images)
    meta_json = read_meta_json(args.meta_json) if args.meta_json else None
    predictor = Predictor(args.config, args.checkpoint, device=args.device, cfg_options=args.cfg_options)
    vocab = predictor.vocabulary
    if args.counterfactual and not getattr(predictor.model, "needs_data_samples", False):
        note(f"--counterfactual: the model of '{args.config}' does not use metadata (no metadata-aware neck), "
             "so every row of the table is the same by construction")
    meta_table = None
    if args.meta_table:
        from auxdet.data.statistics import read_statistics as load_statistics

        meta_table = load_statistics(args.meta_table, vocab)
    # all metadata resolved (and validated) before any image is processed
    metas = [
        resolve_image_meta(img, *size, vocab, platform=args.platform, band=args.band,
                           meta_json=meta_json, meta_table=meta_table)
        for img, size in zip(args.images, sizes, strict=True)
    ]
    out_dir = Path(args.out_dir)
    extra: dict[str, Any] = {"config": str(args.config), "checkpoint": str(args.checkpoint),
                             "tile": args.tile or None, "overlap": overlap if args.tile else None}
    bar = tqdm(list(zip(args.images, metas, names, strict=True)), desc="predict", unit="img",
               disable=len(metas) < 2)
    scale = max(predictor.input_scale or (0,))
    for img_path, meta, name in bar:
        if not args.tile and scale and max(meta.width, meta.height) > 4 * scale:
            print(f"auxdet: note: {img_path} ({meta.width}×{meta.height}) is resized to the model's {scale}-px input; "
                  f"small targets may vanish — consider --tile {scale} --overlap 64", file=sys.stderr)
        image = load_prediction_image(img_path, tiled=bool(args.tile))

        def run(m: Any, image: Any = image, img_path: str = img_path) -> Any:
            return predictor.predict(image, m, tile=args.tile, overlap=overlap, iou_thr=args.nms_iou,
                                     name=img_path, progress=True)

        dets = run(meta).above(args.score_thr)
        json_path, png_path = write_prediction(out_dir, img_path, image, meta, dets, score_thr=args.score_thr,
                                               extra=extra, classes=predictor.classes, stem=name)
        print(f"{img_path} [{meta.platform}/{meta.band} {meta.width}×{meta.height}]: {len(dets)} detections "
              f"(score ≥ {args.score_thr}) → {json_path}, {png_path}")
        for box, score in list(zip(dets.boxes, dets.scores, strict=True))[:20]:
            print(f"  [{box[0]:8.1f} {box[1]:8.1f} {box[2]:8.1f} {box[3]:8.1f}]  score {score:.3f}")
        if len(dets) > 20:
            print(f"  … {len(dets) - 20} more in {json_path}")
        if args.counterfactual:
            table = counterfactual(run, meta, vocab, score_thr=args.score_thr, iou_thr=0.5, progress=True)
            csv = atomic_write_csv(out_dir / f"{name}_counterfactual.csv", table, index=False)
            print(f"counterfactual metadata for {img_path} (→ {csv}):")
            print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def _cmd_synth(args: argparse.Namespace) -> int:
    from auxdet.data.synthetic import generate_dataset

    check_output_dir(Path(args.out_dir).expanduser().absolute().parent, "OUT_DIR's parent folder")
    root = generate_dataset(args.out_dir, args.num_images, seed=args.seed, scale=args.scale, progress=True,
                            max_size=args.max_size, size=args.size, min_target_scale=args.min_target_scale,
                            ambiguity=args.ambiguity, domain_mix=args.domain_mix, overwrite=args.overwrite)
    print(root)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from auxdet.experiments.demo import run_demo

    check_output_dir(args.work_dir, "--work-dir")
    report = run_demo(args.work_dir, quick=args.quick, seed=args.seed)
    print(f"report: {report}")
    return 0


def _cmd_study(args: argparse.Namespace) -> int:
    from auxdet.experiments.study import QUICK_STUDY, STUDY, run_study
    from auxdet.experiments.summary import comparison_table

    for out in (args.results, args.summary):
        check_output_file(out, "--results" if out == args.results else "--summary")
    check_output_dir(args.work_dir, "--work-dir")
    study = QUICK_STUDY if args.quick else STUDY
    run_study(study, results=args.results, work_root=args.work_dir, summary=args.summary, processes=args.processes)
    import pandas as pd

    summary = pd.read_csv(args.summary)
    for name in ("metadata effect", "metadata reliance (swap)"):
        n = len(study.seeds)
        print(f"\n{name} (AP50, percentage points, overall; {n} seed{'s' if n > 1 else ''}):")
        print(comparison_table(summary, name).to_string(index=False))
    print(f"\nrows: {args.results}\nsummary: {args.summary}")
    return 0


# --------------------------------------------------------------------------- error boundary
def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``auxdet`` command line; returns the exit code (see :mod:`auxdet.cli_errors`)."""
    args = build_parser().parse_args(argv)
    try:
        with sigterm_raises(), auxdet_warnings():
            if getattr(args, "config", None):  # config errors first, before anything else is read
                check_config_file(args.config)
            return int(args.func(args) or 0)
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM (Terminated): cleanup has run
        terminated = isinstance(err, Terminated)
        print(interrupt_message(args, terminated), file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except Exception as err:
        if debug_enabled():
            raise
        code, line = describe_error(err)
        print(line, file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
