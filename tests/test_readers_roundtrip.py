"""Round trip: example dataset -> reader -> peak integrals -> nmrilt.invert -> T1/T2/D.

Each peak of each example is integrated (real part of an independent FT, ±0.08 ppm),
scaled to unit noise, inverted with the 1-D kernel of the experiment, and the dominant
component (log-weighted centroid of the main lobe) must lie within 15 % of the truth.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EXAMPLES, truth

import nmrilt
from nmrilt.solver.grids import tau_grid

TOLERANCE = 0.15


def spectra(exp: nmrilt.Experiment) -> tuple[np.ndarray, np.ndarray]:
    fid = np.array(exp.data, dtype=complex)
    fid[..., 0] *= 0.5
    n = fid.shape[-1]
    spec = np.fft.fftshift(np.fft.fft(fid, axis=-1), axes=-1).real
    ppm = exp.meta["carrier_ppm"] + np.fft.fftshift(
        np.fft.fftfreq(n, 1 / exp.meta["sw_hz"])) / exp.meta["sfo1_mhz"]
    return spec, ppm


def integrals(spec: np.ndarray, ppm: np.ndarray, centre: float) -> tuple[np.ndarray, float]:
    """Integral over ±0.08 ppm and its noise std (from the signal-free 8.5–9.5 ppm band)."""
    region = np.abs(ppm - centre) < 0.08
    noise_band = (ppm > 8.5) & (ppm < 9.5)
    sigma = np.std(spec[..., noise_band]) * np.sqrt(region.sum())
    return spec[..., region].sum(axis=-1), float(sigma)


def dominant(res) -> float:
    g = np.asarray(res.g, dtype=float)
    tau = np.asarray(res.tau[0], dtype=float)
    i = int(np.argmax(g))
    lo = i
    while lo > 0 and g[lo - 1] > 0.1 * g[i]:
        lo -= 1
    hi = i
    while hi < len(g) - 1 and g[hi + 1] > 0.1 * g[i]:
        hi += 1
    w = g[lo:hi + 1]
    return float(np.exp(np.sum(w * np.log(tau[lo:hi + 1])) / np.sum(w)))


def invert_1d(y: np.ndarray, sigma: float, t: np.ndarray, kernel: str) -> float:
    tau = tau_grid(t, kernel, points_per_decade=16)
    res = nmrilt.invert(y / sigma, t=t, tau=tau, kernels=kernel, progress=False)
    return dominant(res)


CASES = [
    ("bruker_t1ir_pseudo2d", "inversion_recovery", "t1_s"),
    ("bruker_t2cpmg_pseudo2d", "exponential", "t2_s"),
    ("bruker_diffusion_pseudo2d", "diffusion", "d_m2_s"),
    ("varian_t1_arrayed.fid", "inversion_recovery", "t1_s"),
]


@pytest.mark.parametrize(("name", "kernel", "key"), CASES)
def test_pseudo2d_examples_recover_their_constants(name, kernel, key):
    exp = nmrilt.read(EXAMPLES / name)
    spec, ppm = spectra(exp)
    t = np.asarray(exp.axes[0].values, dtype=float)
    for peak in truth(name)["peaks"]:
        y, sigma = integrals(spec, ppm, peak["ppm"])
        found = invert_1d(y, sigma, t, kernel)
        assert found == pytest.approx(peak[key], rel=TOLERANCE), (peak["ppm"], found)


def test_pseudo3d_example_recovers_t1_and_t2_along_each_axis():
    name = "bruker_t1t2_pseudo3d"
    exp = nmrilt.read(EXAMPLES / name)
    spec, ppm = spectra(exp)
    vd = np.asarray(exp.axes[0].values)
    echo = np.asarray(exp.axes[1].values)
    for peak in truth(name)["peaks"]:
        y, sigma = integrals(spec, ppm, peak["ppm"])  # (vd, echo)
        t1 = invert_1d(y[:, 0], sigma, vd, "inversion_recovery")
        t2 = invert_1d(y[-1, :], sigma, echo, "exponential")
        assert t1 == pytest.approx(peak["t1_s"], rel=TOLERANCE), (peak["ppm"], t1)
        assert t2 == pytest.approx(peak["t2_s"], rel=TOLERANCE), (peak["ppm"], t2)
