"""TopSpin processed spectra (``pdata/N``: ``1r`` or ``2rr`` with ``procs``/``proc2s``).

Read through ``nmrglue.bruker.read_pdata`` (submatrix untiling, 2^NC_proc scaling).
TopSpin pads F1 of a pseudo-2D to a power of two (SI(F1) = 16 for TD1 = 10): rows beyond
TD1 and beyond the FIDs actually written in ``ser`` are dropped.  The direct axis has role
``chemical_shift`` and ppm values ``OFFSET − i·SW_p/(SF·SI)`` (decreasing).
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

from .bruker_params import experiment_meta, padded_fid_bytes
from .experiment import Axis, Experiment


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
