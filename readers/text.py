"""Plain data files: CSV/TXT/TSV/DAT text and NumPy NPZ (delays + intensities).

Text layout (comma, semicolon, tab or whitespace separated; ``#`` comments):

* 1D: column 0 = the sampled variable (delays, echo times, b values), column 1 = the
  intensities.  An optional header row names the columns; a unit in the first column name
  (``time (ms)``, ``tau [us]``, ``b (s/mm^2)``) converts the values to SI units.
* 2D: column 0 = the first axis, columns 1..m = one series each.  If the header row holds
  numbers after the first cell, they are the second axis; otherwise it is an index.
  A third column with ``sigma`` in its header is not supported; keep noise separate.

NPZ layout: ``data`` (1D or 2D real array) plus ``x`` or ``x0`` (and ``x1`` for 2D);
optional ``kind`` (string), ``names``, ``roles`` and ``units`` (arrays of strings).

The axis roles follow ``kind`` (the roles of :data:`~nmrilt.readers.experiment.KINDS`:
``t1_ir``/``t1_sr`` delay, ``t2_cpmg`` echo, ``diffusion`` b_value, ``t1_t2`` delay+echo,
``d_t2`` b_value+echo, ``t2_t2`` echo+echo), else the column name (``b`` -> b_value,
``echo``/``te``/``t2`` -> echo), else delay.
Data stay real; there is no direct (FID) dimension.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from nmrilt.errors import NotAnExperimentError, ReadError

from . import recipes
from .experiment import EXPERIMENT_KINDS, KINDS, Axis, Experiment

SUFFIXES = (".csv", ".txt", ".tsv", ".dat", ".npz")
OPTIONS = ("roles", "units", "names")

#: Unit names accepted in column headers -> (SI unit, factor).
UNITS: dict[str, tuple[str, float]] = {
    "s": ("s", 1.0), "ms": ("s", 1e-3), "us": ("s", 1e-6), "µs": ("s", 1e-6),
    "ns": ("s", 1e-9), "min": ("s", 60.0),
    "s/m^2": ("s/m^2", 1.0), "s/m2": ("s/m^2", 1.0), "s/mm^2": ("s/m^2", 1e6),
    "s/mm2": ("s/m^2", 1e6), "s/cm^2": ("s/m^2", 1e4), "s/cm2": ("s/m^2", 1e4),
    "t/m": ("T/m", 1.0), "g/cm": ("T/m", 1e-2), "mt/m": ("T/m", 1e-3),
    "k": ("K", 1.0), "hz": ("Hz", 1.0),
}

_ROLE_UNIT = {"delay": "s", "echo": "s", "b_value": "s/m^2", "gradient": "T/m",
              "temperature": "K", "index": ""}


def guess_can_open(path: str | Path) -> bool:
    """True for an existing file with a text or ``.npz`` suffix."""
    path = Path(path)
    return path.is_file() and path.suffix.lower() in SUFFIXES


def is_experiment(path: str | Path) -> bool:
    """True for a data file this reader opens: it always holds something to invert."""
    return guess_can_open(path)


def data_files(path: str | Path) -> list[Path]:
    """``[path]``: the file is its own data."""
    return [Path(path)] if Path(path).is_file() else []


def expected_data_size(path: str | Path) -> int | None:
    """Always None: a text file says nothing of its final size."""
    return None


def _unit_of(label: str) -> tuple[str, str, float]:
    """Split ``"time (ms)"`` into (name, SI unit, factor)."""
    match = re.match(r"^\s*([^(\[]*?)\s*[(\[]\s*([^)\]]+?)\s*[)\]]\s*$", label)
    if not match:
        return label.strip(), "", 1.0
    name, unit = match.group(1), match.group(2)
    if unit.lower() in UNITS or unit in UNITS:
        si, factor = UNITS.get(unit, UNITS.get(unit.lower()))
        return name, si, factor
    raise ReadError(
        f"unit {unit!r} in column {label!r} is not known; use one of {sorted(UNITS)}"
    )


def _role_from_name(name: str) -> str:
    low = name.lower()
    if low in ("b", "bvalue", "b_value") or low.startswith("b "):
        return "b_value"
    if low in ("g", "gradient"):
        return "gradient"
    if "echo" in low or low in ("te", "t2", "tau2"):
        return "echo"
    if "temp" in low:
        return "temperature"
    return "delay"


def _read_text(path: Path) -> tuple[list[str] | None, np.ndarray]:
    header: list[str] | None = None
    rows: list[list[float]] = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        cells = [c.strip() for c in re.split(r"[,;\t]", content)] if re.search(
            r"[,;\t]", content) else content.split()
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            if rows or header is not None:
                raise ReadError(
                    f"{path}, line {number}: {line.strip()!r} is not a row of numbers; the "
                    f"file must hold one header line at most, then numbers only"
                ) from None
            header = cells
    if not rows:
        raise ReadError(f"{path} holds no numeric rows")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ReadError(f"{path}: rows have different numbers of columns {sorted(widths)}")
    return header, np.asarray(rows, dtype=float)


def _axis(name: str, values: np.ndarray, role: str, unit: str, source: str) -> Axis:
    return Axis(name, np.asarray(values, dtype=float), unit, role, {"source": source})


def read(path: str | Path, **overrides: Any) -> Experiment:
    """Read delays + intensities from a CSV/TXT/TSV/DAT or NPZ file.

    Parameters
    ----------
    path : str or pathlib.Path
        The data file.
    **overrides
        ``kind`` (sets roles), ``delays`` (replaces the first axis values, SI units),
        ``roles``, ``units``, ``names`` (one per axis).

    Returns
    -------
    Experiment
        Real data, indirect axes only.
    """
    recipes.merge_overrides(overrides, OPTIONS)
    path = Path(path)
    if not guess_can_open(path):
        raise NotAnExperimentError(f"{path} is not a {'/'.join(SUFFIXES)} file")
    kind = overrides.get("kind") or "unknown"
    if path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            content = {k: npz[k] for k in npz.files}
        if "data" not in content:
            raise ReadError(f"{path}: an NPZ file needs an array named 'data' (and 'x' or 'x0')")
        data = np.asarray(content["data"], dtype=float)
        keys = ["x"] if data.ndim == 1 and "x" in content else [f"x{i}" for i in range(data.ndim)]
        missing = [k for k in keys if k not in content]
        if missing:
            raise ReadError(f"{path}: missing axis array(s) {missing} for data of shape "
                            f"{data.shape}; save them with np.savez(..., x0=..., x1=...)")
        values = [np.ravel(content[k]) for k in keys]
        if kind == "unknown" and "kind" in content:
            kind = str(content["kind"])
        names = [str(n) for n in content.get("names", keys)]
        roles = [str(r) for r in content["roles"]] if "roles" in content else None
        units = [str(u) for u in content["units"]] if "units" in content else None
    else:
        header, table = _read_text(path)
        if table.shape[1] < 2:
            raise ReadError(f"{path}: need at least two columns (variable, intensity)")
        first = header[0] if header else "x"
        name, unit, factor = _unit_of(first)
        values = [table[:, 0] * factor]
        names = [name or "x"]
        units = [unit] if unit else None
        if table.shape[1] == 2:
            data = table[:, 1]
        else:
            data = table[:, 1:]
            second = None
            if header is not None:
                try:
                    second = np.asarray([float(h) for h in header[1:]])
                except ValueError:
                    second = None
            values.append(second if second is not None else np.arange(data.shape[1], float))
            names.append("x1" if second is not None else "series")
            if units is not None:
                units.append("" if second is None else _ROLE_UNIT.get("delay"))
        roles = None
    if kind not in EXPERIMENT_KINDS:
        raise ReadError(f"kind {kind!r} is not one of {EXPERIMENT_KINDS}")
    ndim = data.ndim
    names = list(overrides.get("names") or names)[:ndim]
    if overrides.get("roles"):
        roles = list(overrides["roles"])
    if roles is None:
        kind_roles = KINDS[kind].roles
        if kind_roles and len(kind_roles) >= ndim:
            roles = list(kind_roles[:ndim])
        elif kind_roles:
            roles = list(kind_roles) + ["index"] * (ndim - len(kind_roles))
        else:
            roles = [_role_from_name(names[0])] + ["index"] * (ndim - 1)
        if path.suffix.lower() != ".npz" and ndim == 2 and names[1] == "series":
            roles[1] = "index"
    if overrides.get("units"):
        units = list(overrides["units"])
    if units is None:
        units = [_ROLE_UNIT.get(r, "") for r in roles]
    if overrides.get("delays") is not None:
        values[0] = np.ravel(np.asarray(overrides["delays"], dtype=float))
    axes = tuple(_axis(names[i], values[i], roles[i], units[i], str(path)) for i in range(ndim))
    meta = {
        "vendor": "text", "pulse_program": "", "nucleus": "", "sfo1_mhz": float("nan"),
        "bf1_mhz": float("nan"), "sw_hz": float("nan"), "carrier_ppm": float("nan"),
        "ns": 0, "te_k": float("nan"), "date": "", "title": path.stem, "processed": True,
        "raw": {},
    }
    try:
        return Experiment(data=data, axes=axes, meta=meta, source=path, kind=kind,
                          files=(path,))
    except ValueError as exc:
        raise ReadError(f"{path}: {exc}") from None
