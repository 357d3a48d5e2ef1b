"""Readers: vendor experiment folders and plain data files -> :class:`Experiment`.

Installed as ``nmrilt.readers``.  Each reader module offers ``guess_can_open(path)`` and
``read(path, **overrides)``; :func:`read` asks them in turn (Bruker, Varian, text).
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from nmrilt.errors import NotAnExperimentError

from . import bruker, text, varian
from .experiment import AXIS_ROLES, EXPERIMENT_KINDS, Axis, Experiment

#: Reader modules, asked in this order (then readers registered by other packages).
READERS = (bruker, varian, text)

#: Entry-point group through which other packages add readers: each entry point loads an
#: object (usually a module) with ``guess_can_open(path)`` and ``read(path, **overrides)``.
ENTRY_POINT_GROUP = "nmrilt.readers"


def _all_readers() -> list[ModuleType | Any]:
    plugins = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        if callable(getattr(obj, "guess_can_open", None)) and callable(getattr(obj, "read", None)):
            plugins.append(obj)
    return [*READERS, *plugins]

__all__ = ["AXIS_ROLES", "EXPERIMENT_KINDS", "READERS", "Axis", "Experiment", "describe", "read"]


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
    hint = ""
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir()
                        if p.is_dir() and any(m.guess_can_open(p) for m in READERS[:2]))
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
