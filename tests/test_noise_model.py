"""The real-data noise model (nmrilt.processing.noise_model) on synthetic columns with a
known thermal level and a known signal-proportional error."""

import numpy as np
import pytest

from nmrilt.processing.noise_model import fit_noise_model
from nmrilt.solver.kernels import resolve_kernel

T = np.geomspace(0.004, 1.5, 16)
TAU = np.geomspace(4e-4, 15.0, 56)
KERNEL = resolve_kernel("exponential").matrix


def _columns(rng, n=300, amp_max=3e4):
    """Bi-exponential decays with amplitudes spread over 3 decades (unit thermal noise)."""
    amp = np.geomspace(20, amp_max, n)
    t2a, t2b = rng.uniform(0.02, 0.2, n), rng.uniform(0.3, 3.0, n)
    frac = rng.uniform(0.2, 0.8, n)
    clean = amp * (frac * np.exp(-T[:, None] / t2a) + (1 - frac) * np.exp(-T[:, None] / t2b))
    return clean


def test_white_noise_is_left_alone():
    rng = np.random.default_rng(1)
    y = _columns(rng) + rng.standard_normal((T.size, 300))
    factors, info = fit_noise_model(y, T, TAU, KERNEL)
    # the total chi^2 of 300 columns is consistent with thermal noise: identity model
    assert not info["applied"]
    assert np.all(factors == 1.0)
    assert 0.9 < info["chi2_per_dof_total"] < 1.1


@pytest.mark.parametrize("eps", [0.003, 0.02])
def test_signal_proportional_error_is_estimated(eps):
    rng = np.random.default_rng(2)
    clean = _columns(rng)
    amp = np.abs(clean).max(axis=0)
    y = clean + rng.standard_normal(clean.shape) * np.sqrt(1.0 + (eps * amp) ** 2)
    factors, info = fit_noise_model(y, T, TAU, KERNEL)
    assert info["applied"]
    # tolerance: 25 % on epsilon (300 columns, 11 degrees of freedom each, the fit
    # absorbs part of the error), thermal level within 20 %
    assert info["epsilon"] == pytest.approx(eps, rel=0.25)
    assert info["thermal_factor"] == pytest.approx(1.0, abs=0.2)
    true = np.sqrt(1.0 + (eps * amp) ** 2)
    assert np.median(np.abs(factors / true - 1)) < 0.25


def test_underestimated_thermal_noise_is_corrected():
    # processed spectra: the spectral estimate misses correlated noise (here 5x)
    rng = np.random.default_rng(3)
    y = _columns(rng, amp_max=3e3) + 5.0 * rng.standard_normal((T.size, 300))
    _, info = fit_noise_model(y, T, TAU, KERNEL)
    assert info["applied"]
    assert info["thermal_factor"] == pytest.approx(5.0, rel=0.15)
    assert info["epsilon"] < 1e-3


def test_too_few_increments_leave_the_model_off():
    y = np.ones((5, 10))
    factors, info = fit_noise_model(y, T[:5], TAU, KERNEL)
    assert not info["applied"] and np.all(factors == 1.0)
