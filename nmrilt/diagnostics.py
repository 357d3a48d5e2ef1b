"""Checks of a finished run: is the map trustworthy?  Each failed check is one warning.

:func:`check` looks at a :class:`~nmrilt.model.Result` and returns :class:`Diagnostic`
records; the pipeline appends them to ``result.warnings`` (so they reach ``result.h5``,
``report.txt``, stderr, the figure and the batch/watch summaries) and ``nmrilt --strict``
turns any warning into exit code :data:`nmrilt.cli.EXIT_WARNINGS`.

The checks (codes as they appear in the warning text):

``not-converged``
    The solver stopped at its iteration budget; the map may still be moving.
``residuals``
    Per identity column (chemical-shift point, region, slice), ``chi2/N`` of the residuals
    under the noise model is improbably large (p < :data:`CHI2_P_VALUE` after a Bonferroni
    correction for the number of columns, and above :data:`CHI2_MIN_RATIO`), or the whole
    map's is below :data:`CHI2_LOW_RATIO` (noise overestimated: the map is over-smoothed).
``outside-range``
    A listed component's position lies outside the sampled range (relaxation: the
    smallest positive to the largest delay; diffusion: ``1/b_max .. 1/b_min``): the data
    hardly constrain it.
``phase``
    The automatic first-order phase exceeds :data:`MAX_PLAUSIBLE_P1_DEG` (or the limit the
    processing recorded as ``choices["phase"]["p1_limit_deg"]``): far more than a correctly
    removed digital filter leaves, so the spectra are likely mis-phased.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .model import Result

__all__ = [
    "CHI2_LOW_RATIO",
    "CHI2_MIN_RATIO",
    "CHI2_P_VALUE",
    "MAX_PLAUSIBLE_P1_DEG",
    "Diagnostic",
    "check",
    "chi2_per_column",
    "sampled_range",
    "warning_lines",
]

#: A column's residuals are flagged when P(chi2 >= observed) x number of columns is below this.
CHI2_P_VALUE = 1e-3
#: ... and its chi2/N exceeds this (tiny systematic excesses in huge columns are not news).
CHI2_MIN_RATIO = 1.5
#: The whole map's chi2/N below this: the noise is overestimated (at least ~1.4x in sigma).
CHI2_LOW_RATIO = 0.5
#: Largest plausible automatic first-order phase (degrees) after digital-filter removal.
MAX_PLAUSIBLE_P1_DEG = 180.0


@dataclass(frozen=True)
class Diagnostic:
    """One failed check.

    Attributes
    ----------
    code : str
        ``not-converged``, ``residuals``, ``outside-range`` or ``phase``.
    message : str
        What was found and what to do, one line.
    """

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def warning_lines(warnings: tuple[str, ...] | list[str]) -> list[str]:
    """The ``WARNING: ...`` lines of ``report.txt`` and stderr for stored warnings."""
    return [f"WARNING: {w}" for w in warnings]


def check(result: Result, threshold: float = 0.15) -> list[Diagnostic]:
    """Run every check on a finished result (see the module docstring).

    Parameters
    ----------
    result : Result
        A finished inversion.
    threshold : float
        Component listing threshold (``output.peak_threshold``): only listed components
        are checked against the sampled range.

    Returns
    -------
    list of Diagnostic
        Empty when the run looks sound.
    """
    found: list[Diagnostic] = []
    if not result.converged:
        found.append(Diagnostic(
            "not-converged",
            f"the solver stopped after {result.iterations} iterations without converging "
            f"({result.message}); the map may still change: raise max_iter "
            "(--set max_iter=N) or tol",
        ))
    found += _residual_checks(result)
    found += _range_checks(result, threshold)
    found += _phase_checks(result)
    return found


# --- residuals against the noise model ----------------------------------------------------------


def _noise_sigma(result: Result) -> np.ndarray | float:
    """Noise of the data handed to the solver: 1 unless a ``sigma`` option was given."""
    sigma = result.options.get("sigma")
    if sigma is None or isinstance(sigma, str):
        return 1.0
    try:
        return np.broadcast_to(np.asarray(sigma, float), result.residuals.shape)
    except ValueError:
        return 1.0


def chi2_per_column(result: Result) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``chi2`` of the residuals per identity column, its number of points, and labels.

    Columns are the points of the identity dimensions (chemical shift, regions, other
    slices); a map without identity dimensions is one column.

    Returns
    -------
    chi2 : numpy.ndarray
        Sum of squared noise-normalised residuals per column.
    n : numpy.ndarray
        Data points per column.
    labels : list of str
        e.g. ``"4.712 ppm"`` or ``"region 2.01 ppm"``.
    """
    r = np.asarray(result.residuals, float) / _noise_sigma(result)
    ident = [i for i, d in enumerate(result.dims) if not d.inverted]
    inv = [i for i in range(r.ndim) if i not in ident]
    r = np.moveaxis(r, inv + ident, list(range(r.ndim)))
    n_inv = int(np.prod([r.shape[i] for i in range(len(inv))])) if inv else 1
    cols = r.reshape(n_inv, -1)
    chi2 = np.sum(cols**2, axis=0)
    n = np.full(chi2.shape, n_inv, float)
    shape = [result.residuals.shape[i] for i in ident]
    labels = []
    for idx in np.ndindex(*shape) if shape else [()]:
        parts = []
        for i, k in zip(ident, idx):
            d, v = result.dims[i], result.tau[i][k]
            parts.append(f"{v:.4g} {d.unit}".strip() if d.unit else f"{d.name} {v:.4g}")
        labels.append(", ".join(parts) or "all data")
    return chi2, n, labels


def _residual_checks(result: Result) -> list[Diagnostic]:
    from scipy.stats import chi2 as chi2_dist

    chi2, n, labels = chi2_per_column(result)
    if chi2.size == 0 or not np.all(np.isfinite(chi2)):
        return []
    ratio = chi2 / n
    p = chi2_dist.sf(chi2, n) * chi2.size
    bad = np.flatnonzero((p < CHI2_P_VALUE) & (ratio > CHI2_MIN_RATIO))
    found = []
    if bad.size:
        worst = int(bad[np.argmax(ratio[bad])])
        found.append(Diagnostic(
            "residuals",
            f"the fit misses the data beyond the noise model in {bad.size} of {chi2.size} "
            f"column(s) (chi2/N up to {ratio[worst]:.3g} at {labels[worst]}; noise sigma "
            f"{result.sigma:.4g}): systematic error or underestimated noise — check the "
            "phase, baseline and processing.noise_sigma",
        ))
    total = float(chi2.sum() / n.sum())
    if total < CHI2_LOW_RATIO:
        found.append(Diagnostic(
            "residuals",
            f"residuals are smaller than the noise model allows (chi2/N {total:.3g} over the "
            f"whole map; noise sigma {result.sigma:.4g} is likely overestimated, so the map is "
            "over-smoothed) — check processing.noise_sigma",
        ))
    return found


# --- components outside the sampled range -------------------------------------------------------


def sampled_range(t: np.ndarray, kernel: str) -> tuple[float, float] | None:
    """Range of tau the sampling ``t`` constrains for a built-in kernel (None otherwise).

    Relaxation kernels: the smallest positive to the largest ``t``; reciprocal kernels
    (diffusion, tau = D with t = b): ``1/max(t) .. 1/min(t > 0)``.
    """
    from .solver.kernels import BUILTIN_KERNELS

    spec = BUILTIN_KERNELS.get(kernel)
    pos = np.asarray(t, float)
    pos = pos[np.isfinite(pos) & (pos > 0)]
    if spec is None or spec.function is None or pos.size == 0:
        return None
    lo, hi = float(pos.min()), float(pos.max())
    return (1.0 / hi, 1.0 / lo) if spec.reciprocal else (lo, hi)


def _range_checks(result: Result, threshold: float) -> list[Diagnostic]:
    from .output.components import components, unit_tag

    listed = components(result, threshold)
    found = []
    for d, t in zip(result.dims, result.t):
        bounds = sampled_range(t, d.kernel)
        if bounds is None:
            continue
        key = f"{d.name}_logmean_{unit_tag(d.unit)}"
        outside = [c for c in listed
                   if key in c and not bounds[0] <= c[key] <= bounds[1]]
        if not outside:
            continue
        worst = max(outside, key=lambda c: abs(c["integral_au"]))
        where = _where(result, worst)
        found.append(Diagnostic(
            "outside-range",
            f"{len(outside)} listed component(s) lie outside the sampled {d.name} range "
            f"{bounds[0]:.4g}..{bounds[1]:.4g} {d.unit} (largest: {d.name} = "
            f"{worst[key]:.4g} {d.unit}{where}, {_percent(worst['fraction_abs_pct'])} % of the "
            "total): the data barely constrain it — extend the sampling or read it as a bound",
        ))
    return found


def _percent(value: float) -> str:
    """A share in per cent: whole numbers, one significant digit below 1 % (not "0")."""
    return f"{value:.0f}" if abs(value) >= 1 else f"{value:.1g}"


def _where(result: Result, comp: dict[str, Any]) -> str:
    """`` at 4.71 ppm`` for a component on a chemical-shift axis, else empty."""
    for d in result.dims:
        for key in (f"{d.name}_mean_ppm", f"{d.name}_ppm"):
            if not d.inverted and d.unit == "ppm" and key in comp:
                return f" at {comp[key]:.4g} ppm"
    return ""


# --- phase --------------------------------------------------------------------------------------


def _phase_checks(result: Result) -> list[Diagnostic]:
    phase = result.parameters.get("choices", {}).get("phase", {})
    if not isinstance(phase, Mapping) or "p1_deg" not in phase:
        return []
    if not str(phase.get("method", "auto")).startswith("auto"):
        return []  # the user's own phase is the user's call
    limit = float(phase.get("p1_limit_deg", MAX_PLAUSIBLE_P1_DEG))
    p1 = float(phase["p1_deg"])
    if abs(p1) <= limit:
        return []
    return [Diagnostic(
        "phase",
        f"automatic first-order phase {p1:.0f} deg exceeds the {limit:.0f} deg a correctly "
        "removed digital filter leaves: the spectra are likely mis-phased — check them or "
        "set processing.phase = [p0, p1]",
    )]
