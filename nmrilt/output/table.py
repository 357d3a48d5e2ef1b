"""The map as a table (``map.csv`` / ``map.tsv``) for other plotting tools.

One row per grid point, in C order of ``g`` (the last dimension varies fastest), one column
per dimension named ``<name>_<unit>`` (``T1_s``, ``T2_s``, ``D_m2_per_s``, ``shift_ppm``),
then ``g`` (the distribution as inverted, unit-noise data units, what the figures show)
and ``amplitude_au`` (``g * scale``: spectrum units; summed over a component's points it
gives the component's ``integral_au`` of ``peaks.csv``), and with noise resampling
``amplitude_std_au`` (the standard deviation of ``amplitude_au`` over the resamples,
``/uncertainty/g_std`` of ``result.h5``).  Long ("tidy") format, so every
dimensionality reads the same way: pandas ``read_csv`` then ``pivot``, gnuplot ``splot``,
Origin/Igor XYZ import.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..model import Result
from .components import unit_tag
from .files import write_text

__all__ = ["map_columns", "map_table", "write_map_table"]

#: File name and separator per ``output.map_table`` setting.
TABLES = {"csv": ("map.csv", ","), "tsv": ("map.tsv", "\t")}


def map_columns(result: Result) -> list[str]:
    """Column names of the map table."""
    std = ["amplitude_std_au"] if result.uncertainty is not None else []
    return [f"{d.name}_{unit_tag(d.unit)}" for d in result.dims] + ["g", "amplitude_au", *std]


def map_table(result: Result) -> np.ndarray:
    """The table as an array, shape ``(g.size, ndim + 2)`` (``+ 3`` with uncertainty)."""
    g = np.asarray(result.g, float)
    grids = np.meshgrid(*[np.asarray(t, float) for t in result.tau], indexing="ij")
    amp = g * np.broadcast_to(result.scale, g.shape)
    std = [] if result.uncertainty is None else [np.asarray(result.uncertainty.g_std).ravel()]
    return np.column_stack([x.ravel() for x in grids] + [g.ravel(), amp.ravel(), *std])


def write_map_table(result: Result, folder: str | Path, kind: str = "csv") -> Path | None:
    """Write ``map.csv`` (``kind="csv"``) or ``map.tsv`` into ``folder`` atomically;
    ``kind="none"`` writes nothing and returns None."""
    if kind == "none":
        return None
    name, sep = TABLES[kind]
    buf = io.StringIO()
    # 7 significant digits: below the noise of any map, and a third the size of repr floats
    np.savetxt(buf, map_table(result), fmt="%.7g", delimiter=sep,
               header=sep.join(map_columns(result)), comments="")
    return write_text(Path(folder) / name, buf.getvalue())
