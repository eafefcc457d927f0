"""auxdet's base error and warning types (no dependencies: any module may raise them).

* :class:`UserError` — a problem with the user's input or environment that auxdet's own checks found
  (an option value, an output path, a busy work dir, …). The message names the file / option / value
  and what is valid; the command line prints it as one line ``auxdet: error: …`` with exit code 2.
  More specific errors (``MetadataError``, ``CheckpointError``, ``VOCFormatError`` …) are
  ``ValueError`` subclasses of their own modules and are reported the same way.
* :class:`AuxdetWarning` — something auxdet repaired or ignored on the user's behalf (e.g. an
  annotation box 1 px outside its image, clipped); the command line prints ``auxdet: warning: …``.
"""

from __future__ import annotations

__all__ = ["AuxdetWarning", "UserError"]


class UserError(ValueError):
    """Bad input or environment found by auxdet's checks (one line on the command line, exit code 2)."""


class AuxdetWarning(UserWarning):
    """A repair or a surprising but harmless input (printed as ``auxdet: warning: …`` by the CLI)."""
