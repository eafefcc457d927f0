"""Execute every notebooks/*.ipynb with `jupyter nbconvert --execute`, never into the source file.

SMOKE runs (``--smoke``): ``SMOKE=1``, executed copies and figures go to ``build/`` (so a test run
never overwrites the committed figures). Full runs: figures go to ``figures/``; executed copies to
``build/notebooks-full/``. A failing cell fails the run and names the notebook; a table of times is printed.

Kernel: the notebooks name the project's kernel ``auxdet`` (``make setup`` installs it into ``.venv``). It is
used when this environment has it and it runs this interpreter; otherwise (a Jupyter outside ``.venv``, a
kernelspec left over from another clone) the run falls back to ``python3`` — the kernel of the interpreter
running this script — and says so. Warnings are not hidden: executed copies show what a student sees in Lab.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from normalize_notebooks import KERNEL_NAME

ROOT = Path(__file__).resolve().parent.parent


def kernel_name() -> str:
    """``auxdet`` when it is installed for this interpreter (``.venv``), else ``python3`` (with a note)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        print(f"note: kernel '{KERNEL_NAME}' not installed (run `make setup`); using python3", file=sys.stderr)
        return "python3"
    here = os.path.realpath(os.path.dirname(sys.executable))
    if os.path.realpath(os.path.dirname(spec.argv[0])) != here:
        print(f"note: kernel '{KERNEL_NAME}' runs {spec.argv[0]}, not this environment's python; using python3",
              file=sys.stderr)
        return "python3"
    return KERNEL_NAME


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
    env = dict(os.environ, SMOKE="1" if args.smoke else "0", MPLBACKEND="Agg")
    env.setdefault("AUXDET_BUILD", str(ROOT / "build"))
    jupyter = Path(sys.executable).with_name("jupyter")
    kernel = kernel_name()

    rows, failed = [], []
    for nb in notebooks:
        t0 = time.time()
        cmd = [
            str(jupyter), "nbconvert", "--to", "notebook", "--execute", str(nb),
            "--output-dir", str(out_dir), f"--ExecutePreprocessor.timeout={args.timeout}",
            f"--ExecutePreprocessor.kernel_name={kernel}",
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
