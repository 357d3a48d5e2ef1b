"""Preconditioners for the regularized normal equations ``(K^T K + R) g = K^T s``.

``jacobi``
    ``diag(K^T K) + diag(R)``.
``slice``
    Exact inverse of ``K^T K + diag(R)`` built slice by slice.  Identity dimensions make
    ``K^T K`` block diagonal: one block ``G = (x)_{d inverted} G_d`` per identity index
    ("slice").  With ``D_s = diag(R)`` on slice ``s``, ``P_s = D_s + G`` is inverted by the
    Woodbury identity in the eigenbasis ``G = V Lambda V^T`` (``V = V_1 (x) V_2``), keeping
    only the eigenpairs with ``lambda > drop * min(D)`` (the dropped part changes ``P`` by
    less than ``D`` itself):
    ``P_s^-1 = D_s^-1 - D_s^-1 V (Lambda^-1 + V^T D_s^-1 V)^-1 V^T D_s^-1``.
    ``V^T D_s^-1 V`` is formed through the Kronecker structure in
    ``O(n_1 n_2 r_2^2 + n_1 r_1^2 r_2^2)`` per slice.  Supports one or two inverted
    dimensions; otherwise :func:`make_preconditioner` falls back to ``jacobi``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .backend import Backend
from .operators import KroneckerOperator


def jacobi(diagonal: Any) -> Callable[[Any], Any]:
    """``r -> r / diagonal`` (``diagonal`` flattened)."""
    inv = 1.0 / diagonal.ravel()
    return lambda r: inv * r


class SlicePreconditioner:
    """Exact inverse of ``K^T K + diag(d)`` per identity slice (see module docstring).

    Parameters
    ----------
    op : KroneckerOperator
        The kernel operator (its Gram matrices are used).
    d : array
        Positive diagonal (model shape), normally ``diag(R)``.
    backend : Backend
        Array backend.
    drop : float
        Relative threshold: eigenpairs of ``K^T K`` with eigenvalue below
        ``drop * min(d)`` are left out.
    """

    def __init__(self, op: KroneckerOperator, d: Any, backend: Backend, drop: float = 1.0):
        xp = backend.xp
        self.xp = xp
        self.shape = op.model_shape
        ndim = len(self.shape)
        self.inv_axes = [a for a in range(ndim) if op.grams[a] is not None]
        self.id_axes = [a for a in range(ndim) if op.grams[a] is None]
        self.perm = self.inv_axes + self.id_axes
        self.inv_perm = list(np.argsort(self.perm))
        self.n_inv = [self.shape[a] for a in self.inv_axes]
        n_slices = int(np.prod([self.shape[a] for a in self.id_axes])) if self.id_axes else 1
        self.n_slices = n_slices
        dmin = float(xp.min(d))
        thresh = drop * dmin
        # eigenpairs per inverted dimension
        eig = []
        for a in self.inv_axes:
            lam, vec = xp.linalg.eigh(op.grams[a])
            eig.append((lam, vec))
        lam_max = [float(xp.max(lam)) for lam, _ in eig]
        vs, lams = [], []
        for k, (lam, vec) in enumerate(eig):
            other = float(np.prod([m for j, m in enumerate(lam_max) if j != k]))
            keep = lam * other > thresh
            vs.append(vec[:, keep])
            lams.append(lam[keep])
        self.vs = vs
        # product eigenvalues and selected pairs
        if len(vs) == 1:
            lam_prod = lams[0]
        else:
            lam_prod = (lams[0][:, None] * lams[1][None, :]).ravel()
        self.sel = xp.nonzero(lam_prod > thresh)[0]
        lam_sel = lam_prod[self.sel]
        m = int(self.sel.shape[0])
        self.m = m
        # diagonal reshaped to (n_slices, n_inv...)
        dp = xp.transpose(d, self.perm).reshape(tuple(self.n_inv) + (n_slices,))
        dp = xp.moveaxis(dp, -1, 0)
        self.dinv = 1.0 / dp  # (S, n1[, n2])
        if m == 0:
            self.cinv = None
            return
        if len(vs) == 1:
            v1 = vs[0]
            # C[s] = V^T diag(dinv_s) V
            c = xp.einsum("ai,sa,ak->sik", v1, self.dinv, v1)
        else:
            v1, v2 = vs
            r1, r2 = v1.shape[1], v2.shape[1]
            w2 = (v2[:, :, None] * v2[:, None, :]).reshape(v2.shape[0], r2 * r2)
            t = self.dinv @ w2  # (S, n1, r2*r2)
            w1 = (v1[:, :, None] * v1[:, None, :]).reshape(v1.shape[0], r1 * r1)
            c = xp.einsum("ap,saq->spq", w1, t)  # (S, r1*r1, r2*r2)
            c = c.reshape(n_slices, r1, r1, r2, r2).transpose(0, 1, 3, 2, 4)
            c = c.reshape(n_slices, r1 * r2, r1 * r2)
            c = c[:, self.sel][:, :, self.sel]
        idx = xp.arange(m)
        c[:, idx, idx] += 1.0 / lam_sel
        self.cinv = xp.linalg.inv(c)

    def _vt(self, y: Any) -> Any:
        """``V^T y`` for y of shape (S, n1[, n2]) -> (S, m)."""
        xp = self.xp
        if len(self.vs) == 1:
            return y @ self.vs[0]
        v1, v2 = self.vs
        z = xp.einsum("sab,ai,bj->sij", y, v1, v2, optimize=True)
        return z.reshape(z.shape[0], -1)[:, self.sel]

    def _v(self, z: Any) -> Any:
        xp = self.xp
        if len(self.vs) == 1:
            return z @ self.vs[0].T
        v1, v2 = self.vs
        full = xp.zeros((z.shape[0], v1.shape[1] * v2.shape[1]))
        full[:, self.sel] = z
        full = full.reshape(z.shape[0], v1.shape[1], v2.shape[1])
        return xp.einsum("sij,ai,bj->sab", full, v1, v2, optimize=True)

    def __call__(self, r: Any) -> Any:
        xp = self.xp
        rp = xp.transpose(r.reshape(self.shape), self.perm).reshape(
            tuple(self.n_inv) + (self.n_slices,)
        )
        rp = xp.moveaxis(rp, -1, 0)
        y = self.dinv * rp
        if self.cinv is not None:
            z = xp.einsum("spq,sq->sp", self.cinv, self._vt(y))
            y = y - self.dinv * self._v(z)
        y = xp.moveaxis(y, 0, -1).reshape(tuple(self.shape[a] for a in self.perm))
        return xp.transpose(y, self.inv_perm).ravel()


def make_preconditioner(
    kind: str, op: KroneckerOperator, data_diag: Any, penalty_diag: Any, backend: Backend,
    drop: float = 1.0,
) -> Callable[[Any], Any]:
    """Build the preconditioner ``kind`` (``"slice"`` or ``"jacobi"``)."""
    n_inv = sum(g is not None for g in op.grams)
    if kind == "slice" and 1 <= n_inv <= 2:
        return SlicePreconditioner(op, penalty_diag, backend, drop)
    return jacobi(data_diag + penalty_diag)

