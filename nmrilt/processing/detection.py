"""Where the signal is, by absolute signal-to-noise on all the evidence.

A peak is signal when its integral over a few points, taken over every increment together,
stands out of the noise by ``threshold`` sigmas: never relative to the tallest line (a
dominant solvent line must not hide the peaks a chemist picks), and never from single
points of one row (a broad protein hump has low per-point SNR but a high region SNR).

For each box width ``w`` of :data:`DETECTION_SCALES` the spectra are summed over ``w``
adjacent points (the noise of such a sum is exactly known, :func:`sum_noise_factor`).  The
squared z-scores of the increments are added, the largest one left out (a spike in one
increment then cannot make a region), and the sum — chi-square with ``m - 1`` degrees of
freedom under noise — is turned into an equivalent normal deviate (Wilson-Hilferty).  A box
whose deviate exceeds ``threshold`` and is a local maximum along the spectrum, and that no
narrower box at the same place explains better, opens a region; the region extends while
the evidence at its own width stays above :data:`EXTEND_SIGMAS` and above
:data:`REGION_EXTENT_FRACTION` of its peak (a Lorentzian keeps +-5 linewidths, 94 % of
its area).  The narrowest box has three points: a single-point spike is diluted by
``sqrt(3)`` and needs a far higher amplitude than a line to be taken.
"""

from __future__ import annotations

import numpy as np

from ..runs import true_runs
from .noise import filter_edge_points, filter_noise_factor, noise_autocorrelation

#: Box widths (points) over which the spectra are summed before the test.
DETECTION_SCALES = (3, 9, 27, 81)
#: A region extends while its evidence stays above this many sigmas ...
EXTEND_SIGMAS = 3.0
#: ... and above this fraction of its peak's evidence amplitude.
REGION_EXTENT_FRACTION = 0.01
#: A candidate within TAIL_REACH box widths of a stronger region whose evidence is below
#: TAIL_FRACTION of that region's (at the candidate's box width) is the stronger line's
#: tail (a Lorentzian at SNR 10^4 stays above the noise across the window).
TAIL_REACH = 25
TAIL_FRACTION = 0.05
#: Points added on each side of every region.
REGION_MARGIN_POINTS = 2


def wilson_hilferty(q: np.ndarray, dof: int) -> np.ndarray:
    """Normal deviate equivalent to a chi-square value ``q`` with ``dof`` degrees of freedom."""
    k = float(dof)
    c = 2.0 / (9.0 * k)
    return (np.cbrt(np.maximum(q, 0.0) / k) - (1.0 - c)) / np.sqrt(c)


def box_sums(rows: np.ndarray, w: int) -> np.ndarray:
    """Sums of ``w`` adjacent points centred on each point (zero beyond the ends)."""
    n = rows.shape[-1]
    c = np.concatenate([np.zeros(rows.shape[:-1] + (1,)), np.cumsum(rows, axis=-1)], axis=-1)
    lo = np.clip(np.arange(n) - w // 2, 0, n)
    hi = np.clip(np.arange(n) + w - w // 2, 0, n)
    return c[..., hi] - c[..., lo]


def top_hat(rows: np.ndarray, w: int) -> np.ndarray:
    """``w``-point sums minus the mean of the two flanking ``w``-point sums.

    A slow baseline roll (left after a linear baseline over a wide window) cancels, a
    line of width ~``w`` does not.
    """
    s = box_sums(rows, w)
    n = rows.shape[-1]
    left = np.concatenate([np.zeros(rows.shape[:-1] + (w,)), s[..., : n - w]], axis=-1)
    right = np.concatenate([s[..., w:], np.zeros(rows.shape[:-1] + (w,))], axis=-1)
    return s - 0.5 * (left + right)


def top_hat_kernel(w: int) -> np.ndarray:
    """The filter of :func:`top_hat` as weights over ``3 w`` adjacent points."""
    return np.concatenate([np.full(w, -0.5), np.ones(w), np.full(w, -0.5)])


def scale_evidence(
    rows: np.ndarray, sigma: float, rho: np.ndarray, w: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(normal deviate, amplitude in sigmas) of the ``w``-point top hats over all increments.

    ``rho`` is the noise autocorrelation of neighbouring points.  The largest squared
    z-score over the increments is left out when there are at least three increments (one
    spike in one increment does not make signal).
    """
    rows = np.atleast_2d(rows)
    f = filter_noise_factor(top_hat_kernel(w), rho)
    z2 = (top_hat(rows, w) / (sigma * f)) ** 2
    m = rows.shape[0]
    q = z2.sum(axis=0)
    if m >= 3:
        q = q - z2.max(axis=0)
        m -= 1
    return wilson_hilferty(q, m), np.sqrt(q / m)


def detect_regions(
    rows: np.ndarray, sigma: float, threshold: float, window: np.ndarray | None = None,
    scales: tuple[int, ...] = DETECTION_SCALES, rho: np.ndarray | None = None,
) -> list[tuple[int, int]]:
    """Signal regions of real spectra (all increments): half-open, sorted, disjoint ranges.

    Parameters
    ----------
    rows : numpy.ndarray
        Real phased spectra, shape (m, n) (or (n,)).
    sigma : float
        Noise sigma of one spectrum point.
    threshold : float
        Deviates (sigmas) a region's best box must exceed.
    window : numpy.ndarray or None
        Time-domain noise window (exact noise of sums); None: white noise.
    scales : tuple of int
        Box widths tried.
    rho : numpy.ndarray, optional
        Measured noise autocorrelation of neighbouring points (processed spectra);
        overrides ``window``.

    Returns
    -------
    list of (start, stop)
    """
    rows = np.atleast_2d(np.asarray(rows, float))
    n = rows.shape[-1]
    edge = filter_edge_points(n)
    if n - 2 * edge < 3 or not sigma > 0:
        return []
    scales = tuple(w for w in scales if w <= max(3, (n - 2 * edge) // 4))
    if rho is None:
        rho = noise_autocorrelation(window, n, 3 * max(scales))
    dev, amp = {}, {}
    for w in scales:
        dev[w], amp[w] = scale_evidence(rows, sigma, rho, w)
        dev[w][:edge] = dev[w][n - edge:] = -np.inf
    cands = []  # (deviate, centre, width)
    for i, w in enumerate(scales):
        d = dev[w]
        peak = (d[1:-1] >= d[:-2]) & (d[1:-1] >= d[2:]) & (d[1:-1] > threshold)
        cand = np.flatnonzero(peak) + 1
        for v in scales[:i]:  # better explained by a narrower box
            cand = cand[dev[v][cand] < d[cand]]
        cands += [(float(d[c]), int(c), w) for c in cand]
    cands.sort(reverse=True)
    covered = np.zeros(n, bool)
    taken: list[tuple[int, int]] = []
    for _, c, w in cands:
        # a stronger line inside this box's flanks: the flank response (side lobe)
        if covered[c] or any(abs(c - c2) <= (3 * w) // 2 + w2 // 2 for c2, w2 in taken):
            continue
        # a coarse response in the far tail of a much stronger line, not a line of its own
        if any(abs(c - c2) <= TAIL_REACH * w2 and amp[w][c] < TAIL_FRACTION * amp[w][c2]
               for c2, w2 in taken):
            continue
        d, level = dev[w], REGION_EXTENT_FRACTION * amp[w][c]
        a = max(edge, c - w // 2)
        b = min(n - edge, c + w - w // 2)
        while a > edge and d[a - 1] > EXTEND_SIGMAS and amp[w][a - 1] > level:
            a -= 1
        while b < n - edge and d[b] > EXTEND_SIGMAS and amp[w][b] > level:
            b += 1
        a, b = max(edge, a - REGION_MARGIN_POINTS), min(n - edge, b + REGION_MARGIN_POINTS)
        covered[a:b] = True
        taken.append((c, w))
    return true_runs(covered)


def wide_mask(regions: list[tuple[int, int]], n: int) -> np.ndarray:
    """Signal mask for baseline and noise: every region widened by its own width each side."""
    mask = np.zeros(n, bool)
    for a, b in regions:
        w = max(2, b - a)
        mask[max(0, a - w): min(n, b + w)] = True
    return mask
