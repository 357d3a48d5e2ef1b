"""Conventional exponential fits per peak region, as TopSpin's relaxation module does them.

The inversion gives distributions; users check them against the fit they know.  For each
region of a pseudo-2D result (a run of the chemical-shift axis between gaps, a summed
region, or a slice of another identity axis) the data are summed over the region's
columns, in spectrum units, and fitted with

========================  ==============================================  ==============
kernel                    mono                                            bi
========================  ==============================================  ==============
``inversion_recovery``    ``a - b exp(-t/T1)``                            ``a - b1 e1 - b2 e2``
``saturation_recovery``   ``a - b exp(-t/T1)``                            ``a - b1 e1 - b2 e2``
``exponential``           ``a exp(-t/T2)``                                ``a1 e1 + a2 e2``
``diffusion``             ``a exp(-b D)`` (Stejskal-Tanner)               ``a1 e1 + a2 e2``
========================  ==============================================  ==============

by unweighted least squares (a grid search over the time constants with the amplitudes
solved linearly, then Levenberg-Marquardt on all parameters).  Standard errors come from
the Jacobian at the optimum scaled by the residual variance ``RSS / (N - p)``, as in
TopSpin and ``scipy.optimize.curve_fit``.  The bi-exponential result is reported only when
justified: an F-test against the mono fit at p < :data:`F_TEST_P`, both time constants
at least :data:`MIN_RATIO` apart and each determined to better than
:data:`MAX_RELATIVE_SE` with a significant amplitude.

:func:`crosscheck` returns one row per region; :func:`crosscheck_csv` writes them and
:func:`peak_columns` is the ``peaks.csv`` column provider (:mod:`nmrilt.output.columns`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .model import Result
from .runs import ppm_segments

__all__ = [
    "F_TEST_P",
    "MAX_RELATIVE_SE",
    "MIN_RATIO",
    "MODELS",
    "ExpFit",
    "Series",
    "crosscheck",
    "crosscheck_csv",
    "fit_exponentials",
    "fit_series",
    "peak_columns",
    "region_series",
]

#: Bi-exponential kept when the F-test p-value against mono is below this ...
F_TEST_P = 0.01
#: ... the two time constants differ at least by this factor ...
MIN_RATIO = 1.5
#: ... and each time constant's standard error is below this fraction of it.
MAX_RELATIVE_SE = 0.5
#: Kernels with a conventional fit; the value: whether the model has the offset ``a``.
MODELS: dict[str, bool] = {
    "inversion_recovery": True,
    "saturation_recovery": True,
    "exponential": False,
    "diffusion": False,
}
_GRID_MONO, _GRID_BI = 160, 48


@dataclass(frozen=True)
class ExpFit:
    """One least-squares exponential fit.

    Attributes
    ----------
    kernel : str
        Kernel whose conventional model was fitted (:data:`MODELS`).
    values, values_se : numpy.ndarray
        Time constants (s) or diffusion coefficients (m^2/s), ascending, and their
        standard errors.
    amplitudes, amplitudes_se : numpy.ndarray
        Amplitude of each exponential, in data units: ``b_k`` of the recovery models
        (``a - sum b_k e_k``; ``b = 2a`` for a perfect inversion), ``a_k`` of the decays.
    offset, offset_se : float
        ``a`` of the recovery models; NaN for the decays.
    rss : float
        Residual sum of squares.
    dof : int
        Points minus parameters.
    ok : bool
        The optimiser converged inside the bounds (two decades beyond the sampled range)
        and the covariance is regular; otherwise the values are not determined by the data.
    """

    kernel: str
    values: np.ndarray
    values_se: np.ndarray
    amplitudes: np.ndarray
    amplitudes_se: np.ndarray
    offset: float
    offset_se: float
    rss: float
    dof: int
    ok: bool

    @property
    def n_exp(self) -> int:
        """Number of exponentials."""
        return int(self.values.size)


def _basis(t: np.ndarray, values: np.ndarray, kernel: str) -> np.ndarray:
    """``exp(-t/tau)`` (relaxation) or ``exp(-t D)`` (diffusion), shape (..., len(t), k)."""
    v = np.asarray(values, float)[..., None, :]
    tt = np.asarray(t, float)[:, None]
    return np.exp(-tt * v) if kernel == "diffusion" else np.exp(-tt / v)


def _design(t: np.ndarray, values: np.ndarray, kernel: str) -> np.ndarray:
    """Columns of the linear amplitudes: ``[1, -e_1, ...]`` (recovery) or ``[e_1, ...]``."""
    e = _basis(t, values, kernel)
    if MODELS[kernel]:
        ones = np.ones(e.shape[:-1] + (1,))
        return np.concatenate([ones, -e], axis=-1)
    return e


def _grid(t: np.ndarray, kernel: str, n: int) -> np.ndarray:
    """Candidate time constants a decade beyond the sampled range each way."""
    pos = t[t > 0]
    lo, hi = float(pos.min()), float(t.max())
    if kernel == "diffusion":
        return np.geomspace(0.1 / hi, 10.0 / lo, n)
    return np.geomspace(lo / 10.0, 10.0 * hi, n)


def _rss_of(designs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Residual sum of squares of the linear fits of ``y`` on each stacked design."""
    q, _ = np.linalg.qr(designs)
    proj = np.einsum("knp,n->kp", q, y)
    return float(y @ y) - np.sum(proj**2, axis=1)


def _start(t: np.ndarray, y: np.ndarray, kernel: str, n_exp: int) -> np.ndarray:
    """Time constants minimising the RSS on a grid (amplitudes solved linearly)."""
    if n_exp == 1:
        grid = _grid(t, kernel, _GRID_MONO)
        rss = _rss_of(_design(t, grid[:, None], kernel), y)
        return grid[[int(np.argmin(rss))]]
    grid = _grid(t, kernel, _GRID_BI)
    i, j = np.triu_indices(grid.size, k=2)  # at least two grid steps apart
    pairs = np.stack([grid[i], grid[j]], axis=1)
    rss = _rss_of(_design(t, pairs, kernel), y)
    return pairs[int(np.argmin(rss))]


def fit_exponentials(t: np.ndarray, y: np.ndarray, kernel: str, n_exp: int = 1) -> ExpFit:
    """Least-squares fit of ``n_exp`` exponentials of the conventional model of ``kernel``.

    Parameters
    ----------
    t : numpy.ndarray
        Delays, echo times (s) or b-values (s/m^2).
    y : numpy.ndarray
        Signal at ``t`` (any units).
    kernel : str
        One of :data:`MODELS`.
    n_exp : int
        1 or 2.

    Returns
    -------
    ExpFit

    Raises
    ------
    ValueError
        Unknown kernel, or fewer points than parameters plus one.
    """
    from scipy.optimize import least_squares

    if kernel not in MODELS:
        raise ValueError(f"no conventional exponential model for kernel {kernel!r}")
    t = np.asarray(t, float)
    y = np.asarray(y, float)
    n_lin = n_exp + int(MODELS[kernel])
    n_par = n_lin + n_exp
    if t.size < n_par + 1 or not np.any(t > 0):
        raise ValueError(f"{t.size} points cannot determine {n_par} parameters")
    norm = float(np.max(np.abs(y))) or 1.0
    yn = y / norm
    v0 = _start(t, yn, kernel, n_exp)
    c0, *_ = np.linalg.lstsq(_design(t, v0, kernel), yn, rcond=None)
    col_sign = -1.0 if MODELS[kernel] else 1.0  # recovery columns are -e_k

    def model(p: np.ndarray) -> np.ndarray:
        return _design(t, np.exp(p[n_lin:]), kernel) @ p[:n_lin]

    def jac(p: np.ndarray) -> np.ndarray:
        v = np.exp(p[n_lin:])
        e = _basis(t, v, kernel)
        # d e / d log v: (t/v) e for exp(-t/v), -(t v) e for exp(-t v)
        de = -(t[:, None] * v) * e if kernel == "diffusion" else (t[:, None] / v) * e
        amp = col_sign * p[n_lin - n_exp:n_lin]
        return np.concatenate([_design(t, v, kernel), de * amp], axis=1)

    # time constants bounded two decades beyond the sampled range: a fit that runs to a
    # bound is undetermined by these data (ok=False) rather than a number
    grid = _grid(t, kernel, 2)
    lo = np.r_[np.full(n_lin, -np.inf), np.full(n_exp, np.log(grid[0] / 10.0))]
    hi = np.r_[np.full(n_lin, np.inf), np.full(n_exp, np.log(grid[-1] * 10.0))]
    p0 = np.concatenate([c0, np.log(v0)])
    sol = least_squares(lambda p: model(p) - yn, p0, jac=jac, bounds=(lo, hi), method="trf",
                        x_scale="jac", max_nfev=2000)
    p = sol.x
    rss_n = float(np.sum(sol.fun**2))
    dof = t.size - n_par
    at_bound = bool(np.any(np.isclose(p[n_lin:], lo[n_lin:], atol=1e-3))
                    or np.any(np.isclose(p[n_lin:], hi[n_lin:], atol=1e-3)))
    _, sv, vt = np.linalg.svd(jac(p), full_matrices=False)
    if sv[-1] > 1e-10 * sv[0] and dof > 0:
        cov = (vt.T / sv**2) @ vt * (rss_n / dof)
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    else:  # singular: some parameter is not determined by the data
        se = np.full(n_par, np.nan)
    ok = bool(sol.success and not at_bound and np.all(np.isfinite(se)))
    values = np.exp(p[n_lin:])
    values_se = values * se[n_lin:]  # delta method: d v = v d log v
    amps, amps_se = p[n_lin - n_exp:n_lin] * norm, se[n_lin - n_exp:n_lin] * norm
    order = np.argsort(values)
    offset = float(p[0] * norm) if MODELS[kernel] else float("nan")
    offset_se = float(se[0] * norm) if MODELS[kernel] else float("nan")
    return ExpFit(kernel, values[order], values_se[order], amps[order], amps_se[order],
                  offset, offset_se, rss_n * norm**2, dof, ok)


def fit_series(t: np.ndarray, y: np.ndarray, kernel: str) -> dict[str, Any]:
    """Mono fit, bi fit, and whether the bi fit is justified (module docstring).

    Returns
    -------
    dict
        ``mono`` (:class:`ExpFit`), ``bi`` (:class:`ExpFit` or None when it could not be
        fitted), ``f_p`` (F-test p-value, NaN without a bi fit) and ``bi_justified``.
    """
    from scipy.stats import f as f_dist

    mono = fit_exponentials(t, y, kernel, 1)
    out: dict[str, Any] = {"mono": mono, "bi": None, "f_p": float("nan"),
                           "bi_justified": False}
    try:
        bi = fit_exponentials(t, y, kernel, 2)
    except ValueError:
        return out
    out["bi"] = bi
    extra = mono.dof - bi.dof
    if bi.dof <= 0 or bi.rss <= 0 or bi.rss >= mono.rss:
        out["f_p"] = 1.0
        return out
    fstat = ((mono.rss - bi.rss) / extra) / (bi.rss / bi.dof)
    out["f_p"] = float(f_dist.sf(fstat, extra, bi.dof))
    v, vse = bi.values, bi.values_se
    out["bi_justified"] = bool(
        bi.ok and out["f_p"] < F_TEST_P and v[1] >= MIN_RATIO * v[0]
        and np.all(vse < MAX_RELATIVE_SE * v)
        and np.all(np.abs(bi.amplitudes) > 2.0 * bi.amplitudes_se)
    )
    return out


# --- regions of a result --------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """The data of one region of a result, summed over its columns (spectrum units).

    Attributes
    ----------
    label : str
        e.g. ``"1.10..1.32 ppm"``.
    columns : numpy.ndarray
        Boolean mask over the identity part of the data (shape of the identity axes).
    t : numpy.ndarray
        Sampling of the inverted dimension.
    data, ilt_fit : numpy.ndarray
        Summed data and summed back-calculated inversion fit.
    ilt_value : float
        The inversion's value for the region: antilog of the ``|g|``-weighted mean log tau
        of the main same-sign lobe of ``g`` summed over the region.
    ppm_range : tuple of float or None
        Chemical-shift range of the region.
    """

    label: str
    columns: np.ndarray
    t: np.ndarray
    data: np.ndarray
    ilt_fit: np.ndarray
    ilt_value: float
    ppm_range: tuple[float, float] | None


def _inverted_axis(result: Result) -> int | None:
    inv = [i for i, d in enumerate(result.dims) if d.inverted]
    if len(inv) != 1 or result.dims[inv[0]].kernel not in MODELS:
        return None
    return inv[0]


def _main_lobe_value(tau: np.ndarray, g1: np.ndarray) -> float:
    """Antilog of the |g|-weighted mean log10 tau over the largest same-sign run of g1."""
    if not np.any(g1):
        return float("nan")
    from .runs import true_runs

    best, best_w = None, 0.0
    for sgn in (1.0, -1.0):
        for a, b in true_runs(sgn * g1 > 0):
            w = float(np.abs(g1[a:b]).sum())
            if w > best_w:
                best, best_w = (a, b), w
    a, b = best
    w = np.abs(g1[a:b])
    return float(10 ** (np.sum(w * np.log10(tau[a:b])) / w.sum()))


def region_series(result: Result) -> list[Series]:
    """One :class:`Series` per region of a result with one inverted dimension.

    Regions: runs of a chemical-shift point axis between gaps (:func:`ppm_segments`),
    each entry of a summed-region axis, each slice of any other identity axis; the whole
    data without identity axes.  Empty when the result has no single inverted dimension
    with a conventional model (:data:`MODELS`).
    """
    ax = _inverted_axis(result)
    if ax is None:
        return []
    ident = [i for i, d in enumerate(result.dims) if not d.inverted]
    order = [ax] + ident
    scale = np.broadcast_to(np.asarray(result.scale, float), result.data.shape)
    data = np.moveaxis(result.data * scale, order, range(len(order)))
    fit = np.moveaxis(result.fit * scale, order, range(len(order)))
    gscale = np.broadcast_to(np.asarray(result.scale, float), result.g.shape) \
        if np.asarray(result.scale).size > 1 else np.asarray(result.scale, float)
    g = np.moveaxis(result.g * gscale, order, range(len(order)))
    shape = data.shape[1:]
    groups: list[list[tuple[int, int]]] = [[(0, 1)]] if not shape else []
    labels_ppm: list[list[Any]] = [[]] if not shape else []
    for k, i in enumerate(ident):  # per identity axis: its runs (shift) or its entries
        d, tau = result.dims[i], np.asarray(result.tau[i], float)
        runs = ppm_segments(tau) if d.name == "shift" else [(j, j + 1) for j in range(tau.size)]
        if k == 0:
            groups = [[r] for r in runs]
            labels_ppm = [[(d, tau, r)] for r in runs]
        else:
            groups = [gr + [r] for gr in groups for r in runs]
            labels_ppm = [lp + [(d, tau, r)] for lp in labels_ppm for r in runs]
    out = []
    tvec, tau_inv = np.asarray(result.t[ax], float), np.asarray(result.tau[ax], float)
    for runs, labs in zip(groups, labels_ppm):
        mask = np.zeros(shape, bool)
        if shape:
            mask[tuple(slice(a, b) for a, b in runs)] = True
        sel = (slice(None),) + tuple(slice(a, b) for a, b in runs) if shape else (slice(None),)
        flat = (data[sel].reshape(tvec.size, -1).sum(axis=1),
                fit[sel].reshape(tvec.size, -1).sum(axis=1),
                g[sel].reshape(tau_inv.size, -1).sum(axis=1))
        parts, ppm_range = [], None
        for d, tau, (a, b) in labs:
            lo, hi = float(min(tau[a:b])), float(max(tau[a:b]))
            if d.unit == "ppm":
                ppm_range = (lo, hi)
                parts.append(f"{lo:.3f}..{hi:.3f} ppm" if b - a > 1 else f"{lo:.3f} ppm")
            else:
                parts.append(f"{d.name} {lo:.4g} {d.unit}".strip())
        out.append(Series(", ".join(parts) or "all data", mask, tvec, flat[0], flat[1],
                          _main_lobe_value(tau_inv, flat[2]), ppm_range))
    return out


def _quantity(result: Result) -> tuple[str, str]:
    """Name and unit tag of the inverted quantity: ``("T1", "s")``, ``("D", "m2_per_s")``."""
    from .output.components import unit_tag

    d = result.dims[_inverted_axis(result)]
    return d.name, unit_tag(d.unit)


def crosscheck(result: Result) -> list[dict[str, Any]]:
    """The cross-check table: one row per region (:func:`region_series`).

    Columns (``<q>``: ``T1_s``, ``T2_s``, ``D_m2_per_s`` ...): ``region``, ``ppm_low``,
    ``ppm_high``, ``points``, ``ilt_<q>`` (main lobe of the inversion),
    ``mono_<q>``, ``mono_<q>_se``, ``mono_amplitude_au``, ``mono_amplitude_se_au``,
    ``mono_offset_au``, ``mono_offset_se_au``, ``mono_ok`` (False: the fit ran to the
    bounds or is singular: not determined), ``mono_rms_au``, ``ilt_vs_mono_pct``,
    ``bi_f_test_p``, ``bi_justified``, and when justified ``bi_<q>_1``/``_2`` with their
    ``_se`` and ``bi_amplitude_1_au``/``_2_au``.  A region whose fit fails gets
    ``error``.  Empty for results without one inverted dimension of a known kernel.
    """
    series = region_series(result)
    if not series:
        return []
    name, unit = _quantity(result)
    q = f"{name}_{unit}"
    kernel = result.dims[_inverted_axis(result)].kernel
    rows = []
    for i, s in enumerate(series, 1):
        row: dict[str, Any] = {
            "region": i, "label": s.label,
            "ppm_low": s.ppm_range[0] if s.ppm_range else float("nan"),
            "ppm_high": s.ppm_range[1] if s.ppm_range else float("nan"),
            "points": int(s.t.size), f"ilt_{q}": s.ilt_value,
        }
        try:
            fits = fit_series(s.t, s.data, kernel)
        except (ValueError, np.linalg.LinAlgError) as exc:
            row["error"] = str(exc)
            rows.append(row)
            continue
        m = fits["mono"]
        row.update({
            f"mono_{q}": float(m.values[0]), f"mono_{q}_se": float(m.values_se[0]),
            "mono_amplitude_au": float(m.amplitudes[0]),
            "mono_amplitude_se_au": float(m.amplitudes_se[0]),
            "mono_offset_au": m.offset, "mono_offset_se_au": m.offset_se, "mono_ok": m.ok,
            "mono_rms_au": float(np.sqrt(m.rss / s.t.size)),
            "ilt_vs_mono_pct": 100.0 * (s.ilt_value / float(m.values[0]) - 1.0),
            "bi_f_test_p": fits["f_p"], "bi_justified": fits["bi_justified"],
        })
        if fits["bi_justified"]:
            b = fits["bi"]
            for k in range(2):
                row[f"bi_{q}_{k + 1}"] = float(b.values[k])
                row[f"bi_{q}_{k + 1}_se"] = float(b.values_se[k])
                row[f"bi_amplitude_{k + 1}_au"] = float(b.amplitudes[k])
        rows.append(row)
    return rows


def crosscheck_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """``crosscheck.csv`` text for :func:`crosscheck` rows (floats to 6 significant figures)."""
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()


def peak_columns(
    result: Result,
    rows: Sequence[Mapping[str, Any]],
    table: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """``peaks.csv`` column provider: each component's region's exponential fit.

    Adds ``xcheck_region``, ``xcheck_mono_<q>``, ``xcheck_mono_<q>_se`` and, when the
    bi-exponential is justified, ``xcheck_bi_<q>`` and ``xcheck_bi_<q>_se`` of the bi
    time constant nearest (in log) to the component.  The region of a component is the
    one holding most of its support (``_mask``).  ``table``: :func:`crosscheck` of the
    result when already computed.
    """
    ax = _inverted_axis(result)
    if ax is None or not rows:
        return [{} for _ in rows]
    series = region_series(result)
    table = list(table) if table is not None else crosscheck(result)
    name, unit = _quantity(result)
    q = f"{name}_{unit}"
    ident = [i for i, d in enumerate(result.dims) if not d.inverted]
    out = []
    for r in rows:
        mask = r.get("_mask")
        if mask is None or not series:
            out.append({})
            continue
        cols = np.moveaxis(np.asarray(mask), [ax] + ident, range(1 + len(ident))).any(axis=0)
        k = int(np.argmax([np.sum(cols & s.columns) if cols.ndim else 1 for s in series]))
        row = table[k]
        new: dict[str, Any] = {"xcheck_region": row["region"],
                               f"xcheck_mono_{q}": row.get(f"mono_{q}", float("nan")),
                               f"xcheck_mono_{q}_se": row.get(f"mono_{q}_se", float("nan"))}
        if row.get("bi_justified"):
            pos = r.get(f"{name}_logmean_{unit}", row[f"bi_{q}_1"])
            near = min((1, 2), key=lambda i: abs(np.log(row[f"bi_{q}_{i}"] / pos)))
            new[f"xcheck_bi_{q}"] = row[f"bi_{q}_{near}"]
            new[f"xcheck_bi_{q}_se"] = row[f"bi_{q}_{near}_se"]
        out.append(new)
    return out
