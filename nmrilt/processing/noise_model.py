"""A noise model for real data: thermal noise plus a part proportional to the signal.

Real relaxation series carry a systematic, signal-proportional error (increment-to-increment
instability, imperfect pulses, processing) of 0.1-6 % of each line, 10-30x the thermal noise
at high SNR.  Weighted by the thermal noise alone, an inversion fits it with spurious
signed components.  Each column of the unit-noise data (one spectrum point or region over
the increments) is given the standard deviation

    sigma_j^2 = a + (eps * A_j)^2        (in units of the thermal estimate)

with ``A_j`` the column's largest |value| and ``a >= 1`` a correction of the thermal level
(processed spectra whose noise the spectral estimate misses).  ``a`` and ``eps`` come from
the data themselves: every column is fitted by at most two exponentials of the experiment's
own kernel plus a constant (a flexible model a relaxing line obeys), and the misfit chi^2
of the columns is regressed on ``A_j^2``.  When the columns fit to thermal chi^2 (the
total is consistent with chi^2 of its degrees of freedom) the model is the identity:
white-noise data are left alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["column_misfit", "fit_noise_model"]

#: Columns need at least this many increments for the misfit to leave degrees of freedom.
MIN_INCREMENTS = 8
#: Parameters of the column model: two amplitudes, two time constants, a constant.
MODEL_PARAMETERS = 5
#: The model is applied when the columns' total chi^2 exceeds its degrees of freedom with
#: a p-value below this.
P_VALUE = 1e-3
#: Coarse log-tau grid of the pair search (then refined per column).
MAX_GRID = 24
#: Damped Newton steps of the per-column refinement.
NEWTON_STEPS = 40


def _rss_pair(y: np.ndarray, k1: np.ndarray, k2: np.ndarray) -> np.ndarray:
    """Residual sum of squares per column of y on [k1_j, k2_j, 1] (batched normal equations)."""
    m, n = y.shape
    basis = np.stack([k1, k2, np.ones((m, n))], axis=-1).transpose(1, 0, 2)  # (n, m, 3)
    gram = basis.transpose(0, 2, 1) @ basis
    gram += 1e-10 * np.trace(gram, axis1=1, axis2=2)[:, None, None] * np.eye(3)
    c = np.einsum("nmk,mn->nk", basis, y)
    coef = np.linalg.solve(gram, c[..., None])[..., 0]
    return np.maximum(np.einsum("mn,mn->n", y, y) - np.einsum("nk,nk->n", coef, c), 0.0)


def column_misfit(
    y: np.ndarray, t: np.ndarray, tau: np.ndarray, kernel_matrix
) -> np.ndarray:
    """Smallest residual sum of squares of each column over two-exponential fits + constant.

    Parameters
    ----------
    y : numpy.ndarray
        Columns, shape (m, n_columns), unit thermal noise.
    t, tau : numpy.ndarray
        Sampling and the tau grid of the inverted dimension (its range bounds the search).
    kernel_matrix : callable
        ``kernel_matrix(t, tau) -> (m, len(tau))`` of the experiment's kernel.

    Returns
    -------
    numpy.ndarray
        Residual sum of squares per column: the best pair of a coarse log-tau grid, then
        refined per column by a shrinking pattern search in log tau (variable projection:
        amplitudes solved linearly).  Two equal time constants give the one-exponential fit.
    """
    lo, hi = np.log10(tau.min()), np.log10(tau.max())
    grid = np.linspace(lo, hi, MAX_GRID)
    kg = kernel_matrix(t, 10.0**grid)
    n = y.shape[1]
    best = np.full(n, np.inf)
    th1, th2 = np.full(n, grid[0]), np.full(n, grid[0])
    ones = np.ones((y.shape[0], 1))
    for i in range(grid.size):  # one basis for all columns: an orthogonal projection
        for j in range(i, grid.size):
            q, _ = np.linalg.qr(np.hstack([kg[:, [i]], kg[:, [j]], ones]) if j > i
                                else np.hstack([kg[:, [i]], ones]))
            r = y - q @ (q.T @ y)
            rss = np.einsum("ij,ij->j", r, r)
            better = rss < best
            best[better], th1[better], th2[better] = rss[better], grid[i], grid[j]
    # damped Newton steps in (log tau1, log tau2) per column, on a finite-difference
    # gradient and Hessian of the variable-projection misfit: the valleys of a long time
    # constant against the constant are narrow and diagonal, a pattern search stalls there
    h = np.full(n, 0.5 * (grid[1] - grid[0]) if grid.size > 1 else 0.05)
    for _ in range(NEWTON_STEPS):
        f = {}
        for d1 in (-1, 0, 1):
            for d2 in (-1, 0, 1):
                f[d1, d2] = _rss_pair(y, kernel_matrix(t, 10.0 ** (th1 + d1 * h)),
                                      kernel_matrix(t, 10.0 ** (th2 + d2 * h)))
        g1 = (f[1, 0] - f[-1, 0]) / (2 * h)
        g2 = (f[0, 1] - f[0, -1]) / (2 * h)
        h11 = (f[1, 0] - 2 * f[0, 0] + f[-1, 0]) / h**2
        h22 = (f[0, 1] - 2 * f[0, 0] + f[0, -1]) / h**2
        h12 = (f[1, 1] - f[1, -1] - f[-1, 1] + f[-1, -1]) / (4 * h**2)
        # best of the stencil, then a Newton step from the centre where the Hessian is
        # positive definite (limited to 4 h)
        stencil = np.stack([f[k] for k in f])
        keys = list(f)
        arg = np.argmin(stencil, axis=0)
        cand1 = th1 + np.array([k[0] for k in keys])[arg] * h
        cand2 = th2 + np.array([k[1] for k in keys])[arg] * h
        cand_r = stencil[arg, np.arange(n)]
        det = h11 * h22 - h12**2
        ok = (det > 0) & (h11 > 0)
        safe = np.where(ok, det, 1.0)
        s1 = np.where(ok, -(h22 * g1 - h12 * g2) / safe, 0.0)
        s2 = np.where(ok, -(h11 * g2 - h12 * g1) / safe, 0.0)
        lim = np.maximum(np.hypot(s1, s2) / (4 * h), 1.0)
        n1, n2 = np.clip(th1 + s1 / lim, lo, hi), np.clip(th2 + s2 / lim, lo, hi)
        rn = _rss_pair(y, kernel_matrix(t, 10.0**n1), kernel_matrix(t, 10.0**n2))
        take = rn < cand_r
        cand1, cand2, cand_r = np.where(take, n1, cand1), np.where(take, n2, cand2), np.minimum(rn, cand_r)
        moved = cand_r < f[0, 0] * (1 - 1e-12)
        th1, th2 = np.where(moved, np.clip(cand1, lo, hi), th1), np.where(moved, np.clip(cand2, lo, hi), th2)
        best = np.minimum(best, np.minimum(cand_r, f[0, 0]))
        h = np.where(moved, h, h / 2)  # no progress: look closer
    return best


def fit_noise_model(
    y: np.ndarray, t: np.ndarray, tau: np.ndarray, kernel_matrix
) -> tuple[np.ndarray, dict[str, Any]]:
    """Per-column noise factors (multiply the thermal sigma) and the evidence.

    Parameters
    ----------
    y : numpy.ndarray
        Unit-noise data, shape (m, n_columns) (increments first).
    t, tau, kernel_matrix
        As for :func:`column_misfit`.

    Returns
    -------
    factors : numpy.ndarray
        ``sqrt(a + (eps A_j)^2)`` per column (ones when the data fit to thermal chi^2).
    info : dict
        ``thermal_factor`` (sqrt a), ``epsilon``, ``chi2_per_dof_total``, ``p_value``,
        ``strongest`` (chi^2/dof and amplitude of the strongest columns), ``applied``.
    """
    from scipy.stats import chi2

    y = np.asarray(y, float)
    m, n = y.shape
    ones = np.ones(n)
    if m < MIN_INCREMENTS:
        return ones, {"applied": False, "why": f"{m} increments (< {MIN_INCREMENTS})"}
    dof = m - MODEL_PARAMETERS
    rss = column_misfit(y, t, tau, kernel_matrix)
    amp = np.abs(y).max(axis=0)
    total, total_dof = float(rss.sum()), dof * n
    p = float(chi2.sf(total, total_dof))
    strongest = np.argsort(-amp)[: min(5, n)]
    info: dict[str, Any] = {
        "model": "sigma_j^2 = sigma_th^2 (a + (epsilon A_j)^2), A_j = max |column j| / sigma_th",
        "column_model": "one or two exponentials of the kernel + constant (least squares)",
        "chi2_per_dof_total": round(total / total_dof, 4),
        "p_value": float(f"{p:.3g}"),
        "strongest": [
            {"amplitude_sigmas": round(float(amp[j]), 1), "chi2_per_dof": round(float(rss[j] / dof), 2)}
            for j in strongest
        ],
    }
    if p >= P_VALUE:
        info.update(applied=False, thermal_factor=1.0, epsilon=0.0,
                    why="the columns fit to thermal chi^2")
        return ones, info
    e = rss / dof  # per-column chi^2/dof: estimates a + eps^2 A^2
    a, b = 1.0, 0.0
    for _ in range(8):  # reweighted least squares: var(e_j) ~ (a + b A_j^2)^2 2/dof
        w = 1.0 / (a + b * amp**2) ** 2
        x = np.column_stack([np.ones(n), amp**2])
        sol, *_ = np.linalg.lstsq(x * np.sqrt(w)[:, None], e * np.sqrt(w), rcond=None)
        a, b = max(1.0, float(sol[0])), max(0.0, float(sol[1]))
    factors = np.sqrt(a + b * amp**2)
    info.update(applied=True, thermal_factor=round(float(np.sqrt(a)), 4),
                epsilon=float(f"{np.sqrt(b):.4g}"))
    return factors, info
