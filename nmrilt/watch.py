"""Watch a data tree and process each experiment once its acquisition has finished.

An experiment is *ready* when its data files have stopped changing (same sizes and
modification times on two consecutive polls) **and** either

* the reader says its acquisition is complete (:func:`nmrilt.readers.acquisition_complete`:
  the files hold what the parameters promise, by the reader's own rule, or the size
  cannot be predicted) — or
* the files have been unchanged for ``stale_after_s`` seconds (a halted acquisition:
  processed as far as it got).

Which folders are experiments and which files are their data, the readers say
(:func:`nmrilt.readers.is_experiment`, :func:`nmrilt.readers.data_files`), so reader
plugins are watched too.

At start the watcher removes the staging folders a killed run or watcher left beside the
output folders (:func:`nmrilt.staging.clean_stale`).  Finished experiments (a
``result.h5`` in their output folder) are never redone.  Failures
are recorded, with the data file's signature, in a state file in the *output* area
(``<out or root>/.nmrilt-watch.json``), never in the raw data: a failed experiment is
retried only when its data change.  Restarting the watcher therefore reprocesses nothing.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from . import readers
from .batch import attempt, find_experiments, out_for
from .errors import NmriltError
from .interrupts import check as check_interrupt
from .output.files import write_text
from .pipeline import is_finished, output_dir
from .staging import clean_stale

log = logging.getLogger(__name__)

STATE_NAME = ".nmrilt-watch.json"


def signature(expdir: Path) -> list[int] | None:
    """(size, mtime_ns) of each data file, or None when there is none yet.

    The data files are those :func:`nmrilt.readers.data_files` names.
    """
    files = readers.data_files(expdir)
    if not files:
        return None
    sig: list[int] = []
    for f in files:
        st = f.stat()
        sig += [int(st.st_size), int(st.st_mtime_ns)]
    return sig


@dataclass
class WatchSummary:
    """What a watcher did during its polls."""

    done: list[Path] = field(default_factory=list)
    failed: dict[Path, str] = field(default_factory=dict)
    polls: int = 0
    #: Warnings of each processed experiment that had any (diagnostics included).
    warnings: dict[Path, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed


def _load_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text())
        if isinstance(state.get("experiments"), dict):
            return state
    except (OSError, ValueError):
        pass
    return {"version": 1, "experiments": {}}


def watch(
    root: str | Path,
    out: str | Path | None = None,
    config: str | Path | None = None,
    interval: float = 30.0,
    max_polls: int | None = None,
    stale_after_s: float = 3600.0,
    state_file: str | Path | None = None,
    progress: bool = True,
    stream: TextIO | None = None,
    **settings: Any,
) -> WatchSummary:
    """Poll ``root`` and process every experiment whose acquisition has finished.

    Parameters
    ----------
    root : path
        Top of the data tree.
    out : path, optional
        Mirror results below this folder instead of writing beside the data.
    config : path, optional
        Settings file for every experiment.
    interval : float
        Seconds between polls.
    max_polls : int, optional
        Stop after this many polls (None: run until interrupted).  Two polls are the
        least that can process anything (one to see a file, one to confirm it is still).
    stale_after_s : float
        An incomplete data file unchanged for this long is processed anyway.
    state_file : path, optional
        Default ``<out or root>/.nmrilt-watch.json``.
    progress : bool
        One line per processed experiment on ``stream`` (default stderr).
    **settings
        Keyword settings for every experiment.

    Returns
    -------
    WatchSummary
    """
    root = Path(root)
    if not root.is_dir():
        raise NmriltError(f"{root} is not a folder; give the top of a data tree")
    stream = stream or sys.stderr
    state_path = Path(state_file) if state_file else Path(out or root) / STATE_NAME
    state = _load_state(state_path)
    seen: dict[Path, tuple[list[int], float]] = {}
    summary = WatchSummary()
    for expdir in find_experiments(root):  # staging a killed watcher or run left behind
        clean_stale(output_dir(expdir, out_for(expdir, root, out)))
    if progress:
        print(f"watching {root} every {interval:g} s (state: {state_path})", file=stream,
              flush=True)
    while True:
        summary.polls += 1
        now = time.monotonic()
        for expdir in find_experiments(root):
            dest = out_for(expdir, root, out)
            key = str(expdir.relative_to(root))
            if is_finished(expdir, dest):
                continue
            sig = signature(expdir)
            record = state["experiments"].get(key)
            if sig is None or (record and record.get("status") == "failed"
                                and record.get("signature") == sig):
                continue
            first = seen.get(expdir)
            if first is None or first[0] != sig:
                seen[expdir] = (sig, now)
                continue
            if not readers.acquisition_complete(expdir) and now - first[1] < stale_after_s:
                continue
            outcome = attempt(expdir, dest, config, False, settings)
            check_interrupt()
            error = outcome.error
            entry = {"signature": sig, "time": datetime.now(timezone.utc).isoformat()}
            if error is None:
                summary.done.append(expdir)
                entry["status"] = "done"
                line = f"{expdir}: ok"
                if outcome.warnings:
                    summary.warnings[expdir] = list(outcome.warnings)
                    entry["warnings"] = len(outcome.warnings)
                    line += f", {len(outcome.warnings)} warning(s)"
            else:
                summary.failed[expdir] = error
                entry.update(status="failed", error=error)
                line = f"{expdir}: FAILED: {error} (not retried until its data change)"
            state["experiments"][key] = entry
            try:
                state_path.parent.mkdir(parents=True, exist_ok=True)
                write_text(state_path, json.dumps(state, indent=1))
            except OSError as exc:
                raise NmriltError(
                    f"cannot write the watch state {state_path} ({exc}); pass --out DIR "
                    "or --state FILE in a writable place"
                ) from None
            if progress:
                print(line, file=stream, flush=True)
        if max_polls is not None and summary.polls >= max_polls:
            return summary
        time.sleep(interval)
