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
the evidence of plain 3-point sums stays above :data:`EXTEND_SIGMAS` and above
:data:`REGION_EXTENT_FRACTION` of its highest value in the box (a Lorentzian keeps +-5 linewidths, 94 % of
its area).  The narrowest box has three points: a single-point spike is diluted by
``sqrt(3)`` and needs a far higher amplitude than a line to be taken.
"""

from __future__ import annotations

import numpy as np

from ..runs import true_runs
from .noise import filter_edge_points, filter_noise_factor, noise_autocorrelation

#: Box widths (points) over which the spectra are summed before the test.
DETECTION_SCALES = (3, 9, 27, 81)
#: Regions extend on sums of this many points ...
EXTEND_BOX = 3
#: ... while their evidence (deviate and RMS amplitude) stays above this many sigmas ...
EXTEND_SIGMAS = 3.0
#: ... and above this fraction of its peak's evidence amplitude.
REGION_EXTENT_FRACTION = 0.01
#: A candidate within TAIL_REACH widths (its box's or the region's) of a stronger region whose evidence is below
#: TAIL_FRACTION of that region's (at the candidate's box width) is the stronger line's
#: tail or ringing (a Lorentzian at SNR 10^4 stays above the noise across the window;
#: truncation and filter ringing sit a few per cent high beside a strong line).
TAIL_REACH = 5
TAIL_FRACTION = 0.1
#: A region stops at a local minimum of its evidence below this fraction of its peak.
EXTEND_STOP_FRACTION = 0.1
#: Local noise: median over LOCAL_NOISE_BOXES box widths (at least
#: MIN_LOCAL_NOISE_POINTS points) of what the kernels cannot express.
LOCAL_NOISE_BOXES = 8
MIN_LOCAL_NOISE_POINTS = 129
#: Kernel basis: singular vectors above this fraction of the largest, plus a constant.
BASIS_RCOND = 0.1
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


def local_inflation(z: np.ndarray, basis: np.ndarray, w: int) -> np.ndarray:
    """Local noise level (>= 1, in units of the global sigma) along the spectrum.

    Whatever of the increments' z-scores the kernel subspace ``basis`` cannot express is
    noise (the signal of a relaxing line lies in that subspace); its energy per degree of
    freedom, median-filtered over :data:`LOCAL_NOISE_BOXES` box widths, measures the noise
    where it is larger than the global estimate (interference bands, unstable spectra).
    """
    from scipy.ndimage import median_filter
    from scipy.stats import chi2

    m, r = basis.shape
    res = z - basis @ (basis.T @ z)
    e = np.sum(res**2, axis=0) / (m - r)
    size = min(z.shape[-1], max(MIN_LOCAL_NOISE_POINTS, LOCAL_NOISE_BOXES * w) | 1)
    med = median_filter(e, size=size, mode="nearest") / (chi2.ppf(0.5, m - r) / (m - r))
    return np.sqrt(np.maximum(med, 1.0))


def scale_evidence(
    rows: np.ndarray, sigma: float, rho: np.ndarray, w: int, top_hat_filter: bool = True,
    basis: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(normal deviate, amplitude in sigmas) of the ``w``-point top hats over all increments.

    ``rho`` is the noise autocorrelation of neighbouring points.  The largest squared
    z-score over the increments is left out when there are at least three increments (one
    spike in one increment does not make signal).
    """
    rows = np.atleast_2d(rows)
    if top_hat_filter:
        f = filter_noise_factor(top_hat_kernel(w), rho)
        z2 = (top_hat(rows, w) / (sigma * f)) ** 2
    else:
        f = filter_noise_factor(np.ones(w), rho)
        z2 = (box_sums(rows, w) / (sigma * f)) ** 2
    if basis is not None:
        z = (top_hat(rows, w) if top_hat_filter else box_sums(rows, w)) / (sigma * f)
        z2 = z2 / local_inflation(z, basis, w) ** 2
    m = rows.shape[0]
    q = z2.sum(axis=0)
    if m >= 3:
        q = q - z2.max(axis=0)
        m -= 1
    return wilson_hilferty(q, m), np.sqrt(q / m)


def detect_regions(
    rows: np.ndarray, sigma: float, threshold: float, window: np.ndarray | None = None,
    scales: tuple[int, ...] = DETECTION_SCALES, rho: np.ndarray | None = None,
    basis: np.ndarray | None = None,
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
    basis : numpy.ndarray, optional
        Orthonormal (m, r) basis of what the kernels can express over the increments
        (:func:`kernel_basis`); with ``r <= m - 2`` the noise is also measured locally
        (:func:`local_inflation`).

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
    dev, amp, raw = {}, {}, {}
    for w in scales:
        dev[w], amp[w] = scale_evidence(rows, sigma, rho, w, basis=basis)
        # amplitudes against the global noise: a strong line's own misfit must not make
        # its ringing look relatively strong
        raw[w] = amp[w] if basis is None else scale_evidence(rows, sigma, rho, w)[1]
        # a top hat spans 3 w points: where its flanks run past the usable window they
        # are zero-padded and a baseline offset no longer cancels (edge false positives)
        reach = edge + (3 * w) // 2 + 1
        dev[w][:reach] = dev[w][max(reach, n - reach):] = -np.inf
    # regions extend on plain 3-point sums (a line's tails, not its curvature)
    ext_dev, ext_amp = scale_evidence(rows, sigma, rho, EXTEND_BOX, False, basis)

    def _extend(i: int, step: int, stop: int, top: float) -> int:
        # outwards while above the floor; at a local minimum below EXTEND_STOP_FRACTION of
        # the peak the tail has ended (what rises beyond is a neighbour or ringing)
        level = max(REGION_EXTENT_FRACTION * top, EXTEND_SIGMAS)
        while i + step != stop and ext_dev[i + step] > EXTEND_SIGMAS and ext_amp[i + step] > level:
            if ext_amp[i + step] > ext_amp[i] and ext_amp[i] < EXTEND_STOP_FRACTION * top:
                break
            i += step
        return i

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
    taken: list[tuple[int, int, int]] = []  # centre, box width, region width
    for _, c, w in cands:
        # a stronger line inside this box's flanks: the flank response (side lobe)
        if covered[c] or any(abs(c - c2) <= (3 * w) // 2 + w2 // 2 for c2, w2, _ in taken):
            continue
        # a coarse response in the far tail of a much stronger line, not a line of its own
        if any(abs(c - c2) <= TAIL_REACH * max(w, r2) and raw[w][c] < TAIL_FRACTION * raw[w][c2]
               for c2, _, r2 in taken):
            continue
        a = max(edge, c - w // 2)
        b = min(n - edge, c + w - w // 2)
        top = float(ext_amp[a:b].max())
        a = _extend(a, -1, edge - 1, top)
        b = _extend(b - 1, 1, n - edge, top) + 1
        a, b = max(edge, a - REGION_MARGIN_POINTS), min(n - edge, b + REGION_MARGIN_POINTS)
        covered[a:b] = True
        taken.append((c, w, b - a))
    return true_runs(covered)


def wide_mask(regions: list[tuple[int, int]], n: int) -> np.ndarray:
    """Signal mask for baseline and noise: every region widened by its own width each side."""
    mask = np.zeros(n, bool)
    for a, b in regions:
        w = max(2, b - a)
        mask[max(0, a - w): min(n, b + w)] = True
    return mask


def kernel_basis(matrices: list[np.ndarray]) -> np.ndarray | None:
    """Orthonormal basis of the increment patterns the kernels (and an offset) can make.

    ``matrices`` holds one kernel matrix (increments x tau) per indirect dimension; their
    Kronecker product, with a constant column, is reduced to its singular vectors above
    :data:`BASIS_RCOND` of the largest.  None when fewer than two degrees of freedom would
    remain for the noise.
    """
    k = np.ones((1, 1))
    for mat in matrices:
        k = np.kron(k, np.asarray(mat, float))
    k = np.hstack([k, np.ones((k.shape[0], 1))])
    u, sv, _ = np.linalg.svd(k, full_matrices=False)
    r = int(np.sum(sv > BASIS_RCOND * sv[0]))
    if k.shape[0] - r < 2:
        return None
    return u[:, :r]
