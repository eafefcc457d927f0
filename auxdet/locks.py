"""Inter-process locks: one training per work dir; temporary folders whose owner is gone.

:class:`ProcessLock` is a lock *file* holding who owns it (pid, host name, start time, command) and an
OS lock on it (``fcntl.flock``). The OS lock is what excludes: the kernel releases it when its owner
ends in any way (normal exit, exception, SIGTERM, SIGKILL, a crash), so a lock file left behind by a
dead process is *stale* and the next run takes it over, with a console note naming the old owner.
The file content is only for messages. On systems without ``fcntl`` the lock is an exclusive create
(``O_EXCL``) and a lock file whose pid no longer runs on this host is taken over.

* :func:`work_dir_lock` — ``<work_dir>/.auxdet-train.lock``; a second ``auxdet train`` on the same work
  dir is refused with :class:`LockedError` (one line: who holds it, since when, what to do).
* :func:`owner_alive` — whether a lock file is held right now (used to clean temporary folders of runs
  that were killed, without touching those of a run still going).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from auxdet.errors import UserError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["WORK_DIR_LOCK", "LockedError", "ProcessLock", "owner_alive", "work_dir_lock"]

WORK_DIR_LOCK = ".auxdet-train.lock"


class LockedError(UserError):
    """The lock is held by a running process (the message names it and how to proceed)."""


def _owner_text(info: dict[str, Any]) -> str:
    if not info:
        return "an unknown process"
    started = info.get("started")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if isinstance(started, int | float) else "?"
    return f"pid {info.get('pid', '?')} on {info.get('host', '?')}, started {when}"


def _pid_running(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate it on Windows: assume alive
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class ProcessLock:
    """An exclusive, crash-safe lock on ``path`` (see the module docstring); use as a context manager.

    Args:
        path: the lock file (created; removed on release).
        purpose: what the lock protects, for messages (e.g. ``"work dir 'w'"``).
        advice: what to tell the user when the lock is busy.
        quiet: no console note when a stale lock is taken over.
    """

    def __init__(self, path: str | os.PathLike, purpose: str = "", advice: str = "", *, quiet: bool = False) -> None:
        self.path = Path(path)
        self.purpose = purpose or f"'{self.path}'"
        self.advice = advice
        self.quiet = quiet
        self._fd: int | None = None
        #: the owner recorded in a stale lock file this lock took over (``None`` if there was none)
        self.stale_owner: dict[str, Any] | None = None

    # ------------------------------------------------------------------ helpers
    def _read_info(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _busy(self, info: dict[str, Any]) -> LockedError:
        advice = f"; {self.advice}" if self.advice else ""
        return LockedError(f"{self.purpose} is in use by a running process ({_owner_text(info)}; lock file "
                           f"'{self.path}'){advice}")

    def _own_info(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(),
                "command": " ".join(sys.argv)[:500]}

    # ------------------------------------------------------------------ acquire / release
    def acquire(self) -> ProcessLock:
        """Take the lock or raise :class:`LockedError`; a stale lock is taken over (console note)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fcntl is None:
            self._acquire_exclusive_create()
        else:
            self._acquire_flock()
        if self.stale_owner and not self.quiet:
            print(f"auxdet: note: {self.purpose}: taking over the stale lock of a run that ended without "
                  f"releasing it ({_owner_text(self.stale_owner)})", file=sys.stderr, flush=True)
        return self

    def _acquire_flock(self) -> None:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise self._busy(self._read_info()) from None
            # the file may have been removed (and re-created) by its previous owner meanwhile: retry then
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        info = self._read_info()
        self.stale_owner = info or None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(self._own_info()).encode(), 0)
        self._fd = fd

    def _acquire_exclusive_create(self) -> None:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                info = self._read_info()
                pid, host = info.get("pid"), info.get("host")
                if host == socket.gethostname() and isinstance(pid, int) and not _pid_running(pid):
                    self.stale_owner = info
                    self.path.unlink(missing_ok=True)
                    continue
                raise self._busy(info) from None
            os.write(fd, json.dumps(self._own_info()).encode())
            self._fd = fd
            return
        raise self._busy(self._read_info())

    def release(self) -> None:
        """Remove the lock file and release the lock (idempotent)."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # before unlocking: a waiter then re-opens a fresh file
        finally:
            os.close(self._fd)  # closing releases the flock
            self._fd = None

    def __enter__(self) -> ProcessLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def owner_alive(path: str | os.PathLike) -> bool:
    """Whether the lock file ``path`` is held by a running process now (``False`` if there is none)."""
    path = Path(path)
    if not path.exists():
        return False
    if fcntl is None:
        info = ProcessLock(path)._read_info()
        pid = info.get("pid")
        return not (info.get("host") == socket.gethostname() and isinstance(pid, int) and not _pid_running(pid))
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def work_dir_lock(work_dir: str | os.PathLike, *, quiet: bool = False) -> ProcessLock:
    """The lock of a training work dir (``<work_dir>/.auxdet-train.lock``), not yet acquired."""
    work_dir = Path(work_dir)
    return ProcessLock(
        work_dir / WORK_DIR_LOCK, purpose=f"work dir '{work_dir}'",
        advice="wait for that training to finish or choose another --work-dir (two runs in one work dir "
               "overwrite each other's checkpoints)",
        quiet=quiet,
    )
