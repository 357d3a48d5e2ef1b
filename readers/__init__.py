"""Readers: vendor experiment folders and plain data files -> :class:`Experiment`.

Installed as ``nmrilt.readers``; all vendor knowledge lives here.  Each reader module
offers

* ``guess_can_open(path) -> bool`` and ``read(path, **overrides) -> Experiment``
  (required);
* ``is_experiment(path) -> bool``: a pseudo-nD experiment with something to invert
  (1-D spectra are not);
* ``data_files(path) -> list[Path]``: the files an acquisition writes (what a watcher
  sees grow);
* ``expected_data_size(path) -> int | None``: their total size in bytes once the
  acquisition is complete (None: unknown), by the rule the reader itself uses.

:func:`read`, :func:`is_experiment`, :func:`data_files`, :func:`expected_data_size` and
:func:`acquisition_complete` ask the readers in turn (Bruker, Varian, text, then plugins
registered through the ``nmrilt.readers`` entry-point group); the first whose
``guess_can_open`` accepts the path answers.  A plugin without the optional functions
gets the fallbacks documented on each registry function.  Folder questions never parse a
parameter file in a way that can hang on a half-written file.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from nmrilt.errors import NotAnExperimentError

from .experiment import AXIS_ROLES, EXPERIMENT_KINDS, Axis, Experiment

#: Built-in reader modules, asked in this order (then readers registered by other
#: packages).  ``READERS`` holds the modules themselves; they are imported on first use so
#: that importing the package (e.g. for :data:`EXPERIMENT_KINDS`) does not load nmrglue.
READER_MODULES = ("bruker", "varian", "text")

#: Entry-point group through which other packages add readers: each entry point loads an
#: object (usually a module) with ``guess_can_open(path)`` and ``read(path, **overrides)``,
#: and optionally ``is_experiment``, ``data_files``, ``expected_data_size`` and
#: ``acquisition_complete`` (see ``docs/architecture.md``).
ENTRY_POINT_GROUP = "nmrilt.readers"


def __getattr__(name: str) -> Any:
    """``READERS``: the built-in reader modules, imported on first access."""
    if name == "READERS":
        return _builtin_readers()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _builtin_readers() -> tuple[ModuleType, ...]:
    return tuple(import_module(f"{__name__}.{name}") for name in READER_MODULES)


def _all_readers() -> list[ModuleType | Any]:
    plugins = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        if callable(getattr(obj, "guess_can_open", None)) and callable(getattr(obj, "read", None)):
            plugins.append(obj)
    return [*_builtin_readers(), *plugins]


__all__ = ["AXIS_ROLES", "EXPERIMENT_KINDS", "READERS", "Axis", "Experiment",
           "acquisition_complete", "data_files", "describe", "expected_data_size",
           "is_experiment", "read"]


def _reader_for(path: Path) -> ModuleType | Any | None:
    """The first reader whose ``guess_can_open`` accepts ``path`` (None: no reader)."""
    for module in _all_readers():
        try:
            if module.guess_can_open(path):
                return module
        except OSError:
            return None
    return None


def is_experiment(path: str | Path) -> bool:
    """True when ``path`` is an experiment with something to invert (batch, watch).

    Bruker: an EXPNO folder with parameters and a ``ser`` (pseudo-nD); VnmrJ: a ``.fid``
    folder whose ``arraydim`` exceeds 1; text: any data file the text reader opens.
    1-D spectra are not experiments.  A plugin reader without ``is_experiment``: every
    path its ``guess_can_open`` accepts is one.
    """
    path = Path(path)
    reader = _reader_for(path)
    if reader is None:
        return False
    ask = getattr(reader, "is_experiment", None)
    return bool(ask(path)) if callable(ask) else True


def data_files(path: str | Path) -> list[Path]:
    """The files whose growth shows an acquisition's progress (``[]`` if none yet).

    Bruker ``ser`` (or ``fid``), VnmrJ ``fid``, the text file itself.  A plugin reader
    without ``data_files``: ``path`` itself if it is a file, else the plain files directly
    in the folder (hidden ones skipped), sorted.
    """
    path = Path(path)
    reader = _reader_for(path)
    ask = getattr(reader, "data_files", None)
    if callable(ask):
        return list(ask(path))
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))


def expected_data_size(path: str | Path) -> int | None:
    """Total bytes of :func:`data_files` once the acquisition is complete; None if unknown.

    Bruker: ``prod(TD of the indirect dimensions)`` FIDs of TD points padded to
    1024-byte blocks (the reader's rule; parameters scanned without nmrglue, so a file
    cut by a running acquisition cannot hang); VnmrJ: ``32 + nblocks * bbytes`` from the
    ``fid`` header; text: unknown.  A plugin reader without ``expected_data_size``:
    unknown.
    """
    path = Path(path)
    reader = _reader_for(path)
    ask = getattr(reader, "expected_data_size", None)
    return ask(path) if callable(ask) else None


def acquisition_complete(path: str | Path) -> bool:
    """True unless the data files are known to be smaller than the complete acquisition.

    A reader's own ``acquisition_complete(path)`` answers when it has one; otherwise the
    data files are compared with :func:`expected_data_size`.  An unknown expected size
    counts as complete (a watcher then relies on the files no longer changing); no data
    file yet is incomplete.
    """
    path = Path(path)
    reader = _reader_for(path)
    ask = getattr(reader, "acquisition_complete", None)
    if callable(ask):
        return bool(ask(path))
    files = data_files(path)
    if not files:
        return False
    expected = expected_data_size(path)
    if expected is None:
        return True
    try:
        return sum(f.stat().st_size for f in files) >= expected
    except OSError:
        return False


def read(path: str | Path, **overrides: Any) -> Experiment:
    """Read an experiment folder or data file into an :class:`Experiment`.

    Parameters
    ----------
    path : str or pathlib.Path
        Bruker EXPNO folder (or ``pdata/N``), VnmrJ ``.fid`` folder, or a
        CSV/TXT/TSV/DAT/NPZ file.
    **overrides
        Reader options, e.g. ``kind="t1_ir"``, ``axes=[...]``, ``delays=array``,
        ``pulse_program="t1ir"``, ``pdata=1``, ``allow_partial=False``.
        See ``docs/formats.md``.

    Returns
    -------
    Experiment

    Raises
    ------
    NotAnExperimentError
        If no reader recognises the path.
    ReadError
        Subclasses for every problem found while reading (message names file and fix).

    Notes
    -----
    Reading never writes anything.  Other packages can add readers through the
    ``nmrilt.readers`` entry-point group (asked after the built-in ones).
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise NotAnExperimentError(f"{path} does not exist; give an experiment folder or file")
    for module in _all_readers():
        if module.guess_can_open(path):
            return module.read(path, **overrides)
    bruker, varian, text = _builtin_readers()
    hint = ""
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir()
                        if p.is_dir() and (bruker.guess_can_open(p) or varian.guess_can_open(p)))
        if inside:
            shown = ", ".join(inside[:10]) + (" ..." if len(inside) > 10 else "")
            hint = f"; it contains experiment folders — give one of them: {shown}"
    raise NotAnExperimentError(
        f"{path} is not an experiment nmrilt recognises: expected a Bruker EXPNO folder "
        f"(acqus + fid/ser), its pdata/N folder, a VnmrJ .fid folder (procpar + fid) or a "
        f"{'/'.join(text.SUFFIXES)} file with delays and intensities{hint}"
    )


def _range(ax: Axis) -> str:
    vals = np.asarray(ax.values, dtype=float)
    if vals.size == 0:
        return "(empty)"
    lo, hi = float(vals[0]), float(vals[-1])
    unit = f" {ax.unit}" if ax.unit else ""
    return f"{lo:.6g} .. {hi:.6g}{unit}"


def describe(experiment: Experiment) -> str:
    """Human-readable summary used by ``nmrilt info``.

    Lists the kind, pulse program, nucleus, SFO1, SW, NS, TE, date, title, source and
    every axis (name, role, length, first .. last value with unit).
    """
    m = experiment.meta

    def num(key: str, fmt: str, unit: str) -> str:
        value = m.get(key)
        try:
            value = float(value)
        except (TypeError, ValueError):
            return "-"
        return "-" if np.isnan(value) else f"{value:{fmt}} {unit}"

    processed = m.get("processed") and m.get("vendor") != "text"
    lines = [
        f"source        {experiment.source}",
        f"vendor        {m.get('vendor', '-')}{'  (processed spectra)' if processed else ''}",
        f"kind          {experiment.kind}",
        f"pulse program {m.get('pulse_program') or '-'}",
        f"nucleus       {m.get('nucleus') or '-'}",
        f"SFO1          {num('sfo1_mhz', '.6f', 'MHz')}",
        f"SW            {num('sw_hz', '.2f', 'Hz')}",
        f"carrier       {num('carrier_ppm', '.3f', 'ppm')}",
        f"NS            {m.get('ns', '-')}",
        f"TE            {num('te_k', '.2f', 'K')}",
        f"date          {m.get('date') or '-'}",
        f"title         {(m.get('title') or '-').splitlines()[0] if m.get('title') else '-'}",
        f"data          {experiment.data.shape} {experiment.data.dtype}",
        "axes:",
    ]
    for i, ax in enumerate(experiment.axes):
        src = ax.meta.get("source", "")
        src = f"  [{Path(src).name}]" if isinstance(src, str) and src and "/" in src else (
            f"  [{src}]" if src else "")
        lines.append(f"  {i}: {ax.name:<12} {ax.role:<14} n={len(ax):<6} {_range(ax)}{src}")
    lines.append(f"files         {len(experiment.files)} read")
    return "\n".join(lines)
