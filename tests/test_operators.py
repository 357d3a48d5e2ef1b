"""Structured operators and penalties: dot tests and comparison with dense matrices."""

from __future__ import annotations

import numpy as np

from nmrilt.solver.operators import KroneckerOperator
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


def _settings(ndim, inverted, nonneg=False, alpha_p=0.5):
    return RegularizationSettings(
        alpha_00=1.0, alpha_0=1e-4, alpha_p=alpha_p, alpha_c=1.0, alpha_cross=1.0, alpha_zc=1.0,
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


def test_boundary_and_nonneg_terms_on_the_diagonal():
    g = np.array([1.0, -1.0, 2.0, 3.0, 4.0])
    s = _settings(1, (True,), nonneg=True)
    pen = build_penalty(g, s)
    d = pen.diagonal
    assert d[0] >= 50 and d[-1] >= 50  # boundary
    assert d[1] >= 1000  # negative point under non-negativity
    assert d[3] < 1  # interior, positive, no zero crossing


def test_slice_preconditioner_is_exact_inverse_without_truncation():
    from nmrilt.solver.backend import NUMPY
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
