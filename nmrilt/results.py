"""Results: the :class:`Result` object, ``result.h5`` / ``peaks.csv`` / ``report.txt``.

The only module that imports h5py.  Every file is written atomically: to a temporary
name in the same folder, then :func:`os.replace` — a reader never sees a partial file.

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

import contextlib
import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .errors import OutputError
from .model import Dimension, Problem, Result
from .processing import ppm_segments


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def sha256(path: str | Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (opened read-only)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def checksums(files: tuple[Path, ...] | list[Path], root: Path | None = None) -> dict[str, str]:
    """``{name: sha256}`` of the given files, names relative to ``root`` when possible."""
    out = {}
    for f in files:
        f = Path(f)
        if not f.is_file():
            continue
        try:
            name = str(f.relative_to(root)) if root else str(f)
        except ValueError:
            name = str(f)
        out[name] = sha256(f)
    return out


def from_inversion(
    problem: Problem,
    inversion: Any,
    settings: dict[str, Any] | None = None,
    sums: dict[str, str] | None = None,
) -> Result:
    """Combine a :class:`~nmrilt.processing.Problem` and the solver's result."""
    parameters = {
        "settings": _jsonable(settings or {}),
        "choices": _jsonable(problem.choices),
        "solver": _jsonable(getattr(inversion, "options", {})),
        "meta": _jsonable(problem.meta),
    }
    info = {
        "converged": bool(getattr(inversion, "converged", False)),
        "iterations": int(getattr(inversion, "iterations", 0)),
        "message": str(getattr(inversion, "message", "")),
        "elapsed_s": float(getattr(inversion, "elapsed_s", 0.0)),
    }
    stats = getattr(inversion, "stats", {}) or {}
    for key in ("alpha_choice", "alpha_00_used", "residual_rms", "solver_path"):
        if key in stats:  # how the global weight was chosen, for h5 attributes and report
            info[key] = stats[key]
    conv = getattr(inversion, "convergence", None)
    return Result(
        g=np.asarray(inversion.g, float),
        fit=np.asarray(inversion.fit, float),
        residuals=np.asarray(inversion.residuals, float),
        data=np.asarray(problem.data, float),
        t=tuple(np.asarray(x, float) for x in problem.t),
        tau=tuple(np.asarray(x, float) for x in problem.tau),
        dims=problem.dims,
        scale=np.asarray(problem.scale, float),
        sigma=float(problem.sigma),
        parameters=parameters,
        info=info,
        convergence=np.asarray(conv if conv is not None else [], float),
        source=str(problem.source),
        kind=problem.kind,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        checksums=dict(sums or {}),
    )


# --- atomic writing ------------------------------------------------------------------------------


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path``.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Write a text file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


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
                    for k in ("converged", "iterations", "message", "elapsed_s",
                              "alpha_choice", "alpha_00_used", "residual_rms", "solver_path")
                    if k in a}
            return Result(
                **arrays, t=tuple(ts), tau=tuple(taus), dims=tuple(dims),
                sigma=float(a["sigma"]), parameters=json.loads(a["parameters"]), info=info,
                source=str(a["source"]), kind=str(a["kind"]), created=str(a["created"]),
                version=str(a["nmrilt_version"]), checksums=json.loads(a["checksums"]),
                path=path.parent,
            )
    except OSError as exc:
        raise OutputError(f"{path} cannot be read as HDF5: {exc}") from None


# --- peaks / components -----------------------------------------------------------------------


#: A point belongs to a component when ``|g|`` exceeds this fraction of ``max|g|``.
SUPPORT_FRACTION = 0.05


def components(
    result: Result, threshold: float = 0.15, with_minor: bool = False
) -> list[dict[str, Any]] | tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Connected same-sign components of ``g``, the minor ones left out.

    A component is a connected set of same-sign points with ``|g|`` above
    :data:`SUPPORT_FRACTION` (5 %) of ``max|g|`` of its chemical-shift region (a run of the
    ppm axis between gaps, see :func:`nmrilt.processing.ppm_segments`), so weak lines
    count.  It is *listed* when its ``|integral|`` reaches ``threshold`` (default 15 %) of
    the largest ``|integral|`` in its group: the same chemical-shift region and the same
    slice of any other identity axis (summed region, temperature, index); the whole map
    when there is no identity axis.
    Signs are kept: negative components are real in inversion-recovery-like or exchange
    data; the threshold is what keeps regularisation ripples (typically a few per cent,
    negative next to a strong positive peak) out of ``peaks.csv``.

    Components connect across inverted dimensions and along a chemical-shift point axis;
    other identity dimensions (regions, temperatures, indices) are separated slice by slice.
    The integral counts the component's points above the support level only, so broad peaks
    lose their low flanks (10-20 % in the examples); for amplitudes, sum ``g * scale`` over
    a region of ``result.h5`` instead.

    Parameters
    ----------
    result : Result
    threshold : float
        Fraction of the strongest component of the same region a component must reach.
    with_minor : bool
        Also return the components left out.

    Returns
    -------
    list of dict, or (listed, minor) when ``with_minor``
        Sorted by decreasing ``|integral|``; keys ``sign``, ``integral`` (spectrum units,
        ``sum(g * scale)``), ``fraction`` (of the total ``|integral|``), ``group`` (the
        threshold group: ppm-region index, then the slice index along any other identity
        axis, joined by ``/``), and per dimension ``<name>_mean_log10_<unit>`` and
        ``<name>_<unit>`` (geometric mean) for inverted dimensions or ``<name>_<unit>``
        (weighted mean position) for identity ones.
    """
    from scipy import ndimage

    g = np.asarray(result.g, float)
    gs = g * np.broadcast_to(result.scale, g.shape) if result.scale.size > 1 else g * result.scale
    peak = float(np.max(np.abs(g))) if g.size else 0.0
    if peak == 0.0:
        return ([], []) if with_minor else []
    structure = ndimage.generate_binary_structure(g.ndim, g.ndim)
    for ax, d in enumerate(result.dims):
        if not d.inverted and d.name != "shift":
            sl = [slice(None)] * g.ndim
            sl[ax] = [0, 2]
            structure[tuple(sl)] = False
    total = float(np.sum(np.abs(gs)))
    shift_ax = next((i for i, d in enumerate(result.dims) if d.name == "shift"), None)
    segments = ppm_segments(result.tau[shift_ax]) if shift_ax is not None else [(0, 1)]
    comps = []
    for region, (a, b) in enumerate(segments):
        sl = [slice(None)] * g.ndim
        if shift_ax is not None:
            sl[shift_ax] = slice(a, b)
        gr, gsr = g[tuple(sl)], gs[tuple(sl)]
        taus = [tau[a:b] if i == shift_ax else tau for i, tau in enumerate(result.tau)]
        level = SUPPORT_FRACTION * float(np.max(np.abs(gr)))  # per region: weak lines count
        if level == 0.0:
            continue
        for sign in (1, -1):
            labels, n = ndimage.label(sign * gr > level, structure=structure)
            for lab in range(1, n + 1):
                sel = labels == lab
                w = np.abs(gr) * sel
                wsum = w.sum()
                row: dict[str, Any] = {"sign": "+" if sign > 0 else "-",
                                       "integral": float(gsr[sel].sum())}
                row["fraction"] = abs(row["integral"]) / total if total else 0.0
                for ax, (d, tau) in enumerate(zip(result.dims, taus)):
                    marg = w.sum(axis=tuple(i for i in range(g.ndim) if i != ax))
                    unit = d.unit.replace("^", "").replace("/", "_per_") or "index"
                    if d.inverted:
                        mlog = float(np.sum(marg * np.log10(tau)) / wsum)
                        row[f"{d.name}_mean_log10_{unit}"] = mlog
                        row[f"{d.name}_{unit}"] = 10.0**mlog
                    else:
                        row[f"{d.name}_{unit}"] = float(np.sum(marg * tau) / wsum)
                # threshold group: the ppm region, and the slice of any other identity axis
                # (summed regions, temperatures, indices; components never span slices)
                key = [region]
                for ax, d in enumerate(result.dims):
                    if not d.inverted and ax != shift_ax:
                        other = tuple(i for i in range(g.ndim) if i != ax)
                        key.append(int(np.flatnonzero(sel.any(axis=other))[0]))
                row["group"] = "/".join(str(k) for k in key)
                comps.append(row)
    comps.sort(key=lambda r: -abs(r["integral"]))
    strongest: dict[str, float] = {}
    for r in comps:
        strongest[r["group"]] = max(strongest.get(r["group"], 0.0), abs(r["integral"]))
    listed = [r for r in comps if abs(r["integral"]) >= threshold * strongest[r["group"]]]
    minor = [r for r in comps if abs(r["integral"]) < threshold * strongest[r["group"]]]
    for i, r in enumerate(listed, 1):
        r["component"] = i
    return (listed, minor) if with_minor else listed


def write_peaks_csv(result: Result, path: str | Path, threshold: float = 0.15) -> Path:
    """Write ``peaks.csv`` (one row per component, see :func:`components`) atomically."""
    rows = components(result, threshold)
    keys = ["component", "sign", "integral", "fraction"]
    for r in rows:
        keys += [k for k in r if k not in keys]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return write_text(path, buf.getvalue())


def report_text(result: Result, threshold: float = 0.15) -> str:
    """Human-readable summary of a result."""
    p = result.parameters
    meta = p.get("meta", {})
    lines = [
        f"nmrilt {result.version} result, created {result.created}",
        f"source:        {result.source}",
        f"kind:          {result.kind}   pulse program: {meta.get('pulse_program', '?')}"
        f"   nucleus: {meta.get('nucleus', '?')}",
        f"data shape:    {result.data.shape}   distribution shape: {result.g.shape}",
        "",
        "dimensions:",
    ]
    for i, (d, t, tau) in enumerate(zip(result.dims, result.t, result.tau)):
        lines.append(
            f"  {i}: {d.name} [{d.unit}] kernel {d.kernel}; sampled {d.t_name} "
            f"{t.min():.4g}..{t.max():.4g} {d.t_unit} ({t.size}); grid {tau.min():.4g}.."
            f"{tau.max():.4g} ({tau.size})"
        )
    res = result.residuals
    lines += [
        "",
        f"noise sigma per spectrum point: {result.sigma:.4g}",
        f"solver: converged={result.info.get('converged')} iterations="
        f"{result.info.get('iterations')} time={result.info.get('elapsed_s', 0):.1f} s "
        f"message: {result.info.get('message', '')}",
        f"regularization: alpha_choice={result.info.get('alpha_choice', '?')} "
        f"alpha_00 used {result.info.get('alpha_00_used', float('nan')):.4g} "
        f"(solver path {result.info.get('solver_path', '?')})",
        f"residuals (unit-noise data): rms {np.sqrt(np.mean(res**2)):.3f}, "
        f"mean {np.mean(res):.3f}  (rms near 1 means the fit reaches the noise)",
        "",
        "processing choices:",
    ]
    for k, v in p.get("choices", {}).items():
        lines.append(f"  {k}: {json.dumps(v)}")
    if p.get("warnings"):
        lines += ["", "warnings:"] + [f"  {w}" for w in p["warnings"]]
    listed, minor = components(result, threshold, with_minor=True)
    lines += ["", f"components (connected |g| > {SUPPORT_FRACTION:g} max|g|; listed when "
              f"|integral| >= {threshold:g} x the strongest of the same ppm region):"]
    for c in listed:
        pos = ", ".join(f"{k}={v:.4g}" for k, v in c.items()
                        if k not in ("component", "sign", "integral", "fraction", "group")
                        and "mean_log10" not in k)
        lines.append(f"  {c['component']:>2} {c['sign']} integral {c['integral']:.4g} "
                     f"({100 * c['fraction']:.1f} %)  {pos}")
    if minor:
        big = max(minor, key=lambda c: c["fraction"])
        lines.append(f"  {len(minor)} more below threshold (not in peaks.csv; largest "
                     f"{big['sign']}{100 * big['fraction']:.1f} % of the total)")
    else:
        lines.append("  none below threshold")
    lines += ["", "input files (SHA-256):"]
    lines += [f"  {v}  {k}" for k, v in result.checksums.items()]
    return "\n".join(lines) + "\n"


def write_report(result: Result, path: str | Path, threshold: float = 0.15) -> Path:
    """Write ``report.txt`` atomically."""
    return write_text(path, report_text(result, threshold))
