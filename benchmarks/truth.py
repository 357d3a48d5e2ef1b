"""Shared helpers of the benchmarks: synthetic cases with known truth, and accuracy metrics.

Every case returns a dict with ``data``, ``t``, ``tau``, ``kernels`` and the truth: the
true distribution pooled to the tau grid (``truth``) and the list of components
(``components``: sign, position in log10 tau per inverted axis, slice index for
identity axes).
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Any, Callable

import numpy as np
from scipy.stats import multivariate_normal

# ---------------------------------------------------------------- cases


def gaussian_1d(x: np.ndarray, mu: float, sd: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mu) / sd) ** 2)


def pool(fine: np.ndarray, fine_x: np.ndarray, coarse_x: np.ndarray, axis: int) -> np.ndarray:
    """Sum ``fine`` (sampled at log10 positions ``fine_x`` along ``axis``) into the bins of
    the coarse log10 grid ``coarse_x`` (nearest coarse point)."""
    idx = np.abs(fine_x[:, None] - coarse_x[None, :]).argmin(axis=1)
    fine = np.moveaxis(fine, axis, 0)
    out = np.zeros((len(coarse_x),) + fine.shape[1:])
    np.add.at(out, idx, fine)
    return np.moveaxis(out, 0, axis)


def seed_case(rng_seed: int = 0, n_t: int = 32, n_tau: int = 40, n_z: int = 10) -> dict:
    """The mission's pseudo-3D example (ILTpy docs), regenerated with a fixed noise seed.

    Truth on a 100x100 grid of log10 tau in [-1.5, 2.5]; rows = T1 (paired with the first
    kernel), columns = T2; third dimension: identity with ``n_z`` slices.
    """
    dim = np.linspace(-1.5, 2.5, 100)
    X, Y = np.meshgrid(dim, dim)
    pos = np.dstack((X, Y))
    fine = np.empty((100, 100, n_z))
    comps = []
    covs = [[[0.05, 0], [0, 0.1]], [[0.01, 0], [0, 0.1]], [[0.01, 0], [0, 0.1]],
            [[0.05, 0], [0, 0.1]]]
    amps = [-1, -0.5, 0.5, 1]
    for j in range(n_z):
        step = j * 9 / (n_z - 1) if n_z > 1 else 0.0  # = j for the 10 slices of the seed
        shift = step / 5
        t2c = [-0.5, -0.5 + shift, 1.5 - shift, 1.5]
        shift = step / 10
        t1c = [0.4 + shift, 0, 0, 0.4 + shift]
        z = np.zeros_like(X)
        for mean, cov, amp in zip(zip(t2c, t1c), covs, amps):
            z += amp * multivariate_normal(mean, cov).pdf(pos)
        fine[:, :, j] = z
        for a, m1, m2 in zip(amps, t1c, t2c):
            comps.append({"sign": int(np.sign(a)), "pos": (m1, m2), "slice": j})
    t1 = np.logspace(-1, 3, n_t)
    t2 = np.logspace(-1, 3, n_t)
    k1 = np.exp(-t1[:, None] / 10 ** dim[None, :])
    k2 = np.exp(-t2[:, None] / 10 ** dim[None, :])
    rng = np.random.default_rng(rng_seed)
    data = 10 * np.einsum("ti,ijz,sj->tsz", k1, fine, k2)
    data += rng.standard_normal(data.shape)
    tau = np.logspace(-1.5, 2.5, n_tau)
    ltau = np.log10(tau)
    truth = pool(pool(fine, dim, ltau, 0), dim, ltau, 1)
    z = np.linspace(-25, 25, n_z)
    return {
        "name": f"pseudo-3D {n_t}x{n_t}x{n_z} -> {n_tau}x{n_tau}x{n_z}",
        "data": data, "t": [t1, t2, z], "tau": [tau, tau, z],
        "kernels": ["exponential", "exponential", "identity"],
        "truth": truth, "components": comps, "inverted_axes": (0, 1), "slice_axis": 2,
    }


def signed_1d_case(rng_seed: int = 0) -> dict:
    """1-D CPMG decay of three Gaussian components in log10 T2, the middle one negative."""
    t = np.logspace(-3.5, 1.5, 128)
    tau = np.logspace(-4, 2, 91)
    fine_x = np.linspace(-4, 2, 901)
    comps = [(-2.5, 1.0), (-1.2, -0.6), (0.3, 0.8)]
    fine = sum(a * gaussian_1d(fine_x, m, 0.12) for m, a in comps) * 4.0
    k = np.exp(-np.outer(t, 1 / 10**fine_x))
    rng = np.random.default_rng(rng_seed)
    data = k @ fine + rng.standard_normal(t.size)
    truth = pool(fine, fine_x, np.log10(tau), 0)
    return {
        "name": "1-D signed 128 -> 91",
        "data": data, "t": [t], "tau": [tau], "kernels": ["exponential"],
        "truth": truth,
        "components": [{"sign": int(np.sign(a)), "pos": (m,), "slice": None} for m, a in comps],
        "inverted_axes": (0,), "slice_axis": None,
    }


def t1t2_case(rng_seed: int = 0) -> dict:
    """2-D T1 (inversion recovery) x T2 (CPMG) map, 24 x 64 data -> 40 x 40,
    two positive components and a negative exchange-like one."""
    t1 = np.logspace(-3, 1, 24)
    t2 = np.logspace(-3.5, 0.5, 64)
    tau1 = np.logspace(-3.5, 1.5, 40)
    tau2 = np.logspace(-4, 1, 40)
    f1 = np.linspace(-3.5, 1.5, 201)
    f2 = np.linspace(-4, 1, 201)
    comps = [((-1.5, -2.5), 1.0), ((0.0, -0.8), 0.8), ((-0.5, -1.8), -0.5)]
    fine = sum(a * np.outer(gaussian_1d(f1, m1, 0.15), gaussian_1d(f2, m2, 0.15))
               for (m1, m2), a in comps)
    k1 = 1 - 2 * np.exp(-np.outer(t1, 1 / 10**f1))
    k2 = np.exp(-np.outer(t2, 1 / 10**f2))
    rng = np.random.default_rng(rng_seed)
    data = 1.5 * k1 @ fine @ k2.T + rng.standard_normal((t1.size, t2.size))
    truth = pool(pool(fine, f1, np.log10(tau1), 0), f2, np.log10(tau2), 1)
    return {
        "name": "2-D T1-T2 24x64 -> 40x40",
        "data": data, "t": [t1, t2], "tau": [tau1, tau2],
        "kernels": ["inversion_recovery", "exponential"],
        "truth": truth,
        "components": [{"sign": int(np.sign(a)), "pos": p, "slice": None} for p, a in comps],
        "inverted_axes": (0, 1), "slice_axis": None,
    }


def pseudo2d_case(rng_seed: int = 0, n_delays: int = 16, n_shift: int = 1000,
                  n_tau: int = 60) -> dict:
    """Pseudo-2D T1 inversion recovery: ``n_delays`` delays x ``n_shift`` chemical-shift
    points, five Lorentzian lines with different T1 (one line negative, as in a
    cross-relaxation experiment) -> ``n_tau`` x ``n_shift``."""
    t = np.logspace(-3, 1, n_delays)
    tau = np.logspace(-3.5, 1.5, n_tau)
    f = np.linspace(-3.5, 1.5, 10 * n_tau)
    x = np.arange(n_shift)
    lines = [(0.15, -2.0, 1.0), (0.3, -1.0, 0.7), (0.5, -0.3, -0.5), (0.7, 0.3, 0.9),
             (0.85, -1.5, 0.6)]  # (position fraction, log10 T1, amplitude)
    fine = np.zeros((f.size, n_shift))
    comps = []
    for frac, lt1, amp in lines:
        centre = frac * n_shift
        shape = 1.0 / (1.0 + ((x - centre) / 3.0) ** 2)
        fine += amp * 2.0 * np.outer(gaussian_1d(f, lt1, 0.12), shape)
        comps.append({"sign": int(np.sign(amp)), "pos": (lt1,), "slice": int(round(centre))})
    k = 1 - 2 * np.exp(-np.outer(t, 1 / 10**f))
    rng = np.random.default_rng(rng_seed)
    data = k @ fine + rng.standard_normal((n_delays, n_shift))
    truth = pool(fine, f, np.log10(tau), 0)
    axis = np.linspace(10, 0, n_shift)  # ppm labels
    return {
        "name": f"pseudo-2D {n_delays}x{n_shift} -> {n_tau}x{n_shift}",
        "data": data, "t": [t, axis], "tau": [tau, axis],
        "kernels": ["inversion_recovery", "identity"],
        "truth": truth, "components": comps, "inverted_axes": (0,), "slice_axis": 1,
    }


def t1t2_shift_case(rng_seed: int = 0, n_shift: int = 368, n_tau: int = 40) -> dict:
    """The pipeline's real case: IR (12 delays) x CPMG (12 echo times) x chemical shift
    (``n_shift`` points, identity) -> ``n_tau`` x ``n_tau`` x ``n_shift``, sampled like
    ``example_datasets/bruker_t1t2_pseudo3d``; six Lorentzian lines carrying one to three
    (T1, T2) components each (one negative), unit noise."""
    t1 = np.array([0.005, 0.012, 0.03, 0.07, 0.15, 0.3, 0.6, 1.2, 2.4, 4.8, 9.6, 15.0])
    t2 = np.array([0.00164, 0.00492, 0.00984, 0.01968, 0.03936, 0.07872, 0.1312,
                   0.20992, 0.328, 0.5248, 0.83968, 1.67936])
    tau1 = np.logspace(np.log10(t1[0]) - 1, np.log10(t1[-1]) + 1, n_tau)
    tau2 = np.logspace(np.log10(t2[0]) - 1, np.log10(t2[-1]) + 1, n_tau)
    f1 = np.linspace(np.log10(tau1[0]), np.log10(tau1[-1]), 5 * n_tau)
    f2 = np.linspace(np.log10(tau2[0]), np.log10(tau2[-1]), 5 * n_tau)
    x = np.arange(n_shift)
    # (position fraction, [(log10 T1, log10 T2, amplitude)]) per line
    lines = [
        (0.12, [(-0.3, -1.1, 1.0)]),
        (0.30, [(0.08, -0.5, 0.7), (-0.8, -1.8, 0.5)]),
        (0.45, [(0.4, 0.0, 0.5)]),
        (0.60, [(-0.3, -1.1, 0.8), (0.4, -0.3, -0.4)]),
        (0.75, [(-1.0, -2.0, 0.6), (0.0, -0.8, 0.6), (0.7, 0.2, 0.4)]),
        (0.90, [(0.2, -0.6, 0.9)]),
    ]
    data = np.zeros((t1.size, t2.size, n_shift))
    truth = np.zeros((n_tau, n_tau, n_shift))
    k1 = 1 - 2 * np.exp(-np.outer(t1, 1 / 10**f1))
    k2 = np.exp(-np.outer(t2, 1 / 10**f2))
    comps = []
    lt1, lt2 = np.log10(tau1), np.log10(tau2)
    for frac, parts in lines:
        centre = frac * n_shift
        shape = 1.0 / (1.0 + ((x - centre) / 2.0) ** 2)
        for m1, m2, amp in parts:
            fine = 12.0 * amp * np.outer(gaussian_1d(f1, m1, 0.12), gaussian_1d(f2, m2, 0.12))
            data += np.einsum("ti,ij,sj->ts", k1, fine, k2)[:, :, None] * shape
            truth += pool(pool(fine, f1, lt1, 0), f2, lt2, 1)[:, :, None] * shape
            comps.append({"sign": int(np.sign(amp)), "pos": (m1, m2),
                          "slice": int(round(centre))})
    rng = np.random.default_rng(rng_seed)
    data += rng.standard_normal(data.shape)
    axis = np.linspace(10, 0, n_shift)
    return {
        "name": f"T1-T2 x shift 12x12x{n_shift} -> {n_tau}x{n_tau}x{n_shift}",
        "data": data, "t": [t1, t2, axis], "tau": [tau1, tau2, axis],
        "kernels": ["inversion_recovery", "exponential", "identity"],
        "truth": truth, "components": comps, "inverted_axes": (0, 1), "slice_axis": 2,
    }


# ---------------------------------------------------------------- metrics


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 1024.0**2


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a.ravel() - a.mean()
    b = b.ravel() - b.mean()
    den = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / den) if den > 0 else float("nan")


def local_extremum(
    g: np.ndarray, logtau: list[np.ndarray], pos: tuple[float, ...], sign: int,
    radius: float = 0.5,
) -> tuple[float, tuple[float, ...]] | None:
    """Signed extremum of ``g`` within ``radius`` decades (per axis) of ``pos``.

    Returns ``(distance in decades (Euclidean), position)`` of the point where ``sign*g``
    is largest in the window, or None if ``sign*g`` is never positive there.
    """
    mask = np.ones(g.shape, bool)
    grids = np.meshgrid(*logtau, indexing="ij")
    for gr, p in zip(grids, pos):
        mask &= np.abs(gr - p) <= radius
    vals = np.where(mask, sign * g, -np.inf)
    k = np.unravel_index(np.argmax(vals), g.shape)
    if not np.isfinite(vals[k]) or vals[k] <= 0:
        return None
    where = tuple(float(gr[k]) for gr in grids)
    dist = float(np.sqrt(sum((w - p) ** 2 for w, p in zip(where, pos))))
    return dist, where


def component_report(
    g: np.ndarray, truth: np.ndarray, logtau: list[np.ndarray], comps: list[dict],
    slice_axis: int | None, tol_decades: float = 0.25,
) -> dict[str, Any]:
    """Sign and position check of every component visible in the truth.

    A component counts when the pooled truth itself has an extremum of its sign within
    ``tol_decades`` of its nominal position (two opposite components that cancel exactly are
    skipped).  It passes when ``g`` has an extremum of that sign within ``tol_decades`` of
    the truth's extremum.
    """
    checked, passed, worst, fails = 0, 0, 0.0, []
    for c in comps:
        if slice_axis is None:
            gs, ts = g, truth
        else:
            gs = np.take(g, c["slice"], axis=slice_axis)
            ts = np.take(truth, c["slice"], axis=slice_axis)
        tr = local_extremum(ts, logtau, c["pos"], c["sign"], radius=tol_decades)
        if tr is None or tr[0] > tol_decades:
            continue
        checked += 1
        # small window: the extremum must be where the truth has it
        got = local_extremum(gs, logtau, tr[1], c["sign"], radius=tol_decades + 1e-9)
        ok = False
        if got is not None:
            # must be a genuine local extremum of that sign, not a window edge
            d = got[0]
            ok = d <= tol_decades
            worst = max(worst, d)
        if ok:
            passed += 1
        else:
            fails.append(c)
    return {"checked": checked, "passed": passed, "worst_distance": worst, "failed": fails}


def slice_correlations(g: np.ndarray, truth: np.ndarray, slice_axis: int | None) -> np.ndarray:
    if slice_axis is None:
        return np.array([pearson(g, truth)])
    return np.array([
        pearson(np.take(g, j, axis=slice_axis), np.take(truth, j, axis=slice_axis))
        for j in range(g.shape[slice_axis])
    ])


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0
