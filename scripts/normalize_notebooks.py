"""Store notebooks/*.ipynb exactly as JupyterLab 4 saves them, so that opening + saving one in Lab is no git diff.

Found empirically (``make test-lab`` / ``scripts/lab_check.py`` opens every notebook in Lab 4.5 in headless
Chromium, saves it and byte-compares): Lab sends the notebook model to jupyter_server, which writes it with
nbformat's v4 JSON writer — nbformat 4.5 with a cell ``id`` on every cell, every multi-line string (cell
sources) as a list of lines, keys sorted, indent 1, non-ASCII characters as UTF-8 (not ``\\uXXXX``), one
trailing newline. On opening, Lab starts the notebook's kernel and writes into the metadata

* ``kernelspec`` = ``{"display_name", "language", "name"}`` of the kernel it started — here the project's
  named kernel ``auxdet`` (``make setup`` installs it into ``.venv``), display name ``Python 3 (auxdet)``;
* ``language_info`` = the kernel's ``kernel_info_reply`` (ipykernel's ``IPythonKernel.language_info``),
  which includes ``version``: the Python version of the kernel's interpreter.

Machine-dependent field, decision: ``language_info.version`` is stored as :data:`REFERENCE_PYTHON`, the
Python of the project's reference environment (the interpreter ``make setup``/CI build ``.venv`` from).
The stored form is therefore the same on every machine (the check in tests/test_notebooks_clean.py does
not depend on who runs it). On a machine whose ``.venv`` has another patch release, saving in Lab changes
that one line; ``scripts/lab_check.py`` reports such a difference as a note instead of a failure, and it is
not worth committing (``python scripts/normalize_notebooks.py`` puts it back). Bump the constant when the
project's Python changes.

Also applied: outputs and execution counts cleared (notebooks are stored without outputs), nbclient's
per-cell ``execution`` timing metadata and saved widget state dropped, cells without an id given a stable
one (a hash of notebook name, position and source). Everything else (cell tags such as ``parameters``,
attachments, other metadata) is kept. Idempotent.

    python scripts/normalize_notebooks.py            # rewrite notebooks/*.ipynb in place (atomically)
    python scripts/normalize_notebooks.py --check    # exit 1 listing the notebooks that are not normalised
    python scripts/normalize_notebooks.py a.ipynb    # only these files
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"

#: the project's named Jupyter kernel (scripts/setup.sh installs it into .venv with ``--sys-prefix``)
KERNEL_NAME = "auxdet"
KERNEL_DISPLAY_NAME = "Python 3 (auxdet)"
#: Python of the project's reference environment (``.venv`` built by ``make setup`` on the project's machines)
REFERENCE_PYTHON = "3.11.7"

KERNELSPEC = {"display_name": KERNEL_DISPLAY_NAME, "language": "python", "name": KERNEL_NAME}
#: what ipykernel reports and Lab stores, with the version fixed to REFERENCE_PYTHON
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": REFERENCE_PYTHON,
}
#: notebook-level metadata that is output-like state, never stored
DROPPED_NOTEBOOK_METADATA = ("widgets",)
#: cell-level metadata that is run state, never stored (nbclient's timings, classic Notebook's flags)
DROPPED_CELL_METADATA = ("execution", "collapsed", "scrolled", "trusted")


def _stable_id(name: str, index: int, source: str, taken: set[str]) -> str:
    salt = 0
    while True:
        digest = hashlib.sha1(f"{name}:{index}:{salt}:{source}".encode()).hexdigest()[:8]
        if digest not in taken:
            return digest
        salt += 1


def normalized_text(text: str, name: str = "notebook") -> str:
    """The notebook ``text`` (JSON) as JupyterLab 4 stores it with the project's kernel (see module doc)."""
    nb = nbformat.reads(text, as_version=4)
    nb.nbformat, nb.nbformat_minor = 4, 5
    taken = {c["id"] for c in nb.cells if c.get("id")}
    for index, cell in enumerate(nb.cells):
        if not cell.get("id"):
            source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
            cell["id"] = _stable_id(name, index, source, taken)
            taken.add(cell["id"])
        for key in DROPPED_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    for key in DROPPED_NOTEBOOK_METADATA:
        nb.metadata.pop(key, None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    nbformat.validate(nb)
    out = nbformat.writes(nb, version=4)  # the writer jupyter_server saves with: indent 1, sorted keys, lines
    return out if out.endswith("\n") else out + "\n"


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def offenders(paths: list[Path]) -> list[Path]:
    """The notebooks among ``paths`` whose stored bytes differ from their normalised form."""
    return [p for p in paths if p.read_text(encoding="utf-8") != normalized_text(p.read_text(encoding="utf-8"), p.name)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 listing notebooks not normalised")
    ap.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    if not paths:
        print(f"no notebooks found in {NOTEBOOK_DIR}", file=sys.stderr)
        return 1
    bad = offenders(paths)
    if args.check:
        for p in bad:
            print(f"{p}: not stored as JupyterLab saves it; run: python scripts/normalize_notebooks.py", file=sys.stderr)
        print(f"{len(paths) - len(bad)}/{len(paths)} notebooks normalised")
        return 1 if bad else 0
    for p in bad:
        _write_atomically(p, normalized_text(p.read_text(encoding="utf-8"), p.name))
        print(f"normalised {p}")
    print(f"{len(bad)} of {len(paths)} notebooks rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
