"""Noise of a spectrum point: robust estimates, exact window gains, sums of points."""

from __future__ import annotations

import numpy as np

from ..config import ProcessingSettings
from ..errors import ProcessingError

#: Median absolute deviation -> standard deviation of Gaussian noise.
MAD_TO_SIGMA = 1.4826
#: The outer 1/FILTER_EDGE_DIVISOR (2 %) of each end of the spectral window, at least
#: MIN_FILTER_EDGE_POINTS points, is digital-filter roll-off: neither signal nor noise.
FILTER_EDGE_DIVISOR = 50
MIN_FILTER_EDGE_POINTS = 2
#: Highest order of the spectrum differences tried by :func:`difference_sigma`; the order
#: stops rising once the estimate falls by less than 5 % (ratio ORDER_STOP_RATIO).
MAX_DIFFERENCE_ORDER = 12
ORDER_STOP_RATIO = 0.95
#: Fewest points a noise estimate is made from (differences, a noise_region).
MIN_NOISE_POINTS = 8
#: "auto" noise: the strongest spectrum's magnitude is smoothed over this many points
#: before the quieter half is taken, which must hold at least MIN_QUIET_POINTS points.
QUIET_SMOOTH_POINTS = 25
MIN_QUIET_POINTS = 32


def filter_edge_points(n: int) -> int:
    """Points at each end of an ``n``-point spectral window left out as filter roll-off."""
    return max(MIN_FILTER_EDGE_POINTS, n // FILTER_EDGE_DIVISOR)


def robust_sigma(x: np.ndarray) -> float:
    """Noise sigma from first differences (MAD; insensitive to smooth baselines)."""
    d = np.diff(np.asarray(x, float), axis=-1).ravel()
    if d.size == 0:
        return 0.0
    return float(MAD_TO_SIGMA * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0))


def difference_sigma(
    rows: np.ndarray,
    free: np.ndarray,
    window: np.ndarray | None,
    max_order: int = MAX_DIFFERENCE_ORDER,
) -> tuple[float, int]:
    """Noise sigma of one real spectrum point from high-order differences of the spectra.

    Far from the peaks a spectrum still holds the Lorentzian tails of its lines (at a
    signal-to-noise ratio of 10^4 they stay above the noise across the whole window), so the
    spread of "signal-free" points overestimates the noise.  A difference of order ``d``
    along the spectrum multiplies the FID by ``(1 - exp(-2 pi i j/n))^d``: smooth tails
    vanish as ``1/x^(d+1)`` while the noise is amplified by an exactly known gain.  With
    time-domain noise ``s`` per channel and window ``w`` (line broadening, halved first
    point), the real part of the ``d``-th difference has variance
    ``s^2 sum_j w_j^2 (2 sin(pi j/n))^(2d)`` and one spectrum point has ``s^2 sum_j w_j^2``.
    ``d`` runs 2, 4, 6 ... and stops once the estimate falls by less than 5 % (the tails
    are gone); the MAD of the differences over the ``free`` points of every row is used.

    Parameters
    ----------
    rows : numpy.ndarray
        Real (phased) spectra, shape (m, n), ``fftshift`` order.
    free : numpy.ndarray
        Boolean (n,), points to use (away from the peaks).
    window : numpy.ndarray or None
        Time-domain window applied before the FT (None: white noise, processed data).
    max_order : int
        Highest difference order tried.

    Returns
    -------
    (sigma, order) : tuple
        Noise sigma of one spectrum point and the difference order used.
    """
    n = rows.shape[-1]
    w2 = np.ones(n) if window is None else np.asarray(window, float) ** 2
    j = np.arange(n)
    best, order = np.inf, 0
    for d in range(2, max_order + 1, 2):
        ok = np.ones(n - d, bool)
        for k in range(d + 1):
            ok &= free[k: n - d + k]
        if ok.sum() < MIN_NOISE_POINTS:
            break
        vals = np.diff(rows, n=d, axis=-1)[:, ok]
        gain = np.sqrt(np.sum(w2 * (2.0 * np.sin(np.pi * j / n)) ** (2 * d)))
        est = float(MAD_TO_SIGMA * np.median(np.abs(vals - np.median(vals))) / gain)
        if est >= ORDER_STOP_RATIO * best:
            best, order = min(best, est), d
            break
        best, order = est, d
    return best * float(np.sqrt(np.sum(w2))), order


def estimate_noise(
    phased: np.ndarray, real: np.ndarray, ppm: np.ndarray, free: np.ndarray, s: ProcessingSettings,
    window: np.ndarray | None = None,
) -> tuple[float, str]:
    n = real.shape[-1]
    rows = real.reshape(-1, n)
    method = s.noise
    if method == "region":
        lo, hi = sorted(s.noise_region)
        sel = (ppm >= lo) & (ppm <= hi)
        if sel.sum() < MIN_NOISE_POINTS:
            raise ProcessingError(
                f"processing.noise_region {list(s.noise_region)} holds {int(sel.sum())} points; "
                "choose a wider signal-free ppm range"
            )
        vals = rows[:, sel]
        return float(np.std(vals - vals.mean(axis=1, keepdims=True))), f"region {lo:g}..{hi:g} ppm"
    if method == "imaginary":
        if np.iscomplexobj(phased) and np.any(phased.imag):
            imag = phased.reshape(-1, n).imag
            sigma, d = difference_sigma(imag, np.ones(n, bool), window)
            return sigma, f"imaginary channel (order-{d} differences, MAD)"
        raise ProcessingError(
            "processing.noise = \"imaginary\" needs complex spectra; these have no imaginary "
            'channel (processed data?): use noise = "auto" or "region"'
        )
    # away from the peaks: the half of the points where the strongest row is weakest,
    # without the outer 2 % (digital-filter roll-off)
    # (magnitude smoothed over 25 points, so that the choice hardly depends on the noise)
    from scipy.ndimage import uniform_filter1d

    mag = np.abs(phased.reshape(-1, n)[int(np.argmax(np.sum(rows**2, axis=1)))])
    mag = uniform_filter1d(mag, min(QUIET_SMOOTH_POINTS, n), mode="nearest")
    quiet = mag <= np.median(mag)
    edge = filter_edge_points(n)
    quiet[:edge] = quiet[n - edge:] = False
    if quiet.sum() >= MIN_QUIET_POINTS:
        sigma, d = difference_sigma(rows, quiet, window)
        if np.isfinite(sigma) and sigma > 0:
            return sigma, (f"order-{d} differences of the real spectra away from the peaks "
                           f"({int(quiet.sum())} points per increment, MAD, window gain)")
    sigma, d = difference_sigma(rows, np.ones(n, bool), window)
    return sigma, f"order-{d} differences of all points (MAD, window gain)"


def sum_noise_factor(window: np.ndarray | None, counts: np.ndarray) -> np.ndarray:
    """Noise sigma of a sum of ``m`` adjacent spectrum points, in units of one point's.

    ``sqrt(m)`` for white noise (``window`` None); with a time-domain window ``w`` (line
    broadening, halved first point) neighbouring points are correlated and the factor is
    ``sqrt(sum_j w_j^2 D_m(j)^2 / sum_j w_j^2)`` with ``D_m(j) = sin(pi j m/n) / sin(pi j/n)``.
    """
    counts = np.asarray(counts, float)
    if window is None:
        return np.sqrt(counts)
    w2 = np.asarray(window, float) ** 2
    n = w2.size
    j = np.arange(1, n)
    out = []
    for m in counts:
        d2 = (np.sin(np.pi * j * m / n) / np.sin(np.pi * j / n)) ** 2
        out.append(np.sqrt((w2[0] * m**2 + np.sum(w2[1:] * d2)) / np.sum(w2)))
    return np.array(out)


def noise_autocorrelation(window: np.ndarray | None, n: int, max_lag: int) -> np.ndarray:
    """Correlation of the real-part noise of spectrum points ``0 .. max_lag`` apart.

    With a time-domain window ``w`` the noise covariance of points ``l`` apart is
    ``Re(sum_j w_j^2 exp(2 pi i j l / n)) / sum_j w_j^2``; white noise (None): 1, 0, 0 ...
    """
    rho = np.zeros(max_lag + 1)
    if window is None:
        rho[0] = 1.0
        return rho
    w2 = np.asarray(window, float) ** 2
    full = np.real(np.fft.fft(w2)) / np.sum(w2)
    k = min(max_lag + 1, full.size)
    rho[:k] = full[:k]
    return rho


def filter_noise_factor(kernel: np.ndarray, rho: np.ndarray) -> float:
    """Noise sigma of ``sum_i k_i x_i`` over adjacent points, in units of one point's.

    ``rho`` is the noise autocorrelation (:func:`noise_autocorrelation`, or measured).
    """
    kernel = np.asarray(kernel, float)
    acf = np.correlate(kernel, kernel, mode="full")  # lags -(L-1) .. L-1
    lags = np.abs(np.arange(-(kernel.size - 1), kernel.size))
    r = np.where(lags < rho.size, rho[np.minimum(lags, rho.size - 1)], 0.0)
    return float(np.sqrt(max(float(acf @ r), 1e-300)))
