"""Atomic file writes — the one home for "never leave a half-written file behind".

Every writer of a result, cache, annotation, manifest or figure in auxdet goes through
:func:`atomic_write`: the content is written to a temporary file in the *same* folder and moved into
place with :func:`os.replace` (atomic on POSIX and Windows), so a reader sees either the old file or
the complete new one, and an interruption (Ctrl-C, SIGTERM, a full disk) leaves the old file intact.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_path", "atomic_write", "atomic_write_bytes", "atomic_write_csv", "atomic_write_text"]


@contextmanager
def atomic_path(path: str | os.PathLike, mode: int | None = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on any error it is removed.

    For writers that need a file name rather than a handle (``cv2.imwrite``, ``fig.savefig``,
    ``torch.save``, ``os.link``). The temporary name keeps ``path``'s suffix so format detection still
    works. The file gets permissions ``mode`` (``None``: leave them, e.g. for a hard link).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike, write: Callable[[IO[Any]], Any], *, binary: bool = False) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``path``, then move it into place; returns ``path``."""
    with atomic_path(path) as tmp:
        if binary:
            with open(tmp, "wb") as fh:
                write(fh)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                write(fh)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda fh: fh.write(text))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda fh: fh.write(data), binary=True)


def atomic_write_csv(path: str | os.PathLike, df: Any, **to_csv: Any) -> Path:
    """Write a pandas DataFrame as CSV atomically (``index=False`` unless given)."""
    to_csv.setdefault("index", False)
    return atomic_write(path, lambda fh: df.to_csv(fh, **to_csv))
