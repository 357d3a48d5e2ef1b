"""The regularized normal equations of one outer iteration, and their linear solvers.

With the kernel ``K`` (:class:`~nmrilt.solver.operators.KroneckerOperator`), optional
noise weights ``W = diag(1/sigma^2)`` and an optional baseline ``B``
(:class:`~nmrilt.solver.operators.BaselineOperator`), the unknowns ``x = [g, b]`` solve

``[K B]^T W [K B] x + diag(R, ridge_b I) x = [K B]^T W s``.

:class:`NormalEquations` composes those operators through their ``matvec``/``rmatvec`` and
diagonals only; it never looks at how an operator stores its matrices.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg

from .backend import Backend
from .operators import BaselineOperator, KroneckerOperator
from .preconditioners import make_preconditioner
from .regularization import Penalty

#: Ridge on the baseline unknowns (keeps the normal matrix definite when a slice is empty).
RIDGE_BASELINE = 1e-8


def pcg(
    xp: Any,
    matvec: Callable[[Any], Any],
    b: Any,
    x0: Any,
    precond: Callable[[Any], Any],
    rtol: float,
    maxiter: int,
    forcing: float = 0.0,
    atol: float = 0.0,
) -> tuple[Any, int, float]:
    """Preconditioned conjugate gradients for a symmetric positive definite operator.

    Returns ``(x, iterations, relative residual)``; stops when
    ``||b - A x|| <= max(rtol ||b||, forcing ||b - A x0||, atol)`` (``forcing`` > 0: an
    inexact solve that only reduces the warm start's residual by that factor).
    """
    x = x0.copy()
    r = b - matvec(x)
    bnorm = float(xp.linalg.norm(b)) or 1.0
    res = float(xp.linalg.norm(r)) / bnorm
    rtol = max(rtol, forcing * res, atol / bnorm)
    if res <= rtol:
        return x, 0, res
    z = precond(r)
    p = z.copy()
    rz = float(xp.vdot(r, z))
    it = 0
    for it in range(1, maxiter + 1):
        ap = matvec(p)
        pap = float(xp.vdot(p, ap))
        if pap <= 0:
            break
        a = rz / pap
        x += a * p
        r -= a * ap
        res = float(xp.linalg.norm(r)) / bnorm
        if res <= rtol:
            break
        z = precond(r)
        rz_new = float(xp.vdot(r, z))
        p *= rz_new / rz
        p += z
        rz = rz_new
    return x, it, res


def _add_dia(out: np.ndarray, dia: Any) -> None:
    """``out[:n, :n] += dia`` for a DIA matrix on the host (``A[i, j] = data[k, j]`` with
    ``j - i = offsets[k]``), without the generic sparse-to-dense conversion."""
    n = dia.shape[0]
    data = np.asarray(dia.data)
    for k, off in enumerate(np.asarray(dia.offsets)):
        j = np.arange(max(0, off), min(n, n + off))
        out[j - off, j] += data[k, j]


def dense_solve(a: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``a x = rhs`` by Cholesky; least squares if ``a`` is numerically indefinite."""
    try:
        c = scipy.linalg.cho_factor(a, check_finite=False)
        return scipy.linalg.cho_solve(c, rhs, check_finite=False)
    except np.linalg.LinAlgError:
        return scipy.linalg.lstsq(a, rhs, check_finite=False)[0]


class NormalEquations:
    """Everything fixed during the outer iteration: operators, weights, right-hand side.

    Parameters
    ----------
    op : KroneckerOperator
        The kernel ``K``.
    data : array
        The data ``s`` (shape ``op.data_shape``).
    weights : array or None
        ``1/sigma^2`` per data point, or None for unit noise.
    baseline : BaselineOperator or None
        The offset operator ``B``, or None for no baseline.
    backend : Backend
        Array backend.
    """

    def __init__(
        self,
        op: KroneckerOperator,
        data: Any,
        weights: Any | None,
        baseline: BaselineOperator | None,
        backend: Backend,
    ) -> None:
        xp = backend.xp
        self.op, self.xp, self.backend = op, xp, backend
        self.weights = weights
        self.data = data
        self.baseline = baseline
        self.n_g = int(np.prod(op.model_shape))
        self.n_b = 0 if baseline is None else baseline.size
        self._data_normal: np.ndarray | None = None
        wd = self.weigh(data)
        rhs_g = op.rmatvec(wd).ravel()
        self.rhs = rhs_g if baseline is None else xp.concatenate(
            [rhs_g, baseline.rmatvec(wd).ravel()])
        # diagonal of K^T W K
        if weights is None:
            self.data_diag = op.gram_diagonal()
        else:
            self.data_diag = op.weighted_gram_diagonal(weights)
        # size of K^T W e for unit noise e: sqrt(trace(K^T W K)); solves whose residual is a
        # small fraction of it are exact to well within the statistical uncertainty
        self.noise_scale = math.sqrt(float(xp.sum(self.data_diag)))
        if baseline is not None:
            w = xp.ones(op.data_shape) if weights is None else weights
            self.b_diag = baseline.weighted_gram_diagonal(w).ravel() + RIDGE_BASELINE

    @property
    def simple(self) -> bool:
        """True without weights and baseline: ``K^T K`` alone (Gram products apply)."""
        return self.weights is None and self.baseline is None

    @property
    def n_unknowns(self) -> int:
        """Length of ``x = [g, b]``."""
        return self.n_g + self.n_b

    def weigh(self, r: Any) -> Any:
        """``W r`` (``r`` itself for unit noise)."""
        return r if self.weights is None else self.weights * r

    def split(self, x: Any) -> tuple[Any, Any | None]:
        """``x -> (g, b)`` in their shapes (``b`` None without baseline)."""
        g = x[: self.n_g].reshape(self.op.model_shape)
        if self.baseline is None:
            return g, None
        return g, x[self.n_g :].reshape(self.baseline.model_shape)

    def forward(self, g: Any, b: Any | None) -> Any:
        """``K g + B b``."""
        f = self.op.matvec(g)
        return f if b is None else f + self.baseline.matvec(b)

    def residual_rms(self, g: Any, b: Any | None) -> float:
        """RMS of the noise-weighted residual ``W^(1/2) (s - K g - B b)``."""
        r = self.data - self.forward(g, b)
        if self.weights is not None:
            r = r * self.xp.sqrt(self.weights)
        return float(self.xp.sqrt(self.xp.mean(r * r)))

    def matvec(self, penalty: Penalty, single: bool = False) -> Callable[[Any], Any]:
        """``x -> (A^T W A + R) x`` with ``A = [K B]``; ``single``: the memory-bound ``R x``
        in float32 (its rounding error, ~1e-7 ||R|| ||x||, is far below the CG tolerance)."""
        xp = self.xp
        if single:
            r32 = penalty.matrix(np.float32)

            def rmv(v: Any) -> Any:
                return (r32 @ v.astype(np.float32)).astype(v.dtype)
        else:
            rmat = penalty.matrix()

            def rmv(v: Any) -> Any:
                return rmat @ v

        def mv(x: Any) -> Any:
            g, b = self.split(x)
            if self.simple:
                return self.op.gram_matvec(g).ravel() + rmv(x)
            r = self.weigh(self.forward(g, b))
            out_g = self.op.rmatvec(r).ravel() + rmv(x[: self.n_g])
            if self.baseline is None:
                return out_g
            out_b = self.baseline.rmatvec(r).ravel() + RIDGE_BASELINE * b.ravel()
            return xp.concatenate([out_g, out_b])

        return mv

    def preconditioner(
        self, penalty: Penalty, kind: str, drop: float, coarse: int = 0
    ) -> Callable[[Any], Any]:
        """Approximate inverse of the normal matrix.

        The ``g`` block is ``kind`` (slice/jacobi) for ``K^T K + R``; with weights, slice
        ``s`` uses ``w_s K^T K + diag R`` with ``w_s`` its trace-matched mean weight (exact
        for weights constant per slice, e.g. a per-column noise level).  An offset enters by
        block elimination: with ``c = K^T W 1`` per slice and ``P`` the ``g`` block,
        ``y_b = (r_b - c^T P r_g) / (1^T W 1 - c^T P c)`` and ``y_g = P r_g - P c y_b``.
        """
        xp = self.xp
        pdiag = penalty.diag()
        inv_axes = tuple(d for d, m in enumerate(self.op.mats) if m is not None)
        if self.weights is None:
            scale = 1.0
            base = make_preconditioner(kind, self.op, self.data_diag, pdiag, self.backend,
                                       drop, penalty, coarse)
        else:
            scale = (xp.sum(self.data_diag, axis=inv_axes, keepdims=True)
                     / xp.sum(self.op.gram_diagonal(), axis=inv_axes, keepdims=True))
            base = make_preconditioner(kind, self.op, self.data_diag / scale, pdiag / scale,
                                       self.backend, drop)
        shape = self.op.model_shape

        def apply_g(r: Any) -> Any:
            return base((r.reshape(shape) / scale).ravel())

        if self.baseline is None:
            return apply_g
        c = self.op.rmatvec(xp.ones(self.op.data_shape) if self.weights is None
                            else self.weights)
        pc = apply_g(c.ravel()).reshape(shape)
        schur = self.b_diag.reshape(self.baseline.model_shape) - xp.sum(
            c * pc, axis=inv_axes, keepdims=True)
        n_g = self.n_g

        def apply(r: Any) -> Any:
            z = apply_g(r[:n_g]).reshape(shape)
            y_b = (r[n_g:].reshape(schur.shape) - xp.sum(c * z, axis=inv_axes, keepdims=True)
                   ) / schur
            return xp.concatenate([(z - pc * y_b).ravel(), y_b.ravel()])

        return apply

    def dense_matrices(self, penalty: Penalty) -> tuple[np.ndarray, np.ndarray]:
        """``(A^T W A + R, A^T W A)`` as full host matrices (small problems only); the
        second gives the effective number of parameters."""
        if self._data_normal is None:  # fixed during the iteration: formed once
            a = self.op.dense()
            if self.baseline is not None:
                a = np.hstack([a, self.baseline.dense()])
            w = None if self.weights is None else self.backend.to_host(self.weights).ravel()
            self._data_normal = a.T @ a if w is None else a.T @ (w[:, None] * a)
        data_normal = self._data_normal
        normal = data_normal.copy()
        _add_dia(normal, penalty.matrix())
        if self.baseline is not None:
            normal[self.n_g :, self.n_g :] += RIDGE_BASELINE * np.eye(self.n_b)
        return normal, data_normal
