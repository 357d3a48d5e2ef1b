"""Varian/Agilent VnmrJ ``.fid`` folders (``fid`` + ``procpar``), arrayed 1D experiments.

Binary data and procpar are read with nmrglue (``ng.varian.read(..., as_2d=True)``);
nmrilt parses the ``array`` parameter itself because nmrglue keeps only its innermost
element: the string is split on commas outside parentheses, each group (a parenthesised
group is arrayed jointly) becomes one indirect axis, the first group is the slowest loop
and the last the fastest.  Each axis takes its values from the arrayed parameter:

===========================  ===============  =====================================
parameter                    role             values
===========================  ===============  =====================================
``d2``, ``d1``, ``d3``       delay            s
``bigtau``, ``tau``          echo             s
``gzlvl*``                   gradient         T/m (× ``gcal`` G/cm per DAC unit)
                             or b_value       s/m² when ``del`` and ``gt1`` are set
``temp``                     temperature      K (procpar holds °C)
anything else (``nt`` ...)   index            0, 1, 2 ... (parameter values in meta)
===========================  ===============  =====================================
"""

from __future__ import annotations

import logging
import re
import struct
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nmrglue as ng
import numpy as np

from nmrilt.errors import (
    NotAnExperimentError,
    ParameterFileError,
    ReadError,
    ReadWarning,
    TruncatedDataError,
)

from . import recipes
from .checks import axis_values, number
from .bruker_params import MAX_FREQUENCY_MHZ, MIN_DIRECT_POINTS
from .experiment import KINDS, Axis, Experiment, kinds_with_roles
from .text import SUFFIXES as TEXT_SUFFIXES

log = logging.getLogger(__name__)

OPTIONS = ("allow_partial",)
_DELAYS = ("d1", "d2", "d3", "d4")
_ECHOES = ("bigtau", "tau", "t2delay")
#: Celsius -> kelvin.
ZERO_CELSIUS_K = 273.15


def guess_can_open(path: str | Path) -> bool:
    """True for a folder (or a file in a folder) holding ``procpar`` and ``fid``."""
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() in TEXT_SUFFIXES:
            return False
        path = path.parent
    return (path / "procpar").is_file() and (path / "fid").is_file()


#: ``arraydim`` record of a procpar: its value line starts with ``1 <count>``.
_ARRAYDIM = re.compile(r"^arraydim [^\n]*\n1 (\d+)", re.MULTILINE)
#: VnmrJ ``fid`` file header: six big-endian int32 then two int16 and an int32 (32 bytes).
FILE_HEADER_BYTES = 32


def _folder(path: str | Path) -> Path:
    path = Path(path)
    return path.parent if path.is_file() else path


def is_experiment(path: str | Path) -> bool:
    """True for a ``.fid`` folder whose procpar ``arraydim`` exceeds 1 (or is absent).

    A non-arrayed run (``arraydim`` 1) is a 1-D spectrum: nothing to invert.  procpar is
    scanned with one regular expression, never parsed, so a half-written file cannot hang.
    """
    path = Path(path)
    if not (path.is_dir() and guess_can_open(path)):
        return False
    try:
        match = _ARRAYDIM.search((path / "procpar").read_text(errors="replace"))
    except OSError:
        return False
    return match is None or int(match.group(1)) > 1


def data_files(path: str | Path) -> list[Path]:
    """``[fid]`` of the ``.fid`` folder (``[]`` while it does not exist)."""
    fid = _folder(path) / "fid"
    return [fid] if fid.is_file() else []


def expected_data_size(path: str | Path) -> int | None:
    """Bytes of the complete ``fid``: ``32 + nblocks × bbytes`` from its file header.

    None when the header cannot be read yet.
    """
    fid = _folder(path) / "fid"
    try:
        with fid.open("rb") as fh:
            head = fh.read(FILE_HEADER_BYTES)
        nblocks, _ntraces, _np, _ebytes, _tbytes, bbytes = struct.unpack(">6l", head[:24])
    except (OSError, struct.error):
        return None
    return FILE_HEADER_BYTES + nblocks * bbytes


def split_array(array: str) -> list[list[str]]:
    """Split a VnmrJ ``array`` string into groups, slowest first.

    ``"d2"`` -> ``[["d2"]]``; ``"(d2,nt),gzlvl1"`` -> ``[["d2", "nt"], ["gzlvl1"]]``.
    """
    groups: list[list[str]] = []
    for match in re.finditer(r"\(([^)]*)\)|([^,()\s]+)", array):
        if match.group(1) is not None:
            groups.append([n.strip() for n in match.group(1).split(",") if n.strip()])
        else:
            groups.append([match.group(2).strip()])
    return [g for g in groups if g]


def normalise_nucleus(tn: str) -> str:
    """VnmrJ ``H1``/``C13``/``P31`` -> ``1H``/``13C``/``31P`` (other spellings unchanged)."""
    match = re.match(r"^([A-Za-z]{1,2})(\d+)$", tn.strip())
    return f"{match.group(2)}{match.group(1).capitalize()}" if match else tn.strip()


def _floats(pdic: Mapping[str, Any], name: str, where: Path) -> list[float]:
    if name not in pdic:
        raise ParameterFileError(
            f"{where}: parameter {name!r} is missing; copy the complete procpar of the run"
        )
    try:
        return [float(v) for v in pdic[name]["values"]]
    except (TypeError, ValueError):
        raise ParameterFileError(f"{where}: parameter {name!r} is not numeric") from None


def _first(pdic: Mapping[str, Any], name: str, default: Any = None) -> Any:
    try:
        return pdic[name]["values"][0]
    except (KeyError, IndexError, TypeError):
        return default


def _number(pdic: Mapping[str, Any], name: str, where: Path, **rules: Any) -> Any:
    """The first value of procpar parameter ``name``, checked (:func:`checks.number`)."""
    rules.setdefault("fix", "copy the complete procpar of the run")
    return number({name: _first(pdic, name)}, name, where, **rules)


def _axis_for(group: list[str], pdic: Mapping[str, Any], where: Path, nucleus: str) -> Axis:
    name = group[0]
    raw = _floats(pdic, name, where)
    meta: dict[str, Any] = {"source": f"{where} array {','.join(group)}", "parameters": {
        p: list(pdic[p]["values"]) for p in group if p in pdic}}
    values = np.asarray(raw, dtype=float)
    if name in _DELAYS or name in _ECHOES or name.startswith("gzlvl") or name == "temp":
        role = "temperature" if name == "temp" else "delay"
        axis_values(values + (ZERO_CELSIUS_K if name == "temp" else 0.0), name, role,
                    f"{where} ({name})")
    if name in _DELAYS:
        return Axis(name, values, "s", "delay", meta)
    if name in _ECHOES:
        return Axis(name, values, "s", "echo", meta)
    if name == "temp":
        return Axis("temperature", values + ZERO_CELSIUS_K, "K", "temperature", meta)
    if name.startswith("gzlvl"):
        gcal = _number(pdic, "gcal", where, minimum=0, default=0.0)
        if gcal <= 0:
            return Axis(name, values, "", "gradient", meta | {"unit_note": "DAC units (no gcal)"})
        g = values * gcal * recipes.GAUSS_PER_CM_TO_T_PER_M
        big = _number(pdic, "del", where, minimum=0, default=0.0)
        small = _number(pdic, "gt1", where, minimum=0, default=0.0)
        gamma = recipes.GAMMA_RAD_S_T.get(nucleus)
        if big > 0 and small > 0 and gamma:
            params = {"big_delta": big, "little_delta": small,
                      "tau": _number(pdic, "tau", where, minimum=0, default=0.0),
                      "gamma": gamma}
            meta |= params | {"gradient_t_per_m": g.tolist()}
            return Axis("b", recipes.b_values(g, params), "s/m^2", "b_value", meta)
        return Axis(name, g, "T/m", "gradient", meta)
    meta["values"] = raw
    return Axis(name, np.arange(len(raw), dtype=float), "", "index", meta)


def _kind(axes: list[Axis], pdic: Mapping[str, Any]) -> str:
    """The kind whose axis roles the arrayed axes play (:func:`kinds_with_roles`); one
    arrayed delay is saturation recovery for a ``satrec`` sequence, inversion recovery for
    an ``invrec``/``t1`` sequence or one with a ``p1`` pulse, else unknown."""
    roles = [a.role for a in axes]
    candidates = kinds_with_roles(roles)
    if roles == ["delay"]:
        seq = str(_first(pdic, "seqfil", "")).lower()
        if "satrec" in seq:
            return "t1_sr"
        try:
            p1 = float(_first(pdic, "p1", 0) or 0)
        except (TypeError, ValueError):
            p1 = 0.0
        if "invrec" in seq or "t1" in seq or p1 > 0:
            return "t1_ir"
        return "unknown"
    return candidates[0] if len(candidates) == 1 else "unknown"


def _check_procpar(pdic: Mapping[str, Any], procpar: Path, fidfile: Path,
                   data: np.ndarray) -> None:
    """procpar ``np`` must describe the FIDs the ``fid`` file holds, and the data be finite."""
    np_ = _number(pdic, "np", procpar, integer=True, minimum=2 * MIN_DIRECT_POINTS,
                  fix="np counts the points of one FID (real + imaginary); copy the complete "
                      "procpar of the run")
    if np_ != 2 * data.shape[-1]:
        raise ParameterFileError(
            f"{procpar}: np = {np_} but {fidfile} holds FIDs of {2 * data.shape[-1]} values; "
            f"procpar and fid belong to different runs — copy the complete .fid folder"
        )
    if not np.isfinite(data).all():
        raise ReadError(f"{fidfile} holds NaN or infinite values; copy the data again")


def read(path: str | Path, **overrides: Any) -> Experiment:
    """Read a VnmrJ ``.fid`` folder with an arrayed parameter.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.fid`` folder (or its ``fid``/``procpar`` file).
    **overrides
        ``kind=`` sets the experiment kind; ``delays=`` replaces the values of a single
        arrayed axis (SI units); ``allow_partial=False`` makes a short fid an error.

    Returns
    -------
    Experiment

    Raises
    ------
    ReadError
        A subclass naming the file at fault and the fix.
    """
    recipes.merge_overrides(overrides, OPTIONS)
    folder = Path(path)
    if folder.is_file():
        folder = folder.parent
    procpar, fidfile = folder / "procpar", folder / "fid"
    if not (procpar.is_file() and fidfile.is_file()):
        raise NotAnExperimentError(f"{folder} needs both procpar and fid (VnmrJ .fid folder)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dic, data = ng.varian.read(str(folder), as_2d=True)
    except Exception as exc:
        raise ParameterFileError(
            f"{folder}: procpar/fid cannot be read by nmrglue ({exc!r}); copy the complete "
            f".fid folder from the spectrometer"
        ) from None
    pdic = dic["procpar"]
    data = np.atleast_2d(np.asarray(data, dtype=complex))
    _check_procpar(pdic, procpar, fidfile, data)
    ni = _number(pdic, "ni", procpar, integer=True, minimum=0, default=1)
    if ni > 1:
        raise ReadError(
            f"{procpar}: ni = {ni}, a true 2D experiment; nmrilt reads arrayed 1D "
            f"(pseudo-nD) experiments only"
        )
    nucleus = normalise_nucleus(str(_first(pdic, "tn", "")))
    array = str(_first(pdic, "array", "") or "")
    groups = split_array(array)
    axes = [_axis_for(g, pdic, procpar, nucleus) for g in groups]
    lengths = [len(a) for a in axes]
    n_full = int(np.prod(lengths)) if lengths else 1
    rows = data.shape[0]
    if rows < n_full:
        inner = int(np.prod(lengths[1:])) if len(lengths) > 1 else 1
        outer = rows // inner
        msg = f"{fidfile} holds {rows} FIDs but procpar array '{array}' promises {n_full}; "
        if outer == 0 or not overrides.get("allow_partial", True):
            raise TruncatedDataError(msg + "re-acquire or copy the complete fid")
        warnings.warn(msg + f"keeping the first {outer * inner}", ReadWarning, stacklevel=2)
        first = axes[0]
        axes[0] = Axis(first.name, first.values[:outer], first.unit, first.role, first.meta)
        lengths[0] = outer
    elif rows > n_full:
        raise ReadError(
            f"{fidfile} holds {rows} FIDs but procpar array '{array}' describes {n_full}; "
            f"check the array parameter in {procpar}"
        )
    n_kept = int(np.prod(lengths)) if lengths else 1
    data = data[:n_kept].reshape(*lengths, data.shape[-1]) if lengths else data[0]
    kind = _kind(axes, pdic)
    log.debug("%s: array %r -> kind %s", folder, array, kind)
    if overrides.get("delays") is not None:
        if len(axes) != 1:
            raise ReadError("delays= replaces a single arrayed axis; this experiment has "
                            f"{len(axes)}")
        vals = np.ravel(np.asarray(overrides["delays"], dtype=float))
        if len(vals) != len(axes[0]):
            raise ReadError(f"delays= has {len(vals)} values, the data have {len(axes[0])} rows")
        spec = KINDS.get(overrides.get("kind") or kind, KINDS["unknown"])
        name, role, unit = spec.delays_axis or ("delay", "delay", "s")
        axes[0] = Axis(name, vals, unit, role, {"source": "given values"})
    if overrides.get("kind"):
        kind = overrides["kind"]
    sw = _number(pdic, "sw", procpar, minimum=0, above=True)
    sfrq = _number(pdic, "sfrq", procpar, minimum=0, above=True, maximum=MAX_FREQUENCY_MHZ)
    reffrq = _number(pdic, "reffrq", procpar, minimum=0, maximum=MAX_FREQUENCY_MHZ,
                     default=0.0)
    bf1 = reffrq if reffrq > 0 else sfrq
    meta = {
        "vendor": "varian",
        "pulse_program": str(_first(pdic, "seqfil", "")),
        "nucleus": nucleus,
        "sfo1_mhz": sfrq,
        "bf1_mhz": bf1,
        "sw_hz": sw,
        "carrier_ppm": (sfrq - bf1) / bf1 * 1e6,
        "ns": _number(pdic, "nt", procpar, integer=True, minimum=0, default=0),
        "te_k": _number(pdic, "temp", procpar, minimum=-ZERO_CELSIUS_K,
                        default=float("nan")) + ZERO_CELSIUS_K,
        "date": str(_first(pdic, "time_run", "") or _first(pdic, "date", "")),
        "title": (folder / "text").read_text(errors="replace").strip()
        if (folder / "text").is_file() else "",
        "processed": False,
        "array": array,
        "raw": {"procpar": pdic, "fileheader": {k: v for k, v in dic.items() if k != "procpar"}},
    }
    n = data.shape[-1]
    direct = Axis("time", np.arange(n) / sw, "s", "direct",
                  {k: meta[k] for k in ("sw_hz", "sfo1_mhz", "bf1_mhz", "carrier_ppm")})
    files = [procpar, fidfile] + ([folder / "text"] if (folder / "text").is_file() else [])
    return Experiment(data=data, axes=tuple(axes) + (direct,), meta=meta, source=folder,
                      kind=kind, files=tuple(files))
