"""Internal errors: the traceback goes to a log file, the user gets one line.

Whatever escapes the layers' own checks is a bug in nmrilt.  The command line and
batch/watch catch it at one place each and call :func:`report_internal_error`, which
writes the traceback to ``<state dir>/crash-<time>-<pid>.log`` — never into the data
tree — and returns the one-line message naming that file.

The state folder is ``$XDG_STATE_HOME/nmrilt`` (default ``~/.local/state/nmrilt``),
falling back to ``<temp dir>/nmrilt-<user>`` when that cannot be written.
"""

from __future__ import annotations

import getpass
import os
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

from . import __version__


def state_dirs() -> list[Path]:
    """Folders tried for crash logs, in order."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return [Path(base) / "nmrilt", Path(tempfile.gettempdir()) / f"nmrilt-{user}"]


def write_crash_log(exc: BaseException, context: str = "") -> Path | None:
    """Write the traceback of ``exc`` to a new log file; its path, or None if no folder
    could be written."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    text = (f"nmrilt {__version__} internal error {stamp}\n{context}\n\n"
            + "".join(traceback.format_exception(exc)))
    for folder in state_dirs():
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = folder / f"crash-{stamp}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8")
        except OSError:
            continue
        return path
    return None


def report_internal_error(exc: BaseException, context: str = "") -> str:
    """One line for an unexpected exception; its traceback is written to a log file."""
    path = write_crash_log(exc, context)
    where = f"traceback in {path}" if path else "no log could be written"
    summary = str(exc).splitlines()[0][:200] if str(exc) else ""
    return (f"internal error (a bug in nmrilt): {type(exc).__name__}: {summary} "
            f"({where}; please report it with that file)")
