"""FID -> spectrum: exponential line broadening, halved first point, FT, ppm axis."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..config import ProcessingSettings
from ..errors import ProcessingError
from ..readers import Experiment
from .noise import robust_sigma

#: Automatic line broadening aims at this FID end/start envelope ratio, capped (Hz).
TRUNCATION_TARGET = 0.003
MAX_AUTO_LB_HZ = 50.0
#: The FID envelope is measured over the first and last 1/ENVELOPE_DIVISOR (5 %) of the
#: points, at least MIN_ENVELOPE_POINTS.
ENVELOPE_DIVISOR = 20
MIN_ENVELOPE_POINTS = 4


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
    k = max(MIN_ENVELOPE_POINTS, n // ENVELOPE_DIVISOR)
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


def line_broadening(
    fid: np.ndarray, sw_hz: float, setting: str | float, vendor: Mapping | None = None
) -> tuple[float, str]:
    """Exponential line broadening (Hz) and how it was chosen.

    ``"auto"``: the operator's exponential broadening stored with the data (``vendor``,
    the reader's ``meta["vendor_processing"]``: window ``exponential`` and
    ``line_broadening_hz``) when there is one, else :func:`auto_line_broadening`;
    ``"truncation"``: always :func:`auto_line_broadening`; a number: as given.
    """
    if setting == "auto" and vendor and vendor.get("window") == "exponential":
        lb = vendor.get("line_broadening_hz")
        if lb is not None and np.isfinite(lb) and lb >= 0:
            return float(lb), str(vendor.get("line_broadening_source", "stored with the data"))
    if setting in ("auto", "truncation"):
        lb = auto_line_broadening(fid, sw_hz)
        return lb, ("auto: truncated FID brought to 0.3 % at its end" if lb
                    else "auto: FID decayed")
    return float(setting), "given"


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


def spectrum(
    exp: Experiment, s: ProcessingSettings, choices: dict
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
    lb, how = line_broadening(fid, float(sw), s.line_broadening_hz, meta.get("vendor_processing"))
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
