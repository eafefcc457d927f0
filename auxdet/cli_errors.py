"""How the ``auxdet`` command line ends: one line on stderr and a documented exit code, never a traceback.

=====  ==================================================================================================
code   meaning
=====  ==================================================================================================
0      success
1      the run failed: a NaN/Inf loss stopped training, or an unexpected error (one line naming the
       exception, e.g. a config key the model does not take; ``AUXDET_DEBUG=1`` shows the traceback)
2      a user error — bad option, file, value, output path, busy work dir — found before *or* after the
       expensive work: ``auxdet: error: …`` names the file / field / value and what is valid
130    interrupted by Ctrl-C (SIGINT)
143    terminated by SIGTERM (``kill``, a batch system's time limit); ``finally:`` blocks ran, so
       temporary folders are removed and locks released, exactly as for Ctrl-C
=====  ==================================================================================================

:class:`OneLineParser` makes argparse's errors one line too; :func:`sigterm_raises` turns SIGTERM into
:class:`Terminated` (a ``KeyboardInterrupt``); :func:`interrupt_message` is the per-command hint;
:func:`auxdet_warnings` prints :class:`~auxdet.errors.AuxdetWarning` as ``auxdet: warning: …``.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from auxdet.errors import AuxdetWarning

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
    "EXIT_USER_ERROR",
    "OneLineParser",
    "Terminated",
    "auxdet_warnings",
    "describe_error",
    "interrupt_message",
    "is_user_error",
    "one_line",
    "sigterm_raises",
]

EXIT_FAILED = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

#: OSErrors caused by the user's files or machine (a path, permissions, a full disk), not by auxdet
_USER_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENAMETOOLONG,
                errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ELOOP}


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM, so that cleanup (``finally:``, context managers) runs."""


class OneLineParser(argparse.ArgumentParser):
    """``argparse`` with one-line errors: ``auxdet: error: <message> (see: <prog> --help)``, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"auxdet: error: {message} (see: {self.prog} --help)\n")


def one_line(err: BaseException) -> str:
    """The exception's message on one line (an ``OSError`` as ``<reason>: '<file>'``).

    An error re-raised from a DataLoader worker carries the worker's traceback in its message: only
    its last line (the original message) is kept.
    """
    if isinstance(err, OSError) and err.strerror and err.filename is not None and len(err.args) >= 2:
        where = f"'{err.filename}'" + (f" → '{err.filename2}'" if err.filename2 else "")
        return f"{err.strerror}: {where}"
    text = str(err)
    if "Original Traceback" in text:
        last = [line for line in text.splitlines() if line.strip()][-1].strip()
        head, _, rest = last.partition(": ")
        text = rest if rest and head.split(".")[-1] == type(err).__name__ else last
    return " ".join(text.split()) or type(err).__name__


def is_user_error(err: BaseException) -> bool:
    """Errors caused by the user's input, reported as one line (exit code 2) rather than as a failure.

    Missing / existing / unwritable files (``OSError`` of a path: not found, permission, read-only or
    full disk, …), auxdet's metadata / config / checkpoint / option errors, and any ``ValueError``
    subclass defined in an auxdet module (each names the file, field and valid values).
    """
    from auxdet.metadata import MetadataError

    if isinstance(err, FileNotFoundError | FileExistsError | NotADirectoryError | IsADirectoryError
                  | PermissionError | MetadataError):
        return True
    if isinstance(err, OSError) and err.errno in _USER_ERRNOS:
        return True
    return isinstance(err, ValueError) and type(err).__module__.split(".")[0] == "auxdet"


def describe_error(err: BaseException) -> tuple[int, str]:
    """``(exit code, stderr line)`` for an exception that ended a command."""
    from auxdet.engine.hooks import NonFiniteLossError

    if isinstance(err, NonFiniteLossError):
        return EXIT_FAILED, f"auxdet: {one_line(err)}"
    if is_user_error(err):
        return EXIT_USER_ERROR, f"auxdet: error: {one_line(err)}"
    if isinstance(err, MemoryError):
        return EXIT_FAILED, ("auxdet: error: out of memory — use smaller inputs (e.g. predict --tile SIZE, "
                             "a smaller batch size) or a machine with more memory")
    return EXIT_FAILED, (f"auxdet: unexpected error: {type(err).__name__}: {one_line(err)} (if your config or "
                         "options do not explain it, please report it; AUXDET_DEBUG=1 shows the traceback)")


def interrupt_message(args: argparse.Namespace | None, terminated: bool) -> str:
    """What an interrupted command tells its user: what was kept and how to continue."""
    how = "terminated (SIGTERM)" if terminated else "interrupted"
    command = getattr(args, "command", None)
    if command == "train":
        work_dir = f" --work-dir {args.work_dir}" if getattr(args, "work_dir", None) else ""
        hint = f"resume training with: auxdet train {args.config}{work_dir} --resume"
    elif command == "test":
        hint = "the evaluation did not finish; no results were written"
    elif command == "predict":
        hint = f"the predictions of the images finished so far are in {args.out_dir}"
    elif command == "synth":
        hint = f"{args.out_dir} is unchanged (the partial dataset was removed); run the same command again"
    elif command == "demo":
        hint = "run the same command again: the generated dataset and finished trainings are reused"
    elif command == "study":
        hint = "run the same command again: finished runs are cached (result rows, checkpoints) and reused"
    else:
        return f"auxdet: {how}"
    return f"auxdet: {how} ({hint})"


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """While active, SIGTERM raises :class:`Terminated` in the main thread (a second SIGTERM kills at once).

    Processes forked meanwhile (evaluation pools, DataLoader workers) inherit the handler but keep the
    default behaviour (they end at once, as their parent expects when it terminates them). Does nothing
    outside the main thread (where Python cannot install signal handlers).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    owner = os.getpid()

    def handler(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # cleanup runs once; a second SIGTERM ends it now
        if os.getpid() != owner:  # a forked worker (multiprocessing pool, DataLoader): die as by default
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def auxdet_warnings() -> Iterator[None]:
    """Print :class:`~auxdet.errors.AuxdetWarning` as one line ``auxdet: warning: …`` (others unchanged)."""
    original = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        if issubclass(category, AuxdetWarning):
            print(f"auxdet: warning: {' '.join(str(message).split())}", file=file or sys.stderr)
        else:
            original(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original


def debug_enabled() -> bool:
    """``AUXDET_DEBUG`` set (to anything but 0): errors raise with their traceback."""
    return os.environ.get("AUXDET_DEBUG", "").strip() not in ("", "0")
