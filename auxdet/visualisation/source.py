"""Show the package code that implements an equation, beside the equation (the notebooks' annotated style).

:func:`show_source` renders the source of functions, classes or methods of auxdet as Markdown code
blocks headed by the file and line they come from, so a notebook displays the implementation without
copying it (one home per equation: the package). :func:`source_markdown` gives the same text.

    from auxdet.models.compensation import detail_residual
    show_source(detail_residual)                 # last expression of a cell: rendered in Lab
    show_source(M2DM._channel, M2DM._spatial)    # several blocks, one after the other
"""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path
from typing import Any

__all__ = ["show_source", "source_markdown"]

_PACKAGE_PARENT = Path(__file__).resolve().parents[2]  # the folder holding the auxdet package


def _unwrap(obj: Any) -> Any:
    """The function behind a property / static / class method (inspect needs the plain function)."""
    if isinstance(obj, property):
        return obj.fget
    if isinstance(obj, (staticmethod, classmethod)):
        return obj.__func__
    return inspect.unwrap(obj)


def source_markdown(obj: Any) -> str:
    """``obj``'s source as a Markdown code block, headed by ``path``, line and qualified name.

    ``obj``: a function, class or method (also a property / static / class method taken from the
    class ``__dict__``). Raises TypeError naming the object when Python keeps no source for it
    (builtins, objects defined in an interactive session).
    """
    target = _unwrap(obj)
    try:
        lines, first = inspect.getsourcelines(target)
        file = Path(inspect.getsourcefile(target) or "").resolve()
    except (OSError, TypeError) as err:
        raise TypeError(f"show_source: no source available for {obj!r} ({err})") from err
    try:
        where = file.relative_to(_PACKAGE_PARENT).as_posix()
    except ValueError:
        where = file.name
    name = getattr(target, "__qualname__", getattr(target, "__name__", repr(target)))
    code = textwrap.dedent("".join(lines)).rstrip("\n")
    return f"`{where}`, line {first} — `{name}`\n\n```python\n{code}\n```"


def show_source(*objs: Any) -> Any:
    """An ``IPython.display.Markdown`` with :func:`source_markdown` of each object (rendered when it is
    the last expression of a notebook cell, or passed to ``display``)."""
    if not objs:
        raise TypeError("show_source: give at least one function, class or method")
    from IPython.display import Markdown

    return Markdown("\n\n".join(source_markdown(o) for o in objs))
