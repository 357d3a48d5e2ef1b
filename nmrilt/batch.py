"""Every experiment below a data tree: find, skip finished ones, run the rest, summarise.

A failure in one experiment never stops the others: its error is recorded in the summary
(and logged), and the batch goes on.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from . import readers
from .errors import NmriltError
from .pipeline import OUTPUT_NAME, is_finished, output_dir, run
from .staging import clean_stale

log = logging.getLogger(__name__)


def find_experiments(root: str | Path) -> list[Path]:
    """Experiment folders at or below ``root``, sorted; output and hidden folders skipped.

    A folder is an experiment when :func:`nmrilt.readers.is_experiment` says so (1-D
    spectra are not); the walk does not descend into experiments.
    """
    root = Path(root)
    found = []
    for dirpath, dirnames, _ in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and d != OUTPUT_NAME
        )
        if readers.is_experiment(here):
            found.append(here)
            dirnames[:] = []
    return found


def out_for(expdir: Path, root: Path, out: str | Path | None) -> Path | None:
    """Output folder of ``expdir`` in a batch: ``None`` (beside the data) or mirrored
    below ``out`` (``out/<path relative to root>``)."""
    if out is None:
        return None
    rel = expdir.relative_to(root)
    return Path(out) / rel if rel.parts else Path(out) / expdir.name


@dataclass
class BatchSummary:
    """Outcome of a batch: lists of experiment folders per status."""

    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: dict[Path, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed

    def text(self) -> str:
        """One-paragraph summary, failures one per line."""
        lines = [f"{len(self.done)} done, {len(self.skipped)} skipped (already finished), "
                 f"{len(self.failed)} failed"]
        lines += [f"  FAILED {p}: {msg}" for p, msg in self.failed.items()]
        return "\n".join(lines)


def describe_error(exc: BaseException) -> str:
    """One line for a failure: the message of an NmriltError; for anything else (a bug)
    a line naming the log file that holds the traceback (:mod:`nmrilt.crashlog`)."""
    if isinstance(exc, NmriltError):
        return f"{type(exc).__name__}: {exc}"
    from .crashlog import report_internal_error

    return report_internal_error(exc)


def run_one(
    expdir: Path, out: Path | None, config: Any, force: bool, settings: dict[str, Any]
) -> str | None:
    """Run one experiment; return None on success or the one-line error."""
    try:
        run(expdir, out=out, config=config, force=force, progress=False, **settings)
    except Exception as exc:  # one bad data set must not stop the others
        log.debug("failure in %s", expdir, exc_info=True)
        return describe_error(exc)
    return None


def batch(
    root: str | Path,
    out: str | Path | None = None,
    config: str | Path | None = None,
    force: bool = False,
    progress: bool = True,
    stream: TextIO | None = None,
    **settings: Any,
) -> BatchSummary:
    """Run every experiment below ``root``.

    Parameters
    ----------
    root : path
        Top of the data tree.
    out : path, optional
        Mirror results below this folder instead of writing beside the data.
    config : path, optional
        Settings file applied to every experiment (each folder's ``nmrilt.toml`` wins).
    force : bool
        Re-run finished experiments too.
    progress : bool
        One line per experiment on ``stream`` (default stderr).
    **settings
        Keyword settings for every experiment.

    Returns
    -------
    BatchSummary
    """
    root = Path(root)
    if not root.is_dir():
        raise NmriltError(f"{root} is not a folder; give the top of a data tree")
    stream = stream or sys.stderr
    exps = find_experiments(root)
    summary = BatchSummary()
    for i, expdir in enumerate(exps, 1):
        dest = out_for(expdir, root, out)
        head = f"[{i}/{len(exps)}] {expdir}"
        clean_stale(output_dir(expdir, dest))  # staging left by a killed run
        if not force and is_finished(expdir, dest):
            summary.skipped.append(expdir)
            status = "skipped (finished)"
        else:
            t0 = time.perf_counter()
            error = run_one(expdir, dest, config, force, settings)
            if error is None:
                summary.done.append(expdir)
                status = f"ok ({time.perf_counter() - t0:.1f} s)"
            else:
                summary.failed[expdir] = error
                status = f"FAILED: {error}"
        if progress:
            print(f"{head}: {status}", file=stream, flush=True)
    return summary
