"""`make test-lab`: open every notebook in the real client — JupyterLab in headless Chromium — as a student would.

1. Starts ``.venv/bin/jupyter lab`` (the Jupyter of the interpreter running this script) on 127.0.0.1, a free
   port, a random token, no browser, with temporary runtime / config / data / settings / workspace / IPython
   dirs (a user's own Jupyter state is neither read nor written) and ``SMOKE=1`` exported, so a notebook run
   from the UI is CI-sized and writes its figures under build/. Lab's autosave is off, so running a notebook
   never writes outputs into notebooks/.
2. Drives Debian's Chromium (``/usr/bin/chromium``, or ``$AUXDET_CHROMIUM``) through Playwright with
   ``executable_path`` — never ``playwright install``. When Chromium is missing it is installed with
   ``apt-get install -y chromium`` if allowed (``CI=true`` or ``AUXDET_INSTALL_BROWSER=1``); otherwise the
   check stops with exit code 2 and says how to install it.
3. For every notebooks/*.ipynb: opens it, waits for the kernel, checks the kernel is the project's
   (``auxdet``, in the toolbar and in the server's session), that opening did not mark it modified, that
   LaTeX was typeset by MathJax (``mjx-container``, no ``mjx-merror``) where the markdown has any, presses
   Ctrl+S and checks the file's bytes did not change. For ``--run`` notebooks (default 00 and 01) it then
   runs Run ▸ Run All Cells, waits until every cell ran, fails on any error output or Traceback on stderr,
   a cell left unexecuted or a Python warning printed in an output (the known library noise is silenced by
   ``auxdet.KNOWN_LIBRARY_WARNINGS``; anything else a student would see as a wall of text), requires
   inline images, and lists every other stderr output (progress bars) in the summary.
4. Saves a full-page screenshot per notebook (``build/lab/<name>.png``), ``build/lab/summary.md`` /
   ``summary.json`` and Lab's log (``build/lab/lab.log``); finally byte-compares every notebook with its
   state before the check (any change is reported as a failure, saved as a diff and undone).
5. Every wait is time-boxed; Lab (with its kernels) and the browser are always stopped at the end.

A save that differs only in ``language_info.version`` while this machine's Python differs from
``normalize_notebooks.REFERENCE_PYTHON`` is reported as a note, not a failure (see that script's docstring).

    .venv/bin/python scripts/lab_check.py [--run 00_quickstart.ipynb ...] [--out build/lab]
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from normalize_notebooks import KERNEL_DISPLAY_NAME, KERNEL_NAME, NOTEBOOK_DIR, REFERENCE_PYTHON, ROOT

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DEFAULT_RUN = ["00_quickstart.ipynb", "01_metadata_analysis.ipynb"]
#: Lab settings for a deterministic, side-effect-free session
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},  # every cell in the DOM
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}
MAX_SCREENSHOT_HEIGHT = 16000
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
#: a line of an error output (Lab renders errors as stderr): starts with an exception's name
ERROR_LINE = re.compile(r"^\s*\w*(Error|Exception|Interrupt)\b", re.MULTILINE)
#: a Python warning as printed on stderr: "path:line: SomeWarning: message"
WARNING_LINE = re.compile(r"^\S.*:\d+: \w*Warning: ", re.MULTILINE)


@dataclass
class Result:
    notebook: str
    kernel_shown: str = ""
    kernel_session: str = ""
    modified_on_open: bool = False
    save_identical: bool = False
    ran: bool = False
    run_seconds: float = 0.0
    cells_not_run: int = 0
    errors: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    mathjax: int = 0
    math_errors: int = 0
    latex_in_source: bool = False
    images: int = 0
    screenshot: str = ""
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def log(msg: str) -> None:
    print(f"[lab-check {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def ensure_chromium() -> str | None:
    """Path of Chromium; installed with apt-get when missing and allowed. None (with a message) otherwise."""
    path = os.environ.get("AUXDET_CHROMIUM", "/usr/bin/chromium")
    if Path(path).exists():
        return path
    allowed = os.environ.get("CI", "").lower() == "true" or os.environ.get("AUXDET_INSTALL_BROWSER") == "1"
    if not allowed or not shutil.which("apt-get"):
        print(f"lab-check: no Chromium at {path}. Install Debian's: `apt-get update && apt-get install -y chromium`,"
              " or rerun with AUXDET_INSTALL_BROWSER=1 (as root) to let this script do it"
              " (or point AUXDET_CHROMIUM at a Chromium binary).", file=sys.stderr)
        return None
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    t0 = time.time()
    log("Chromium missing: apt-get update && apt-get install -y chromium")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        proc = subprocess.run(sudo + cmd, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            print(f"lab-check: `{' '.join(cmd)}` failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            return None
    log(f"Chromium installed in {time.time() - t0:.0f} s")
    if not Path(path).exists():
        print(f"lab-check: apt-get installed chromium, but there is still nothing at {path}", file=sys.stderr)
        return None
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """``jupyter lab`` in its own process group with throw-away Jupyter state; a context manager."""

    def __init__(self, log_path: Path, startup_timeout: float = 120.0) -> None:
        self.port, self.token = free_port(), os.urandom(16).hex()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path, self.startup_timeout = log_path, startup_timeout
        self.tmp = Path(tempfile.mkdtemp(prefix="auxdet-lab-"))
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Lab:
        for plugin, values in LAB_SETTINGS.items():
            f = self.tmp / "settings" / f"{plugin}.jupyterlab-settings"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(json.dumps(values))
        env = {k: v for k, v in os.environ.items() if k not in {"MPLBACKEND", "JUPYTER_PATH"}}
        env.update(SMOKE="1", JUPYTER_RUNTIME_DIR=str(self.tmp / "runtime"), JUPYTER_CONFIG_DIR=str(self.tmp / "config"),
                   JUPYTER_DATA_DIR=str(self.tmp / "data"), JUPYTERLAB_SETTINGS_DIR=str(self.tmp / "settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(self.tmp / "workspaces"), IPYTHONDIR=str(self.tmp / "ipython"))
        cmd = [str(Path(sys.executable).with_name("jupyter")), "lab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={ROOT}",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log_path.open("w"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + self.startup_timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}; see {self.log_path}")
            try:
                self.api("GET", "/api/status", timeout=2)
                return self
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"jupyter lab did not answer within {self.startup_timeout:.0f} s; see {self.log_path}")

    def api(self, method: str, path: str, timeout: float = 10) -> object:
        req = urllib.request.Request(self.base + path, method=method, headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def url(self, notebook: str) -> str:
        return f"{self.base}/lab/tree/notebooks/{notebook}?reset&token={self.token}"

    def sessions(self) -> list[dict]:
        return self.api("GET", "/api/sessions")  # type: ignore[return-value]

    def stop_kernels(self) -> None:
        for s in self.sessions():
            self.api("DELETE", f"/api/sessions/{s['id']}", timeout=30)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.stop_kernels()
                self.api("POST", "/api/shutdown", timeout=10)
                self.proc.wait(20)
            except (OSError, subprocess.TimeoutExpired):
                pass
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if self.proc.poll() is not None:
                    break
                try:
                    os.killpg(self.proc.pid, sig)
                    self.proc.wait(10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def wait_for(page, js: str, timeout_s: float, what: str, poll_s: float = 0.5):
    """Poll the JS expression until truthy; its value, or TimeoutError naming ``what``."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        value = page.evaluate(js)
        if value:
            return value
        time.sleep(poll_s)
    raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")


KERNEL_IDLE = "document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status === 'idle'"
PROMPTS = "[...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')].map(e => e.textContent.trim())"
DIRTY = "!!document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')"


def wait_for_kernel(page, lab: Lab, notebook: str, timeout_s: float) -> dict:
    """The server's session of ``notebook`` once its kernel is idle; fails at once if Lab asks for a kernel."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        for s in lab.sessions():
            if s["path"].endswith(f"notebooks/{notebook}") and (s.get("kernel") or {}).get("execution_state") == "idle":
                return s
        if page.locator(".jp-Dialog").count():
            raise RuntimeError(f"Lab asks to select a kernel: '{KERNEL_NAME}' is not installed for this Jupyter "
                               f"({page.locator('.jp-Dialog').first.inner_text()[:120]!r}); run `make setup`")
        time.sleep(0.5)
    raise TimeoutError(f"no idle kernel for {notebook} after {timeout_s:.0f} s")


def only_version_differs(before: bytes, after: bytes) -> str | None:
    """The kernel's Python version when ``after`` differs from ``before`` only in language_info.version."""
    try:
        a, b = json.loads(before), json.loads(after)
    except ValueError:
        return None
    version = b.get("metadata", {}).get("language_info", {}).get("version")
    if version is None or version == REFERENCE_PYTHON:
        return None
    b["metadata"]["language_info"]["version"] = REFERENCE_PYTHON
    return version if a == b else None


def full_page_screenshot(page, path: Path) -> None:
    """Grow the viewport to the notebook's scroll height (Lab scrolls inside the panel), then screenshot."""
    size = page.viewport_size
    top = """() => { const s = document.querySelector('.jp-NotebookPanel-notebook .jp-WindowedPanel-outer')
                                || document.querySelector('.jp-NotebookPanel-notebook');
                      if (s) s.scrollTop = 0;
                      return s ? s.scrollHeight + (window.innerHeight - s.clientHeight) : window.innerHeight; }"""
    height = page.evaluate(top)  # Run All leaves the notebook scrolled to its end
    page.set_viewport_size({"width": size["width"], "height": int(min(max(height, size["height"]), MAX_SCREENSHOT_HEIGHT))})
    time.sleep(1.5)
    page.evaluate(top)
    time.sleep(0.5)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)


def check_notebook(browser, lab: Lab, nb: Path, run: bool, out: Path, args: argparse.Namespace,
                   original: bytes) -> Result:
    r = Result(nb.name)
    source = json.loads(original)
    r.latex_in_source = any(c["cell_type"] == "markdown" and "$" in "".join(c["source"]) for c in source["cells"])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(args.step_timeout * 1000)
    try:
        page.goto(lab.url(nb.name))
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        side = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
        if side.count():  # collapse the file browser: the notebook gets the screenshot's width
            side.first.click()
        session = wait_for_kernel(page, lab, nb.name, args.step_timeout)
        wait_for(page, KERNEL_IDLE, args.step_timeout, "the kernel to be idle")
        time.sleep(1.5)  # Lab writes kernelspec / language_info into the model once the kernel is ready
        r.kernel_shown = page.locator(".jp-Toolbar-kernelName").first.inner_text().strip()
        r.kernel_session = session["kernel"]["name"]
        r.modified_on_open = page.evaluate(DIRTY)
        if r.kernel_shown != KERNEL_DISPLAY_NAME or r.kernel_session != KERNEL_NAME:
            r.failures.append(f"kernel is '{r.kernel_shown}' ({r.kernel_session or 'no session'}), "
                              f"not the project's '{KERNEL_DISPLAY_NAME}' ({KERNEL_NAME})")
        # save as a student would: Ctrl+S in the notebook, then compare the file's bytes
        mtime = nb.stat().st_mtime_ns
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Escape")
        page.keyboard.press("Control+s")
        deadline = time.time() + args.step_timeout
        while nb.stat().st_mtime_ns == mtime and time.time() < deadline:
            time.sleep(0.25)
        if nb.stat().st_mtime_ns == mtime:
            r.failures.append("Ctrl+S did not save the notebook")
        saved = nb.read_bytes()
        r.save_identical = saved == original
        version = None if r.save_identical else only_version_differs(original, saved)
        if not r.save_identical:
            diff = "".join(difflib.unified_diff(original.decode().splitlines(True), saved.decode().splitlines(True),
                                                f"a/notebooks/{nb.name}", f"b/notebooks/{nb.name}"))
            (out / f"{nb.stem}.save.diff").write_text(diff)
            nb.write_bytes(original)
            if version:
                r.notes.append(f"saving changed only language_info.version (this kernel's Python {version}, "
                               f"stored {REFERENCE_PYTHON})")
            else:
                r.failures.append(f"opening + saving in Lab changed the file (diff: {out / (nb.stem + '.save.diff')})")
        if r.modified_on_open and not version:
            r.failures.append("opening the notebook marked it modified")
        if run:
            run_all(page, r, args)
        if r.latex_in_source:
            try:
                r.mathjax = wait_for(page, "document.querySelectorAll('mjx-container').length", 30, "MathJax")
            except TimeoutError:
                r.failures.append("the markdown has LaTeX but MathJax rendered none")
            r.math_errors = page.evaluate("document.querySelectorAll('mjx-merror').length")
            if r.math_errors:
                r.failures.append(f"{r.math_errors} LaTeX expressions failed to typeset (mjx-merror)")
        r.images = page.evaluate("document.querySelectorAll('.jp-OutputArea-output img').length")
        if run and not r.images:
            r.failures.append("no inline image in the outputs")
        shot = out / f"{nb.stem}.png"
        full_page_screenshot(page, shot)
        r.screenshot = str(shot.relative_to(ROOT)) if shot.is_relative_to(ROOT) else str(shot)
    except Exception as err:  # noqa: BLE001  (a failed step fails this notebook, the check goes on)
        r.failures.append(f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
        try:
            page.screenshot(path=str(out / f"{nb.stem}.failed.png"))
        except Exception:  # noqa: BLE001
            pass
    finally:
        page.close(run_before_unload=False)
        try:
            lab.stop_kernels()
        except OSError as err:
            r.notes.append(f"could not stop the kernel: {err}")
    return r


def run_all(page, r: Result, args: argparse.Namespace) -> None:
    """Run ▸ Run All Cells, wait until no cell is queued or running and the kernel is idle; collect outputs."""
    t0 = time.time()
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    wait_for(page, f"{PROMPTS}.some(p => p.includes('*') || /\\d/.test(p))", args.step_timeout, "Run All to start")
    done = f"!{PROMPTS}.some(p => p.includes('*')) && {KERNEL_IDLE}"
    wait_for(page, done, args.run_timeout, f"{r.notebook} to finish", poll_s=1.0)
    time.sleep(2.0)
    wait_for(page, done, args.step_timeout, f"{r.notebook} to finish")
    r.ran, r.run_seconds = True, round(time.time() - t0, 1)
    prompts = page.evaluate(PROMPTS)
    r.cells_not_run = sum(1 for p in prompts if not any(ch.isdigit() for ch in p))
    for text in page.locator(STDERR).all_inner_texts():
        text = text.strip()
        if "Traceback" in text or ERROR_LINE.search(text):
            r.errors.append(text[:2000])
        elif text:
            r.stderr.append(text[:1000])
    if r.errors:
        r.failures.append(f"{len(r.errors)} error output(s); first: {r.errors[0].splitlines()[-1][:200]}")
    warned = [m.group(0) + text[m.end():].split("\n", 1)[0][:150] for text in r.stderr for m in WARNING_LINE.finditer(text)]
    if warned:  # a student should not see library warnings: fix the cause or add it to auxdet.KNOWN_LIBRARY_WARNINGS
        r.failures.append(f"{len(warned)} Python warning(s) in the outputs; first: {warned[0]}")
    if r.cells_not_run:
        r.failures.append(f"{r.cells_not_run} code cells did not run")


def write_summary(results: list[Result], out: Path, seconds: float, final_failures: list[str]) -> str:
    lines = ["# JupyterLab check (scripts/lab_check.py)", "",
             f"{len(results)} notebooks, {seconds:.0f} s.", "",
             "| notebook | kernel | modified on open | save identical | ran (s) | errors | stderr | MathJax | images | result |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        ran = f"{r.run_seconds:.0f}" if r.ran else "—"
        lines.append(f"| {r.notebook} | {r.kernel_shown} | {'yes' if r.modified_on_open else 'no'} | "
                     f"{'yes' if r.save_identical else 'no'} | {ran} | {len(r.errors)} | {len(r.stderr)} | "
                     f"{r.mathjax} | {r.images} | {'FAIL' if r.failures else 'ok'} |")
    for r in results:
        for f in r.failures:
            lines.append(f"- **{r.notebook}**: {f}")
        for n in r.notes:
            lines.append(f"- {r.notebook} (note): {n}")
        for s in r.stderr:
            lines.append(f"- {r.notebook} stderr: `{s.splitlines()[0][:200]}`")
    lines += [f"- **final**: {f}" for f in final_failures]
    text = "\n".join(lines) + "\n"
    (out / "summary.md").write_text(text)
    (out / "summary.json").write_text(json.dumps({"seconds": round(seconds, 1), "final_failures": final_failures,
                                                  "notebooks": [asdict(r) for r in results]}, indent=1) + "\n")
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", nargs="*", default=DEFAULT_RUN, help="notebooks to Run All (default: 00 and 01)")
    ap.add_argument("--only", nargs="*", help="check only these notebooks (default: all notebooks/*.ipynb)")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "lab")
    ap.add_argument("--step-timeout", type=float, default=120, help="seconds for each open/save/wait step")
    ap.add_argument("--run-timeout", type=float, default=900, help="seconds for one notebook's Run All")
    args = ap.parse_args(argv)
    t0 = time.time()
    notebooks = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    if args.only:
        notebooks = [p for p in notebooks if p.name in set(args.only)]
    if not notebooks:
        print("lab-check: no notebooks to check", file=sys.stderr)
        return 1
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("lab-check: the playwright package is missing: run `make setup` (requirements.txt pins it)", file=sys.stderr)
        return 2
    chromium = ensure_chromium()
    if chromium is None:
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for stale in [*args.out.glob("*.png"), *args.out.glob("*.diff")]:
        stale.unlink()
    originals = {p: p.read_bytes() for p in sorted(NOTEBOOK_DIR.glob("*.ipynb"))}
    results: list[Result] = []
    final: list[str] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with Lab(args.out / "lab.log") as lab, sync_playwright() as pw:
            log(f"JupyterLab at {lab.base} (log: {args.out / 'lab.log'}); Chromium {chromium}")
            specs = lab.api("GET", "/api/kernelspecs")
            if KERNEL_NAME not in specs["kernelspecs"]:  # type: ignore[index]
                final.append(f"Lab does not offer the kernel '{KERNEL_NAME}' (make setup installs it into .venv)")
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            try:
                for nb in notebooks:
                    run = nb.name in set(args.run)
                    log(f"{nb.name}: open, save{', Run All' if run else ''}")
                    r = check_notebook(browser, lab, nb, run, args.out, args, originals[nb])
                    results.append(r)
                    took = f" (ran in {r.run_seconds:.0f} s)" if r.ran else ""
                    log(f"{nb.name}: {'FAIL ' + '; '.join(r.failures) if r.failures else 'ok'}{took}")
            finally:
                browser.close()
    finally:
        for p, data in originals.items():
            if p.read_bytes() != data:
                final.append(f"{p.name} changed during the check (restored)")
                p.write_bytes(data)
    failed = final or any(r.failures for r in results)
    print(write_summary(results, args.out, time.time() - t0, final))
    log(f"{'FAILED' if failed else 'passed'} in {time.time() - t0:.0f} s; screenshots and summary in {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
