"""Zero- and first-order phase: the stored vendor phase or a fit to the peak phases; sign set
by the kernels."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..config import ProcessingSettings
from .kinds import reference_index
from .noise import robust_sigma
from .regions import signal_mask

#: Peaks used by :func:`auto_phase`: at most MAX_PHASE_PEAKS local maxima above
#: PEAK_FLOOR_FRACTION of the highest; a peak's half-height window is searched at most
#: n/PEAK_HALF_WIDTH_DIVISOR points from its centre, and no further peak is taken within
#: max(PEAK_GUARD_WIDTHS half widths, n/PEAK_GUARD_DIVISOR points) of it.
MAX_PHASE_PEAKS = 20
PEAK_FLOOR_FRACTION = 0.1
PEAK_HALF_WIDTH_DIVISOR = 8
PEAK_GUARD_WIDTHS = 3
PEAK_GUARD_DIVISOR = 64
#: Zero-filling of the spectrum before the peak phases are measured (peaks well sampled).
ZERO_FILL_FACTOR = 4
#: First-order phase searched in [-P1_SEARCH_DEG, P1_SEARCH_DEG] in steps of P1_STEP_DEG,
#: with a cost of P1_PENALTY_PER_TURN per 360 degrees of |p1| (prefers small p1).  The
#: bound is what a correctly removed digital filter leaves (a fraction of a dwell of
#: timing error: well under half a turn); 428 deg was fitted to noise peaks on real ODNP
#: data where TopSpin's PHC1 is 0.
P1_SEARCH_DEG = 180.0
P1_STEP_DEG = 0.25
P1_PENALTY_PER_TURN = 0.02


def phase_shift(spec: np.ndarray, p0_deg: float, p1_deg: float) -> np.ndarray:
    """Apply zero/first-order phase along the last axis: ``exp(i (p0 + p1 k/n))``."""
    n = spec.shape[-1]
    ph = np.deg2rad(p0_deg + p1_deg * np.arange(n) / n)
    return spec * np.exp(1j * ph)


def find_peaks(
    mag: np.ndarray, threshold: float, max_peaks: int = MAX_PHASE_PEAKS
) -> list[tuple[int, int, int]]:
    """Strongest local maxima of ``mag`` as (centre, window start, window stop)."""
    sigma = robust_sigma(mag)
    floor = max(threshold * sigma, PEAK_FLOOR_FRACTION * float(mag.max()))
    n = mag.size
    cand = np.flatnonzero((mag[1:-1] > mag[:-2]) & (mag[1:-1] >= mag[2:]) & (mag[1:-1] > floor)) + 1
    cand = cand[np.argsort(mag[cand])[::-1]]
    taken = np.zeros(n, bool)
    peaks = []
    for c in cand:
        if taken[c]:
            continue
        half = mag[c] / 2.0
        a = c
        while a > 0 and mag[a - 1] > half and c - a < n // PEAK_HALF_WIDTH_DIVISOR:
            a -= 1
        b = c
        while b < n - 1 and mag[b + 1] > half and b - c < n // PEAK_HALF_WIDTH_DIVISOR:
            b += 1
        w = max(c - a, b - c, 1)
        lo, hi = max(0, c - w), min(n, c + w + 1)
        guard = max(PEAK_GUARD_WIDTHS * w, n // PEAK_GUARD_DIVISOR)
        taken[max(0, c - guard): min(n, c + guard + 1)] = True
        peaks.append((int(c), lo, hi))
        if len(peaks) == max_peaks:
            break
    return peaks


def auto_phase(
    spec: np.ndarray, threshold: float = 6.0, p1_limit_deg: float = P1_SEARCH_DEG
) -> tuple[float, float]:
    """Zero- and first-order phase (degrees) that put the peaks of one spectrum in absorption.

    The spectrum is zero-filled four times (through its inverse FFT) so that peaks are well
    sampled.  Each peak's phase is the angle of the sum of the spectrum over a window
    symmetric about its maximum (the dispersive part cancels); ``p0 + p1 k/n`` is then
    fitted to the peak phases on the circle, weighted by peak magnitude, searching ``p1`` in
    [-180, 180] degrees with a slight preference for small ``|p1|``.  One peak: ``p1 = 0``.

    Parameters
    ----------
    spec : numpy.ndarray
        Complex 1-D spectrum.
    threshold : float
        Peaks must exceed this many noise sigmas.
    p1_limit_deg : float
        The first-order phase is searched in [-p1_limit_deg, p1_limit_deg] (0: zero order
        only).

    Returns
    -------
    (p0, p1) : tuple of float
        Phases for :func:`phase_shift`, p0 in [0, 360).
    """
    fid = np.fft.ifft(np.fft.ifftshift(spec))
    spec = np.fft.fftshift(np.fft.fft(fid, ZERO_FILL_FACTOR * spec.size))
    n = spec.size
    peaks = find_peaks(np.abs(spec), threshold)
    if not peaks:
        return 0.0, 0.0
    sums = np.array([spec[lo:hi].sum() for _, lo, hi in peaks])
    theta = -np.angle(sums)
    w = np.abs(sums) / np.abs(sums).sum()
    x = np.array([c for c, _, _ in peaks]) / n
    if len(peaks) == 1:
        return float(np.rad2deg(theta[0])) % 360.0, 0.0
    p1 = np.deg2rad(np.arange(-p1_limit_deg, p1_limit_deg + P1_STEP_DEG, P1_STEP_DEG))
    r = theta[None, :] - p1[:, None] * x[None, :]
    p0 = np.angle(np.sum(w * np.exp(1j * r), axis=1))
    misfit = np.sum(w * (1.0 - np.cos(r - p0[:, None])), axis=1)
    cost = misfit + P1_PENALTY_PER_TURN * np.abs(p1) / (2 * np.pi)
    i = int(np.argmin(cost))
    return float(np.rad2deg(p0[i])) % 360.0, float(np.rad2deg(p1[i]))


def vendor_phase(vendor: Mapping | None) -> tuple[tuple[float, float], str] | None:
    """The phase the reader found with the data (``meta["vendor_processing"]``) and its
    source, or None: ``((p0_deg, p1_deg), "TopSpin procs PHC0 = 13.2, PHC1 = 0 (pdata/1)")``."""
    if not vendor or vendor.get("phase_deg") is None:
        return None
    p0, p1 = (float(v) for v in vendor["phase_deg"])
    if not (np.isfinite(p0) and np.isfinite(p1)):
        return None
    return (p0 % 360.0, p1), str(vendor.get("phase_source", "stored with the data"))


def phase_spectra(
    spec: np.ndarray, s: ProcessingSettings, choices: dict, indirect: tuple, kernels: list[str],
    vendor: Mapping | None = None,
) -> np.ndarray:
    """Phase every increment; return the complex phased spectra.

    ``phase = "auto"``: the phase stored with the data by the spectrometer software
    (``vendor``, the reader's ``meta["vendor_processing"]``) when there is one, else the
    fit (:func:`auto_phase`); ``"fit"``: always the fit; ``[p0, p1]``: as given.  An
    automatic phase (stored or fitted) is turned by 180 degrees when the reference
    increment would integrate negative.
    """
    n = spec.shape[-1]
    rows = spec.reshape(-1, n)
    strongest_flat = int(np.argmax(np.sum(np.abs(rows) ** 2, axis=1)))
    strongest = np.unravel_index(strongest_flat, spec.shape[:-1]) if spec.ndim > 1 else ()
    fallback = False
    stored = vendor_phase(vendor) if s.phase == "auto" else None
    fitted = s.phase == "fit" or (s.phase == "auto" and stored is None)
    if fitted:
        p0, p1 = auto_phase(rows[strongest_flat], float(s.signal_threshold))
        method = "auto (peak phases of the strongest increment)"
        # at the bound the fit is doubtful; zero order only (p1 = 0) was tried on the
        # real ODNP and XSTE sets and was worse (11/17 -> 9/17 reference peaks): kept, said
        fallback = abs(p1) >= P1_SEARCH_DEG - P1_STEP_DEG
    elif stored is not None:
        (p0, p1), method = stored
    else:
        p0, p1 = (float(v) for v in s.phase)
        method = "given"
    phased = phase_shift(spec, p0, p1)
    if s.phase in ("auto", "fit") and spec.ndim > 1:
        ref = reference_index(indirect, kernels, strongest)
        ref_row = phased[ref].real
        mask = signal_mask(phased.reshape(-1, n)[strongest_flat].real, s.signal_threshold)
        if np.sum(ref_row[mask] if mask.any() else ref_row) < 0:
            p0 = (p0 + 180.0) % 360.0
            phased = -phased
        choices["phase_reference_increment"] = [int(i) for i in ref]
    choices["phase"] = {"p0_deg": round(p0, 3), "p1_deg": round(p1, 3), "method": method}
    if fitted:
        choices["phase"]["p1_limit_deg"] = P1_SEARCH_DEG
        if fallback:
            choices["phase"]["note"] = (
                f"first-order fit at the +-{P1_SEARCH_DEG:g} deg bound: check the phase or "
                "set processing.phase = [p0, p1]"
            )
    choices["strongest_increment"] = [int(i) for i in strongest]
    return phased
