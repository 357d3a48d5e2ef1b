"""Every experiment below a data tree: find, skip finished ones, run the rest, summarise.

A failure in one experiment never stops the others: its error is recorded in the summary
(and logged), and the batch goes on.  The experiments run one after the other here, or as
tasks on a Dask cluster (``scheduler=``, :mod:`nmrilt.distributed`); both paths share the
planning (:func:`plan`), the per-experiment task (:func:`attempt`), the progress lines
(:class:`BatchProgress`) and the summary (:class:`BatchSummary`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from . import readers
from .errors import NmriltError
from .interrupts import check as check_interrupt
from .pipeline import OUTPUT_NAME, is_finished, run
from .progress import format_duration

log = logging.getLogger(__name__)


#: One experiment to run: its folder and its output folder (None: beside the data).
Job = tuple[Path, Path | None]


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


def plan(root: str | Path, out: str | Path | None, force: bool) -> tuple[list[Job], list[Path]]:
    """The experiments below ``root`` still to run, and those skipped as finished.

    Returns
    -------
    todo : list of (expdir, output folder or None)
    skipped : list of Path
        Experiments with a complete result (none when ``force``).

    Raises
    ------
    NmriltError
        ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise NmriltError(f"{root} is not a folder; give the top of a data tree")
    todo: list[Job] = []
    skipped: list[Path] = []
    for expdir in find_experiments(root):
        dest = out_for(expdir, root, out)
        if not force and is_finished(expdir, dest):
            skipped.append(expdir)
        else:
            todo.append((expdir, dest))
    return todo, skipped


@dataclass(frozen=True)
class Outcome:
    """What running one experiment gave: an error line or None, its warnings, its time."""

    expdir: Path
    error: str | None = None
    warnings: tuple[str, ...] = ()
    elapsed_s: float = 0.0


@dataclass
class BatchSummary:
    """Outcome of a batch: lists of experiment folders per status, warnings per folder."""

    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: dict[Path, str] = field(default_factory=dict)
    warnings: dict[Path, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed

    def record(self, outcome: Outcome) -> None:
        """Add one experiment's outcome."""
        if outcome.error is None:
            self.done.append(outcome.expdir)
        else:
            self.failed[outcome.expdir] = outcome.error
        if outcome.warnings:
            self.warnings[outcome.expdir] = list(outcome.warnings)

    def text(self) -> str:
        """One-paragraph summary, failures and warnings one per line."""
        nwarn = sum(len(w) for w in self.warnings.values())
        lines = [(f"{len(self.done)} done, {len(self.skipped)} skipped (already finished), "
                  f"{len(self.failed)} failed, {nwarn} warnings")]
        lines += [f"  FAILED {p}: {msg}" for p, msg in self.failed.items()]
        lines += [f"  WARNING {p}: {w}" for p, ws in self.warnings.items() for w in ws]
        return "\n".join(lines)


def describe_error(exc: BaseException) -> str:
    """One line for a failure: the message of an NmriltError; for anything else (a bug)
    a line naming the log file that holds the traceback (:mod:`nmrilt.crashlog`)."""
    if isinstance(exc, NmriltError):
        return f"{type(exc).__name__}: {exc}"
    from .crashlog import report_internal_error

    return report_internal_error(exc)


def attempt(
    expdir: Path, out: Path | None, config: Any, force: bool, settings: dict[str, Any]
) -> Outcome:
    """Run one experiment and never raise: the task of a batch, local or on a cluster."""
    t0 = time.perf_counter()
    try:
        result = run(expdir, out=out, config=config, force=force, progress=False, **settings)
    except Exception as exc:  # one bad data set must not stop the others
        log.debug("failure in %s", expdir, exc_info=True)
        return Outcome(expdir, describe_error(exc), elapsed_s=time.perf_counter() - t0)
    notes = tuple(result.warnings)
    return Outcome(expdir, None, notes, time.perf_counter() - t0)


def run_one(
    expdir: Path, out: Path | None, config: Any, force: bool, settings: dict[str, Any]
) -> str | None:
    """Run one experiment; return None on success or the one-line error."""
    return attempt(expdir, out, config, force, settings).error


class BatchProgress:
    """One line per finished experiment: ``[k/n] path: ok (x s) ETA m:ss``.

    The ETA is the wall time so far per finished experiment times the number left, so it
    holds for one process and for a cluster alike.
    """

    def __init__(self, total: int, enabled: bool, stream: TextIO) -> None:
        self.total, self.enabled, self.stream = total, enabled, stream
        self.count = 0
        self._t0 = time.perf_counter()

    def note(self, text: str) -> None:
        """A line that is not about one experiment (skipped ones, the cluster used)."""
        if self.enabled:
            print(text, file=self.stream, flush=True)

    def update(self, outcome: Outcome) -> None:
        """Report one finished experiment."""
        self.count += 1
        if not self.enabled:
            return
        if outcome.error is None:
            status = f"ok ({outcome.elapsed_s:.1f} s)"
            if outcome.warnings:
                status += f", {len(outcome.warnings)} warning(s)"
        else:  # the first line; the summary has the whole message
            status = f"FAILED: {outcome.error.splitlines()[0]}"
        left = self.total - self.count
        eta = (time.perf_counter() - self._t0) / self.count * left
        tail = f" ETA {format_duration(eta).strip()}" if left else ""
        print(f"[{self.count}/{self.total}] {outcome.expdir}: {status}{tail}",
              file=self.stream, flush=True)


def _sequential(todo: list[Job], config: Any, force: bool,
                settings: dict[str, Any]) -> Iterator[Outcome]:
    for expdir, dest in todo:
        yield attempt(expdir, dest, config, force, settings)


def batch(
    root: str | Path,
    out: str | Path | None = None,
    config: str | Path | None = None,
    force: bool = False,
    progress: bool = True,
    stream: TextIO | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
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
    scheduler : str, optional
        Run the experiments as tasks on a Dask cluster: ``"local"`` (a cluster on this
        machine) or a scheduler address such as ``"tcp://host:8786"``; needs the ``dask``
        extra.  Default: one after the other in this process.
    workers : int, optional
        Worker processes of a ``"local"`` cluster (default: one per core).
    **settings
        Keyword settings for every experiment.

    Returns
    -------
    BatchSummary

    Raises
    ------
    NmriltError
        ``root`` is not a folder, or Dask is missing or unreachable for ``scheduler``.
    """
    if scheduler is None and workers is not None:
        raise NmriltError("--workers needs --scheduler local (a Dask cluster on this "
                          "machine); without --scheduler experiments run one by one")
    stream = stream or sys.stderr
    todo, skipped = plan(root, out, force)
    summary = BatchSummary(skipped=skipped)
    bar = BatchProgress(len(todo), progress, stream)
    if skipped:
        bar.note(f"{len(skipped)} experiment(s) already finished, skipped (--force redoes them)")
    outcomes: Iterator[Outcome]
    if scheduler is None:
        outcomes = _sequential(todo, config, force, settings)
    else:
        from .distributed import run_on_cluster

        outcomes = run_on_cluster(todo, config, force, settings, scheduler, workers,
                                  note=bar.note)
    with contextlib.closing(outcomes):  # Ctrl-C: a cluster cancels its tasks and closes
        for outcome in outcomes:
            summary.record(outcome)
            bar.update(outcome)
            check_interrupt()
    return summary
