"""The TopSpin view of a result: the distribution map as a processed dataset ``pdata/<N>``.

Laid out the way TopSpin's DOSY processing stores a map (``2rr``, ``procs``/``proc2s``; the
full description is in docs/automation.md, "The TopSpin view"):

* F2 is the chemical shift: the map's ppm points (with gaps, perhaps binned) on a uniform grid
  at the map's finest spacing spanning the spectral window, zeros elsewhere; summed regions are
  one column each on a :data:`REGION_GRID_POINTS`-point grid.  F1 is log10 τ (``SF = 1``,
  ``AXNAME`` ``log10(T1)`` ..., ``AXUNIT`` ``s`` or ``m2/s``).  On every axis
  ``value(i) = OFFSET - i * SW_p / (SF * SI)``; sizes are padded with zeros to powers of two.
* Intensities are ``g × scale`` as int32 with ``value = stored × 2**NC_proc`` and the largest
  magnitude in (2**28, 2**29]: exact to half a step of ``max|map| / 2**28``.
* A T1–T2 map with a chemical-shift dimension is summed over the shift (F2 = the faster τ);
  a map with one τ dimension only becomes a 1-D dataset (``1r``).
* The parameter files start from TopSpin's own (the experiment's lowest procno) so that every
  parameter TopSpin expects is there; nmrilt sets those that describe the view.

Safety: the procno is written into a hidden staging folder inside ``pdata`` and renamed into
place; raw files and other procnos are never opened for writing.  An existing procno is
replaced only when it carries nmrilt's marker (:data:`MARKER_NAME`) and ``force`` is given.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputError, ResultExistsError
from ..model import Result, jsonable

log = logging.getLogger(__name__)

__all__ = [
    "MARKER_NAME", "PROCNO_START", "TopSpinAxis", "TopSpinMap", "bruker_expno", "is_nmrilt_procno",
    "plan_procno", "topspin_map", "write_topspin_procno",
]

#: First procno nmrilt considers when none is given (TopSpin's own processing uses 1, 2 ...).
PROCNO_START = 999
#: The marker nmrilt writes into every procno it owns.
MARKER_NAME = "nmrilt.json"
#: Largest size per dimension written (2**16 points).
MAX_SI = 1 << 16
#: F2 points across the spectral window for ``shift_mode = "regions"`` maps.
REGION_GRID_POINTS = 1024
#: The largest stored magnitude lies in (2**28, 2**29] (int32 with head room).
_INT_BITS = 29
_LOG_NAMES = {"m^2/s": "m2/s"}


@dataclass(frozen=True)
class TopSpinAxis:
    """One dimension of a TopSpin dataset: ``value(i) = offset - i * step``."""

    size: int  # SI, a power of two
    offset: float  # value of point 0, the largest: ppm or log10 τ
    step: float  # spacing (> 0) in the same unit
    sf: float  # MHz for ppm axes, 1 for log10 axes
    name: str  # AXNAME
    unit: str  # AXUNIT
    nucleus: str  # AXNUC ("off" for log10 axes)
    first: int  # index range holding the computed grid (the rest is zero padding)
    last: int

    def values(self) -> np.ndarray:
        """The axis values of every point."""
        return self.offset - self.step * np.arange(self.size)


@dataclass(frozen=True)
class TopSpinMap:
    """A result laid out as TopSpin stores it: ``data[F1, F2]`` (or ``data[F]`` in 1-D)."""

    data: np.ndarray
    axes: tuple[TopSpinAxis, ...]
    description: str
    notes: dict[str, Any] = field(default_factory=dict)


def _pow2(n: int) -> int:
    return 1 << max(int(n) - 1, 0).bit_length()


def _padded(size: int, first: int) -> tuple[int, int]:
    """(SI, points added before) for ``size`` points padded evenly to a power of two."""
    total = _pow2(size)
    if total > MAX_SI:
        raise OutputError(
            f"the TopSpin view would need {total} points in one dimension (limit {MAX_SI}); "
            "use shift_mode = \"points\" or fewer, wider regions, or leave output.topspin off"
        )
    return total, (total - size) // 2 + first


def _log_axis(tau: np.ndarray, name: str, unit: str) -> tuple[TopSpinAxis, np.ndarray]:
    """A log10 axis for an increasing log-uniform τ grid; returns it and the index of each τ."""
    logs = np.log10(np.asarray(tau, float))
    if logs.size < 2:
        raise OutputError(f"the {name} grid has a single point; it cannot be shown in TopSpin")
    step = float(logs[-1] - logs[0]) / (logs.size - 1)
    if step <= 0 or np.max(np.abs(np.diff(logs) - step)) > 1e-6 * step:
        raise OutputError(
            f"the {name} grid is not uniform in log10 τ; TopSpin axes need a uniform spacing"
        )
    size, before = _padded(logs.size, 0)
    axis = TopSpinAxis(
        size=size, offset=float(logs[-1]) + before * step, step=step, sf=1.0,
        name=f"log10({name})", unit=_LOG_NAMES.get(unit, unit), nucleus="off",
        first=before, last=before + logs.size - 1,
    )
    return axis, before + np.arange(logs.size)[::-1]


def _ppm_axis(
    ppm: np.ndarray, meta: dict[str, Any], regions: bool = False
) -> tuple[TopSpinAxis, np.ndarray, float]:
    """A uniform ppm axis holding every point of ``ppm``; returns it, the index of each point
    and the largest displacement (ppm) of a point from its grid position.

    The spacing is the finest of the map; for summed regions (``regions``), whose centres lie
    far apart on no common lattice, it is the spectral window / :data:`REGION_GRID_POINTS`.
    """
    ppm = np.asarray(ppm, float)
    ordered = np.sort(ppm)
    steps = np.diff(ordered)
    if ppm.size < 2 or np.any(steps <= 0):
        raise OutputError("the chemical-shift axis needs at least two distinct ppm points")
    sfo1, sw, carrier = (meta.get(k) for k in ("sfo1_mhz", "sw_hz", "carrier_ppm"))
    known = bool(sfo1 and sw and carrier is not None)
    dx = float(steps.min())
    if regions and known:
        dx = min(dx, float(sw) / float(sfo1) / REGION_GRID_POINTS)
    anchor = float(ordered[-1])
    index = np.rint((anchor - ppm) / dx).astype(int)
    moved = float(np.max(np.abs(anchor - index * dx - ppm)))
    above, below = 0, int(index.max())
    if known:
        hi = float(carrier) + float(sw) / (2 * float(sfo1))
        lo = float(carrier) - float(sw) / (2 * float(sfo1))
        above = max(math.ceil((hi - anchor) / dx - 1e-6) - 1, 0)
        below = max(math.floor((anchor - lo) / dx + 1e-6), below)
    size, before = _padded(above + below + 1, above)
    axis = TopSpinAxis(
        size=size, offset=anchor + before * dx, step=dx, sf=float(sfo1 or 1.0),
        name="chemical shift", unit="ppm", nucleus=str(meta.get("nucleus") or "off"),
        first=before + int(index.min()), last=before + int(index.max()),
    )
    return axis, before + index, moved


def _title(result: Result, description: str) -> str:
    settings = result.parameters.get("settings", {})
    used = {k: settings.get(k, {}) for k in ("experiment", "read", "processing", "inversion")}
    return "\n".join([
        f"nmrilt {description}",
        (f"nmrilt {result.version}, {result.created or 'unknown time'}; "
         f"converged={result.converged}, {result.iterations} iterations"),
        f"result: {result.path or '(not written)'}",
        f"settings: {json.dumps(jsonable(used), sort_keys=True, separators=(',', ':'))}",
    ]) + "\n"


def topspin_map(result: Result) -> TopSpinMap:
    """Lay a result out as TopSpin stores a processed dataset (see the module docstring).

    Parameters
    ----------
    result : Result
        A finished inversion.

    Returns
    -------
    TopSpinMap
        Intensities ``g × scale`` on the padded TopSpin grid, the axes slowest first.

    Raises
    ------
    OutputError
        The dimensions cannot be shown as a TopSpin 1-D or 2-D dataset.
    """
    values = np.asarray(result.g, float) * np.broadcast_to(result.scale, result.g.shape)
    dims, taus = list(result.dims), list(result.tau)
    shift = [i for i, d in enumerate(dims) if not d.inverted]
    inverted = [i for i, d in enumerate(dims) if d.inverted]
    notes: dict[str, Any] = {"intensity": "g x scale (spectrum units)"}
    if len(inverted) == 2 and shift and all(dims[i].role == "chemical_shift" for i in shift):
        values = values.sum(axis=tuple(shift))
        dims, taus = [dims[i] for i in inverted], [taus[i] for i in inverted]
        notes["summed"] = f"{dims[0].name}-{dims[1].name} map summed over the chemical shift"
        shift = []
    if len(dims) > 2 or len(shift) > 1 or (shift and dims[shift[0]].ppm is None):
        names = ", ".join(d.name for d in result.dims)
        raise OutputError(f"a map over ({names}) has no TopSpin 1-D/2-D representation")
    axes, where = [], []
    for d, tau in zip(dims, taus):
        if d.inverted:
            axis, index = _log_axis(tau, d.name, d.unit)
        else:
            meta = result.parameters.get("meta", {})
            axis, index, moved = _ppm_axis(d.ppm, meta, regions=d.name == "region")
            notes["ppm_displacement_max"] = moved
        axes.append(axis)
        where.append(index)
    data = np.zeros(tuple(a.size for a in axes))
    data[np.ix_(*where)] = values
    what = " x ".join(f"{a.name} ({a.unit})" for a in axes)
    kind = f"{result.kind} map" if len(axes) == 2 else f"{result.kind} distribution"
    return TopSpinMap(data, tuple(axes), f"{kind}: {what}", notes)


def _int_scaling(data: np.ndarray) -> tuple[np.ndarray, int]:
    """``(stored int32 values, NC_proc)`` with ``data ≈ stored * 2**NC_proc``."""
    peak = float(np.max(np.abs(data))) if data.size else 0.0
    if not np.isfinite(peak):
        raise OutputError("the map holds non-finite values; it cannot be written for TopSpin")
    if peak == 0.0:
        return np.zeros(data.shape, np.int32), 0
    nc = math.ceil(math.log2(peak)) - _INT_BITS
    return np.rint(data / 2.0**nc).astype(np.int32), nc


def _procs(axis: TopSpinAxis, ndim: int, title: str) -> dict[str, Any]:
    """Processing parameters of one dimension, in nmrglue's JCAMP dictionary form."""
    return {
        "_coreheader": [
            "##TITLE= Parameter file, written by nmrilt", "##JCAMPDX= 5.0",
            "##DATATYPE= Parameter Values", "##ORIGIN= nmrilt", "##OWNER= nmrilt",
        ],
        "_comments": [f"$$ {title.splitlines()[0]}"],
        "SI": axis.size, "XDIM": axis.size, "OFFSET": axis.offset, "SF": axis.sf,
        "SW_p": axis.step * axis.size * axis.sf,
        "AXNAME": axis.name, "AXUNIT": axis.unit, "AXNUC": axis.nucleus, "AXTYPE": 0,
        "AXLEFT": axis.offset, "AXRIGHT": axis.offset - axis.step * (axis.size - 1),
        "FT_mod": 6, "MC2": 0, "PPARMOD": ndim - 1, "STSI": 0, "STSR": 0, "TDeff": 0,
        "TDoff": 0, "REVERSE": False, "WDW": 0, "LB": 0.0, "GB": 0.0, "SSB": 0.0,
        "PH_mod": 0, "PHC0": 0.0, "PHC1": 0.0, "BC_mod": 0, "LPBIN": 0, "SYMM": 0,
        "TILT": False, "F1P": axis.offset, "F2P": axis.offset - axis.step * (axis.size - 1),
    }


def _templates(expdir: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """TopSpin's own processing parameters of the experiment (its lowest procno with a
    ``procs`` not written by nmrilt), the base of the view's files so that every parameter
    TopSpin expects is there; nmrilt's values (:func:`_procs`) replace the ones that matter."""
    import nmrglue as ng

    for _, folder in sorted(_procnos(expdir / "pdata").items()):
        if not (folder / "procs").is_file() or is_nmrilt_procno(folder):
            continue
        out: dict[str, dict[str, Any]] = {}
        for name in names:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    found = ng.bruker.read_jcamp(str(folder / name))
            except (OSError, ValueError):
                found = {}
            out[name] = {k: v for k, v in found.items() if not k.startswith("_")}
        return out
    return {}


def is_nmrilt_procno(folder: str | Path) -> bool:
    """True when ``folder`` is a procno nmrilt wrote (it carries :data:`MARKER_NAME`).

    Files TopSpin adds while showing it (``clevels``, ``outd`` ...) do not change that.
    """
    folder = Path(folder)
    try:
        marker = json.loads((folder / MARKER_NAME).read_text())
    except (OSError, ValueError):
        return False
    return folder.is_dir() and not folder.is_symlink() and isinstance(marker, dict) \
        and "nmrilt_version" in marker


def _procnos(pdata: Path) -> dict[int, Path]:
    if not pdata.is_dir():
        return {}
    return {int(p.name): p for p in pdata.iterdir() if p.name.isdigit()}


def bruker_expno(path: str | Path) -> Path | None:
    """The TopSpin EXPNO folder of ``path`` (the folder, one of its ``pdata/N`` or a file in
    it, as the Bruker reader recognises them), or None for other data."""
    from ..readers import bruker

    path = Path(path)
    if not bruker.guess_can_open(path):
        return None
    folder = path.parent if path.is_file() else path
    return folder.parents[1] if folder.parent.name == "pdata" else folder


def plan_procno(expdir: str | Path, procno: int | None = None, force: bool = False) -> int:
    """The procno the TopSpin view of ``expdir`` goes to; raises before any work is done.

    Without ``procno``: nmrilt's own procno (the lowest marked one >= :data:`PROCNO_START`)
    when ``force`` is given, else the first free procno >= :data:`PROCNO_START`.

    Raises
    ------
    OutputError
        ``expdir`` is not a Bruker experiment, its ``pdata`` is read-only, or ``procno``
        exists and nmrilt did not write it.
    ResultExistsError
        ``procno`` is nmrilt's own and ``force`` is False.
    """
    found = bruker_expno(expdir)
    if found is None:
        raise OutputError(
            f"{expdir} is not a Bruker experiment; the TopSpin view is written for Bruker data "
            "only — leave out --topspin (output.topspin = false)"
        )
    expdir = found
    writable = expdir / "pdata" if (expdir / "pdata").is_dir() else expdir
    if not os.access(writable, os.W_OK):
        raise OutputError(
            f"{writable} is read-only; the TopSpin view cannot be written there — leave out "
            "--topspin (output.topspin = false)"
        )
    existing = _procnos(expdir / "pdata")
    if procno is None:
        own = sorted(n for n, p in existing.items() if n >= PROCNO_START and is_nmrilt_procno(p))
        if own and force:
            return own[0]
        procno = PROCNO_START
        while procno in existing:
            procno += 1
        return procno
    if not isinstance(procno, int) or isinstance(procno, bool) or procno < 1:
        raise OutputError(f"procno {procno!r}: give a positive integer (e.g. --procno 999)")
    folder = existing.get(procno)
    if folder is None:
        return procno
    if not is_nmrilt_procno(folder):
        raise OutputError(
            f"{folder} exists and was not written by nmrilt; nmrilt never replaces it — give "
            f"another --procno (or none: the first free one >= {PROCNO_START} is taken)"
        )
    if not force:
        raise ResultExistsError(f"{folder} holds an earlier nmrilt view; pass --force to replace it")
    return procno


def _write_files(
    folder: Path, expdir: Path, tmap: TopSpinMap, title: str, marker: dict[str, Any]
) -> None:
    import nmrglue as ng

    stored, nc = _int_scaling(tmap.data)
    ndim = stored.ndim
    names = ["procs"] + [f"proc{i}s" for i in range(2, ndim + 1)]
    base = _templates(expdir, names)
    dic = {name: {**base.get(name, {}), **_procs(axis, ndim, title)}
           for name, axis in zip(names, tmap.axes[::-1])}
    dic["procs"].update({
        "NC_proc": nc, "BYTORDP": 0, "DTYPP": 0, "DATMOD": 1, "S_DEV": 0.0,
        "YMAX_p": int(stored.max()), "YMIN_p": int(stored.min()), "TI": title.splitlines()[0],
    })
    ng.bruker.write_pdata(
        str(folder), dic, stored.astype(float) * 2.0**nc, scale_data=True, write_procs=True,
        submatrix_shape=stored.shape, big=False, isfloat=False, overwrite=True,
    )
    (folder / "title").write_text(title)
    files = sorted(p.name for p in folder.iterdir()) + [MARKER_NAME]
    marker = {**marker, "NC_proc": nc, "files": files}
    (folder / MARKER_NAME).write_text(json.dumps(marker, indent=1) + "\n")


def write_topspin_procno(
    result: Result,
    expdir: str | Path | None = None,
    procno: int | None = None,
    force: bool = False,
) -> Path:
    """Write the map of ``result`` as the processed dataset ``<expdir>/pdata/<procno>``.

    Parameters
    ----------
    result : Result
        A finished inversion of a Bruker experiment.
    expdir : path, optional
        The experiment folder (default: ``result.source``).
    procno : int, optional
        Processing number; default: see :func:`plan_procno`.
    force : bool
        Replace a procno nmrilt wrote earlier.

    Returns
    -------
    pathlib.Path
        The procno folder.

    Raises
    ------
    OutputError
        Not a Bruker experiment, a foreign procno, a map TopSpin cannot show, or ``pdata``
        is not writable.
    ResultExistsError
        The procno is nmrilt's own and ``force`` is False.
    """
    number = plan_procno(expdir if expdir is not None else result.source, procno, force)
    expdir = bruker_expno(expdir if expdir is not None else result.source)
    tmap = topspin_map(result)
    title = _title(result, tmap.description)
    marker = {
        "nmrilt_version": result.version, "created": result.created, "kind": result.kind,
        "result": str(result.path) if result.path else None, "description": tmap.description,
        "axes": [{"name": a.name, "unit": a.unit, "SI": a.size, "first": a.first,
                  "last": a.last} for a in tmap.axes],
        **tmap.notes,
    }
    pdata = expdir / "pdata"
    target = pdata / str(number)
    try:
        pdata.mkdir(exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".nmrilt-{number}.", suffix=".tmp", dir=pdata))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(staging, 0o777 & ~mask)
    except OSError as exc:
        raise OutputError(
            f"cannot write the TopSpin view into {pdata} ({exc.strerror or exc}); the folder "
            "is read-only — leave out --topspin (output.topspin = false)"
        ) from None
    try:
        _write_files(staging, expdir, tmap, title, marker)
        old = None
        if target.exists() or target.is_symlink():
            plan_procno(expdir, number, force)  # checked again just before the rename
            old = pdata / f".nmrilt-{number}.old-{os.getpid()}"
            os.replace(target, old)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("%s: TopSpin view in %s", expdir, target)
    return target
