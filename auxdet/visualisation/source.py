"""Show the package code that implements an equation, beside the equation (the notebooks' annotated style).

:func:`show_source` renders the source of functions, classes or methods as Markdown code blocks headed
by the file and lines they come from, so a notebook displays the implementation without copying it
(one home per equation: the package). :func:`source_markdown` gives the text of one block and
:func:`source_excerpt` the raw lines, optionally only an excerpt between two markers.

    from auxdet.models.compensation import detail_residual
    show_source(detail_residual)                              # last expression of a cell: rendered in Lab
    show_source(M2DM._channel, M2DM._spatial)                 # several blocks, one after the other
    show_source(AuxFPN._forward, start="auxes: dict", stop="laterals = modulated")   # an excerpt
"""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path
from typing import Any

from auxdet import paths

__all__ = ["show_source", "source_excerpt", "source_markdown"]


def _unwrap(obj: Any) -> Any:
    """The function behind a property / static / class method (inspect needs the plain function)."""
    if isinstance(obj, property):
        return obj.fget
    if isinstance(obj, (staticmethod, classmethod)):
        return obj.__func__
    return inspect.unwrap(obj)


def _where(path: Path) -> str:
    try:
        return path.relative_to(paths.REPO_ROOT).as_posix()
    except ValueError:  # a library outside the repository (mmdet, mmengine): its path below site-packages
        parts = path.parts
        return "/".join(parts[parts.index("site-packages") + 1 :] if "site-packages" in parts else parts[-3:])


def source_excerpt(obj: Any, start: str | None = None, stop: str | None = None) -> tuple[str, str, int, int]:
    """``(text, file, first_line, last_line)`` of ``obj``'s source, optionally only from the first line
    containing ``start`` through the first later line containing ``stop`` (both inclusive).

    Raises TypeError naming the object when Python keeps no source for it (builtins, objects defined in
    an interactive session) and ValueError naming the marker when ``start`` or ``stop`` is not in it.
    """
    target = _unwrap(obj)
    name = getattr(target, "__qualname__", getattr(target, "__name__", repr(target)))
    try:
        lines, first = inspect.getsourcelines(target)
        path = Path(inspect.getsourcefile(target) or "?").resolve()
    except (OSError, TypeError) as err:
        raise TypeError(f"show_source: no source available for {obj!r} ({err})") from err
    lo, hi = 0, len(lines) - 1
    if start is not None:
        lo = next((i for i, line in enumerate(lines) if start in line), -1)
        if lo < 0:
            raise ValueError(f"{start!r} does not occur in the source of {name}")
    if stop is not None:
        hi = next((i for i in range(lo, len(lines)) if stop in lines[i]), -1)
        if hi < 0:
            raise ValueError(f"{stop!r} does not occur in the source of {name} after {start!r}")
    return textwrap.dedent("".join(lines[lo : hi + 1])).rstrip("\n"), _where(path), first + lo, first + hi


def source_markdown(obj: Any, start: str | None = None, stop: str | None = None) -> str:
    """One Markdown code block of ``obj``'s source (or its excerpt), headed by file, lines and name."""
    text, where, lo, hi = source_excerpt(obj, start, stop)
    target = _unwrap(obj)
    name = getattr(target, "__qualname__", getattr(target, "__name__", repr(target)))
    return f"`{where}`, lines {lo}–{hi} · `{name}`\n\n```python\n{text}\n```"


def show_source(*objs: Any, start: str | None = None, stop: str | None = None) -> Any:
    """An ``IPython.display.Markdown`` with :func:`source_markdown` of each object (rendered when it is
    the last expression of a notebook cell, or passed to ``display``). ``start``/``stop``: an excerpt
    (one object only; see :func:`source_excerpt`)."""
    if not objs:
        raise TypeError("show_source: give at least one function, class or method")
    if (start is not None or stop is not None) and len(objs) != 1:
        raise TypeError("show_source: start/stop select an excerpt of one object; give one")
    from IPython.display import Markdown

    return Markdown("\n\n".join(source_markdown(o, start, stop) for o in objs))
