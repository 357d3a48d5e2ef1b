"""Structured operators and penalties: dot tests and comparison with dense matrices."""

from __future__ import annotations

import numpy as np
import pytest

from nmrilt.solver.backend import NUMPY
from nmrilt.solver.normal_equations import RIDGE_BASELINE, NormalEquations
from nmrilt.solver.operators import BaselineOperator, KroneckerOperator
from nmrilt.solver.regularization import RegularizationSettings, build_penalty

RNG = np.random.default_rng(1)


def _operator():
    k1 = RNG.standard_normal((5, 4))
    k3 = RNG.standard_normal((6, 7))
    return KroneckerOperator([k1, None, k3], (4, 3, 7)), (k1, k3)


def test_dot_test_adjoint():
    op, _ = _operator()
    x = RNG.standard_normal(op.model_shape)
    y = RNG.standard_normal(op.data_shape)
    lhs = np.vdot(op.matvec(x), y)
    rhs = np.vdot(x, op.rmatvec(y))
    assert abs(lhs - rhs) <= 1e-12 * max(abs(lhs), 1.0)


def test_matvec_equals_dense_kron():
    op, (k1, k3) = _operator()
    dense = np.kron(np.kron(k1, np.eye(3)), k3)
    x = RNG.standard_normal(op.model_shape)
    np.testing.assert_allclose(op.matvec(x).ravel(), dense @ x.ravel(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op.dense(), dense)
    assert op.data_shape == (5, 3, 6)


def test_gram_matvec_and_diagonal_equal_dense():
    op, _ = _operator()
    dense = op.dense()
    gram = dense.T @ dense
    x = RNG.standard_normal(op.model_shape)
    np.testing.assert_allclose(op.gram_matvec(x).ravel(), gram @ x.ravel(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(op.gram_diagonal().ravel(), np.diag(gram), rtol=1e-12)


def test_weighted_gram_diagonal_equals_dense():
    op, _ = _operator()
    w = RNG.uniform(0.2, 3.0, op.data_shape)
    dense = op.dense()
    expected = np.diag(dense.T @ (w.ravel()[:, None] * dense))
    np.testing.assert_allclose(op.weighted_gram_diagonal(w).ravel(), expected, rtol=1e-12)


def _baseline():
    # axes 0 and 2 inverted: one offset per index of the identity axis 1
    return BaselineOperator((5, 3, 6), (True, False, True), NUMPY)


def test_baseline_dot_test_adjoint():
    op = _baseline()
    b = RNG.standard_normal(op.model_shape)
    r = RNG.standard_normal(op.data_shape)
    lhs = np.vdot(op.matvec(b), r)
    rhs = np.vdot(b, op.rmatvec(r))
    assert abs(lhs - rhs) <= 1e-12 * max(abs(lhs), 1.0)


def test_baseline_equals_dense_kron_of_ones_and_identity():
    op = _baseline()
    dense = np.kron(np.kron(np.ones((5, 1)), np.eye(3)), np.ones((6, 1)))
    np.testing.assert_array_equal(op.dense(), dense)
    b = RNG.standard_normal(op.model_shape)
    np.testing.assert_allclose(op.matvec(b).ravel(), dense @ b.ravel(), rtol=1e-14)
    w = RNG.uniform(0.2, 3.0, op.data_shape)
    np.testing.assert_allclose(op.weighted_gram_diagonal(w).ravel(),
                               np.diag(dense.T @ (w.ravel()[:, None] * dense)), rtol=1e-12)


def test_normal_equations_matvec_equals_dense_matrix_with_weights_and_baseline():
    k1 = RNG.standard_normal((5, 4))
    k3 = RNG.standard_normal((6, 7))
    op = KroneckerOperator([k1, None, k3], (4, 3, 7))
    s = _settings(3, (True, False, True))
    g = RNG.standard_normal(op.model_shape)
    penalty = build_penalty(g, s)
    data = RNG.standard_normal(op.data_shape)
    w = RNG.uniform(0.2, 3.0, op.data_shape)
    kmat = np.kron(np.kron(k1, np.eye(3)), k3)
    bmat = np.kron(np.kron(np.ones((5, 1)), np.eye(3)), np.ones((6, 1)))
    for weights, with_b in ((None, False), (w, False), (None, True), (w, True)):
        base = BaselineOperator(op.data_shape, (True, False, True)) if with_b else None
        neq = NormalEquations(op, data, weights, base, NUMPY)
        a = np.hstack([kmat, bmat]) if with_b else kmat
        wv = np.ones(a.shape[0]) if weights is None else weights.ravel()
        data_normal = a.T @ (wv[:, None] * a)
        normal = data_normal.copy()
        normal[:84, :84] += penalty.sparse().toarray()
        if with_b:
            normal[84:, 84:] += RIDGE_BASELINE * np.eye(3)
        got_normal, got_data = neq.dense_matrices(penalty)
        np.testing.assert_allclose(got_data, data_normal, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got_normal, normal, rtol=1e-12, atol=1e-12)
        x = RNG.standard_normal(neq.n_unknowns)
        np.testing.assert_allclose(neq.matvec(penalty)(x), normal @ x, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(neq.rhs, a.T @ (wv * data.ravel()), rtol=1e-12, atol=1e-12)


def _settings(ndim, inverted, nonneg=False, alpha_p=0.5, alpha_amp=0.0):
    return RegularizationSettings(
        alpha_00=1.0, alpha_0=1e-4, alpha_p=alpha_p, alpha_c=1.0, alpha_amp=alpha_amp, alpha_cross=1.0,
        alpha_zc=1.0,
        alpha_cross_identity=0.5,
        alpha_bc=50.0, alpha_nn=1000.0, nonneg=nonneg, neighbourhood=1,
        axis_weights=(1.0,) * ndim, inverted=inverted, ridge=1e-8,
    )


def test_penalty_matrix_free_equals_sparse_and_is_symmetric_psd():
    g = RNG.standard_normal((6, 5, 4))
    pen = build_penalty(g, _settings(3, (True, True, False), nonneg=True))
    r = pen.sparse().toarray()
    x = RNG.standard_normal(g.shape)
    np.testing.assert_allclose(pen.apply(x).ravel(), r @ x.ravel(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(pen.diag().ravel(), np.diag(r), rtol=1e-12)
    np.testing.assert_allclose(r, r.T, atol=1e-12)
    assert np.linalg.eigvalsh(r).min() > 0


def test_uniform_penalty_weights_smaller_where_curvature_is_large():
    x = np.linspace(-8, 8, 81)
    g = 100 * np.exp(-0.5 * x**2)
    pen = build_penalty(g, _settings(1, (True,), alpha_p=0.0))
    w = pen.terms[0].w  # weights of the second difference on points 1..79
    assert w[39] < 0.1  # peak: strong curvature, small weight
    assert w[0] > 0.9e4  # far tail: flat, weight about 1/alpha_0
    # the weighted curvature penalty never exceeds 1/alpha_c, and is close to it on the peak
    c = np.diff(g, 2)
    assert np.all(w * c**2 <= 1.0 + 1e-12)
    assert np.all(w[37:42] * c[37:42] ** 2 > 0.5)


def test_amplitude_term_relaxes_the_penalty_on_peaks_only():
    """``alpha_amp`` adds ``alpha_amp * max|g|^2`` (neighbourhood maximum) to the weights'
    denominator: on the peak the weight drops below ``1/(alpha_amp g^2)``, in the flat tail
    it stays about ``1/alpha_0``."""
    x = np.linspace(-8, 8, 81)
    g = 100 * np.exp(-0.5 * x**2)
    plain = build_penalty(g, _settings(1, (True,), alpha_p=0.0)).terms[0].w
    amp = build_penalty(g, _settings(1, (True,), alpha_p=0.0, alpha_amp=0.1)).terms[0].w
    assert amp[39] < plain[39] and amp[39] <= 1 / (0.1 * 100.0**2)
    assert amp[0] == pytest.approx(plain[0], rel=1e-3) and amp[0] > 0.9e4


def test_boundary_and_nonneg_terms_on_the_diagonal():
    g = np.array([1.0, -1.0, 2.0, 3.0, 4.0])
    s = _settings(1, (True,), nonneg=True)
    pen = build_penalty(g, s)
    d = pen.diagonal
    assert d[0] >= 50 and d[-1] >= 50  # boundary
    assert d[1] >= 1000  # negative point under non-negativity
    assert d[3] < 1  # interior, positive, no zero crossing


def test_slice_preconditioner_is_exact_inverse_without_truncation():
    from nmrilt.solver.preconditioners import SlicePreconditioner

    t = np.logspace(-1, 3, 8)
    tau = np.logspace(-1.5, 2.5, 6)
    k = np.exp(-np.outer(t, 1 / tau))
    for mats, shape in (([k, None, k], (6, 3, 6)), ([None, k], (3, 6))):
        op = KroneckerOperator(mats, shape)
        d = RNG.uniform(0.5, 2.0, shape)
        pre = SlicePreconditioner(op, d, NUMPY, drop=0.0)
        dense = op.dense()
        a = dense.T @ dense + np.diag(d.ravel())
        r = RNG.standard_normal(a.shape[0])
        np.testing.assert_allclose(pre(r), np.linalg.solve(a, r), rtol=1e-9, atol=1e-12)
