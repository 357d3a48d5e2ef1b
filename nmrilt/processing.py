"""Experiment -> Problem: FT, phase, baseline, chemical-shift handling, noise scaling, kernels.

Processing turns what a reader returns (complex FIDs along the last axis, or TopSpin's
processed spectra) into the arrays the solver needs.  The steps, in order:

1. **Spectrum.**  Raw FIDs: optional exponential line broadening, first point halved,
   ``fftshift(fft(fid))``.  The FID convention of the :class:`Experiment` contract is
   ``exp(+2πi ν t)`` with ``ν = (δ − carrier_ppm)·sfo1``, so the ppm axis
   ``carrier_ppm + f / sfo1_mhz`` increases with the index (figures draw it reversed).
   Processed spectra (``meta["processed"]``) are used as they are.
2. **Phase.**  Zero- and first-order phase fitted to the phases of the peaks of the
   strongest increment (largest total power; see :func:`auto_phase`), then applied to
   every increment.  The 180° ambiguity is
   resolved by the kernels: the *reference* increment — longest recovery delay for T1
   dimensions, shortest echo time / b-value for decays — must integrate positive.
3. **Signal mask and baseline.**  A point is signal when the strongest increment exceeds
   ``signal_threshold`` noise sigmas (noise from first differences, robust to baseline);
   each run of signal points is widened by its own width on both sides; single-point
   spikes, the outer 2 % of the window (filter roll-off) and regions with less than 5 % of
   the largest region's area (DC spikes, artifacts) are ignored.  A ``constant`` or
   ``linear`` baseline is fitted per increment to the signal-free points and subtracted.
4. **Chemical-shift dimension** (``shift_mode``): ``points`` keeps the tight signal regions
   (:func:`signal_regions`: around each peak above ``min_peak_fraction`` of the highest,
   down to 1 % of its height) or the ``crop`` range as an identity dimension with a ppm axis
   that jumps between regions, summing neighbours within a region when more than
   ``max_shift_points`` remain; ``regions`` sums each ppm range; ``sum`` sums the cropped
   spectrum (the dimension disappears).
5. **Noise and scaling.**  The per-point noise sigma comes from high-order differences of
   the spectra away from the peaks with the exact noise gain of the window
   (:func:`difference_sigma`; ``auto``), the imaginary channel (``imaginary``) or a ppm
   range (``region``); a sum of ``m`` points has sigma ``sqrt(m)`` times larger without
   line broadening (:func:`sum_noise_factor` otherwise).  Data are divided by it: the
   problem has unit noise variance.
6. **Kernels and tau grids** from the axis roles and :attr:`Experiment.kind`; tau grids by
   :func:`nmrilt.solver.grids.tau_grid` (``extend_decades`` beyond the sampled range at each end,
   ``points_per_decade``), density lowered so that at most ``max_tau_points`` remain.

Every decision is recorded in :attr:`Problem.choices`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from . import config as _config
from .errors import ProcessingError
from .solver.grids import tau_grid
from .model import Dimension, Problem
from .readers import Experiment

log = logging.getLogger(__name__)

#: Display names of the inverted quantity per kernel, with the unit of tau.
KERNEL_LABELS = {
    "inversion_recovery": ("T1", "s"),
    "saturation_recovery": ("T1", "s"),
    "exponential": ("T2", "s"),
    "diffusion": ("D", "m^2/s"),
}
_RECOVERY = ("inversion_recovery", "saturation_recovery")
#: Automatic line broadening aims at this FID end/start envelope ratio, capped (Hz).
TRUNCATION_TARGET = 0.003
MAX_AUTO_LB_HZ = 50.0
#: Signal regions with less than this fraction of the largest region's area are ignored.
MIN_REGION_FRACTION = 0.05
_SPECTRAL_ROLES = ("direct", "chemical_shift")


# --- small numerical helpers ------------------------------------------------------------------


def phase_shift(spec: np.ndarray, p0_deg: float, p1_deg: float) -> np.ndarray:
    """Apply zero/first-order phase along the last axis: ``exp(i (p0 + p1 k/n))``."""
    n = spec.shape[-1]
    ph = np.deg2rad(p0_deg + p1_deg * np.arange(n) / n)
    return spec * np.exp(1j * ph)


def robust_sigma(x: np.ndarray) -> float:
    """Noise sigma from first differences (MAD; insensitive to smooth baselines)."""
    d = np.diff(np.asarray(x, float), axis=-1).ravel()
    if d.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0))


def _peaks(mag: np.ndarray, threshold: float, max_peaks: int = 20) -> list[tuple[int, int, int]]:
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
    peaks = _peaks(np.abs(spec), threshold)
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


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index ranges of consecutive True values."""
    m = np.concatenate([[False], mask, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(m))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def signal_mask(row: np.ndarray, threshold: float) -> np.ndarray:
    """Signal points of a real spectrum: above ``threshold`` sigmas, widened per peak.

    Single-point spikes, the outer 2 % at each edge of the window (digital-filter
    roll-off) and regions holding less than :data:`MIN_REGION_FRACTION` of the area of the
    largest one (DC spikes, artifacts) are not signal.
    """
    sigma = robust_sigma(row)
    if sigma <= 0:
        return np.zeros(row.shape, bool)
    hit = np.abs(row - np.median(row)) > threshold * sigma
    n = row.size
    edge = max(2, n // 50)
    hit[:edge] = hit[n - edge:] = False
    mask = np.zeros_like(hit)
    for a, b in true_runs(hit):
        if b - a < 2:
            continue
        w = max(2, b - a)
        mask[max(0, a - w): min(n, b + w)] = True
    runs = true_runs(mask)
    areas = [float(np.sum(np.abs(row[a:b]))) for a, b in runs]
    for (a, b), area in zip(runs, areas):
        if area < MIN_REGION_FRACTION * max(areas):
            mask[a:b] = False
    return mask


#: A signal region extends from its peak while the strongest spectrum stays above this
#: fraction of the peak's height (and above ``signal_threshold`` sigmas): +-5 linewidths of a
#: Lorentzian line, 94 % of its area.
REGION_EXTENT_FRACTION = 0.01
#: ``max_shift_points = "auto"``: at most this many data values (increments x kept
#: chemical-shift columns) reach the solver.  12 x 12 x 32: the README's pseudo-3D example
#: then runs in ~15 s on a 2-core machine; a pseudo-2D example keeps every point (~4 s).
SHIFT_DATA_BUDGET = 4608
#: Points added on each side of every region.
REGION_MARGIN_POINTS = 2


def signal_regions(
    row: np.ndarray, sigma: float, threshold: float, min_peak_fraction: float = 0.05
) -> list[tuple[int, int]]:
    """Tight signal regions of a real spectrum: half-open index ranges, sorted, disjoint.

    Every local maximum higher than ``threshold * sigma`` and than
    ``min_peak_fraction`` of the highest one opens a region, which extends on both sides
    while the spectrum stays above ``max(threshold * sigma, REGION_EXTENT_FRACTION * height)``
    (a Lorentzian line keeps +-5 linewidths, 94 % of its area), widened by
    :data:`REGION_MARGIN_POINTS`.  Overlapping or touching regions merge; single-point
    spikes and the outer 2 % of the window (filter roll-off) are ignored.
    """
    row = np.asarray(row, float)
    n = row.size
    edge = max(2, n // 50)
    inner = np.abs(row[edge: n - edge])
    if inner.size < 3 or sigma <= 0:
        return []
    top = float(inner.max())
    floor = max(threshold * sigma, min_peak_fraction * top)
    cand = np.flatnonzero((inner[1:-1] >= inner[:-2]) & (inner[1:-1] >= inner[2:])
                          & (inner[1:-1] > floor)) + 1
    cand = cand[np.argsort(inner[cand])[::-1]] + edge
    mag = np.abs(row)
    covered = np.zeros(n, bool)
    regions = []
    for c in cand:
        if covered[c]:
            continue
        level = max(threshold * sigma, REGION_EXTENT_FRACTION * mag[c])
        a = c
        while a > edge and mag[a - 1] > level:
            a -= 1
        b = c + 1
        while b < n - edge and mag[b] > level:
            b += 1
        if b - a < 2:
            continue
        a, b = max(edge, a - REGION_MARGIN_POINTS), min(n - edge, b + REGION_MARGIN_POINTS)
        covered[a:b] = True
        regions.append((a, b))
    return true_runs(covered)


def ppm_segments(ppm: np.ndarray) -> list[tuple[int, int]]:
    """Split a chemical-shift axis at its gaps: half-open index ranges of evenly spaced runs.

    The default processing keeps only the signal regions of the spectrum, so the axis
    jumps between regions; figures draw one panel per run rather than stretch cells over
    the empty stretches.
    """
    ppm = np.asarray(ppm, float)
    if ppm.size < 3:
        return [(0, ppm.size)]
    step = np.abs(np.diff(ppm))
    gap = step > 1.5 * float(np.median(step))
    cuts = [0] + [int(i) + 1 for i in np.flatnonzero(gap)] + [ppm.size]
    return list(zip(cuts[:-1], cuts[1:]))


def _subtract_baseline(rows: np.ndarray, free: np.ndarray, order: int) -> np.ndarray:
    n = rows.shape[-1]
    x = np.linspace(-1.0, 1.0, n)
    design = np.vander(x, order + 1)
    coef, *_ = np.linalg.lstsq(design[free], rows[:, free].T, rcond=None)
    return rows - (design @ coef).T


# --- the processing steps ----------------------------------------------------------------------


def _kernel_for(axis_role: str, kind: str, name: str) -> str:
    if axis_role in ("temperature", "index"):
        return "identity"
    if axis_role == "echo":
        return "exponential"
    if axis_role == "b_value":
        return "diffusion"
    if axis_role == "delay":
        if kind in ("t1_ir", "t1_t2"):
            return "inversion_recovery"
        if kind == "t1_sr":
            return "saturation_recovery"
        if kind in ("t2_cpmg", "t2_t2", "d_t2"):
            return "exponential"
        raise ProcessingError(
            f"axis {name!r} holds delays but the experiment kind is {kind!r}: set kind = "
            f'"t1_ir" (or "t1_sr", "t2_cpmg") in nmrilt.toml, or pass --kind / kind='
        )
    if axis_role == "gradient":
        raise ProcessingError(
            f"axis {name!r} holds gradient strengths, not b-values: the reader could not "
            "compute b (needs delta/DELTA); give the b-values or a recipe to the reader"
        )
    raise ProcessingError(f"axis {name!r} has role {axis_role!r}, which cannot be inverted")


def _kernels(exp: Experiment, indirect: tuple, requested: list[str]) -> list[str]:
    if requested:
        if len(requested) != len(indirect):
            raise ProcessingError(
                f"processing.kernels gives {len(requested)} kernels but {exp.source} has "
                f"{len(indirect)} indirect dimensions ({[a.name for a in indirect]})"
            )
        return list(requested)
    return [_kernel_for(ax.role, exp.kind, ax.name) for ax in indirect]


def _reference_index(indirect: tuple, kernels: list[str], strongest: tuple) -> tuple:
    """Increment whose signal must be positive (see the module docstring)."""
    idx = []
    for ax, k, s in zip(indirect, kernels, strongest):
        t = np.asarray(ax.values, float)
        if k in _RECOVERY:
            idx.append(int(np.argmax(t)))
        elif k in ("exponential", "diffusion"):
            idx.append(int(np.argmin(t)))
        else:
            idx.append(int(s))
    return tuple(idx)


def auto_line_broadening(fid: np.ndarray, sw_hz: float) -> float:
    """Exponential line broadening (Hz) that brings a truncated FID's end to 0.3 % of its start.

    Truncation (an FID still ringing when acquisition stops) distorts the integrals of the
    real spectrum by several per cent; this much broadening removes the effect.  The
    envelope is measured on the strongest FID (mean ``|fid|`` over the first and last 5 %,
    the expected noise magnitude subtracted at the end).  0 when the FID has decayed.
    """
    rows = fid.reshape(-1, fid.shape[-1])
    row = rows[int(np.argmax(np.sum(np.abs(rows) ** 2, axis=1)))]
    n = row.size
    k = max(4, n // 20)
    if n < 4 * k:
        return 0.0
    start = float(np.mean(np.abs(row[1: 1 + k])))
    sigma_t = robust_sigma(np.fft.fft(row).real) / np.sqrt(n)
    end = float(np.mean(np.abs(row[-k:]))) - sigma_t * np.sqrt(np.pi / 2.0)
    ratio = end / start if start > 0 else 0.0
    if ratio <= TRUNCATION_TARGET:
        return 0.0
    aq = n / sw_hz
    return float(min(np.log(ratio / TRUNCATION_TARGET) / (np.pi * aq), MAX_AUTO_LB_HZ))


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


def folded_points(group_delay: float | None, n: int) -> int:
    """Leading FID points whose noise variance is doubled by the digital-filter removal.

    ``nmrglue.bruker.rm_dig_filter`` (used by the Bruker reader, ``post_proc=False``)
    shifts the FID back by the group delay ``g`` and then adds the last
    ``max(floor(g + 2) - 6, 0)`` points, reversed, onto the first ones before dropping
    ``floor(g + 2)`` points: those first points carry two independent noise samples.
    Heavily weighted by line broadening, they raise the noise of a spectrum point by
    ~25 % over what the (high-frequency) difference estimate sees.  0 without a group delay.
    """
    if not group_delay or not np.isfinite(group_delay) or group_delay <= 0:
        return 0
    return int(min(max(int(np.floor(float(group_delay) + 2.0)) - 6, 0), n))


def _spectrum(
    exp: Experiment, s: dict, choices: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Complex spectra (..., n), the ppm axis and the noise window (None for pdata).

    The noise window is the time-domain window times the relative noise std of each FID
    point (``sqrt(2)`` on the points folded back by the digital-filter removal,
    :func:`folded_points`); the noise formulas only use its square.
    """
    ax = exp.axes[-1]
    meta = exp.meta
    if ax.role == "chemical_shift":
        choices["spectrum"] = "processed spectra from the experiment (pdata)"
        return np.asarray(exp.data).astype(complex), np.asarray(ax.values, float), None
    fid = np.array(exp.data, dtype=complex)
    t = np.asarray(ax.values, float)
    n = fid.shape[-1]
    sw = meta.get("sw_hz") or (1.0 / (t[1] - t[0]) if n > 1 and ax.unit == "s" else None)
    sfo1 = meta.get("sfo1_mhz") or meta.get("bf1_mhz")
    if not sw or not sfo1:
        raise ProcessingError(
            f"{exp.source}: cannot build a ppm axis (sw_hz={sw}, sfo1_mhz={sfo1}); the reader "
            "must provide meta['sw_hz'] and meta['sfo1_mhz']"
        )
    carrier = float(meta.get("carrier_ppm") or 0.0)
    if s["line_broadening_hz"] == "auto":
        lb = auto_line_broadening(fid, float(sw))
        how = "auto: truncated FID brought to 0.3 % at its end" if lb else "auto: FID decayed"
    else:
        lb, how = float(s["line_broadening_hz"]), "given"
    window = np.exp(-np.pi * lb * np.arange(n) / float(sw))
    window[0] *= 0.5
    spec = np.fft.fftshift(np.fft.fft(fid * window, axis=-1), axes=-1)
    folded = folded_points(meta.get("group_delay_points"), n)
    if folded:
        choices["folded_filter_points"] = folded
    freq = np.fft.fftshift(np.fft.fftfreq(n, d=1.0 / sw))
    ppm = carrier + freq / float(sfo1)
    choices["spectrum"] = (
        f"FT of {n} complex points, first point halved; sw {float(sw):g} Hz, "
        f"sfo1 {float(sfo1):g} MHz, carrier {carrier:g} ppm"
    )
    choices["line_broadening_hz"] = {"value": round(lb, 3), "how": how}
    noise_window = window.copy()
    noise_window[:folded] *= np.sqrt(2.0)
    return spec, ppm, noise_window


def _phase(
    spec: np.ndarray, s: dict, choices: dict, indirect: tuple, kernels: list[str]
) -> np.ndarray:
    """Phase every increment; return the complex phased spectra."""
    n = spec.shape[-1]
    rows = spec.reshape(-1, n)
    strongest_flat = int(np.argmax(np.sum(np.abs(rows) ** 2, axis=1)))
    strongest = np.unravel_index(strongest_flat, spec.shape[:-1]) if spec.ndim > 1 else ()
    if s["phase"] == "auto":
        p0, p1 = auto_phase(rows[strongest_flat], float(s["signal_threshold"]))
        method = "auto (peak phases of the strongest increment)"
    else:
        p0, p1 = (float(v) for v in s["phase"])
        method = "given"
    phased = phase_shift(spec, p0, p1)
    if s["phase"] == "auto" and spec.ndim > 1:
        ref = _reference_index(indirect, kernels, strongest)
        ref_row = phased[ref].real
        mask = signal_mask(phased.reshape(-1, n)[strongest_flat].real, s["signal_threshold"])
        if np.sum(ref_row[mask] if mask.any() else ref_row) < 0:
            p0 = (p0 + 180.0) % 360.0
            phased = -phased
        choices["phase_reference_increment"] = [int(i) for i in ref]
    choices["phase"] = {"p0_deg": round(p0, 3), "p1_deg": round(p1, 3), "method": method}
    choices["strongest_increment"] = [int(i) for i in strongest]
    return phased


def difference_sigma(
    rows: np.ndarray, free: np.ndarray, window: np.ndarray | None, max_order: int = 12
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
        if ok.sum() < 8:
            break
        vals = np.diff(rows, n=d, axis=-1)[:, ok]
        gain = np.sqrt(np.sum(w2 * (2.0 * np.sin(np.pi * j / n)) ** (2 * d)))
        est = float(1.4826 * np.median(np.abs(vals - np.median(vals))) / gain)
        if est >= 0.95 * best:
            best, order = min(best, est), d
            break
        best, order = est, d
    return best * float(np.sqrt(np.sum(w2))), order


def _noise_sigma(
    phased: np.ndarray, real: np.ndarray, ppm: np.ndarray, free: np.ndarray, s: dict,
    window: np.ndarray | None = None,
) -> tuple[float, str]:
    n = real.shape[-1]
    rows = real.reshape(-1, n)
    method = s["noise"]
    if method == "region":
        lo, hi = sorted(s["noise_region"])
        sel = (ppm >= lo) & (ppm <= hi)
        if sel.sum() < 8:
            raise ProcessingError(
                f"processing.noise_region {s['noise_region']} holds {int(sel.sum())} points; "
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
    mag = uniform_filter1d(mag, min(25, n), mode="nearest")
    quiet = mag <= np.median(mag)
    edge = max(2, n // 50)
    quiet[:edge] = quiet[n - edge:] = False
    if quiet.sum() >= 32:
        sigma, d = difference_sigma(rows, quiet, window)
        if np.isfinite(sigma) and sigma > 0:
            return sigma, (f"order-{d} differences of the real spectra away from the peaks "
                           f"({int(quiet.sum())} points per increment, MAD, window gain)")
    sigma, d = difference_sigma(rows, np.ones(n, bool), window)
    return sigma, f"order-{d} differences of all points (MAD, window gain)"


def _shift_dimension(
    real: np.ndarray, ppm: np.ndarray, mask: np.ndarray, regions: list[tuple[int, int]],
    s: dict, choices: dict,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Collapse or crop the spectral axis; return (data, ppm axis or None, points per entry).

    ``mask`` (wide signal mask) sets the auto crop of ``sum`` mode; ``regions`` (tight
    signal regions, :func:`signal_regions`) the points kept in ``points`` mode.
    """
    mode = s["shift_mode"]
    if mode == "regions":
        cols, centres, counts, ranges = [], [], [], []
        for a, b in s["regions"]:
            lo, hi = sorted((a, b))
            sel = (ppm >= lo) & (ppm <= hi)
            if not sel.any():
                raise ProcessingError(
                    f"processing.regions: [{a}, {b}] ppm lies outside the spectrum "
                    f"({ppm.min():.2f}..{ppm.max():.2f} ppm)"
                )
            cols.append(real[..., sel].sum(axis=-1))
            centres.append(float(ppm[sel].mean()))
            counts.append(int(sel.sum()))
            ranges.append([lo, hi])
        choices["shift"] = {"mode": "regions", "ranges_ppm": ranges, "points": counts}
        data = np.stack(cols, axis=-1)
        return data, np.array(centres), np.array(counts, float)
    no_signal = ProcessingError(
        f"no signal above {s['signal_threshold']:g} noise sigmas in the spectrum: "
        "set processing.crop = [ppm_a, ppm_b] or lower processing.signal_threshold"
    )
    if s["crop"] != "auto":
        lo, hi = sorted(s["crop"])
        idx = np.flatnonzero((ppm >= lo) & (ppm <= hi))
        if idx.size == 0:
            raise ProcessingError(f"processing.crop {s['crop']} ppm selects no point")
        segments = [(int(idx[0]), int(idx[-1]) + 1)]
    elif mode == "sum":
        if not mask.any():
            raise no_signal
        idx = np.flatnonzero(mask)
        segments = [(int(idx[0]), int(idx[-1]) + 1)]
    else:
        if not regions:
            raise no_signal
        segments = list(regions)
    if mode == "sum":
        i0, i1 = segments[0]
        crop_ppm = [float(ppm[i0]), float(ppm[i1 - 1])]
        choices["shift"] = {"mode": "sum", "crop_ppm": crop_ppm, "points": i1 - i0}
        data = real[..., i0:i1].sum(axis=-1)
        return data, None, np.array([float(i1 - i0)])
    npts = sum(b - a for a, b in segments)
    increments = int(np.prod(real.shape[:-1]))
    if s["max_shift_points"] == "auto":
        limit = max(16, SHIFT_DATA_BUDGET // max(increments, 1))
    else:
        limit = int(s["max_shift_points"])
    factor = int(np.ceil(npts / limit)) if limit and npts > limit else 1
    cols, axis, counts = [], [], []
    for a, b in segments:  # neighbours are summed within a region, never across a gap
        for k in range(a, b, factor):
            e = min(b, k + factor)
            cols.append(real[..., k:e].sum(axis=-1))
            axis.append(float(ppm[k:e].mean()))
            counts.append(e - k)
    choices["shift"] = {
        "mode": "points",
        "crop": "given" if s["crop"] != "auto" else "auto (signal regions)",
        "regions_ppm": [[round(float(ppm[a]), 4), round(float(ppm[b - 1]), 4)]
                        for a, b in segments],
        "crop_ppm": [float(ppm[segments[0][0]]), float(ppm[segments[-1][1] - 1])],
        "points_in_regions": int(npts), "max_shift_points": limit,
        "cap_rule": (f"auto: {SHIFT_DATA_BUDGET} data values / {increments} increments"
                     if s["max_shift_points"] == "auto" else "given"),
        "summed_neighbours": factor, "points_kept": len(axis),
    }
    return np.stack(cols, axis=-1), np.array(axis), np.array(counts, float)


def _grid(t: np.ndarray, kernel: str, s: dict) -> tuple[np.ndarray, dict]:
    ppd, ext, cap = float(s["points_per_decade"]), float(s["extend_decades"]), s["max_tau_points"]
    tau = tau_grid(t, kernel, points_per_decade=ppd, extend_decades=ext)
    if kernel != "identity" and tau.size > cap:
        ppd = ppd * (cap - 1) / (tau.size - 1)
        tau = tau_grid(t, kernel, points_per_decade=ppd, extend_decades=ext)
    info = {"min": float(tau.min()), "max": float(tau.max()), "points": int(tau.size)}
    if kernel != "identity":
        info.update(points_per_decade=round(ppd, 3), extend_decades=ext)
    return tau, info


def _from_spectra(
    exp: Experiment, s: dict, indirect: tuple, kernels: list[str], choices: dict
) -> tuple[np.ndarray, Dimension | None, np.ndarray, float]:
    """Steps 1-5 for FIDs or spectra: (data, chemical-shift dimension, scale, sigma)."""
    spec, ppm, window = _spectrum(exp, s, choices)
    if exp.axes[-1].role == "chemical_shift" and not np.any(spec.imag):
        phased = spec
        choices["phase"] = {"method": "none (processed spectra)"}
    else:
        phased = _phase(spec, s, choices, indirect, kernels)
    real = np.ascontiguousarray(phased.real)
    n = real.shape[-1]
    rows = real.reshape(-1, n)
    strongest = int(np.argmax(np.sum(rows**2, axis=1)))
    mask = signal_mask(rows[strongest], float(s["signal_threshold"]))
    free = ~mask
    choices["signal_ppm"] = [
        [round(float(ppm[a]), 4), round(float(ppm[b - 1]), 4)] for a, b in true_runs(mask)
    ]
    if s["baseline"] != "none" and free.sum() >= 8:
        order = 0 if s["baseline"] == "constant" else 1
        real = _subtract_baseline(rows, free, order).reshape(real.shape)
    choices["baseline"] = s["baseline"]
    if s["noise_sigma"] > 0:
        sigma1, how = float(s["noise_sigma"]), "given (processing.noise_sigma)"
    else:
        sigma1, how = _noise_sigma(phased, real, ppm, free, s, window)
    if not np.isfinite(sigma1) or sigma1 <= 0:
        raise ProcessingError(f"{exp.source}: noise estimate is {sigma1}; data may be empty")
    choices["noise"] = {"method": how, "sigma_per_point": sigma1}
    strong_row = real.reshape(-1, n)[strongest]
    regions = signal_regions(strong_row, sigma1, float(s["signal_threshold"]),
                             float(s["min_peak_fraction"]))
    data, axis_ppm, counts = _shift_dimension(real, ppm, mask, regions, s, choices)
    scale = sigma1 * sum_noise_factor(window, counts)
    if axis_ppm is not None and axis_ppm.size > 1:
        name = "region" if s["shift_mode"] == "regions" else "shift"
        dim = Dimension(name, "ppm", "chemical_shift", "identity", "δ", "ppm", axis_ppm)
        return data, dim, scale.reshape((1,) * len(indirect) + (-1,)), sigma1
    if axis_ppm is not None:
        data = data[..., 0]
    return data, None, np.asarray(float(scale.ravel()[0])), sigma1


def _from_intensities(exp: Experiment, s: dict, choices: dict) -> tuple:
    """Data without a spectral axis (intensity tables): (data, scale, sigma)."""
    data = np.asarray(exp.data)
    if np.iscomplexobj(data):
        data = data.real
    if s["noise_sigma"] > 0:
        sigma1, how = float(s["noise_sigma"]), "given (processing.noise_sigma)"
    else:
        # second differences remove the smooth decay; std of d2 is sqrt(6) sigma
        d2 = np.diff(data.reshape(-1, data.shape[-1]), n=2, axis=-1).ravel()
        sigma1 = float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0))
        how = "second differences (MAD); give processing.noise_sigma if known"
    if not np.isfinite(sigma1) or sigma1 <= 0:
        raise ProcessingError(
            f"{exp.source}: cannot estimate the noise of these intensities (too few points "
            "or noise-free); set processing.noise_sigma"
        )
    choices["noise"] = {"method": how, "sigma_per_point": sigma1}
    return data, np.asarray(sigma1), sigma1


def process(exp: Experiment, settings: dict[str, Any] | None = None, **overrides: Any) -> Problem:
    """Turn an experiment into an inversion problem (see the module docstring).

    Parameters
    ----------
    exp : Experiment
        What a reader returned.
    settings : dict, optional
        The ``processing`` section of the settings (defaults for missing keys), or the full
        settings dictionary from :func:`nmrilt.config.load_settings`.
    **overrides
        Processing keys, e.g. ``shift_mode="sum"``.

    Returns
    -------
    Problem

    Raises
    ------
    ProcessingError
        If the experiment cannot be inverted with these settings (the message says why
        and which setting to change).
    """
    section = dict(settings.get("processing", settings)) if settings else {}
    section.update(overrides)
    s = _config.load_settings(processing=section)["processing"]
    choices: dict[str, Any] = {}
    spectral = exp.axes[-1].role in _SPECTRAL_ROLES
    indirect = exp.axes[:-1] if spectral else exp.axes
    if not indirect:
        raise ProcessingError(
            f"{exp.source} has no indirect dimension (a 1D spectrum): there is nothing to invert"
        )
    kernels = _kernels(exp, indirect, list(s["kernels"]))
    if all(k == "identity" for k in kernels):
        raise ProcessingError(
            f"{exp.source}: no dimension to invert (axes "
            f"{[(a.name, a.role) for a in indirect]}); if one holds delays, echo times or "
            "b-values, set kind (--kind) or processing.kernels"
        )
    dims: list[Dimension] = []
    for ax, k in zip(indirect, kernels):
        name, unit = KERNEL_LABELS.get(k, (ax.name, ax.unit))
        dims.append(Dimension(name, unit, ax.role, k, ax.name, ax.unit))
    t = [np.asarray(ax.values, float) for ax in indirect]
    if spectral:
        data, shift_dim, scale, sigma1 = _from_spectra(exp, s, indirect, kernels, choices)
        if shift_dim is not None:
            dims.append(shift_dim)
            t.append(shift_dim.ppm)
    else:
        data, scale, sigma1 = _from_intensities(exp, s, choices)
    taus, grids = [], []
    for d, ti in zip(dims, t):
        tau, info = _grid(ti, d.kernel, s)
        taus.append(tau)
        grids.append({"dimension": d.name, "kernel": d.kernel, **info})
    choices["kernels"] = list(kernels) + (["identity"] * (len(dims) - len(kernels)))
    choices["tau_grids"] = grids
    choices["tau_rule"] = (
        "nmrilt.solver.grids.tau_grid: sampled range (1/b for diffusion) widened by extend_decades "
        "at each end, points_per_decade, density lowered to at most max_tau_points"
    )
    meta = {k: v for k, v in exp.meta.items() if k != "raw"}
    scaled = np.asarray(data, float) / scale
    log.info("processed %s: data %s, noise sigma %.4g", exp.source, scaled.shape, sigma1)
    return Problem(
        data=scaled, t=tuple(t), tau=tuple(taus), kernels=tuple(d.kernel for d in dims),
        dims=tuple(dims), sigma=float(sigma1), scale=np.asarray(scale, float),
        choices=choices, source=Path(exp.source), kind=exp.kind, files=tuple(exp.files),
        meta=meta,
    )
