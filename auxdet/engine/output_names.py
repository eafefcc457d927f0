"""One output name per input path (``auxdet predict`` writes ``<name>.json`` / ``<name>.png`` per image).

Names are the file stems — ``a/x.png`` → ``x`` — unless two *different* input files share a stem (also
when they differ only in case or extension: ``a/x.png``, ``b/x.png``, ``x.tif``), then each of those gets
``<stem>-<8 hex digits of the SHA-1 of its resolved path>``: unique, stable across runs (the same file
always gets the same name), and still readable. Flat names were kept (rather than mirroring the input
folders) because the common case — images with distinct names — then keeps its familiar outputs, and no
input path (absolute, ``..``) can place a file outside the output folder. The JSON records the full
input path.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

__all__ = ["unique_stems"]


def unique_stems(images: Sequence[str | os.PathLike]) -> list[str]:
    """Output names of ``images`` (same order): stems, disambiguated where different files collide."""
    resolved = [str(Path(p).expanduser().resolve()) for p in images]
    stems = [Path(p).stem for p in images]
    files_per_stem: dict[str, set[str]] = defaultdict(set)
    for stem, path in zip(stems, resolved, strict=True):
        files_per_stem[stem.casefold()].add(path)
    out = []
    for stem, path in zip(stems, resolved, strict=True):
        if len(files_per_stem[stem.casefold()]) > 1:
            stem = f"{stem}-{hashlib.sha1(path.encode()).hexdigest()[:8]}"
        out.append(stem)
    return out
