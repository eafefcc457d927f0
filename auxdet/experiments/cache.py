"""The one cache of experiments: fingerprints, result rows in a CSV, finished runs in work dirs.

* :func:`fingerprint` — the one hash: SHA-1 of the canonical JSON of its arguments. Plans, datasets,
  models and runs (:func:`auxdet.experiments.plan.run_fingerprint`) are identified through it.
* :func:`code_fingerprint` — what the *code* computes: the syntax trees (docstrings and comments
  dropped, so prose edits do not count) of the modules that define the model, the synthetic data and
  the AP computation. Part of every run fingerprint: a result measured with other model code is
  stale, whatever its config says.
* :class:`ResultCache` — result rows in a CSV, one row per value of its ``key`` columns (any columns:
  an ablation row × budget × seed, or a study's arm × seed × setting × test-time variant). A row
  counts only while its ``fingerprint`` column matches: :meth:`ResultCache.find` takes the fingerprint
  with the key, so a row measured for another config, plan or seed is recomputed — never reused — and
  the new row then replaces it. :meth:`ResultCache.add` re-reads, merges and replaces the file under a
  lock on its folder (so concurrent writers lose no row) through :mod:`auxdet.fileio` (so a reader
  never sees half a file).
* :func:`cached_run` / :func:`write_manifest` — a finished training run in its work dir: the resolved
  config, the checkpoint and a manifest written last (no manifest: an interrupted run, retrained).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from auxdet.fileio import atomic_write_csv, atomic_write_text

__all__ = [
    "CODE_MODULES",
    "MANIFEST",
    "ExperimentError",
    "ResultCache",
    "cached_run",
    "code_fingerprint",
    "fingerprint",
    "write_manifest",
]

#: the file that marks a finished, reusable training run in its work dir
MANIFEST = "run_manifest.json"


class ExperimentError(ValueError):
    """A bad plan, ablation row, budget or trainer result, or a results file that cannot be used."""


# ----------------------------------------------------------------------------- fingerprints
def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    if hasattr(obj, "tolist"):  # numpy scalars and arrays
        return obj.tolist()
    raise TypeError(f"fingerprint: cannot hash a {type(obj).__name__} ({obj!r})")


def fingerprint(*parts: Any, length: int = 12) -> str:
    """Hex SHA-1 (first ``length`` digits) of the canonical JSON of ``parts`` (dicts sorted, tuples = lists)."""
    text = json.dumps(parts, sort_keys=True, default=_plain)
    return hashlib.sha1(text.encode()).hexdigest()[:length]


#: the code a measured result depends on (paths relative to the auxdet package)
CODE_MODULES: tuple[str, ...] = ("models", "metadata.py", "data/synthetic", "data/counterfactual.py",
                                 "evaluation/records.py", "evaluation/voc.py")  # fmt: skip


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(
            getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):  # fmt: skip
            node.body = body[1:] or [ast.Pass()]
    return tree


def code_fingerprint(modules: tuple[str, ...] = CODE_MODULES, root: Path | None = None) -> str:
    """Fingerprint of the syntax trees of ``modules`` (files or folders under ``root``, default the auxdet
    package), docstrings and comments excluded: it changes when what the code computes may change, not
    when its prose does."""
    if root is None:
        return _package_code_fingerprint(tuple(modules))
    files = sorted(f for m in modules for f in ((root / m).rglob("*.py") if (root / m).is_dir() else [root / m]))
    trees = [(f.relative_to(root).as_posix(), ast.dump(_strip_docstrings(ast.parse(f.read_text())))) for f in files]
    return fingerprint(trees)


@functools.cache
def _package_code_fingerprint(modules: tuple[str, ...]) -> str:  # the package's code does not change in a run
    return code_fingerprint(modules, Path(__file__).resolve().parents[1])


# ----------------------------------------------------------------------------- result rows
@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder`` (``flock`` on its descriptor: nothing is written beside the CSV)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # no flock (Windows): the re-read-merge-replace alone narrows the window
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class ResultCache:
    """Result rows in a CSV (see the module docstring).

    Args:
        path: the CSV (created by the first :meth:`add`).
        columns: the columns every row has, in file order; must include ``key`` and ``fingerprint``.
        key: the columns naming a measurement; :meth:`add` replaces a row with the same key values.
        text_columns: columns read as text (hashes that could parse as numbers, free text); empty = ``''``.
        writer: named in the error when the file lacks columns.
    """

    def __init__(self, path: str | os.PathLike, columns: Sequence[str], key: Sequence[str],
                 text_columns: Sequence[str] = (), writer: str = "auxdet") -> None:  # fmt: skip
        self.path = Path(path).expanduser().resolve()
        self.columns, self.key = tuple(columns), tuple(key)
        self.text_columns = tuple(dict.fromkeys(("fingerprint", *text_columns)))
        missing = [c for c in (*self.key, "fingerprint") if c not in self.columns]
        if missing:
            raise ExperimentError(f"ResultCache: key/fingerprint columns {missing} are not among {self.columns}")
        self.writer = writer

    def load(self) -> pd.DataFrame:
        """Every cached row (an empty frame with :attr:`columns` when the file does not exist)."""
        if not self.path.is_file():
            return pd.DataFrame(columns=list(self.columns))
        df = pd.read_csv(self.path, dtype={c: str for c in self.text_columns})
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise ExperimentError(
                f"results file '{self.path}' lacks the columns {missing}; it was not written by {self.writer}"
            )
        for c in self.text_columns:
            df[c] = df[c].fillna("")
        return df

    @staticmethod
    def find(df: pd.DataFrame, **values: Any) -> dict[str, Any] | None:
        """The last row of ``df`` whose columns equal ``values`` (compared as text), or ``None``."""
        if df.empty:
            return None
        mask = pd.Series(True, index=df.index)
        for k, v in values.items():
            mask &= df[k].astype(str) == str(v)
        return df[mask].iloc[-1].to_dict() if mask.any() else None

    def add(self, records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        """Add rows (replacing cached rows with the same key); returns the whole cache as written."""
        new = pd.DataFrame([dict(r) for r in records], columns=list(self.columns))
        with _folder_lock(self.path.parent):
            old = self.load()  # re-read under the lock: rows another process added meanwhile are kept
            if not old.empty:
                keys = set(map(tuple, new[list(self.key)].astype(str).to_numpy()))
                old = old[[tuple(k) not in keys for k in old[list(self.key)].astype(str).to_numpy()]]
            df = new if old.empty else pd.concat([old, new], ignore_index=True)
            atomic_write_csv(self.path, df)
        return df


# ----------------------------------------------------------------------------- finished runs
def cached_run(work_dir: str | os.PathLike, params: Mapping[str, Any], verify: bool = True) -> tuple[Path, Path] | None:
    """``(config, checkpoint)`` of the finished run in ``work_dir`` if its manifest holds ``params``.

    ``verify``: also check the checkpoint against the model built from the config (a checkpoint the
    model code no longer fits gives ``None``: retrain).
    """
    work_dir = Path(work_dir)
    try:
        manifest = json.loads((work_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("params") != json.loads(json.dumps(dict(params), default=_plain)):
        return None
    config, checkpoint = work_dir / manifest["config"], work_dir / manifest["checkpoint"]
    if not (config.is_file() and checkpoint.is_file()):
        return None
    if verify:
        from auxdet.engine.checkpoint import CheckpointError, check_compatible, load_checkpoint_file
        from auxdet.engine.config import build_detector

        try:
            check_compatible(build_detector(str(config), init_weights=False), load_checkpoint_file(checkpoint))
        except CheckpointError:
            return None
    return config, checkpoint


def write_manifest(work_dir: str | os.PathLike, params: Mapping[str, Any], config: Path, checkpoint: Path) -> Path:
    """Mark the run in ``work_dir`` as finished (call after everything else is written); the manifest's path."""
    work_dir = Path(work_dir)
    manifest = {"params": dict(params), "config": os.path.relpath(Path(config).resolve(), work_dir.resolve()),
                "checkpoint": os.path.relpath(Path(checkpoint).resolve(), work_dir.resolve())}  # fmt: skip
    return atomic_write_text(work_dir / MANIFEST, json.dumps(manifest, indent=2, default=_plain) + "\n")
