"""Zero- and first-order phase: automatic fit to the peak phases, sign set by the kernels."""

from __future__ import annotations

import numpy as np

from ..config import ProcessingSettings
from .kinds import reference_index
from .noise import robust_sigma
from .regions import signal_mask


def phase_shift(spec: np.ndarray, p0_deg: float, p1_deg: float) -> np.ndarray:
    """Apply zero/first-order phase along the last axis: ``exp(i (p0 + p1 k/n))``."""
    n = spec.shape[-1]
    ph = np.deg2rad(p0_deg + p1_deg * np.arange(n) / n)
    return spec * np.exp(1j * ph)


def find_peaks(mag: np.ndarray, threshold: float, max_peaks: int = 20) -> list[tuple[int, int, int]]:
    """Strongest local maxima of ``mag`` as (centre, window start, window stop)."""
    sigma = robust_sigma(mag)
    floor = max(threshold * sigma, 0.1 * float(mag.max()))
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
        while a > 0 and mag[a - 1] > half and c - a < n // 8:
            a -= 1
        b = c
        while b < n - 1 and mag[b + 1] > half and b - c < n // 8:
            b += 1
        w = max(c - a, b - c, 1)
        lo, hi = max(0, c - w), min(n, c + w + 1)
        guard = max(3 * w, n // 64)
        taken[max(0, c - guard): min(n, c + guard + 1)] = True
        peaks.append((int(c), lo, hi))
        if len(peaks) == max_peaks:
            break
    return peaks


def auto_phase(spec: np.ndarray, threshold: float = 6.0) -> tuple[float, float]:
    """Zero- and first-order phase (degrees) that put the peaks of one spectrum in absorption.

    The spectrum is zero-filled four times (through its inverse FFT) so that peaks are well
    sampled.  Each peak's phase is the angle of the sum of the spectrum over a window
    symmetric about its maximum (the dispersive part cancels); ``p0 + p1 k/n`` is then
    fitted to the peak phases on the circle, weighted by peak magnitude, searching ``p1`` in
    [-720, 720] degrees with a slight preference for small ``|p1|``.  One peak: ``p1 = 0``.

    Parameters
    ----------
    spec : numpy.ndarray
        Complex 1-D spectrum.
    threshold : float
        Peaks must exceed this many noise sigmas.

    Returns
    -------
    (p0, p1) : tuple of float
        Phases for :func:`phase_shift`, p0 in [0, 360).
    """
    fid = np.fft.ifft(np.fft.ifftshift(spec))
    spec = np.fft.fftshift(np.fft.fft(fid, 4 * spec.size))  # 4x zero-fill: peaks well sampled
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
    p1 = np.deg2rad(np.arange(-720.0, 720.25, 0.25))
    r = theta[None, :] - p1[:, None] * x[None, :]
    p0 = np.angle(np.sum(w * np.exp(1j * r), axis=1))
    cost = np.sum(w * (1.0 - np.cos(r - p0[:, None])), axis=1) + 0.02 * np.abs(p1) / (2 * np.pi)
    i = int(np.argmin(cost))
    return float(np.rad2deg(p0[i])) % 360.0, float(np.rad2deg(p1[i]))


def phase_spectra(
    spec: np.ndarray, s: ProcessingSettings, choices: dict, indirect: tuple, kernels: list[str]
) -> np.ndarray:
    """Phase every increment; return the complex phased spectra."""
    n = spec.shape[-1]
    rows = spec.reshape(-1, n)
    strongest_flat = int(np.argmax(np.sum(np.abs(rows) ** 2, axis=1)))
    strongest = np.unravel_index(strongest_flat, spec.shape[:-1]) if spec.ndim > 1 else ()
    if s.phase == "auto":
        p0, p1 = auto_phase(rows[strongest_flat], float(s.signal_threshold))
        method = "auto (peak phases of the strongest increment)"
    else:
        p0, p1 = (float(v) for v in s.phase)
        method = "given"
    phased = phase_shift(spec, p0, p1)
    if s.phase == "auto" and spec.ndim > 1:
        ref = reference_index(indirect, kernels, strongest)
        ref_row = phased[ref].real
        mask = signal_mask(phased.reshape(-1, n)[strongest_flat].real, s.signal_threshold)
        if np.sum(ref_row[mask] if mask.any() else ref_row) < 0:
            p0 = (p0 + 180.0) % 360.0
            phased = -phased
        choices["phase_reference_increment"] = [int(i) for i in ref]
    choices["phase"] = {"p0_deg": round(p0, 3), "p1_deg": round(p1, 3), "method": method}
    choices["strongest_increment"] = [int(i) for i in strongest]
    return phased
