"""Models of the truth that the data allow, for estimating the bias of the inversion.

Regularization biases positions and integrals, and by how much depends on the truth: a
smooth truth (like the inversion's own ``g``) is reproduced almost without bias, a sharp
one (a single exponential per line, the common case in NMR) is broadened and its neighbours
pull on it.  Resampling about the fit alone sees only the first case, so intervals built
from it alone cover the truth far less often than their nominal level (measured: 33-75 %
at 90 % nominal).  :func:`sharpened_model` builds the second case from the data: every
component replaced, column by column (per slice of the identity axes), by a Gaussian in
``log10 tau`` with the component's position and integral and its width *deconvolved* from
the broadening that the inversion gives a single exponential at the same place.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["forward", "sharpened_model"]


def forward(g: np.ndarray, mats: Sequence[np.ndarray | None]) -> np.ndarray:
    """``K g`` for the per-axis kernel matrices ``mats`` (None: identity axis), through the
    solver's own axis-by-axis product (:func:`nmrilt.solver.operators.apply_along`)."""
    from ..solver.operators import apply_along

    out = g
    for ax, mat in enumerate(mats):
        if mat is not None:
            out = apply_along(np, mat, out, ax)
    return out


def _profile(lt: np.ndarray, mean: float, width: float) -> np.ndarray:
    """Unit-sum weights on the grid ``lt``: a Gaussian in ``log10 tau`` of ``width``
    decades at ``mean``, or the two grid points around ``mean`` (linear interpolation)
    when the Gaussian is narrower than the grid can show."""
    step = float(np.min(np.diff(lt))) if lt.size > 1 else 1.0
    if width > 0.5 * step:
        w = np.exp(-0.5 * ((lt - mean) / width) ** 2)
        if w.sum() > 0:
            return w / w.sum()
    out = np.zeros(lt.size)
    j = int(np.clip(np.searchsorted(lt, mean) - 1, 0, max(lt.size - 2, 0)))
    if lt.size == 1:
        out[0] = 1.0
        return out
    f = float(np.clip((mean - lt[j]) / (lt[j + 1] - lt[j]), 0.0, 1.0))
    out[j], out[j + 1] = 1.0 - f, f
    return out


def _replace(
    g: np.ndarray, masks: Sequence[np.ndarray], log_tau: Sequence[np.ndarray | None],
    widths: np.ndarray,
) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """``g`` with each component's content, slice by slice of the identity axes, replaced
    by a separable profile (:func:`_profile`) of the same integral and mean ``log10 tau``;
    also the placed content of each component (its own array and its support)."""
    inv_axes = [ax for ax, lt in enumerate(log_tau) if lt is not None]
    id_axes = [ax for ax, lt in enumerate(log_tau) if lt is None]
    model = g.copy()
    placed = []
    for c, mask in enumerate(masks):
        content = np.zeros_like(g)
        model[mask] = 0.0
        # columns: index tuples of the identity axes that the component touches
        touched = mask.any(axis=tuple(inv_axes)) if inv_axes else mask
        for idx in np.argwhere(touched) if id_axes else [()]:
            sl: list = [slice(None)] * g.ndim
            for ax, i in zip(id_axes, idx):
                sl[ax] = int(i)
            col_g, col_m = g[tuple(sl)], mask[tuple(sl)]
            total = float(col_g[col_m].sum())
            w = np.abs(col_g) * col_m
            if total == 0.0 or w.sum() == 0.0:
                continue
            prof = np.ones(())
            for k, ax in enumerate(inv_axes):
                other = tuple(i for i in range(w.ndim) if i != k)
                marg = w.sum(axis=other)
                lt = log_tau[ax]
                mean = float(marg @ lt / marg.sum())
                prof = np.multiply.outer(prof, _profile(lt, mean, float(widths[c, k])))
            content[tuple(sl)] += total * prof
        model += content
        placed.append((content, content != 0))
    return model, placed


def sharpened_model(
    g: np.ndarray, masks: Sequence[np.ndarray], log_tau: Sequence[np.ndarray | None],
    widths: np.ndarray,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """``g`` with every component replaced by Gaussians in ``log10 tau`` of ``widths``
    (decades, shape ``(n_components, n_inverted)``) at the same positions and integrals.

    Returns
    -------
    model : numpy.ndarray
    contents : list of numpy.ndarray
        Each component's replacement alone (its position and integral are the truth of
        the model).
    """
    model, placed = _replace(g, masks, log_tau, widths)
    return model, [content for content, _ in placed]
