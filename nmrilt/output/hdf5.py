"""``result.h5``: :func:`write_h5` and :func:`read_result`.

The only module that imports h5py (inside its functions).  The file is written atomically
(:func:`nmrilt.output.files.atomic_path`).

``result.h5`` layout::

    /g /fit /residuals /data        float datasets (data and fit have unit noise variance)
    /scale                          what the processed data were divided by
    /convergence                    relative change per solver iteration
    /baseline                       fitted offset per identity slice (only when fitted)
    /tau_<i>   attrs name, unit, kernel, role     output grid of dimension i
    /t_<i>     attrs name, unit                   sampling of dimension i
    root attrs nmrilt_version, created (ISO 8601, UTC), source, kind, sigma, ndim,
               converged, iterations, message, elapsed_s,
               parameters (JSON: settings, processing choices, experiment meta),
               options (JSON: every resolved solver option),
               stats (JSON: solver diagnostics, incl. the effective weight alpha_00_used),
               warnings (JSON list),
               checksums (JSON: {file: SHA-256} of every raw file read)
    /uncertainty                    only when noise resampling ran (nmrilt.uncertainty):
        g_std                       standard deviation of g * scale over the resamples
        labels                      int, k on the support of peaks.csv component k, else 0
        attrs n_resamples, level, seed, elapsed_s, method,
              columns (JSON: per component, its interval columns of peaks.csv)

Results written before ``options``, ``stats`` and ``warnings`` were attributes (nmrilt
0.1) kept the options and warnings inside ``parameters``; :func:`read_result` reads both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ResultFileError
from ..model import Dimension, Result, Uncertainty, jsonable
from .files import atomic_path

__all__ = ["read_result", "write_h5"]

_ARRAYS = ("g", "fit", "residuals", "data", "scale", "convergence")


def write_h5(result: Result, path: str | Path) -> Path:
    """Write ``result.h5`` atomically (layout in the module docstring).

    Parameters
    ----------
    result : Result
        What to write; every field reaches the file.
    path : path
        The file to create or replace.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        for name in _ARRAYS:
            f.create_dataset(name, data=np.asarray(getattr(result, name), float))
        if result.baseline is not None:
            f.create_dataset("baseline", data=np.asarray(result.baseline, float))
        for i, (d, tau, t) in enumerate(zip(result.dims, result.tau, result.t)):
            ds = f.create_dataset(f"tau_{i}", data=tau)
            ds.attrs.update(name=d.name, unit=d.unit, kernel=d.kernel, role=d.role)
            ts = f.create_dataset(f"t_{i}", data=t)
            ts.attrs.update(name=d.t_name, unit=d.t_unit)
        f.attrs.update(
            nmrilt_version=result.version,
            created=result.created,
            source=result.source,
            kind=result.kind,
            sigma=result.sigma,
            parameters=json.dumps(jsonable(result.parameters)),
            checksums=json.dumps(jsonable(result.checksums)),
            converged=bool(result.converged),
            iterations=int(result.iterations),
            message=result.message,
            elapsed_s=float(result.elapsed_s),
            options=json.dumps(jsonable(result.options)),
            stats=json.dumps(jsonable(result.stats)),
            warnings=json.dumps(list(result.warnings)),
        )
        f.attrs["ndim"] = len(result.dims)
        if result.uncertainty is not None:
            _write_uncertainty(f, result.uncertainty)
    return Path(path)


def _write_uncertainty(f: Any, unc: Uncertainty) -> None:
    """The ``/uncertainty`` group (layout in the module docstring)."""
    grp = f.create_group("uncertainty")
    grp.create_dataset("g_std", data=np.asarray(unc.g_std, float))
    grp.create_dataset("labels", data=np.asarray(unc.labels, np.int32))
    grp.attrs.update(n_resamples=int(unc.n_resamples), level=float(unc.level),
                     seed=int(unc.seed), elapsed_s=float(unc.elapsed_s), method=unc.method,
                     columns=json.dumps(jsonable(list(unc.columns))))


def _read_uncertainty(f: Any) -> Uncertainty | None:
    """``/uncertainty`` back as an :class:`Uncertainty` (None when absent)."""
    if "uncertainty" not in f:
        return None
    grp = f["uncertainty"]
    a = grp.attrs
    return Uncertainty(
        g_std=grp["g_std"][()], labels=grp["labels"][()],
        columns=tuple(json.loads(a["columns"])), n_resamples=int(_scalar(a["n_resamples"])),
        level=float(_scalar(a["level"])), seed=int(_scalar(a["seed"])),
        elapsed_s=float(_scalar(a["elapsed_s"])), method=str(a["method"]))


def _scalar(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def read_result(path: str | Path) -> Result:
    """Read a ``result.h5`` (or the folder holding it) back into a :class:`Result`.

    Raises
    ------
    ResultFileError
        If the file is missing or not an nmrilt result (an ``OutputError``).
    """
    import h5py

    from ..solver import Inversion  # the solver package loads scipy: only when reading

    path = Path(path)
    if path.is_dir():
        path = path / "result.h5"
    if not path.is_file():
        raise ResultFileError(f"{path} does not exist; give the result.h5 written by `nmrilt run`")
    try:
        with h5py.File(path, "r") as f:
            if "nmrilt_version" not in f.attrs:
                raise ResultFileError(f"{path} is an HDF5 file but not an nmrilt result")
            a = f.attrs
            dims, taus, ts = [], [], []
            for i in range(int(a["ndim"])):
                tau, t = f[f"tau_{i}"], f[f"t_{i}"]
                ta = {k: str(v) for k, v in tau.attrs.items()}
                tt = {k: str(v) for k, v in t.attrs.items()}
                ppm = tau[()] if ta["unit"] == "ppm" else None
                dims.append(Dimension(ta["name"], ta["unit"], ta["role"], ta["kernel"],
                                      tt["name"], tt["unit"], ppm))
                taus.append(tau[()])
                ts.append(t[()])
            arrays = {k: f[k][()] for k in _ARRAYS}
            baseline = f["baseline"][()] if "baseline" in f else None
            parameters = json.loads(a["parameters"])
            # nmrilt 0.1 kept the solver options and the warnings inside ``parameters``
            options = json.loads(a["options"]) if "options" in a else parameters.pop("solver", {})
            warnings = (json.loads(a["warnings"]) if "warnings" in a
                        else parameters.pop("warnings", []))
            inversion = Inversion(
                g=arrays["g"], fit=arrays["fit"], residuals=arrays["residuals"],
                data=arrays["data"], t=tuple(ts), tau=tuple(taus),
                kernels=tuple(d.kernel for d in dims),
                iterations=int(_scalar(a.get("iterations", 0))),
                converged=bool(_scalar(a.get("converged", False))),
                message=str(a.get("message", "")),
                convergence=arrays["convergence"], baseline=baseline, options=options,
                elapsed_s=float(_scalar(a.get("elapsed_s", 0.0))),
                stats=json.loads(a["stats"]) if "stats" in a else {},
            )
            return Result(
                inversion=inversion, dims=tuple(dims), scale=arrays["scale"],
                sigma=float(a["sigma"]), parameters=parameters, warnings=tuple(warnings),
                source=str(a["source"]), kind=str(a["kind"]), created=str(a["created"]),
                version=str(a["nmrilt_version"]), checksums=json.loads(a["checksums"]),
                path=path.parent, uncertainty=_read_uncertainty(f),
            )
    except OSError as exc:
        raise ResultFileError(f"{path} cannot be read as HDF5: {exc}") from None
