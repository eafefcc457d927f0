"""One AuxDet run of the study's demo setting with one recipe change, tested with true and swapped metadata.

The pilots behind notebook 07's section 4 ("what limits the metadata's use"): the demo's plan
(:data:`auxdet.experiments.plan.FULL` — full ambiguity, balanced mix, AdamW, 1100 iterations) with the
iteration budget or the metadata path's dropout changed, on the study's data of that seed (generated
under ``--work-dir`` when absent). One seed per call: a pilot is an anecdote, not a study. Prints AP50
(%) per domain under true and swapped metadata and writes them to ``<work-dir>/<name>/pilot.csv``.

    python scripts/metadata_pilot.py --seed 0                 # the demo's recipe (reliance ≈ 0 for seed 0)
    python scripts/metadata_pilot.py --seed 0 --iters 2200    # twice the budget
    python scripts/metadata_pilot.py --seed 0 --dropout 0.1   # a weaker dropout in the metadata path
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0, help="data and training seed (the study's seeds: 0, 1, 2)")
    ap.add_argument("--iters", type=int, default=None, help="training iterations (default: the demo's 1100)")
    ap.add_argument("--dropout", type=float, default=None, help="dropout of the metadata path (default: 0.5)")
    ap.add_argument("--work-dir", default="build/pilots", help="data and runs")
    args = ap.parse_args(argv)

    import pandas as pd

    import auxdet  # noqa: F401  (registers the components)
    from auxdet.engine.parallel import last_checkpoint
    from auxdet.engine.runner import load_config, test, train
    from auxdet.experiments.plan import FULL, cfg_options
    from auxdet.experiments.study import ARMS

    plan = FULL if args.iters is None else replace(FULL, max_iters=args.iters)
    root = Path(args.work_dir)
    data = plan.dataset(root / "data", args.seed, progress=True)
    name = f"seed{args.seed}_iters{plan.max_iters}" + ("" if args.dropout is None else f"_dropout{args.dropout:g}")
    options = cfg_options(plan, data, log_level="WARNING")
    if args.dropout is not None:
        options["model.neck.dropout"] = args.dropout
    config = ARMS["auxdet"]
    cfg = load_config(config, work_dir=root / name / "train", cfg_options=options, seed=args.seed)
    train(cfg)
    checkpoint = last_checkpoint(root / name / "train")
    tables = []
    for variant in ("true", "swap"):
        opts = dict(options)
        opts["test_dataloader.dataset.metadata_counterfactual"] = None if variant == "true" else dict(mode="swap", seed=0)
        out = root / name / f"test-{variant}.csv"
        test(config, checkpoint, work_dir=root / name / f"test-{variant}", cfg_options=opts, out=out)
        tables.append(pd.read_csv(out).assign(variant=variant))
    table = pd.concat(tables)
    table = table[table["group"].isin(["overall", "domain"])]
    wide = (100 * table.pivot_table(index="value", columns="variant", values="AP50")).round(1)
    wide["reliance"] = wide["true"] - wide["swap"]
    wide.to_csv(root / name / "pilot.csv")
    print(f"{name}: AP50 (%) under true and swapped metadata\n{wide.to_string()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
