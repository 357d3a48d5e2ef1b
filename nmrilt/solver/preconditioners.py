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

Coarse correction (``coarse = k > 0``, with the penalty given)
    ``diag(R)`` misses the stiff off-diagonal part of the curvature penalty (weights up to
    ``1/alpha_0``), whose smooth modes then converge slowly.  A second, additive level adds
    ``Z (Z^T A_s Z)^-1 Z^T`` per slice, with ``Z = Z_1 (x) Z_2`` the ``k`` smoothest modes of
    the second difference along each inverted axis and ``A_s`` the in-slice block of
    ``K^T K + R``.  Every penalty term is separable (product of 1-D stencils), so
    ``Z^T A_s Z`` for all slices costs two small matrix products per term.
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

    def __init__(self, op: KroneckerOperator, d: Any, backend: Backend, drop: float = 1.0,
                 penalty: Any = None, coarse: int = 0):
        xp = backend.xp
        self.coarse_inv = None
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
        self.dinv_n = None
        if penalty is not None and coarse > 0:
            self._build_coarse(op, penalty, int(coarse))
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
            c = xp.matmul(xp.ascontiguousarray(w1.T), t)  # (S, r1*r1, r2*r2)
            c = c.reshape(n_slices, r1, r1, r2, r2).transpose(0, 1, 3, 2, 4)
            c = c.reshape(n_slices, r1 * r2, r1 * r2)
            c = c[:, self.sel][:, :, self.sel]
        idx = xp.arange(m)
        c[:, idx, idx] += 1.0 / lam_sel
        self.cinv = xp.linalg.inv(c)

    def _build_coarse(self, op: KroneckerOperator, penalty: Any, k: int) -> None:
        """``(Z^T A_s Z)^-1`` for every slice (see the module docstring)."""
        xp = self.xp
        inv, ids = self.inv_axes, self.id_axes
        zs = []
        for a in inv:
            n = self.shape[a]
            d2 = np.diff(np.eye(n), 2, axis=0)
            _, vec = np.linalg.eigh(d2.T @ d2) if n >= 3 else (None, np.eye(n))
            zs.append(xp.asarray(vec[:, : min(k, n)]))
        self.zs = zs
        id_shape = tuple(self.shape[a] for a in ids)
        ks = [z.shape[1] for z in zs]
        m = int(np.prod(ks))
        ac = xp.zeros(id_shape + (m, m))

        def add(w: Any, lz: list[Any], id_off: tuple[int, ...]) -> None:
            # w: (w_inv..., w_id...) ; lz[i]: (w_inv[i], k_i)
            wid = w.shape[len(inv):]
            s_w = int(np.prod(wid)) if wid else 1
            wr = w.reshape(w.shape[: len(inv)] + (s_w,))
            q = [(z[:, :, None] * z[:, None, :]).reshape(z.shape[0], -1) for z in lz]
            if len(lz) == 1:
                c = (wr.T @ q[0]).reshape(s_w, ks[0], ks[0])
            else:
                w0, w1 = wr.shape[0], wr.shape[1]
                wt = xp.ascontiguousarray(xp.moveaxis(wr, -1, 0)).reshape(s_w * w0, w1)
                t = (wt @ q[1]).reshape(s_w, w0, -1)  # (S, w0, k1*k1)
                c = xp.matmul(xp.ascontiguousarray(q[0].T), t)  # (S, k0*k0, k1*k1)
            win = tuple(slice(o, o + n) for o, n in zip(id_off, wid))
            ac[win] += c.reshape(tuple(wid) + (m, m))  # (k0 k0', k1 k1') order for 2-D

        # diagonal part of R (and any term without inverted-axis reach) -> one call
        dsum = xp.transpose(penalty.diagonal, self.perm).copy()
        for term in penalty.terms:
            groups: dict[tuple[int, ...], list[tuple[tuple[int, ...], float]]] = {}
            for off, c in term.stencil:
                groups.setdefault(tuple(off[a] for a in ids), []).append(
                    (tuple(off[a] for a in inv), c))
            w = xp.transpose(term.w, self.perm)
            lump = len(groups) > 1  # couples slices: lumped onto the diagonal (cheaper)
            for id_off, entries in groups.items():
                if lump:
                    for e, c in entries:
                        win = tuple(slice(o, o + n) for o, n in zip(e, w.shape[: len(inv)]))
                        win += tuple(slice(o, o + n) for o, n in zip(id_off, w.shape[len(inv):]))
                        dsum[win] += (c * c) * w
                    continue
                if all(all(o == 0 for o in e) for e, _ in entries):
                    coef = sum(c for _, c in entries)
                    win = tuple(slice(0, n) for n in w.shape[: len(inv)]) + tuple(
                        slice(o, o + n) for o, n in zip(id_off, w.shape[len(inv):]))
                    dsum[win] += (coef * coef) * w
                    continue
                # separable in-plane stencil: outer product of 1-D stencils
                reach = [max(e[i] for e, _ in entries) + 1 for i in range(len(inv))]
                cm = np.zeros(reach)
                for e, c in entries:
                    cm[e] += c
                if len(inv) == 1:
                    facs = [cm]
                else:
                    u, sv, vt = np.linalg.svd(cm)
                    if sv.size > 1 and sv[1] > 1e-12 * sv[0]:
                        continue  # not separable: left out (the preconditioner stays SPD)
                    facs = [u[:, 0] * sv[0], vt[0]]
                lz = []
                for i, (z, f) in enumerate(zip(zs, facs)):
                    nw = w.shape[i]
                    lz.append(sum(float(f[o]) * z[o : o + nw] for o in range(len(f))
                                  if f[o] != 0))
                add(w, lz, id_off)
        add(dsum, zs, (0,) * len(ids))
        # data part: Z^T G Z, the same for every slice
        bs = [z.T @ op.grams[a] @ z for z, a in zip(zs, inv)]
        if len(zs) == 1:
            ac += bs[0]
        else:  # (k0 k0', k1 k1') -> (k0 k1, k0' k1')
            ac += (bs[0][:, :, None, None] * bs[1][None, None, :, :]).reshape(m, m)
            ac = ac.reshape(-1, ks[0], ks[0], ks[1], ks[1]).transpose(0, 1, 3, 2, 4)
        self.coarse_inv = xp.linalg.inv(ac.reshape(-1, m, m))

    def _coarse(self, rp: Any) -> Any:
        """``Z (Z^T A_s Z)^-1 Z^T r`` in the (S, n1[, n2]) layout."""
        xp = self.xp
        if len(self.zs) == 1:
            c = rp @ self.zs[0]
            c = xp.matmul(self.coarse_inv, c[:, :, None])[:, :, 0]
            return c @ self.zs[0].T
        z1, z2 = self.zs
        n_s, n1, n2 = rp.shape
        c = xp.matmul(z1.T, (rp.reshape(n_s * n1, n2) @ z2).reshape(n_s, n1, -1))
        sh = c.shape
        c = xp.matmul(self.coarse_inv, c.reshape(n_s, -1, 1)).reshape(sh)
        return xp.matmul(z1, c @ z2.T)

    def _vt_native(self, y: Any) -> Any:
        """``V^T y`` for y of shape (n1[, n2], S) -> (m, S) (no transposes of y)."""
        xp = self.xp
        if len(self.vs) == 1:
            return self.vs[0].T @ y
        v1, v2 = self.vs
        n1, n2, n_s = y.shape
        z = (v1.T @ y.reshape(n1, n2 * n_s)).reshape(v1.shape[1], n2, n_s)
        z = xp.matmul(v2.T, z)  # (r1, r2, S)
        return z.reshape(-1, n_s)[self.sel]

    def _v_native(self, z: Any) -> Any:
        """``V z`` for z of shape (m, S) -> (n1[, n2], S)."""
        xp = self.xp
        if len(self.vs) == 1:
            return self.vs[0] @ z
        v1, v2 = self.vs
        n_s = z.shape[1]
        full = xp.zeros((v1.shape[1] * v2.shape[1], n_s))
        full[self.sel] = z
        y = xp.matmul(v2, full.reshape(v1.shape[1], v2.shape[1], n_s))  # (r1, n2, S)
        return (v1 @ y.reshape(v1.shape[1], -1)).reshape(v1.shape[0], v2.shape[0], n_s)

    def __call__(self, r: Any) -> Any:
        xp = self.xp
        # native layout (inverted axes..., slices): free when the identity axes come last
        rp = xp.transpose(r.reshape(self.shape), self.perm).reshape(
            tuple(self.n_inv) + (self.n_slices,)
        )
        if self.dinv_n is None:
            self.dinv_n = xp.ascontiguousarray(xp.moveaxis(self.dinv, 0, -1))
        y = self.dinv_n * rp
        if self.cinv is not None:
            zt = self._vt_native(y)  # (m, S)
            z = xp.matmul(self.cinv, xp.ascontiguousarray(zt.T)[:, :, None])[:, :, 0]
            y -= self.dinv_n * self._v_native(xp.ascontiguousarray(z.T))
        if self.coarse_inv is not None:
            y += xp.moveaxis(self._coarse(xp.moveaxis(rp, -1, 0)), 0, -1)
        y = y.reshape(tuple(self.shape[a] for a in self.perm))
        return xp.transpose(y, self.inv_perm).ravel()


def make_preconditioner(
    kind: str, op: KroneckerOperator, data_diag: Any, penalty_diag: Any, backend: Backend,
    drop: float = 1.0, penalty: Any = None, coarse: int = 0,
) -> Callable[[Any], Any]:
    """Build the preconditioner ``kind`` (``"slice"`` or ``"jacobi"``); ``penalty`` and
    ``coarse`` > 0 add the coarse correction to ``"slice"``."""
    n_inv = sum(g is not None for g in op.grams)
    if kind == "slice" and 1 <= n_inv <= 2:
        return SlicePreconditioner(op, penalty_diag, backend, drop, penalty, coarse)
    return jacobi(data_diag + penalty_diag)

