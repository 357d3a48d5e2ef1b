"""TopSpin processed spectra (``pdata/N``: ``1r`` or ``2rr`` with ``procs``/``proc2s``).

Read through ``nmrglue.bruker.read_pdata`` (submatrix untiling, 2^NC_proc scaling).
TopSpin pads F1 of a pseudo-2D to a power of two (SI(F1) = 16 for TD1 = 10): rows beyond
TD1 and beyond the FIDs actually written in ``ser`` are dropped.  The direct axis has role
``chemical_shift`` and ppm values ``OFFSET − i·SW_p/(SF·SI)`` (decreasing).

:func:`vendor_processing` turns the operator's processing parameters of a procno
(``PHC0``/``PHC1``, ``WDW``/``LB``) into neutral metadata for raw data
(``Experiment.meta["vendor_processing"]``), in nmrilt's phase convention.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import nmrglue as ng
import numpy as np

from nmrilt.errors import NotAnExperimentError, ParameterFileError, ReadError

from .bruker_params import experiment_meta, padded_fid_bytes, read_jcamp
from .experiment import Axis, Experiment

#: TopSpin's window codes (procs WDW) and nmrilt's names for them.
WINDOWS = {0: "none", 1: "exponential", 2: "gaussian", 3: "sine", 4: "squared sine",
           5: "trapezoid", 6: "user", 7: "sinc", 8: "squared sinc", 9: "traf", 10: "trafs"}
#: procs PH_mod: 0 the 2D transform (xf2) applies no phase, 1 it applies PHC0/PHC1.
PH_MOD_PK = 1
#: Procnos nmrilt wrote itself are marked by this file (nmrilt.output.topspin).
NMRILT_MARKER = "nmrilt.json"


def operator_procnos(expdir: Path, holding: str) -> list[int]:
    """The procnos of ``expdir`` holding the file ``holding`` (``procs``, ``2rr``, ``1r``),
    lowest first, leaving out those nmrilt wrote (its TopSpin view, marked by
    :data:`NMRILT_MARKER`)."""
    pdata = expdir / "pdata"
    if not pdata.is_dir():
        return []
    return sorted(int(p.name) for p in pdata.glob("*")
                  if p.name.isdigit() and (p / holding).is_file()
                  and not (p / NMRILT_MARKER).exists())


def vendor_processing(expdir: Path, nd: bool, files: list[Path] | None = None,
                      notes: list[str] | None = None) -> dict[str, Any] | None:
    """The operator's phase and window of the lowest procno, as neutral metadata.

    TopSpin phases the spectrum in its own order (ppm decreasing, index ``i`` of ``SI``)
    by ``PHC0 + PHC1·i/SI`` with the opposite sign to nmrglue's ``ps``; on nmrilt's
    spectrum (``fftshift(fft(fid))``, ppm increasing, digital filter removed) that is
    ``p0 = −(PHC0 + PHC1)``, ``p1 = PHC1`` (checked on the 15N-XSTE set of
    ``docs/real_data.md``: PHC0 = 13.2°, PHC1 = 0 reproduces the rows of its ``2rr`` up to
    scale and a constant).  The phase is kept when the operator evidently used it: a 1D
    experiment, or a 2D one whose procs says the transform phases (``PH_mod = 1``); the
    stale PHC0 of an unprocessed pseudo-2D (``PH_mod = 0``) is not the operator's phase.
    The line broadening is kept for an exponential window (``WDW = 1``).

    Parameters
    ----------
    expdir : pathlib.Path
        The EXPNO folder.
    nd : bool
        True for a pseudo-nD experiment (``ser``).
    files, notes : list, optional
        The procs file read is appended to ``files``; a procs file that cannot be read
        adds a line to ``notes`` (the raw data are still read).

    Returns
    -------
    dict or None
        ``{"procno", "phase_deg": (p0, p1) or None, "phase_source", "window",
        "line_broadening_hz": float or None, "line_broadening_source"}``; None when no
        procno has a procs file.
    """
    pdata = expdir / "pdata"
    procnos = operator_procnos(expdir, "procs")
    if not procnos:
        return None
    path = pdata / str(procnos[0]) / "procs"
    try:
        procs = read_jcamp(path)
        phc0, phc1 = float(procs["PHC0"]), float(procs["PHC1"])
        wdw, lb = int(procs.get("WDW", 0)), float(procs.get("LB", 0.0))
        ph_mod = int(procs.get("PH_mod", PH_MOD_PK))
    except (ParameterFileError, KeyError, TypeError, ValueError) as exc:
        if notes is not None:
            notes.append(f"{path} unreadable ({exc}): TopSpin's phase and window not used")
        return None
    if files is not None:
        files.append(path)
    window = WINDOWS.get(wdw, f"WDW {wdw}")
    phased = ph_mod == PH_MOD_PK or not nd
    finite = np.isfinite([phc0, phc1]).all()
    where = f"pdata/{procnos[0]}"
    return {
        "procno": procnos[0],
        "phase_deg": (-(phc0 + phc1), phc1) if phased and finite else None,
        "phase_source": f"TopSpin procs PHC0 = {phc0:g}, PHC1 = {phc1:g} ({where})",
        "window": window,
        "line_broadening_hz": lb if window == "exponential" and np.isfinite(lb) and lb >= 0
        else None,
        "line_broadening_source": f"TopSpin procs LB = {lb:g} Hz, WDW = {wdw} ({where})",
    }


def read_pdata(expdir: Path, procno: int, dic: Mapping[str, Any], files: list[Path],
               pprog: str, recipe: Any, indirect: list[tuple[str, int]],
               axes: list[Axis]) -> Experiment:
    """Processed spectra of ``expdir/pdata/procno`` with the raw data's indirect ``axes``.

    Raises
    ------
    NotAnExperimentError
        If the pdata folder does not exist.
    ParameterFileError
        If ``1r``/``2rr`` or a procs file is missing or unreadable.
    ReadError
        For processed pseudo-3D data (``3rrr``), which are not supported.
    """
    pdir = expdir / "pdata" / str(procno)
    if not pdir.is_dir():
        raise NotAnExperimentError(
            f"{pdir} does not exist; process the data in TopSpin first or read the raw "
            f"data (omit pdata=)"
        )
    if len(indirect) > 1:
        raise ReadError(
            f"{pdir}: processed pseudo-3D data (3rrr) are not supported; read the raw ser "
            f"(omit pdata=) and let nmrilt process it"
        )
    names = ["2rr", "proc2s", "procs"] if indirect else ["1r", "procs"]
    for name in names:
        if not (pdir / name).is_file():
            raise ParameterFileError(
                f"{pdir / name} not found; run xf2/ft in TopSpin so that {pdir} holds "
                f"{names[0]} and its procs files, or read the raw data (omit pdata=)"
            )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pdic, data = ng.bruker.read_pdata(str(pdir), read_acqus=False)
    except Exception as exc:  # nmrglue raises many types on damaged files
        raise ParameterFileError(
            f"{pdir}: processed data cannot be read ({exc!r}); reprocess in TopSpin or read "
            f"the raw data (omit pdata=)"
        ) from None
    files.extend(pdir / n for n in names)
    procs = pdic["procs"]
    si = int(procs["SI"])
    data = np.asarray(data, dtype=float)
    if indirect:
        data = data.reshape(-1, si)
        rows = min(indirect[0][1], data.shape[0])
        if (expdir / "ser").is_file():
            rows = min(rows, (expdir / "ser").stat().st_size // padded_fid_bytes(dic["acqus"]))
        data = data[:rows]
        axes = [replace(axes[0], values=axes[0].values[:rows])]
    else:
        data = np.ravel(data)
    sf, sw_p = float(procs["SF"]), float(procs["SW_p"])
    ppm = float(procs["OFFSET"]) - np.arange(si) * sw_p / sf / si
    meta = experiment_meta(dic, pprog, expdir, procno, files)
    meta.update(processed=True, procno=procno, raw=dict(meta["raw"]) | {"procs": pdic})
    direct = Axis("ppm", ppm, "ppm", "chemical_shift", {"sf_mhz": sf, "sw_p_hz": sw_p, "si": si})
    return Experiment(
        data=data, axes=tuple(axes) + (direct,), meta=meta, source=pdir,
        kind=recipe.kind if recipe else "unknown", files=tuple(dict.fromkeys(files)),
    )
