"""The ``auxdet`` CLI under bad input, interruption and concurrency (issue 15), one test per class of failure.

Every case asserts the CLI's promise: exit code 0/1/2/130/143, a one-line reason on stderr
(``auxdet: error: …`` for user errors), never a traceback, and no user file lost. Classes: bad files,
bad options, outputs, interruption (a real SIGTERM / SIGKILL to a subprocess), concurrency (two
processes racing for a work-dir lock), data loss. Sizes are tiny (32-px synthetic images, untrained
CPU-tiny models) so the file runs in well under two minutes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from auxdet.cli import main

AUXDET = "cpu_tiny/auxdet_r18_tiny_synthetic"
NO_META = "cpu_tiny/faster_rcnn_r18_tiny_synthetic"  # a baseline: no metadata-aware neck
REPO = Path(__file__).resolve().parents[1]
ALLOWED_CODES = {0, 1, 2, 130, 143}


# ----------------------------------------------------------------------------- helpers / fixtures
def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "AUXDET_DEBUG": ""}


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    err = "\n".join(line for line in cap.err.splitlines()
                    if line.strip() and line.startswith("auxdet") or "Traceback" in line)
    return code, cap.out, err


def _assert_user_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("auxdet: error")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory, save_untrained: Callable[[str, Path], Path]) -> Path:
    return save_untrained(AUXDET, tmp_path_factory.mktemp("ckpt") / "auxdet.pth")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from auxdet.data.synthetic import generate_dataset

    return generate_dataset(tmp_path_factory.mktemp("synth") / "data", 8, seed=0, size=32, empty_prob=0.0,
                            progress=False)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("img") / "scene.png"
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 255, (48, 64), dtype=np.uint8))
    return path


def _data_copy(data: Path, tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(data, root)
    return root


def _test_argv(ckpt: Path, root: Path, *extra: str) -> list[str]:
    return ["test", AUXDET, str(ckpt), *extra, "--cfg-options", f"test_dataloader.dataset.data_root={root}",
            "test_dataloader.num_workers=0", "test_dataloader.persistent_workers=False"]


def _first_test_xml(root: Path) -> Path:
    first = (root / "ImageSets/Main/test.txt").read_text().split()[0]
    return root / "Annotations" / f"{first}.xml"


def _set_box(xml: Path, **values: float) -> None:
    import xml.etree.ElementTree as ET

    tree = ET.parse(xml)
    box = tree.getroot().find("object/bndbox")
    for tag, v in values.items():
        box.find(tag).text = str(v)
    tree.write(xml)


def _predict(ckpt: Path, *args: object) -> list[str]:
    return ["predict", AUXDET, str(ckpt), *map(str, args), "--platform", "Air", "--band", "LWIR"]


# ----------------------------------------------------------------------------- bad files
def _text_as_png(tmp: Path, ckpt: Path, data: Path) -> tuple[list[str], tuple[str, ...]]:
    fake = tmp / "notes.png"
    fake.write_text("not an image\n")
    return _predict(ckpt, fake, "--out-dir", tmp / "out"), ("notes.png", "not a readable image")


def _empty_ckpt(tmp: Path, ckpt: Path, data: Path, command: str = "predict") -> tuple[list[str], tuple[str, ...]]:
    empty = tmp / "empty.pth"
    empty.touch()
    img = tmp / "x.png"
    cv2.imwrite(str(img), np.zeros((16, 16), np.uint8))
    argv = _predict(empty, img, "--out-dir", tmp / "out") if command == "predict" else _test_argv(empty, data)
    return argv, ("empty.pth", "empty")


def _garbage_ckpt(tmp: Path, ckpt: Path, data: Path, head: bytes = b"\x00") -> tuple[list[str], tuple[str, ...]]:
    bad = tmp / "garbage.pth"
    bad.write_bytes(head + bytes(range(256)) * 4)
    img = tmp / "x.png"
    cv2.imwrite(str(img), np.zeros((16, 16), np.uint8))
    return _predict(bad, img, "--out-dir", tmp / "out"), ("garbage.pth", "not a", "torch checkpoint")


def _box_far_outside(tmp: Path, ckpt: Path, data: Path) -> tuple[list[str], tuple[str, ...]]:
    root = _data_copy(data, tmp)
    xml = _first_test_xml(root)
    _set_box(xml, xmax=5000, ymin=-3)
    return _test_argv(ckpt, root), (xml.name, "xmax 5000", "32×32 image", "valid:")


def _degenerate_box(tmp: Path, ckpt: Path, data: Path) -> tuple[list[str], tuple[str, ...]]:
    root = _data_copy(data, tmp)
    xml = _first_test_xml(root)
    _set_box(xml, xmin=10, xmax=10)
    return _test_argv(ckpt, root), (xml.name, "is empty")


def _empty_split(tmp: Path, ckpt: Path, data: Path) -> tuple[list[str], tuple[str, ...]]:
    root = _data_copy(data, tmp)
    (root / "ImageSets/Main/test.txt").write_text("")
    return _test_argv(ckpt, root), ("test.txt", "lists no images")


BAD_FILES: dict[str, Callable[..., tuple[list[str], tuple[str, ...]]]] = {
    "text file named .png": _text_as_png,
    "0-byte checkpoint (predict)": _empty_ckpt,
    "0-byte checkpoint (test)": lambda t, c, d: _empty_ckpt(t, c, d, "test"),
    "random bytes as checkpoint": _garbage_ckpt,
    "pickle-like garbage as checkpoint": lambda t, c, d: _garbage_ckpt(t, c, d, b"\x80\x02"),
    "zip-like garbage as checkpoint": lambda t, c, d: _garbage_ckpt(t, c, d, b"PK\x03\x04"),
    "annotation box far outside the image": _box_far_outside,
    "degenerate annotation box": _degenerate_box,
    "empty test split": _empty_split,
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files(case: str, tmp_path: Path, ckpt: Path, data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv, needles = BAD_FILES[case](tmp_path, ckpt, data)
    _assert_user_error(*_cli(argv, capsys)[::2], *needles)


def test_box_within_one_pixel_is_clipped_with_a_warning(data: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from auxdet.cli_errors import auxdet_warnings
    from auxdet.data.voc_io import parse_voc_xml
    from auxdet.errors import AuxdetWarning

    xml = _first_test_xml(_data_copy(data, tmp_path))
    _set_box(xml, xmin=0.5, xmax=33.5)  # 1-based file convention: 0.5 px left of the image, 0.5 px right
    with warnings.catch_warnings(), auxdet_warnings():
        warnings.simplefilter("always", AuxdetWarning)
        rec = parse_voc_xml(xml)
    assert rec.boxes[0, 0] == 0 and rec.boxes[0, 2] == 32
    err = capsys.readouterr().err
    assert err.startswith("auxdet: warning: ") and xml.name in err and "clipped" in err and len(err.splitlines()) == 1


def test_huge_image_needs_tiles_and_tiles_read_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ckpt: Path,
                                                  image: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # the 64×48 image is then a "decompression bomb"
    code, _, err = _cli(_predict(ckpt, image, "--out-dir", tmp_path), capsys)
    _assert_user_error(code, err, "scene.png", "decompression-bomb", "--tile")
    code, out, err = _cli(_predict(ckpt, image, "--out-dir", tmp_path, "--tile", "48", "--overlap", "8"), capsys)
    assert code == 0 and (tmp_path / "scene.json").is_file(), err
    assert Image.MAX_IMAGE_PIXELS == 1000  # lifted only while the tiled image was read

    from auxdet.data import large_images

    monkeypatch.setattr(large_images, "available_memory", lambda: 1000)
    code, _, err = _cli(_predict(ckpt, image, "--out-dir", tmp_path, "--tile", "32", "--overlap", "8"), capsys)
    _assert_user_error(code, err, "scene.png", "memory available")


# ----------------------------------------------------------------------------- bad options
def _no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def _broken_config(tmp: Path) -> Path:
    path = tmp / "broken.py"
    path.write_text("_base_ = ['cpu_tiny/auxdet_r18_tiny_synthetic.py']\nmodel = dict(neck=dict(\n")
    return path


BAD_OPTIONS: dict[str, tuple[Callable[[Path, Path, Path], list[str]], tuple[str, ...]]] = {
    "synth --num-images 0": (lambda t, c, i: ["synth", t / "s", "--num-images", "0"], ("--num-images", "positive")),
    "synth --scale 10": (lambda t, c, i: ["synth", t / "s", "--num-images", "2", "--scale", "10"],
                         ("scale", "(0, 4]")),
    "synth --size 4": (lambda t, c, i: ["synth", t / "s", "--num-images", "2", "--size", "4"], ("size", ">= 8")),
    "--device cuda without CUDA": (lambda t, c, i: _predict(c, i, "--device", "cuda", "--out-dir", t / "o"),
                                   ("--device 'cuda'", "no CUDA GPU")),
    "--device nonsense": (lambda t, c, i: _predict(c, i, "--device", "gpu7", "--out-dir", t / "o"),
                          ("'gpu7'", "valid: cpu, cuda")),
    "--overlap without --tile": (lambda t, c, i: _predict(c, i, "--overlap", "999", "--out-dir", t / "o"),
                                 ("--overlap 999", "--tile")),
    "--score-thr out of range": (lambda t, c, i: _predict(c, i, "--score-thr", "1.5"), ("--score-thr", "[0, 1]")),
    "unknown sub-command": (lambda t, c, i: ["tran", "x"], ("invalid choice", "train")),
    "config with a syntax error": (lambda t, c, i: ["train", _broken_config(t), "--work-dir", t / "w"],
                                   ("broken.py", "line 2", "syntax error")),
    "a folder as image": (lambda t, c, i: _predict(c, i.parent), ("is a folder",)),
    "--cfg-options without =": (lambda t, c, i: ["train", AUXDET, "--work-dir", t / "w", "--cfg-options", "lr"],
                                ("KEY=VALUE",)),
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_bad_options(case: str, tmp_path: Path, ckpt: Path, image: Path, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str]) -> None:
    _no_cuda(monkeypatch)
    build, needles = BAD_OPTIONS[case]
    try:
        code, _, err = _cli(build(tmp_path, ckpt, image), capsys)
    except SystemExit as exit_:  # argparse
        code, err = int(exit_.code), capsys.readouterr().err.strip()
    _assert_user_error(code, err, *needles)
    assert not (tmp_path / "s").exists()


# ----------------------------------------------------------------------------- outputs
def _forbid_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    import auxdet.engine.runner as runner_mod

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the evaluation started before the output was checked")

    monkeypatch.setattr(runner_mod, "build_runner", fail)


OUTPUTS: dict[str, tuple[Callable[[Path, Path, Path, Path], list[str]], tuple[str, ...]]] = {
    "test --out is a folder": (lambda t, c, d, i: _test_argv(c, d, "--out", str(t)), ("--out", "is a folder")),
    "test --out under a file": (lambda t, c, d, i: _test_argv(c, d, "--out", str(i / "r.csv")), ("is a file",)),
    "predict --out-dir is a file": (lambda t, c, d, i: _predict(c, i, "--out-dir", i), ("--out-dir", "is a file")),
    "train --work-dir under a file": (lambda t, c, d, i: ["train", AUXDET, "--work-dir", i / "w"], ("is a file",)),
}


@pytest.mark.parametrize("case", list(OUTPUTS))
def test_outputs_are_checked_before_the_work(case: str, tmp_path: Path, ckpt: Path, data: Path, image: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    _forbid_evaluation(monkeypatch)
    build, needles = OUTPUTS[case]
    _assert_user_error(*_cli(build(tmp_path, ckpt, data, image), capsys)[::2], *needles)


def test_read_only_output_folder_is_refused_before_inference(ckpt: Path, image: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    import auxdet.engine.inference as inference

    monkeypatch.setattr(inference, "Predictor", lambda *a, **k: pytest.fail("inference started"))
    base = Path(tempfile.mkdtemp(prefix="auxdet-ro-"))  # world-readable: root runs the CLI as 'nobody'
    try:
        os.chmod(base, 0o755)
        img, weights, ro = base / "scene.png", base / "auxdet.pth", base / "readonly"
        shutil.copy(image, img)
        shutil.copy(ckpt, weights)
        ro.mkdir(mode=0o555)
        ro.chmod(0o555)
        for out_dir in (ro, ro / "sub"):
            root = os.geteuid() == 0
            if root:  # nothing is read-only for root: drop the effective uid for this call
                os.seteuid(65534)
            try:
                code, _, err = _cli(_predict(weights, img, "--out-dir", out_dir), capsys)
            finally:
                if root:
                    os.seteuid(0)
            _assert_user_error(code, err, "--out-dir", str(out_dir), "readonly")
        assert not list(ro.iterdir())
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_test_never_overwrites_the_training_record(tmp_path: Path, ckpt: Path, data: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    run.mkdir()
    weights = Path(shutil.copy(ckpt, run / "epoch_1.pth"))
    recorded = run / "auxdet_r18_tiny_synthetic.py"
    recorded.write_text("# the training's recorded config\n")
    before = _snapshot(run)
    # --work-dir = the training folder: refused before anything is written
    _assert_user_error(*_cli(_test_argv(weights, data, "--work-dir", str(run)), capsys)[::2],
                       "auxdet_r18_tiny_synthetic.py", "--work-dir")
    assert _snapshot(run) == before
    # default: a new test-<time> folder beside the checkpoint
    code, out, err = _cli(_test_argv(weights, data, "--out", str(tmp_path / "res.csv")), capsys)
    assert code == 0, err
    assert recorded.read_text() == "# the training's recorded config\n"
    tests = list(run.glob("test-*"))
    assert len(tests) == 1 and (tests[0] / "auxdet_r18_tiny_synthetic.py").is_file()
    assert (tmp_path / "res.csv").is_file() and "AP50" in out


# ----------------------------------------------------------------------------- interruption
#: helper processes import auxdet's lock module without the package's mmdet registrations (seconds saved)
_LIGHT = f"""
import sys, types
_pkg = types.ModuleType("auxdet")
_pkg.__path__ = [{str(REPO / "auxdet")!r}]
sys.modules["auxdet"] = _pkg
"""
_HOLD_TMP = """
import time
from pathlib import Path
from auxdet.locks import ProcessLock
tmp = Path(sys.argv[1])
with ProcessLock(tmp.with_name(tmp.name + ".lock")):
    (tmp / "PNGImages").mkdir(parents=True)
    (tmp / "PNGImages" / "00000.png").write_bytes(b"x" * 1000)
    print("ready", flush=True)
    time.sleep(600)
"""
def _wait_for(cond: Callable[[], object], timeout: float = 240.0) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def _temporaries(parent: Path, name: str) -> list[Path]:
    return sorted(parent.glob(f".{name}.*"))


def test_sigterm_and_sigkill_during_synth_lose_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "synth"
    assert main(["synth", str(out), "--num-images", "3", "--size", "16"]) == 0
    capsys.readouterr()
    before = _snapshot(out)
    argv = [sys.executable, "-m", "auxdet", "synth", str(out), "--num-images", "3000", "--size", "24", "--overwrite"]

    def started() -> list[Path]:
        return [p for p in _temporaries(tmp_path, "synth")
                if p.is_dir() and len(list((p / "PNGImages").glob("*.png"))) >= 3]

    proc = subprocess.Popen(argv, cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(started)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("auxdet: terminated (SIGTERM)") and "resume training" not in err
    assert _temporaries(tmp_path, "synth") == [] and _snapshot(out) == before

    # SIGKILL cannot be caught: a killed run's temporary folder stays behind. The next run keeps it while its
    # owner lives (a concurrent run), and removes it once the owner is gone.
    tmp = tmp_path / ".synth.tmp-0badc0de"
    holder = subprocess.Popen([sys.executable, "-c", _LIGHT + _HOLD_TMP, str(tmp)], cwd=REPO, env=_env(),
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert main(["synth", str(out), "--num-images", "3", "--size", "16"]) == 0
        assert tmp.is_dir()  # its owner runs: not touched
        holder.kill()
        holder.wait(timeout=60)
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(timeout=60)
        holder.stdout.close()
    code, _, err = _cli(["synth", str(out), "--num-images", "3", "--size", "16"], capsys)
    assert code == 0 and "temporary folder of an interrupted run" in err, err
    assert _temporaries(tmp_path, "synth") == [] and _snapshot(out) == before


def _spawned_children() -> list[int]:
    """This process's ``multiprocessing`` spawn workers that are still running."""
    pids = []
    for task in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        for pid in task.read_text().split():
            try:
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    pids.append(int(pid))
            except OSError:
                pass
    return pids


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc to list child processes")
def test_sigterm_stops_side_by_side_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """``auxdet demo`` trains in worker processes: a SIGTERM must stop them, not wait minutes for them."""
    import multiprocessing.connection
    import threading

    from auxdet.cli_errors import Terminated, sigterm_raises
    from auxdet.engine.parallel import side_by_side

    before = set(_spawned_children())
    timer = threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGTERM))
    t0 = time.monotonic()
    with pytest.raises(Terminated), sigterm_raises():
        timer.start()
        side_by_side(multiprocessing.connection.wait, [dict(object_list=[], timeout=300)] * 2, processes=2)
    assert time.monotonic() - t0 < 60
    _wait_for(lambda: not (set(_spawned_children()) - before), timeout=30)


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_forked_workers_keep_the_default_sigterm() -> None:
    """Evaluation pools / DataLoader workers forked under the CLI end quietly when their parent terminates them."""
    import multiprocessing as mp

    from auxdet.cli_errors import sigterm_raises

    with sigterm_raises():
        child = mp.get_context("fork").Process(target=time.sleep, args=(60,))
        child.start()
        time.sleep(0.5)
        child.terminate()
        child.join(30)
    assert child.exitcode == -signal.SIGTERM  # not a Terminated traceback (exit code 1)


@pytest.mark.parametrize("command,target,expect,forbid", [
    ("train", "auxdet.engine.runner.train", "resume training with: auxdet train", None),
    ("test", "auxdet.engine.runner.test", "no results were written", "resume"),
    ("predict", "auxdet.engine.inference.Predictor", "predictions of the images finished so far", "resume"),
    ("synth", "auxdet.data.synthetic.generate_dataset", "is unchanged", "resume"),
])
@pytest.mark.parametrize("signal_kind", ["SIGINT", "SIGTERM"])
def test_interrupt_message_per_command(command: str, target: str, expect: str, forbid: str | None, signal_kind: str,
                                       tmp_path: Path, ckpt: Path, image: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from auxdet.cli_errors import Terminated

    exc = KeyboardInterrupt if signal_kind == "SIGINT" else Terminated

    def interrupted(*args: object, **kwargs: object) -> None:
        raise exc()

    module, name = target.rsplit(".", 1)
    monkeypatch.setattr(sys.modules[module] if module in sys.modules else __import__(module, fromlist=[name]),
                        name, interrupted)
    argv = {"train": ["train", AUXDET, "--work-dir", tmp_path / "w"],
            "test": ["test", AUXDET, ckpt],
            "predict": _predict(ckpt, image, "--out-dir", tmp_path / "p"),
            "synth": ["synth", tmp_path / "s", "--num-images", "2"]}[command]
    code, _, err = _cli(argv, capsys)
    assert code == (130 if signal_kind == "SIGINT" else 143)
    assert len(err.splitlines()) == 1 and expect in err and (forbid is None or forbid not in err), err


# ----------------------------------------------------------------------------- concurrency
_HOLD = """
import sys, time
from auxdet.locks import work_dir_lock
try:
    with work_dir_lock(sys.argv[1]):
        print("got", flush=True)
        time.sleep(float(sys.argv[2]))
except Exception as err:
    print(f"refused: {err}", flush=True)
"""


def test_two_processes_race_for_a_work_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from auxdet.locks import WORK_DIR_LOCK, work_dir_lock

    work = tmp_path / "work"
    procs = [subprocess.Popen([sys.executable, "-c", _LIGHT + _HOLD, str(work), "600"], cwd=REPO, env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        refused = _wait_for(lambda: [p for p in procs if p.poll() is not None], timeout=240)
        assert len(refused) == 1, "both processes took the lock"
        loser_out = refused[0].stdout.read()
        assert loser_out.startswith("refused: work dir") and "in use by a running process" in loser_out
        winner = next(p for p in procs if p is not refused[0])
        assert _wait_for(lambda: winner.stdout.readline().strip() == "got")
        # a real `auxdet train` on the busy work dir is refused before anything is built
        code, _, err = _cli(["train", AUXDET, "--work-dir", work, "--no-progress"], capsys)
        _assert_user_error(code, err, str(work), f"pid {winner.pid}", "--work-dir")
        # the holder dies without releasing (SIGKILL): the lock is stale and taken over with a note
        winner.kill()
        winner.wait(timeout=60)
        assert (work / WORK_DIR_LOCK).exists()
        with work_dir_lock(work) as lock:
            assert lock.stale_owner and lock.stale_owner["pid"] == winner.pid
        assert "taking over the stale lock" in capsys.readouterr().err
        assert not (work / WORK_DIR_LOCK).exists()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=60)
            p.stdout.close()
            p.stderr.close()


# ----------------------------------------------------------------------------- data loss
def _synth(out: Path, *extra: str) -> list[str]:
    return ["synth", str(out), "--num-images", "3", "--size", "16", *extra]


def _user_file(out: Path) -> str:
    (out / "results").mkdir()
    (out / "results" / "mine.csv").write_text("precious\n")
    return "results/mine.csv"


def _hand_fix(out: Path) -> str:
    xml = sorted((out / "Annotations").glob("*.xml"))[0]
    xml.write_text(xml.read_text().replace("<difficult>0</difficult>", "<difficult>1</difficult>") + "\n")
    return f"Annotations/{xml.name}"


DATA_LOSS: dict[str, tuple[tuple[str, ...], Callable[[Path], str] | None, tuple[str, ...]]] = {
    "other settings without --overwrite": (("--seed", "1"), None, ("seed 0 → 1", "--overwrite")),
    "--overwrite with a user-added file": (("--seed", "1", "--overwrite"), _user_file, ("did not write",)),
    "--overwrite with a hand-fixed annotation": (("--seed", "1", "--overwrite"), _hand_fix, ("changed since",)),
}


@pytest.mark.parametrize("case", list(DATA_LOSS))
def test_synth_never_loses_user_files(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra, prepare, needles = DATA_LOSS[case]
    out = tmp_path / "synth"
    assert main(_synth(out)) == 0
    touched = prepare(out) if prepare else None
    before = _snapshot(out)
    code, _, err = _cli(_synth(out, *extra), capsys)
    _assert_user_error(code, err, str(out), *needles, *((touched,) if touched else ()))
    assert _snapshot(out) == before and _temporaries(tmp_path, "synth") == []


def test_synth_overwrite_replaces_only_its_own_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    out = tmp_path / "synth"
    assert main(_synth(out)) == 0
    assert main(_synth(out, "--seed", "1", "--overwrite")) == 0
    assert json.loads((out / "manifest.json").read_text())["params"]["seed"] == 1
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    _assert_user_error(*_cli(_synth(foreign, "--overwrite"), capsys)[::2], "not a synthetic dataset", "notes.txt")
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_predict_names_outputs_per_input_path(tmp_path: Path, ckpt: Path, image: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import json

    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        shutil.copy(image, tmp_path / sub / "x.png")
    out = tmp_path / "out"
    code, _, err = _cli(_predict(ckpt, tmp_path / "a/x.png", tmp_path / "b/x.png", "--out-dir", out), capsys)
    assert code == 0, err
    records = {json.loads(p.read_text())["image"] for p in out.glob("*.json")}
    assert records == {str(tmp_path / "a/x.png"), str(tmp_path / "b/x.png")}
    assert len(list(out.glob("x-*.png"))) == 2 and len(list(out.glob("x-*.json"))) == 2

    from auxdet.engine.output_names import unique_stems

    assert unique_stems(["a/x.png", "b/y.png", "a/x.png"]) == ["x", "y", "x"]  # distinct stems stay plain
    names = unique_stems(["a/x.png", "b/x.png", "c/X.tif"])
    assert len(set(names)) == 3 and all(n.lower().startswith("x-") for n in names)
    assert unique_stems(["b/x.png", "a/x.png"]) == names[1::-1]  # stable: the name depends on the path only


def test_smaller_items(tmp_path: Path, ckpt: Path, image: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str], save_untrained: Callable[[str, Path], Path]) -> None:
    from auxdet.engine.runner import load_config

    # --no-progress wins over a progress hook listed in the config
    cfg = load_config(AUXDET, progress_bar=False, cfg_options={"custom_hooks": [dict(type="TqdmProgressHook")]})
    assert [h.get("enabled") for h in cfg.custom_hooks if h["type"] == "TqdmProgressHook"] == [False]
    # --resume without a checkpoint says so
    import auxdet.engine.runner as runner_mod

    def interrupted(cfg: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(runner_mod, "train", interrupted)
    code, _, err = _cli(["train", AUXDET, "--work-dir", tmp_path / "w", "--resume"], capsys)
    assert code == 130 and "no checkpoint to resume from" in err
    # the counterfactual table of a model without metadata comes with a note
    base = save_untrained(NO_META, tmp_path / "base.pth")
    code, out, err = _cli(["predict", NO_META, base, image, "--platform", "Air", "--band", "LWIR", "--out-dir",
                           tmp_path / "cf", "--counterfactual"], capsys)
    assert code == 0 and "does not use metadata" in err, err


def test_unexpected_errors_are_one_line_with_exit_code_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import auxdet.engine.runner as runner_mod

    monkeypatch.setattr(runner_mod, "train", lambda cfg: [][1])
    code, _, err = _cli(["train", AUXDET, "--work-dir", tmp_path / "w"], capsys)
    assert code == 1 and err.startswith("auxdet: unexpected error: IndexError") and "AUXDET_DEBUG" in err
    assert code in ALLOWED_CODES and len(err.splitlines()) == 1
