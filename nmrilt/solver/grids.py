"""Rules for choosing the tau (output) grid of a dimension from its sampling t."""

from __future__ import annotations

import numpy as np

from ..errors import InversionInputError
from .kernels import Kernel, resolve_kernel


def tau_grid(
    t: np.ndarray,
    kernel: str | Kernel = "exponential",
    points_per_decade: float = 10.0,
    extend_decades: float = 0.5,
) -> np.ndarray:
    """Logarithmic tau grid covering the time scales the sampling ``t`` can resolve.

    For relaxation kernels the grid spans ``[min(t>0), max(t)]`` widened by
    ``extend_decades`` on both sides; for ``diffusion`` it spans ``[1/max(b), 1/min(b>0)]``
    widened the same way.  Identity dimensions return ``t`` unchanged.

    Parameters
    ----------
    t : array_like
        Sampling of the dimension (s, or s/m^2 for diffusion).
    kernel : str or Kernel
        Kernel of the dimension.
    points_per_decade : float
        Grid density (default 10).
    extend_decades : float
        Margin added below and above the sampled range, in decades (default 0.5).

    Returns
    -------
    numpy.ndarray
        Increasing tau values.
    """
    k = resolve_kernel(kernel)
    t = np.asarray(t, dtype=float).ravel()
    if k.is_identity:
        return t.copy()
    pos = t[t > 0]
    if pos.size == 0:
        raise InversionInputError("tau_grid needs at least one sampling value t > 0")
    if points_per_decade <= 0:
        raise InversionInputError("points_per_decade must be > 0")
    lo, hi = np.log10(pos.min()), np.log10(pos.max())
    if k.name == "diffusion":
        lo, hi = -hi, -lo
    lo, hi = lo - extend_decades, hi + extend_decades
    n = max(int(round((hi - lo) * points_per_decade)) + 1, 2)
    return np.logspace(lo, hi, n)
