"""The one rule for the tau (output) grid of a dimension, from its sampling t.

A logarithmic grid over the time scales the sampling resolves (``[min(t>0), max(t)]``, or
``[1/max(b), 1/min(b>0)]`` for reciprocal kernels such as diffusion), widened by
``extend_decades`` at each end, ``points_per_decade`` dense, and optionally thinned so that
at most ``max_points`` remain.  :func:`nmrilt.invert` (``tau=None``) and the pipeline both
use :func:`tau_grid`; the pipeline passes its configured density, margin and cap.
"""

from __future__ import annotations

import numpy as np

from ..errors import InversionInputError
from .kernels import Kernel, resolve_kernel

#: Grid density of :func:`tau_grid` when none is given (points per decade of tau).
DEFAULT_POINTS_PER_DECADE = 10.0
#: Density :func:`nmrilt.invert` uses when only one dimension is inverted (fine grids are
#: cheap there: dense or banded solves).
POINTS_PER_DECADE_ONE_INVERTED = 12.0


def default_density(n_inverted: int) -> float:
    """Points per decade of the default grids: :data:`POINTS_PER_DECADE_ONE_INVERTED` with
    one inverted dimension, :data:`DEFAULT_POINTS_PER_DECADE` with more."""
    return POINTS_PER_DECADE_ONE_INVERTED if n_inverted <= 1 else DEFAULT_POINTS_PER_DECADE
#: Margin added below and above the sampled range when none is given (decades).
DEFAULT_EXTEND_DECADES = 0.5


def _decades(t: np.ndarray, k: Kernel, extend_decades: float) -> tuple[float, float]:
    pos = t[t > 0]
    if pos.size == 0:
        raise InversionInputError("tau_grid needs at least one sampling value t > 0")
    lo, hi = np.log10(pos.min()), np.log10(pos.max())
    if k.reciprocal:
        lo, hi = -hi, -lo
    return lo - extend_decades, hi + extend_decades


def _logspace(lo: float, hi: float, points_per_decade: float) -> np.ndarray:
    n = max(int(round((hi - lo) * points_per_decade)) + 1, 2)  # noqa: RUF046 (numpy 1.x)
    return np.logspace(lo, hi, n)


def grid_density(
    t: np.ndarray,
    kernel: str | Kernel = "exponential",
    points_per_decade: float = DEFAULT_POINTS_PER_DECADE,
    extend_decades: float = DEFAULT_EXTEND_DECADES,
    max_points: int | None = None,
) -> float:
    """Points per decade :func:`tau_grid` uses: ``points_per_decade``, lowered when the
    grid would exceed ``max_points`` (identity dimensions: ``points_per_decade``)."""
    k = resolve_kernel(kernel)
    if points_per_decade <= 0:
        raise InversionInputError("points_per_decade must be > 0")
    if k.is_identity or max_points is None:
        return float(points_per_decade)
    lo, hi = _decades(np.asarray(t, dtype=float).ravel(), k, extend_decades)
    n = _logspace(lo, hi, points_per_decade).size
    if n <= max_points:
        return float(points_per_decade)
    return points_per_decade * (max_points - 1) / (n - 1)


def tau_grid(
    t: np.ndarray,
    kernel: str | Kernel = "exponential",
    points_per_decade: float = DEFAULT_POINTS_PER_DECADE,
    extend_decades: float = DEFAULT_EXTEND_DECADES,
    max_points: int | None = None,
) -> np.ndarray:
    """Logarithmic tau grid covering the time scales the sampling ``t`` can resolve.

    Parameters
    ----------
    t : array_like
        Sampling of the dimension (s, or s/m^2 for diffusion).
    kernel : str or Kernel
        Kernel of the dimension; identity dimensions return ``t`` unchanged.
    points_per_decade : float
        Grid density (default :data:`DEFAULT_POINTS_PER_DECADE`).
    extend_decades : float
        Margin added below and above the sampled range, in decades (default
        :data:`DEFAULT_EXTEND_DECADES`).
    max_points : int, optional
        Lower the density (:func:`grid_density`) so that about this many points remain.

    Returns
    -------
    numpy.ndarray
        Increasing tau values.

    Raises
    ------
    InversionInputError
        No sampling value ``t > 0``, or ``points_per_decade <= 0``.
    """
    k = resolve_kernel(kernel)
    t = np.asarray(t, dtype=float).ravel()
    if k.is_identity:
        return t.copy()
    ppd = grid_density(t, k, points_per_decade, extend_decades, max_points)
    lo, hi = _decades(t, k, extend_decades)
    return _logspace(lo, hi, ppd)
