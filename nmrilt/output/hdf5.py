"""``result.h5``: :func:`write_h5` and :func:`read_result`.

The only module that imports h5py (inside its functions).  The file is written atomically
(:func:`nmrilt.output.files.atomic_path`).

``result.h5`` layout::

    /g /fit /residuals /data        float datasets (data and fit have unit noise variance)
    /scale                          what the processed data were divided by
    /convergence                    relative change per solver iteration
    /tau_<i>   attrs name, unit, kernel, role     output grid of dimension i
    /t_<i>     attrs name, unit                   sampling of dimension i
    root attrs nmrilt_version, created (ISO 8601, UTC), source, kind, sigma,
               converged, iterations, message, elapsed_s,
               parameters (JSON: settings, processing choices, solver options),
               checksums (JSON: {file: SHA-256} of every raw file read)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import OutputError
from ..model import Dimension, Result
from .files import atomic_path


def write_h5(result: Result, path: str | Path) -> Path:
    """Write ``result.h5`` atomically (layout in the module docstring)."""
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        for name in ("g", "fit", "residuals", "data", "scale", "convergence"):
            f.create_dataset(name, data=np.asarray(getattr(result, name), float))
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
            parameters=json.dumps(result.parameters),
            checksums=json.dumps(result.checksums),
            **{k: v for k, v in result.info.items()},
        )
        f.attrs["ndim"] = len(result.dims)
    return Path(path)


def read_result(path: str | Path) -> Result:
    """Read a ``result.h5`` (or the folder holding it) back into a :class:`Result`.

    Raises
    ------
    OutputError
        If the file is missing or not an nmrilt result.
    """
    import h5py

    path = Path(path)
    if path.is_dir():
        path = path / "result.h5"
    if not path.is_file():
        raise OutputError(f"{path} does not exist; give the result.h5 written by `nmrilt run`")
    try:
        with h5py.File(path, "r") as f:
            if "nmrilt_version" not in f.attrs:
                raise OutputError(f"{path} is an HDF5 file but not an nmrilt result")
            a = f.attrs
            ndim = int(a["ndim"])
            dims, taus, ts = [], [], []
            for i in range(ndim):
                tau, t = f[f"tau_{i}"], f[f"t_{i}"]
                ta = {k: str(v) for k, v in tau.attrs.items()}
                tt = {k: str(v) for k, v in t.attrs.items()}
                ppm = tau[()] if ta["unit"] == "ppm" else None
                dims.append(Dimension(ta["name"], ta["unit"], ta["role"], ta["kernel"],
                                      tt["name"], tt["unit"], ppm))
                taus.append(tau[()])
                ts.append(t[()])
            arrays = {k: f[k][()] for k in ("g", "fit", "residuals", "data", "scale",
                                            "convergence")}
            info = {k: a[k].item() if hasattr(a[k], "item") else a[k]
                    for k in ("converged", "iterations", "message", "elapsed_s") if k in a}
            return Result(
                **arrays, t=tuple(ts), tau=tuple(taus), dims=tuple(dims),
                sigma=float(a["sigma"]), parameters=json.loads(a["parameters"]), info=info,
                source=str(a["source"]), kind=str(a["kind"]), created=str(a["created"]),
                version=str(a["nmrilt_version"]), checksums=json.loads(a["checksums"]),
                path=path.parent,
            )
    except OSError as exc:
        raise OutputError(f"{path} cannot be read as HDF5: {exc}") from None
