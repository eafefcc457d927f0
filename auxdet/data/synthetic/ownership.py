"""What the synthetic generator may replace or delete: only what it wrote itself, unchanged.

* The manifest of a generated dataset lists every file the generator wrote with a content digest
  (:func:`file_digests`, key ``files``).
* :func:`check_replaceable` runs before a dataset folder is replaced. A folder without a manifest is
  never replaced (it is not a generated dataset). A dataset with *other* settings is replaced only with
  ``overwrite`` (the error lists the settings that differ). And even then, if the folder holds files the
  generator did not write (a results folder, notes) or generated files changed since (a hand-fixed
  annotation), it is **refused** with the list of those files: deleting them would lose the user's
  work, and keeping them inside a regenerated dataset would silently pair them with different data
  (a hand-fixed annotation of an image that no longer exists in that form). The user moves them out
  (or picks another folder) and runs again. Manifests written before the file list existed are
  judged by the generator's file-name patterns (added files are found, edited ones cannot be).
* Temporary folders (``.<name>.tmp-<hex>``, built beside the dataset and renamed into place) are
  owned through a lock file ``.<name>.tmp-<hex>.lock`` (:class:`auxdet.locks.ProcessLock`):
  :func:`clean_stale_temporaries` removes those whose owner is gone (a run killed by SIGKILL or a
  power cut) at the start of the next run, and restores a dataset left moved aside (``.<name>.old-<hex>``)
  by a run killed in the middle of its swap.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auxdet.locks import owner_alive

__all__ = [
    "check_replaceable",
    "clean_stale_temporaries",
    "file_digests",
    "lock_path",
    "settings_diff",
    "unowned_files",
]

_LEGACY_PATTERNS = (r"PNGImages/\d+\.png", r"Masks/\d+\.png", r"Annotations/\d+\.xml",
                    r"ImageSets/Main/[^/]+\.txt", r"statistics\.txt", r"synthetic_info\.csv", r"manifest\.json")


def _digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=12)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _walk(root: Path) -> list[str]:
    """Every file (and symlink) below ``root`` as a POSIX relative path, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        links = [d for d in dirnames if (here / d).is_symlink()]
        out += [(here / name).relative_to(root).as_posix() for name in filenames + links]
    return sorted(out)


def file_digests(root: str | os.PathLike, skip: tuple[str, ...] = ("manifest.json",)) -> dict[str, str]:
    """``{relative path: content digest}`` of every file below ``root`` (``skip`` excluded)."""
    root = Path(root)
    return {rel: _digest(root / rel) for rel in _walk(root) if rel not in skip}


def unowned_files(root: str | os.PathLike, manifest: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """``(added, modified)``: files below ``root`` the generator did not write, and written ones changed since."""
    root = Path(root)
    files = manifest.get("files")
    present = [rel for rel in _walk(root) if rel != "manifest.json"]
    if not isinstance(files, Mapping):  # manifest of a version without the file list: name patterns
        legacy = re.compile("|".join(f"(?:{p})" for p in _LEGACY_PATTERNS))
        return [rel for rel in present if not legacy.fullmatch(rel)], []
    added = [rel for rel in present if rel not in files]
    modified = [rel for rel in present if rel in files and (root / rel).is_file() and _digest(root / rel) != files[rel]]
    return added, modified


def settings_diff(old: Mapping[str, Any], version: int, params: Mapping[str, Any]) -> list[str]:
    """``['seed 0 → 1', …]``: how a dataset's recorded settings differ from the requested ones."""
    out = []
    if old.get("version") != version:
        out.append(f"generator version {old.get('version')} → {version}")
    before = old.get("params") or {}
    for key in sorted(set(before) | set(params)):
        if before.get(key) != params.get(key):
            out.append(f"{key} {before.get(key)!r} → {params.get(key)!r}")
    return out


def _few(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f", … ({len(items)} in all)" if len(items) > n else "")


def check_replaceable(out_dir: Path, manifest: Mapping[str, Any] | None, differences: list[str],
                      overwrite: bool) -> None:
    """Raise ``FileExistsError`` unless replacing ``out_dir`` deletes only unchanged generated files.

    ``differences``: :func:`settings_diff` of the existing dataset (empty: same settings, e.g. an
    incomplete dataset being regenerated — no ``overwrite`` needed then).
    """
    if not out_dir.exists() or (out_dir.is_dir() and not any(out_dir.iterdir())):
        return
    if manifest is None:
        what = "a file" if not out_dir.is_dir() else f"a folder that is not a synthetic dataset (no manifest.json; " \
               f"it holds {_few(_walk(out_dir), 3)})"
        raise FileExistsError(f"'{out_dir}' is {what}; refusing to replace it — auxdet only replaces datasets it "
                              "generated. Choose another folder (or empty this one yourself)")
    if differences and not overwrite:
        raise FileExistsError(
            f"'{out_dir}' holds a synthetic dataset generated with other settings ({'; '.join(differences)}); "
            "refusing to replace it: rerun with --overwrite (overwrite=True in Python) or choose another folder"
        )
    added, modified = unowned_files(out_dir, manifest)
    if added or modified:
        parts = []
        if added:
            parts.append(f"{len(added)} file(s) the generator did not write ({_few(added)})")
        if modified:
            parts.append(f"{len(modified)} generated file(s) changed since ({_few(modified)})")
        raise FileExistsError(
            f"'{out_dir}' holds {' and '.join(parts)}; replacing the dataset would delete them — move them out of "
            "the folder (or choose another folder) and run again"
        )


def lock_path(tmp: Path) -> Path:
    """The owner lock of a temporary folder ``.<name>.tmp-<hex>``."""
    return tmp.with_name(tmp.name + ".lock")


def _size_mb(path: Path) -> float:
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            try:
                total += (Path(dirpath) / name).lstat().st_size
            except OSError:
                pass
    return total / 1e6


def clean_stale_temporaries(out_dir: Path) -> None:
    """Remove the temporary folders of ``out_dir`` whose run is gone; restore a dataset left moved aside."""
    parent, name = out_dir.parent, out_dir.name
    if not parent.is_dir():
        return
    for entry in sorted(parent.iterdir()):
        m = re.fullmatch(rf"\.{re.escape(name)}\.(tmp|old)-([0-9a-f]+)(\.lock)?", entry.name)
        if m is None:
            continue
        kind, tag, is_lock = m.groups()
        owner = parent / f".{name}.tmp-{tag}.lock"
        if owner_alive(owner):
            continue  # a run in progress
        if is_lock:
            if not (parent / f".{name}.tmp-{tag}").exists() and not (parent / f".{name}.old-{tag}").exists():
                entry.unlink(missing_ok=True)
            continue
        if kind == "old" and not out_dir.exists():
            os.rename(entry, out_dir)
            print(f"auxdet: note: restored '{out_dir}' from '{entry.name}' (a run was killed while replacing it)",
                  file=sys.stderr, flush=True)
        else:
            size, what = _size_mb(entry), "temporary folder" if kind == "tmp" else "replaced dataset"
            shutil.rmtree(entry, ignore_errors=True)
            print(f"auxdet: note: removed '{entry}' ({size:.1f} MB), the {what} of an interrupted run",
                  file=sys.stderr, flush=True)
        owner.unlink(missing_ok=True)
