"""What the uncertainty of a component is about: its position and integral on a fixed mask.

A component (:func:`nmrilt.output.components.components`) is a same-sign blob of ``g``
with a boolean support ``mask``.  Its *statistics* are, per inverted axis, the
``|g|``-weighted mean of ``log10 tau`` over the mask (the log of the geometric-mean
position written in ``peaks.csv``), and the integral ``sum(g * scale)`` over the mask.
The resampled inversions are measured on their own supports of the same components
(:mod:`.matching`), found as the point estimate's were, so every resample answers the same
question as the point estimate, the noise in where a support ends included.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["component_statistics", "component_widths"]


def _moments(
    g: np.ndarray, mask: np.ndarray, log_tau: Sequence[np.ndarray | None]
) -> tuple[list[float], list[float]]:
    """Mean and standard deviation of ``log10 tau`` per inverted axis (``|g|`` weights)."""
    w = np.abs(g) * mask
    total = float(w.sum())
    means, sds = [], []
    for ax, lt in enumerate(log_tau):
        if lt is None:
            continue
        if total <= 0.0:
            means.append(np.nan)
            sds.append(np.nan)
            continue
        marg = w.sum(axis=tuple(i for i in range(g.ndim) if i != ax))
        mean = float(marg @ lt) / total
        means.append(mean)
        sds.append(float(np.sqrt(max(float(marg @ (lt - mean) ** 2) / total, 0.0))))
    return means, sds


def component_statistics(
    g: np.ndarray, scale: np.ndarray, masks: Sequence[np.ndarray],
    log_tau: Sequence[np.ndarray | None],
) -> np.ndarray:
    """Positions and integrals of the components of ``g`` on fixed ``masks``.

    Parameters
    ----------
    g : numpy.ndarray
        A distribution (unit-noise units, as :func:`nmrilt.invert` returns it).
    scale : numpy.ndarray
        Broadcasts to ``g``: the factor to spectrum units.
    masks : sequence of boolean arrays
        One support per component, each of ``g``'s shape.
    log_tau : sequence
        ``log10`` of the grid of each inverted axis; None for identity axes.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(masks), n_inverted + 1)``: the mean ``log10 tau`` per inverted axis,
        then the integral in spectrum units.  NaN positions where ``g`` vanishes on the
        mask.
    """
    gs = g * np.broadcast_to(scale, g.shape)
    rows = []
    for mask in masks:
        means, _ = _moments(g, mask, log_tau)
        rows.append(means + [float(gs[mask].sum())])
    return np.asarray(rows, float).reshape(len(masks), _n_inverted(log_tau) + 1)


def component_widths(
    g: np.ndarray, masks: Sequence[np.ndarray], log_tau: Sequence[np.ndarray | None]
) -> np.ndarray:
    """``|g|``-weighted standard deviation of ``log10 tau`` (decades) per component and
    inverted axis, shape ``(len(masks), n_inverted)``."""
    return np.asarray([_moments(g, m, log_tau)[1] for m in masks],
                      float).reshape(len(masks), _n_inverted(log_tau))


def _n_inverted(log_tau: Sequence[np.ndarray | None]) -> int:
    return sum(lt is not None for lt in log_tau)
