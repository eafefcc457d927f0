"""Execute every notebooks/*.ipynb with `jupyter nbconvert --execute`, never into the source file.

SMOKE runs (``--smoke``): ``SMOKE=1``, executed copies and figures go to ``build/`` (so a test run
never overwrites the committed figures). Full runs: figures go to ``figures/``; executed copies to
``build/notebooks-full/``. A failing cell fails the run and names the notebook; a table of times is printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--smoke", action="store_true", help="CI-size run (SMOKE=1), outputs under build/")
    ap.add_argument("--timeout", type=int, default=420, help="per-cell timeout in seconds")
    ap.add_argument("notebooks", nargs="*", help="subset to run (default: all notebooks/*.ipynb)")
    args = ap.parse_args()

    notebooks = [Path(n).resolve() for n in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        print("no notebooks found", file=sys.stderr)
        return 1
    out_dir = ROOT / "build" / ("notebooks" if args.smoke else "notebooks-full")
    out_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SMOKE="1" if args.smoke else "0", MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
    env.setdefault("AUXDET_BUILD", str(ROOT / "build"))
    jupyter = Path(sys.executable).with_name("jupyter")

    rows, failed = [], []
    for nb in notebooks:
        t0 = time.time()
        cmd = [
            str(jupyter), "nbconvert", "--to", "notebook", "--execute", str(nb),
            "--output-dir", str(out_dir), f"--ExecutePreprocessor.timeout={args.timeout}",
            "--ExecutePreprocessor.kernel_name=python3",
        ]
        proc = subprocess.run(cmd, cwd=ROOT / "notebooks", env=env, capture_output=True, text=True)
        dt = time.time() - t0
        ok = proc.returncode == 0
        rows.append((nb.name, dt, "ok" if ok else "FAILED"))
        print(f"{nb.name:40s} {dt:7.1f} s  {'ok' if ok else 'FAILED'}", flush=True)
        if not ok:
            failed.append(nb.name)
            print(f"---- {nb.name} failed; last lines of nbconvert's output ----", file=sys.stderr)
            print("\n".join(proc.stderr.splitlines()[-40:]), file=sys.stderr)

    print("\nnotebook                                  seconds  status")
    for name, dt, status in rows:
        print(f"{name:40s} {dt:8.1f}  {status}")
    if failed:
        print(f"FAILED notebooks: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
