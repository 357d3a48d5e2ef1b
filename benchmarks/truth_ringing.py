"""Ringing-prone and broad-feature cases with known truth (issue 9), in the format of
:mod:`truth`: 1-D signed decays on fine grids (13 points per decade over 7 decades) and a
pseudo-2D case with broad chemical-shift bands and single decay times."""

from __future__ import annotations

import numpy as np
import truth as T

#: Variants of the 1-D case: (log10 T2, amplitude, width in decades) per component.
VARIANTS_1D = {
    # three components over 7 decades, the middle one negative (the ringing case)
    "three": ((-2.8, 1.0, 0.15), (-1.0, -0.5, 0.10), (0.8, 0.8, 0.2)),
    # two close components of opposite sign (0.6 decade apart) and a broad third
    "close": ((-2.0, 1.0, 0.12), (-1.4, -0.8, 0.12), (0.5, 0.6, 0.3)),
    # a broad, a narrow and a broad negative component
    "broad_narrow": ((-3.0, 0.5, 0.5), (-0.8, 1.0, 0.06), (1.0, -0.3, 0.35)),
}


def ringing_1d_case(rng_seed: int = 0, variant: str = "three", snr: float = 200.0) -> dict:
    """CPMG decay, 150 echo times 1e-4 ... 1e2 s, peak signal ``snr`` times the unit noise,
    inverted on 92 tau (13 per decade over 1e-4.5 ... 1e2.5 s)."""
    comps = VARIANTS_1D[variant]
    t = np.logspace(-4, 2, 150)
    tau = np.logspace(-4.5, 2.5, 92)
    fine_x = np.linspace(-4.5, 2.5, 1401)
    fine = sum(a * T.gaussian_1d(fine_x, m, s) for m, a, s in comps)
    clean = np.exp(-np.outer(t, 1 / 10**fine_x)) @ fine
    scale = snr / np.abs(clean).max()
    rng = np.random.default_rng(rng_seed)
    data = scale * clean + rng.standard_normal(t.size)
    return {
        "name": f"1-D signed, {variant}, 150 -> 92 (13/decade), SNR {snr:g}",
        "data": data, "t": [t], "tau": [tau], "kernels": ["exponential"],
        "truth": T.pool(scale * fine, fine_x, np.log10(tau), 0),
        "components": [{"sign": int(np.sign(a)), "pos": (m,), "slice": None}
                       for m, a, _ in comps],
        "inverted_axes": (0,), "slice_axis": None,
    }


def broad_pseudo2d_case(rng_seed: int = 0, n_delays: int = 16, n_shift: int = 1000,
                        n_tau: int = 60) -> dict:
    """Pseudo-2D CPMG: ``n_delays`` echo times (1 ms ... 10 s) x ``n_shift`` points over
    10 ppm; two Gaussian bands (1.5 and 1 ppm FWHM at 7 and 3 ppm) with single decay times
    0.05 s and 1 s, peak amplitude 100 sigma -> ``n_tau`` x ``n_shift``."""
    t = np.logspace(-3, 1, n_delays)
    tau = np.logspace(-3.5, 1.5, n_tau)
    ppm = np.linspace(10, 0, n_shift)
    data = np.zeros((n_delays, n_shift))
    truth = np.zeros((n_tau, n_shift))
    comps = []
    for centre, fwhm, t2 in ((7.0, 1.5, 0.05), (3.0, 1.0, 1.0)):
        band = np.exp(-0.5 * ((ppm - centre) / (fwhm / 2.355)) ** 2)
        data += 100 * np.outer(np.exp(-t / t2), band)
        truth[np.argmin(np.abs(np.log10(tau) - np.log10(t2)))] += 100 * band
        comps.append({"sign": 1, "pos": (float(np.log10(t2)),),
                      "slice": int(np.argmin(np.abs(ppm - centre)))})
    rng = np.random.default_rng(rng_seed)
    data += rng.standard_normal(data.shape)
    return {
        "name": f"broad pseudo-2D {n_delays}x{n_shift} -> {n_tau}x{n_shift} (T2 0.05 s, 1 s)",
        "data": data, "t": [t, ppm], "tau": [tau, ppm], "kernels": ["exponential", "identity"],
        "truth": truth, "components": comps, "inverted_axes": (0,), "slice_axis": 1,
    }
