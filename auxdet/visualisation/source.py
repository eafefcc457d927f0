"""Show the package's own source in a notebook (annotated-implementation style): :func:`show_source`."""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path
from typing import Any

from auxdet import paths

__all__ = ["show_source", "source_excerpt"]


def source_excerpt(obj: Any, start: str | None = None, stop: str | None = None) -> tuple[str, str, int, int]:
    """``(text, file, first_line, last_line)`` of ``obj``'s source, optionally only from the first line
    containing ``start`` through the first later line containing ``stop`` (both inclusive).

    Raises ValueError naming the marker when ``start`` or ``stop`` is not in the source.
    """
    lines, first = inspect.getsourcelines(obj)
    name = getattr(obj, "__qualname__", repr(obj))
    lo, hi = 0, len(lines) - 1
    if start is not None:
        lo = next((i for i, line in enumerate(lines) if start in line), -1)
        if lo < 0:
            raise ValueError(f"{start!r} does not occur in the source of {name}")
    if stop is not None:
        hi = next((i for i in range(lo, len(lines)) if stop in lines[i]), -1)
        if hi < 0:
            raise ValueError(f"{stop!r} does not occur in the source of {name} after {start!r}")
    path = Path(inspect.getsourcefile(obj) or "?").resolve()
    try:
        where = path.relative_to(paths.REPO_ROOT).as_posix()
    except ValueError:  # a library outside the repository (mmdet, mmengine): its path below site-packages
        parts = path.parts
        where = "/".join(parts[parts.index("site-packages") + 1 :] if "site-packages" in parts else parts[-3:])
    return textwrap.dedent("".join(lines[lo : hi + 1])).rstrip(), where, first + lo, first + hi


def show_source(obj: Any, start: str | None = None, stop: str | None = None) -> Any:
    """The source of a function, class or method as a Markdown code block headed by its file and lines
    (an ``IPython.display.Markdown``: the last expression of a cell renders it). ``start``/``stop``
    select an excerpt (see :func:`source_excerpt`)."""
    from IPython.display import Markdown

    text, where, lo, hi = source_excerpt(obj, start, stop)
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", ""))
    return Markdown(f"`{where}`, lines {lo}–{hi} · `{name}`\n\n```python\n{text}\n```")
