"""Each resample's own supports of the point estimate's components.

Measured on the point estimate's fixed masks, a resample misses part of the sampling
spread of the estimates: where two touching components are split, and where a support
ends, move with the noise (broad components 0.2 decades wide, whose 5 % supports touch:
the estimates' spread is ~1.5x the spread on fixed masks).  :func:`matched_masks` gives
every original component the support the resample's own components give it:

* each original is matched to the resampled component holding most of the resample's
  ``|g|`` on the original's mask (its *primary*);
* a resampled component that is the primary of one original is that original's support;
* one that is the primary of several (two touching components merged in the resample)
  is split between them at the saddles of ``|g|`` (a watershed seeded at the resample's
  maximum inside each original's mask), so a merged resample gives split-dependent values
  rather than one outlier holding both;
* a resampled component that is nobody's primary joins the original it overlaps, when it
  overlaps exactly one (a component broken in two by the noise);
* an original with no match (it vanished into the noise) keeps its fixed mask.

:func:`basins` gives the models' own values their whole components: the support level
cuts a broad component's flanks off, in the resample as in the estimate, and the truth
keeps them.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence

import numpy as np

__all__ = ["basins", "matched_masks"]


def matched_masks(
    g: np.ndarray, found: Sequence[np.ndarray], masks: Sequence[np.ndarray],
    estimate_g: np.ndarray,
) -> list[np.ndarray]:
    """The supports of the original components ``masks`` in the resample ``g``.

    Parameters
    ----------
    g : numpy.ndarray
        A resampled distribution.
    found : sequence of boolean arrays
        Its components' supports (found as the point estimate's were; connected sets).
    masks : sequence of boolean arrays
        The point estimate's components' supports.
    estimate_g : numpy.ndarray
        The point estimate's distribution (the originals' signs).

    Returns
    -------
    list of boolean arrays
        One per original, in the order of ``masks``.
    """
    a = np.abs(g)
    sign_f = [np.sign(g[f].sum()) for f in found]
    sign_m = [np.sign(estimate_g[m].sum()) for m in masks]
    overlap = np.array([[float(a[f & m].sum()) if sf == sm else 0.0
                         for m, sm in zip(masks, sign_m)] for f, sf in zip(found, sign_f)])
    overlap = overlap.reshape(len(found), len(masks))
    primary = [int(np.argmax(overlap[:, k])) if overlap[:, k].any() else -1
               for k in range(len(masks))]
    out = [np.zeros(g.shape, bool) for _ in masks]
    for j, f in enumerate(found):
        mine = [k for k, p in enumerate(primary) if p == j]
        if len(mine) == 1:
            out[mine[0]] |= f
        elif mine:
            seeds = {k: [_argmax_in(a, f & masks[k])] for k in mine}
            for k, region in _watershed(a, f, seeds).items():
                out[k] |= region
        elif np.count_nonzero(overlap[j]) == 1:
            out[int(np.flatnonzero(overlap[j])[0])] |= f
    return [o if o.any() else m for o, m in zip(out, masks)]


def _argmax_in(a: np.ndarray, where: np.ndarray) -> tuple[int, ...]:
    idx = np.argwhere(where)
    return tuple(int(i) for i in idx[np.argmax(a[where])])


def _watershed(
    a: np.ndarray, region: np.ndarray, seeds: dict[int, Sequence[tuple[int, ...]]],
    axes: Sequence[int] | None = None,
) -> dict[int, np.ndarray]:
    """Split ``region`` between ``seeds`` (label -> seed points) by flooding ``a`` from the
    top (priority flood, every neighbour inside ``region`` along ``axes``, default all):
    the boundaries fall on the saddles."""
    labels = np.full(a.shape, -1, int)
    heap: list[tuple[float, int, tuple[int, ...]]] = []
    order = itertools.count()
    for k, points in seeds.items():
        for p in points:
            if labels[p] < 0:
                labels[p] = k
                heapq.heappush(heap, (-float(a[p]), next(order), p))
    free = range(a.ndim) if axes is None else axes
    steps = [s for s in itertools.product((-1, 0, 1), repeat=a.ndim)
             if any(s) and not any(d for ax, d in enumerate(s) if ax not in free)]
    while heap:
        _, _, p = heapq.heappop(heap)
        for s in steps:
            q = tuple(i + d for i, d in zip(p, s))
            if all(0 <= i < n for i, n in zip(q, a.shape)) and region[q] and labels[q] < 0:
                labels[q] = labels[p]
                heapq.heappush(heap, (-float(a[q]), next(order), q))
    return {k: labels == k for k in seeds}


def basins(
    g: np.ndarray, masks: Sequence[np.ndarray], axes: Sequence[int] | None = None
) -> list[np.ndarray]:
    """Each component's whole catchment: the same-sign points of ``g`` that flood from its
    support (every point of it a seed, so each identity slice it touches gets its flanks)
    along ``axes`` (default all; the inverted ones: never across identity slices, nor into
    the noise of a chemical-shift axis), split between neighbours at the saddles of
    ``|g|``."""
    a = np.abs(g)
    out = [m.copy() for m in masks]
    for sign in (1.0, -1.0):
        mine = [k for k, m in enumerate(masks) if np.sign(g[m].sum()) == sign]
        if mine:
            seeds = {k: [tuple(p) for p in np.argwhere(masks[k])] for k in mine}
            for k, region in _watershed(a, sign * g > 0, seeds, axes).items():
                out[k] |= region
    return out
