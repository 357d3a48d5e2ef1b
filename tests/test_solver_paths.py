"""One problem, one answer: the dense, banded and CG paths solve the same normal equations,
with and without noise weights (``sigma``) and a constant offset (``baseline``)."""

from __future__ import annotations

import numpy as np
import pytest

import nmrilt

#: Solves exact to rounding (CG to 1e-12 of the right-hand side, no noise-scaled stop) and a
#: fixed number of outer iterations: every path then follows the same trajectory.
EXACT = {"cg_tol": 1e-12, "cg_noise_tol": 0.0, "cg_max_iter": 5000, "tol": 0.0,
         "fit_tol": 0.0, "max_iter": 25}


def _pseudo2d(n_shift: int = 30, seed: int = 1):
    """IR decays (12 delays) of three bands over ``n_shift`` slices, with an offset of 0.7
    and heteroscedastic noise; 20 tau points -> 600 unknowns (dense is allowed)."""
    rng = np.random.default_rng(seed)
    t = np.logspace(-3, 1, 12)
    ppm = np.arange(float(n_shift))
    tau = np.logspace(-3.5, 1.5, 20)
    g = np.zeros((20, n_shift))
    g[8, n_shift // 6 : n_shift // 2] = 3.0
    g[14, n_shift // 2 : 5 * n_shift // 6] = -2.0
    g[4, 2 * n_shift // 3 :] = 2.0
    sigma = 0.05 * (1.0 + rng.random((12, n_shift)))
    data = (1 - 2 * np.exp(-np.outer(t, 1 / tau))) @ g + 0.7
    data += sigma * rng.standard_normal(data.shape)
    return data, [t, ppm], [tau, ppm], ["inversion_recovery", "identity"], sigma


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("baseline", [False, True])
def test_dense_banded_and_cg_give_one_answer(weighted, baseline):
    """Forced onto each path with exact solves, the three agree to rounding (relative 1e-8
    in g and in the offset): weights and offset are part of every path's equations."""
    data, t, tau, kernels, sigma = _pseudo2d()
    opts = dict(EXACT, baseline=baseline, sigma=sigma if weighted else None)
    res = {path: nmrilt.invert(data, t, tau, kernels, solver=path, **opts)
           for path in ("dense", "banded", "cg")}
    ref = res["dense"]
    for path in ("banded", "cg"):
        assert res[path].stats["solver_path"] == path
        err = np.linalg.norm(res[path].g - ref.g) / np.linalg.norm(ref.g)
        assert err < 1e-8, (path, err)
        if baseline:
            np.testing.assert_allclose(res[path].baseline, ref.baseline, rtol=1e-8, atol=1e-10)
        assert res[path].stats["alpha_00_used"] == pytest.approx(
            ref.stats["alpha_00_used"], rel=1e-8)


@pytest.mark.parametrize("n_shift", [30, 300])
def test_unit_sigma_changes_neither_path_nor_answer(n_shift):
    """``sigma`` of ones is the unweighted problem: same automatic path (dense for 600,
    banded for 6000 unknowns) and the same map to 1e-10, with and without offset."""
    data, t, tau, kernels, _ = _pseudo2d(n_shift)
    for baseline in (False, True):
        plain = nmrilt.invert(data, t, tau, kernels, baseline=baseline)
        ones = nmrilt.invert(data, t, tau, kernels, baseline=baseline,
                             sigma=np.ones_like(data))
        assert ones.stats["solver_path"] == plain.stats["solver_path"]
        np.testing.assert_allclose(ones.g, plain.g, rtol=1e-10, atol=1e-10 * np.abs(plain.g).max())


def test_offset_keeps_the_banded_fast_path():
    """A pseudo-2D problem too large for the dense path stays on the exact banded path when
    an offset and weights are fitted (it used to fall back to Jacobi-preconditioned CG), and
    the weighted residual is consistent with the noise (std 0.8-1.2)."""
    data, t, tau, kernels, sigma = _pseudo2d(300)
    res = nmrilt.invert(data, t, tau, kernels, baseline=True, sigma=sigma)
    assert res.stats["solver_path"] == "banded"
    assert 0.8 <= np.std(res.residuals / sigma) <= 1.2


def test_cg_preconditioner_handles_weights_and_offset():
    """On the CG path the slice preconditioner carries per-slice weights and eliminates the
    offset per slice: a weighted, offset problem needs at most 1.5x the CG steps of the
    plain one (Jacobi needed ~20x on the seed case)."""
    rng = np.random.default_rng(3)
    t = np.logspace(-2, 2, 16)
    tau = np.logspace(-2.5, 2.5, 24)
    lt = np.log10(tau)
    g = np.zeros((24, 24, 6))
    for j in range(6):
        g[:, :, j] = 20 * np.outer(np.exp(-0.5 * ((lt - 0.2 * j) / 0.2) ** 2),
                                   np.exp(-0.5 * ((lt + 0.5) / 0.2) ** 2))
    k = np.exp(-np.outer(t, 1 / tau))
    data = np.einsum("ti,ijz,sj->tsz", k, g, k) + rng.standard_normal((16, 16, 6))
    z = np.arange(6.0)
    args = (data, [t, t, z], [tau, tau, z], ["exponential", "exponential", "identity"])
    plain = nmrilt.invert(*args, solver="cg")
    hard = nmrilt.invert(*args, solver="cg", baseline=True, sigma=np.ones_like(data))
    steps = sum(plain.stats["cg_iterations"]), sum(hard.stats["cg_iterations"])
    assert steps[1] <= 1.5 * steps[0], steps
