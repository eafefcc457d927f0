"""Run the ``auxdet`` command line on bad files, bad options, unwritable outputs, interruption and
concurrency, as a user would (each case a fresh ``python -m auxdet`` process), and print a table:

    case | exit code | first stderr line | traceback? | user files intact?

The CLI's promise (issue 15): exit code 0/1/2/130/143, always with a reason on stderr, never a
traceback, and no user file lost. "User files" are each case's inputs and whatever existed in its
output folders before; they are hashed before and after.

    python scripts/fault_matrix.py [--work DIR] [--only SUBSTRING] [--markdown]

Takes about 15 minutes on 2 busy CPU cores (52 cases: tiny trainings, a 96-Mpx tiled prediction, a demo). The read-only
cases run the CLI as user ``nobody`` (``setpriv``) when started as root, for whom nothing is read-only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = "cpu_tiny/auxdet_r18_tiny_synthetic"
NO_META = "cpu_tiny/cascade_rpn_r18_tiny_synthetic"
ALLOWED = {0, 1, 2, 130, 143}
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []


@dataclass
class Result:
    case: str
    code: int | None
    first: str
    traceback: bool
    intact: bool
    expect: set[int] = field(default_factory=set)
    said: bool = True  # the expected words (if any) appeared on stderr

    @property
    def ok(self) -> bool:
        """Expected code, allowed (or SIGKILL, which no program can catch), a reason, no traceback, files intact."""
        killed = self.code is not None and self.code < 0
        reason = bool(self.first) or self.code == 0 or killed
        return (self.code in ALLOWED or killed) and self.code in self.expect and reason and not self.traceback \
            and self.intact and self.said


def _hash_tree(paths: list[Path]) -> dict[str, str]:
    out = {}
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
        for p in files:
            out[str(p)] = hashlib.sha1(p.read_bytes()).hexdigest()
    return out


class Matrix:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "AUXDET_DEBUG": "", "HOME": str(work),
                    "MPLCONFIGDIR": str(work / ".mpl")}
        self.results: list[Result] = []

    # ------------------------------------------------------------------ running
    def cmd(self, *args: object) -> list[str]:
        return [sys.executable, "-m", "auxdet", *map(str, args)]

    def popen(self, argv: list[str], prefix: list[str] | None = None) -> subprocess.Popen:
        return subprocess.Popen([*(prefix or []), *argv], cwd=self.work, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def record(self, case: str, proc: subprocess.Popen, keep: list[Path], before: dict[str, str],
               expect: set[int], timeout: float = 900, needle: str | None = None) -> Result:
        _, err = proc.communicate(timeout=timeout)
        lines = [x for x in err.splitlines() if x.strip() and x.startswith("auxdet")]
        first = next((x for x in lines if x.startswith(("auxdet: error", "auxdet: terminated", "auxdet: interrupted",
                                                          "auxdet: unexpected", "auxdet: training stopped"))),
                     lines[0] if lines else "")
        res = Result(case, proc.returncode, first, "Traceback" in err, _hash_tree(keep) == before, expect,
                     needle is None or needle in err)
        self.results.append(res)
        print(f"{'ok ' if res.ok else 'BAD'} {case}: {res.code} {first[:110]}", file=sys.stderr, flush=True)
        return res

    def run(self, case: str, argv: list[str], keep: list[Path], expect: set[int], *, prefix: list[str] | None = None,
            after: Callable[[subprocess.Popen], None] | None = None, needle: str | None = None) -> Result:
        """Run one case; ``needle``: words its stderr must contain (e.g. a note)."""
        before = _hash_tree(keep)
        proc = self.popen(argv, prefix)
        if after is not None:
            after(proc)
        return self.record(case, proc, keep, before, expect, needle=needle)

    # ------------------------------------------------------------------ fixtures
    def setup(self) -> None:
        w = self.work
        subprocess.run(self.cmd("synth", w / "data", "--num-images", "12", "--size", "32", "--seed", "0"),
                       cwd=w, env=self.env, check=True, capture_output=True)
        opts = self.tiny_options(w / "data")
        subprocess.run(self.cmd("train", CONFIG, "--work-dir", w / "run", "--no-progress", "--cfg-options", *opts),
                       cwd=w, env=self.env, check=True, capture_output=True)
        self.ckpt = Path((w / "run" / "last_checkpoint").read_text().strip())
        code = ("import sys, torch; from mmdet.registry import MODELS; from mmengine.registry import "
                "init_default_scope; from auxdet.engine.runner import load_config; "
                "cfg = load_config(sys.argv[1], progress_bar=False); init_default_scope('mmdet'); "
                "torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, sys.argv[2])")
        subprocess.run([sys.executable, "-c", code, NO_META, w / "base.pth"], cwd=w, env=self.env, check=True)
        import cv2
        import numpy as np

        self.img = w / "scene.png"
        cv2.imwrite(str(self.img), np.random.default_rng(0).integers(0, 255, (48, 64), np.uint8))
        os.chmod(w, 0o755)
        for p in w.rglob("*"):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)

    @staticmethod
    def tiny_options(root: Path, epochs: int = 1) -> list[str]:
        """``--cfg-options`` of a tiny CPU run on ``root`` (64-px input, ``epochs`` epochs of batch 4)."""
        from auxdet.experiments.plan import resize_options

        opts: dict[str, object] = {"train_cfg.max_epochs": epochs, "train_cfg.val_interval": epochs,
                                   "default_hooks.checkpoint.interval": 1, "train_dataloader.batch_size": 4}
        for split in ("train", "val", "test"):
            opts[f"{split}_dataloader.dataset.data_root"] = str(root)
            opts[f"{split}_dataloader.num_workers"] = 0
            opts[f"{split}_dataloader.persistent_workers"] = False
        opts.update({k: "(64,64)" for k in resize_options((64, 64))})
        return [f"{k}={v}" for k, v in opts.items()]

    def data_copy(self, name: str) -> Path:
        dst = self.work / name
        shutil.copytree(self.work / "data", dst)
        return dst

    def test_cmd(self, ckpt: Path, root: Path, *extra: object) -> list[str]:
        return self.cmd("test", CONFIG, ckpt, *extra, "--cfg-options", f"test_dataloader.dataset.data_root={root}",
                        "test_dataloader.num_workers=0", "test_dataloader.persistent_workers=False")

    def predict_cmd(self, ckpt: Path, *extra: object, config: str = CONFIG) -> list[str]:
        return self.cmd("predict", config, ckpt, *extra, "--platform", "Air", "--band", "LWIR")

    # ------------------------------------------------------------------ the cases
    def bad_files(self) -> None:
        w = self.work
        (w / "notes.png").write_text("not an image\n")
        self.run("text file named .png", self.predict_cmd(self.ckpt, w / "notes.png", "--out-dir", w / "o1"),
                 [w / "notes.png"], {2})
        (w / "empty.pth").touch()
        self.run("0-byte checkpoint (predict)", self.predict_cmd(w / "empty.pth", self.img, "--out-dir", w / "o2"),
                 [w / "empty.pth"], {2})
        self.run("0-byte checkpoint (test)", self.test_cmd(w / "empty.pth", w / "data"), [w / "empty.pth"], {2})
        self.run("0-byte checkpoint (train --load-from)",
                 self.cmd("train", CONFIG, "--work-dir", w / "t0", "--load-from", w / "empty.pth", "--no-progress",
                          "--cfg-options", *self.tiny_options(w / "data")), [w / "empty.pth"], {2})
        (w / "garbage.pth").write_bytes(os.urandom(4096))
        self.run("random bytes as checkpoint", self.predict_cmd(w / "garbage.pth", self.img, "--out-dir", w / "o3"),
                 [w / "garbage.pth"], {2})
        self.run("missing image", self.predict_cmd(self.ckpt, w / "nope.png"), [], {2})
        (w / "meta.json").write_text("{platform: Air")
        self.run("invalid metadata JSON", self.cmd("predict", CONFIG, self.ckpt, self.img, "--meta-json",
                                                   w / "meta.json", "--out-dir", w / "o4"), [w / "meta.json"], {2})
        for name, values in (("box far outside the image", {"xmax": 5000, "ymin": -3}),
                             ("degenerate box (xmax = xmin)", {"xmin": 10, "xmax": 10})):
            root = self.data_copy(name.split()[0] + "_box")
            xml = root / "Annotations" / f"{(root / 'ImageSets/Main/test.txt').read_text().split()[0]}.xml"
            text = xml.read_text()
            for tag, v in values.items():
                start = text.index(f"<{tag}>") + len(tag) + 2
                text = text[:start] + str(v) + text[text.index(f"</{tag}>"):]
            xml.write_text(text)
            self.run(f"annotation: {name}", self.test_cmd(self.ckpt, root), [root], {2})
        root = self.data_copy("empty_split")
        (root / "ImageSets/Main/test.txt").write_text("")
        self.run("empty test split", self.test_cmd(self.ckpt, root), [root], {2})

    def large_image(self) -> None:
        import cv2
        import numpy as np

        big = self.work / "big.png"
        arr = np.zeros((8000, 12000), np.uint8)
        arr[4000:4004, 6000:6004] = 255
        cv2.imwrite(str(big), arr)
        del arr
        self.run("96-Mpx image, untiled", self.predict_cmd(self.ckpt, big, "--out-dir", self.work / "o5"), [big], {2})
        self.run("96-Mpx image, --tile 2048", self.predict_cmd(self.ckpt, big, "--out-dir", self.work / "o6",
                                                               "--tile", "2048", "--overlap", "64"), [big], {0})

    def bad_options(self) -> None:
        w = self.work
        self.run("synth --num-images 0", self.cmd("synth", w / "s0", "--num-images", "0"), [], {2})
        self.run("synth --scale 10", self.cmd("synth", w / "s1", "--num-images", "2", "--scale", "10"), [], {2})
        self.run("synth --size 4", self.cmd("synth", w / "s2", "--num-images", "2", "--size", "4"), [], {2})
        self.run("predict --device cuda (no CUDA here)" if not _has_cuda() else "predict --device cuda:99",
                 self.predict_cmd(self.ckpt, self.img, "--device", "cuda" if not _has_cuda() else "cuda:99"), [], {2})
        self.run("predict --tile 0 --overlap 999", self.predict_cmd(self.ckpt, self.img, "--overlap", "999"), [], {2})
        self.run("predict --tile 32 --overlap 40", self.predict_cmd(self.ckpt, self.img, "--tile", "32", "--overlap",
                                                                    "40"), [], {2})
        self.run("predict --score-thr 2", self.predict_cmd(self.ckpt, self.img, "--score-thr", "2"), [], {2})
        self.run("train --cfg-options junk", self.cmd("train", CONFIG, "--cfg-options", "junk"), [], {2})
        self.run("train --launcher ssh", self.cmd("train", CONFIG, "--launcher", "ssh"), [], {2})
        self.run("unknown sub-command", self.cmd("tran", CONFIG), [], {2})
        self.run("unknown config", self.cmd("train", "no_such_config"), [], {2})
        (w / "broken.py").write_text("model = dict(neck=dict(\n")
        self.run("config with a syntax error", self.cmd("train", w / "broken.py"), [w / "broken.py"], {2})
        self.run("a folder as image", self.predict_cmd(self.ckpt, w / "data"), [], {2})
        self.run("unknown key in --cfg-options", self.cmd("train", CONFIG, "--work-dir", w / "t1", "--no-progress",
                                                          "--cfg-options", "model.neck.nonsense=1",
                                                          *self.tiny_options(w / "data")), [], {1})

    def outputs(self) -> None:
        w = self.work
        (w / "results").mkdir()
        (w / "results" / "old.csv").write_text("keep\n")
        self.run("test --out is a folder", self.test_cmd(self.ckpt, w / "data", "--out", w / "results"),
                 [w / "results"], {2})
        self.run("predict --out-dir is a file", self.predict_cmd(self.ckpt, self.img, "--out-dir", self.img),
                 [self.img], {2})
        ro = w / "readonly"
        ro.mkdir()
        (ro / "mine.txt").write_text("mine\n")
        os.chmod(ro, 0o555)
        self.run("predict --out-dir read-only" + (" (as nobody)" if NOBODY else ""),
                 self.predict_cmd(self.ckpt, self.img, "--out-dir", ro), [ro], {2}, prefix=NOBODY)
        self.run("test --out in a read-only folder" + (" (as nobody)" if NOBODY else ""),
                 self.test_cmd(self.ckpt, w / "data", "--out", ro / "r.csv"), [ro], {2}, prefix=NOBODY)
        self.run("synth into a read-only folder" + (" (as nobody)" if NOBODY else ""),
                 self.cmd("synth", ro / "s", "--num-images", "2", "--size", "16"), [ro], {2}, prefix=NOBODY)
        run = w / "run"
        keep = [p for p in run.iterdir() if p.is_file()]  # the training's config dump, checkpoints, logs
        self.run("test --work-dir = the training folder", self.test_cmd(self.ckpt, w / "data", "--work-dir", run),
                 keep, {2})
        self.run("test --cfg-options (default work dir)", self.test_cmd(self.ckpt, w / "data", "--out", w / "res.csv"),
                 keep, {0})

    def interruption(self) -> None:
        w = self.work
        out = w / "synth"
        subprocess.run(self.cmd("synth", out, "--num-images", "3", "--size", "16"), cwd=w, env=self.env, check=True,
                       capture_output=True)

        def when_generating(sig: int) -> Callable[[subprocess.Popen], None]:
            def act(proc: subprocess.Popen) -> None:
                _wait(lambda: any(p.is_dir() and len(list((p / "PNGImages").glob("*.png"))) > 2
                                  for p in w.glob(".synth.tmp-*")))
                proc.send_signal(sig)
            return act

        argv = self.cmd("synth", out, "--num-images", "3000", "--size", "24", "--overwrite")
        r = self.run("synth: SIGTERM while generating", argv, [out], {143}, after=when_generating(signal.SIGTERM))
        r.intact &= not list(w.glob(".synth.*"))
        r = self.run("synth: Ctrl-C (SIGINT) while generating", argv, [out], {130},
                     after=when_generating(signal.SIGINT))
        r.intact &= not list(w.glob(".synth.*"))
        self.run("synth: SIGKILL while generating", argv, [out], {-9}, after=when_generating(signal.SIGKILL))
        r = self.run("synth: next run after the SIGKILL", self.cmd("synth", out, "--num-images", "3", "--size", "16"),
                     [out], {0}, needle="temporary folder of an interrupted run")
        r.intact &= not list(w.glob(".synth.*"))
        # training: Ctrl-C after the first checkpoint, then SIGKILL, then --resume (stale lock taken over)
        opts = self.tiny_options(w / "data", epochs=40)
        train = self.cmd("train", CONFIG, "--work-dir", w / "long", "--no-progress", "--cfg-options", *opts)

        def while_training(sig: int, done: Callable[[], bool]) -> Callable[[subprocess.Popen], None]:
            def act(proc: subprocess.Popen) -> None:
                _wait(lambda: (done() and _lock_pid(w / "long") == proc.pid) or proc.poll() is not None, 600)
                time.sleep(1.0)
                proc.send_signal(sig)
            return act

        self.run("train: Ctrl-C after a checkpoint", train, [w / "data"], {130},
                 after=while_training(signal.SIGINT, lambda: (w / "long" / "last_checkpoint").exists()))
        self.run("train: SIGKILL (leaves its lock)", train, [w / "data"], {-9},
                 after=while_training(signal.SIGKILL, lambda: True))
        resume = self.cmd("train", CONFIG, "--work-dir", w / "long", "--no-progress", "--resume", "--cfg-options",
                          *self.tiny_options(w / "data", epochs=1))
        self.run("train --resume after the SIGKILL", resume, [w / "data"], {0}, needle="stale lock")
        self.run("train --resume, no checkpoint", self.cmd("train", CONFIG, "--work-dir", w / "fresh", "--no-progress",
                                                           "--resume", "--cfg-options", *self.tiny_options(w / "data")),
                 [w / "data"], {0}, needle="no checkpoint to resume from")

    def demo(self) -> None:
        w = self.work
        children: list[int] = []

        def when_both_train(proc: subprocess.Popen) -> None:
            _wait(lambda: all(_lock_pid(w / "demo" / m) for m in ("baseline", "auxdet")) or proc.poll() is not None,
                  600)
            children.extend(_children(proc.pid))
            proc.send_signal(signal.SIGTERM)

        r = self.run("demo --quick: SIGTERM while training", self.cmd("demo", "--quick", "--work-dir", w / "demo"),
                     [], {143}, after=when_both_train, needle="terminated (SIGTERM)")
        time.sleep(2.0)
        r.intact &= bool(children) and not any(Path(f"/proc/{pid}").exists() for pid in children)  # no orphans

    def concurrency(self) -> None:
        w = self.work
        before = _hash_tree([])
        twins = [self.popen(self.cmd("synth", w / "twin", "--num-images", "40", "--size", "24")) for _ in range(2)]
        for i, proc in enumerate(twins):
            r = self.record(f"two synth runs, same folder and settings: run {i + 1}", proc, [], before, {0})
        r.intact &= not list(w.glob(".twin.*")) and len(list((w / "twin" / "PNGImages").glob("*.png"))) == 40
        argv = self.cmd("train", CONFIG, "--work-dir", w / "race", "--no-progress", "--cfg-options",
                        *self.tiny_options(w / "data", epochs=3))
        before = _hash_tree([w / "data"])
        procs = [self.popen(argv) for _ in range(2)]
        for i, proc in enumerate(procs):
            self.record(f"two trainings, one work dir: run {i + 1}", proc, [w / "data"], before, {0, 2})
        codes = sorted(r.code for r in self.results[-2:])
        if codes != [0, 2]:
            self.results[-1].intact = False  # both ran (or neither): not the promised exclusion

    def data_loss(self) -> None:
        w = self.work
        out = w / "ds"
        subprocess.run(self.cmd("synth", out, "--num-images", "4", "--size", "16"), cwd=w, env=self.env, check=True,
                       capture_output=True)
        self.run("synth: other settings, no --overwrite", self.cmd("synth", out, "--num-images", "6", "--size", "16"),
                 [out], {2})
        (out / "results").mkdir()
        (out / "results" / "mine.csv").write_text("precious\n")
        self.run("synth --overwrite, a user file inside", self.cmd("synth", out, "--num-images", "6", "--size", "16",
                                                                   "--overwrite"), [out], {2})
        shutil.rmtree(out / "results")
        xml = sorted((out / "Annotations").glob("*.xml"))[0]
        xml.write_text(xml.read_text() + "\n")
        self.run("synth --overwrite, a hand-fixed annotation", self.cmd("synth", out, "--num-images", "6", "--size",
                                                                        "16", "--overwrite"), [out], {2})
        mine = w / "mine"
        mine.mkdir()
        (mine / "thesis.tex").write_text("keep\n")
        self.run("synth --overwrite, not a dataset", self.cmd("synth", mine, "--num-images", "2", "--overwrite"),
                 [mine], {2})
        for sub in ("a", "b"):
            (w / sub).mkdir()
            shutil.copy(self.img, w / sub / "x.png")
        r = self.run("predict a/x.png b/x.png", self.predict_cmd(self.ckpt, w / "a/x.png", w / "b/x.png", "--out-dir",
                                                                w / "o7"), [w / "a", w / "b"], {0})
        images = {json.loads(p.read_text())["image"] for p in (w / "o7").glob("*.json")}
        r.intact &= len(images) == 2
        self.run("predict --counterfactual, model without metadata",
                 self.predict_cmd(w / "base.pth", self.img, "--out-dir", w / "o8", "--counterfactual",
                                  config=NO_META), [self.img], {0})

    # ------------------------------------------------------------------ report
    def table(self, markdown: bool) -> str:
        rows = [(r.case, str(r.code), r.first[:100], "yes" if r.traceback else "no", "yes" if r.intact else "NO",
                 "ok" if r.ok else "FAIL") for r in self.results]
        head = ("case", "exit", "first stderr line", "traceback", "user files intact", "verdict")
        if markdown:
            lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
            return "\n".join(lines)
        widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
        fmt = "  ".join(f"{{:{n}}}" for n in widths)
        return "\n".join([fmt.format(*head), fmt.format(*("-" * n for n in widths)), *(fmt.format(*r) for r in rows)])


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _children(pid: int) -> list[int]:
    """Child processes of ``pid`` (Linux ``/proc``)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        out += [int(x) for x in task.read_text().split()]
    return out


def _lock_pid(work_dir: Path) -> int | None:
    """The pid recorded in a work dir's training lock (None if there is none)."""
    try:
        return int(json.loads((work_dir / ".auxdet-train.lock").read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _wait(cond: Callable[[], object], timeout: float = 300) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end and not cond():
        time.sleep(0.2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", help="workspace (default: a new temporary folder, removed afterwards)")
    ap.add_argument("--only", help="run only the groups whose name contains this (bad_files, large_image, …)")
    ap.add_argument("--markdown", action="store_true", help="print the table as markdown")
    a = ap.parse_args()
    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="auxdet-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    m = Matrix(work.resolve())
    try:
        m.setup()
        for group in ("bad_files", "bad_options", "outputs", "large_image", "data_loss", "interruption", "demo",
                      "concurrency"):
            if a.only is None or a.only in group:
                getattr(m, group)()
    finally:
        print(m.table(a.markdown))
        if not a.work:
            for p in work.rglob("*"):
                if p.is_dir():
                    os.chmod(p, 0o755)
            shutil.rmtree(work, ignore_errors=True)
    bad = [r.case for r in m.results if not r.ok]
    print(f"\n{len(m.results)} cases, {len(bad)} failing" + (f": {bad}" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
