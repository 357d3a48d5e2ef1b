"""Staging folders: how a result is built beside its output folder and published.

A result is written into a hidden staging folder ``.<name>.<random>.tmp`` next to the
output folder ``<name>`` (the same file system, so publishing is a rename).  Every
staging folder holds a marker file (:data:`MARKER_NAME`: tool, host, process id, time)
proving that nmrilt made it.  A run killed with ``kill -9`` cannot remove its staging
folder, so every run, batch and watcher start calls :func:`clean_stale`, which removes the
staging folders of the same output folder whose marker says nmrilt made them and whose
process is gone (same host) or which are older than :data:`STALE_AFTER_S` (any host).
Nothing without a valid marker is ever removed.

Publishing an existing result moves it aside into a marked folder first (``previous``
inside it), renames the new result into place, then deletes the old one; if a run dies
between the two renames, the next start puts ``previous`` back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: Marker file inside every staging folder nmrilt creates.
MARKER_NAME = ".nmrilt-staging.json"
#: Staging folders older than this are stale even when made on another host (s).
STALE_AFTER_S = 24 * 3600.0
#: Inside an aside folder: the previous result being replaced.
PREVIOUS = "previous"


def _staging_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(name)}\.[A-Za-z0-9_]+\.tmp$")


def _legacy_aside_pattern(name: str) -> re.Pattern[str]:
    """``.<name>.old-<pid>`` folders of nmrilt versions before markers."""
    return re.compile(rf"^\.{re.escape(name)}\.old-(\d+)$")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def make_staging(outdir: Path, umask: int) -> Path:
    """Create a marked staging folder beside ``outdir`` (its parent must exist).

    Raises
    ------
    OSError
        The parent cannot be written.
    """
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", suffix=".tmp", dir=outdir.parent))
    marker = {"tool": "nmrilt", "host": socket.gethostname(), "pid": os.getpid(),
              "created": time.time(), "for": outdir.name}
    (staging / MARKER_NAME).write_text(json.dumps(marker) + "\n")
    os.chmod(staging, 0o777 & ~umask)
    return staging


def _marker(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MARKER_NAME).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tool") != "nmrilt":
        return None
    return data


def _is_stale(marker: dict, now: float) -> bool:
    try:
        created, pid = float(marker["created"]), int(marker["pid"])
    except (KeyError, TypeError, ValueError):
        return False
    if now - created > STALE_AFTER_S:
        return True
    return marker.get("host") == socket.gethostname() and not _pid_alive(pid)


def clean_stale(outdir: str | Path) -> list[Path]:
    """Remove stale staging folders nmrilt left beside ``outdir``; return them.

    Only folders named like nmrilt's staging folders for ``outdir`` and holding a valid
    marker are considered (see the module notes); a killed publish is undone by moving
    its ``previous`` result back when ``outdir`` is missing.
    """
    from .output.files import is_nmrilt_result

    outdir = Path(outdir)
    parent = outdir.parent
    try:
        entries = list(parent.iterdir())
    except OSError:
        return []
    pattern, legacy = _staging_pattern(outdir.name), _legacy_aside_pattern(outdir.name)
    removed = []
    now = time.time()
    for entry in entries:
        if entry.is_symlink() or not entry.is_dir():
            continue
        if pattern.match(entry.name):
            marker = _marker(entry)
            if marker is None or not _is_stale(marker, now):
                continue
            previous = entry / PREVIOUS
            if previous.is_dir() and not outdir.exists() and not outdir.is_symlink():
                with contextlib.suppress(OSError):
                    os.replace(previous, outdir)
                    log.warning("%s: restored the previous result left aside by a killed run",
                                outdir)
        else:
            match = legacy.match(entry.name)
            if match is None or _pid_alive(int(match.group(1))) or not is_nmrilt_result(entry):
                continue
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            log.info("removed stale staging folder %s", entry)
            removed.append(entry)
    return removed


def publish(staging: Path, outdir: Path, replace_old: bool, umask: int) -> None:
    """Rename the complete ``staging`` folder onto ``outdir``.

    ``replace_old``: ``outdir`` exists and may be replaced (the caller has checked that
    it is an nmrilt result); it is moved into a marked aside folder first and deleted
    after the rename.
    """
    aside = None
    if replace_old:
        aside = make_staging(outdir, umask)
        os.replace(outdir, aside / PREVIOUS)
    os.replace(staging, outdir)
    with contextlib.suppress(OSError):
        (outdir / MARKER_NAME).unlink()
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
