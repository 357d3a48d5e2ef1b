"""Kernels and tau grids against their closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from nmrilt.errors import InversionInputError
from nmrilt.solver.grids import grid_density, tau_grid
from nmrilt.solver.kernels import KERNEL_NAMES, check_tau, resolve_kernel

T = np.array([0.0, 0.01, 0.1, 1.0, 3.0])
TAU = np.array([0.05, 0.5, 5.0])


@pytest.mark.parametrize(
    "name, closed_form",
    [
        ("exponential", lambda t, tau: np.exp(-t / tau)),
        ("inversion_recovery", lambda t, tau: 1 - 2 * np.exp(-t / tau)),
        ("saturation_recovery", lambda t, tau: 1 - np.exp(-t / tau)),
        ("diffusion", lambda t, tau: np.exp(-t * tau)),
    ],
)
def test_builtin_kernel_matches_closed_form(name, closed_form):
    k = resolve_kernel(name).matrix(T, TAU)
    assert k.shape == (len(T), len(TAU))
    for i, t in enumerate(T):
        for j, tau in enumerate(TAU):
            assert k[i, j] == pytest.approx(closed_form(t, tau), rel=1e-12, abs=1e-15)


def test_identity_kernel_is_not_inverted():
    k = resolve_kernel("identity")
    assert k.is_identity
    np.testing.assert_array_equal(k.matrix(T, T), np.eye(len(T)))


def test_kernel_names_are_case_insensitive():
    assert resolve_kernel("Exponential").name == "exponential"


def test_callable_kernel_is_used_as_given():
    def stretched(t, tau):
        return np.exp(-np.sqrt(np.outer(t, 1 / tau)))

    k = resolve_kernel(stretched)
    assert k.name == "stretched"
    np.testing.assert_allclose(k.matrix(T, TAU), np.exp(-np.sqrt(T[:, None] / TAU[None, :])))


def test_callable_kernel_with_wrong_shape_is_rejected():
    k = resolve_kernel(lambda t, tau: np.ones((2, 2)))
    with pytest.raises(InversionInputError, match="shape"):
        k.matrix(T, TAU)


def test_unknown_kernel_name_is_rejected_with_the_choices():
    with pytest.raises(InversionInputError, match="unknown kernel 'gaussian'.*exponential"):
        resolve_kernel("gaussian")


def test_non_positive_tau_is_rejected_for_relaxation_kernels():
    with pytest.raises(InversionInputError, match="must be > 0"):
        check_tau(resolve_kernel("exponential"), np.array([0.0, 1.0]), 0)
    check_tau(resolve_kernel("identity"), np.array([-1.0, 1.0]), 0)


def test_tau_grid_spans_sampling_with_margin():
    t = np.logspace(-3, 0, 20)
    tau = tau_grid(t, "exponential", points_per_decade=10, extend_decades=0.5)
    assert tau[0] == pytest.approx(10**-3.5)
    assert tau[-1] == pytest.approx(10**0.5)
    assert len(tau) == 41
    assert np.all(np.diff(tau) > 0)


def test_tau_grid_for_diffusion_is_reciprocal_of_b():
    b = np.linspace(1e8, 1e10, 16)
    tau = tau_grid(b, "diffusion", points_per_decade=10, extend_decades=0.0)
    assert tau[0] == pytest.approx(1e-10)
    assert tau[-1] == pytest.approx(1e-8)


def test_tau_grid_of_identity_is_t():
    t = np.array([3.0, 1.0, 2.0])
    np.testing.assert_array_equal(tau_grid(t, "identity"), t)


def test_tau_grid_cap_lowers_the_density_to_about_max_points():
    t = np.logspace(-3, 1, 30)  # 4 decades + 2 of margin: 49 points at 8 per decade
    full = tau_grid(t, "exponential", points_per_decade=8, extend_decades=1.0)
    assert full.size == 49
    capped = tau_grid(t, "exponential", points_per_decade=8, extend_decades=1.0, max_points=32)
    assert capped.size == 32
    assert capped[0] == pytest.approx(full[0]) and capped[-1] == pytest.approx(full[-1])
    assert grid_density(t, "exponential", 8, 1.0, 32) == pytest.approx(8 * 31 / 48)
    np.testing.assert_array_equal(
        tau_grid(t, "exponential", points_per_decade=8, extend_decades=1.0, max_points=64), full)


def test_every_named_kernel_resolves_and_only_identity_is_not_inverted():
    assert set(KERNEL_NAMES) == {"exponential", "inversion_recovery", "saturation_recovery",
                                 "diffusion", "identity"}
    assert [n for n in KERNEL_NAMES if resolve_kernel(n).is_identity] == ["identity"]


def test_negative_diffusion_coefficient_is_rejected():
    with pytest.raises(InversionInputError, match="diffusion kernel\\) must be >= 0"):
        check_tau(resolve_kernel("diffusion"), np.array([-1e-9, 1e-9]), 0)
    check_tau(resolve_kernel("diffusion"), np.array([0.0, 1e-9]), 0)
