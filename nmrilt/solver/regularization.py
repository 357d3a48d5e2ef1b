"""Penalty builders: adaptive (uniform-penalty) regularization of a signed distribution.

The regularization term of the objective is ``g^T R(g) g`` with

``R(g) = alpha_00 * [ sum_d a_d L_d^T W_d L_d                   (curvature, every axis)
                    + sum_{d<e} alpha_x sqrt(a_d a_e) M_de^T W_de M_de   (cross terms)
                    + Z + B + N + ridge ]``                       (diagonal terms)

* ``L_d`` is the second difference along axis ``d`` (stencil 1, -2, 1) and ``M_de`` the mixed
  difference along axes ``d`` and ``e``; ``alpha_x`` is ``alpha_cross`` between two inverted
  axes and ``alpha_cross_identity`` when one of them is an identity axis.
* Uniform penalty (after Borgia, Brown & Fantazzini's UPEN and Granwehr & Roberts 2012): the
  local weights are ``W = 1 / (alpha_0 + alpha_p p^2 + alpha_c c^2 + alpha_amp a^2)``, where
  ``c`` is the local curvature, ``p`` the local slope and ``a`` the amplitude of the current
  ``g`` (curvature terms along each axis only), each replaced by its moving maximum over a
  small neighbourhood.  Where ``g`` has structure the penalty per point is about
  ``1/alpha_c`` whatever the amplitude; the amplitude term relaxes it further on the top of
  a peak (where the curvature passes through small values between the flanks), so peaks are
  not flattened; where ``g`` is flat the weight is ``1/alpha_0`` (strong smoothing of the
  baseline).
* ``Z`` (zero crossing): on both points of every neighbouring pair whose signs differ, a
  diagonal weight ``alpha_zc / (alpha_0 + alpha_c c^2)`` that pulls spurious sign oscillations
  to zero while leaving large genuine lobes almost untouched.
* ``B`` (boundary): ``alpha_bc`` on the first and last point of each inverted axis.
* ``N`` (non-negativity, optional): ``alpha_nn`` on every point where ``g < 0``.

The operators are applied matrix-free through array slicing (any backend); the same
terms can also be assembled as a ``scipy.sparse`` matrix for the dense solver path.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from .backend import NUMPY, Backend

Stencil = tuple[tuple[tuple[int, ...], float], ...]


def second_difference_stencil(ndim: int, axis: int) -> Stencil:
    """Stencil of the second difference along ``axis`` (coefficients 1, -2, 1)."""
    out = []
    for off, c in ((0, 1.0), (1, -2.0), (2, 1.0)):
        o = [0] * ndim
        o[axis] = off
        out.append((tuple(o), c))
    return tuple(out)


def slope_stencil(ndim: int, axis: int) -> Stencil:
    """Central first difference on the same points as :func:`second_difference_stencil`."""
    out = []
    for off, c in ((0, -0.5), (2, 0.5)):
        o = [0] * ndim
        o[axis] = off
        out.append((tuple(o), c))
    return tuple(out)


def mixed_difference_stencil(ndim: int, axis1: int, axis2: int) -> Stencil:
    """Stencil of the mixed difference along ``axis1`` and ``axis2``."""
    out = []
    for a, b in itertools.product((0, 1), (0, 1)):
        o = [0] * ndim
        o[axis1], o[axis2] = a, b
        out.append((tuple(o), 1.0 if a == b else -1.0))
    return tuple(out)


def _extent(stencil: Stencil, shape: Sequence[int]) -> tuple[int, ...]:
    reach = np.max([o for o, _ in stencil], axis=0)
    return tuple(int(n - r) for n, r in zip(shape, reach))


def _window(offset: Sequence[int], extent: Sequence[int]) -> tuple[slice, ...]:
    return tuple(slice(o, o + e) for o, e in zip(offset, extent))


def stencil_apply(stencil: Stencil, g: Any) -> Any:
    """``L g`` on the valid region (shape ``n_d - reach_d`` per axis)."""
    ext = _extent(stencil, g.shape)
    out = None
    for off, c in stencil:
        part = c * g[_window(off, ext)]
        out = part if out is None else out + part
    return out


def stencil_adjoint_add(stencil: Stencil, y: Any, out: Any) -> None:
    """``out += L^T y`` in place."""
    for off, c in stencil:
        out[_window(off, y.shape)] += c * y


def stencil_diag_add(stencil: Stencil, w: Any, out: Any) -> None:
    """``out += diag(L^T diag(w) L)`` in place."""
    for off, c in stencil:
        out[_window(off, w.shape)] += (c * c) * w


def stencil_sparse(stencil: Stencil, shape: tuple[int, ...]) -> sp.csr_matrix:
    """``L`` as a sparse matrix acting on C-order flattened arrays of ``shape``."""
    ext = _extent(stencil, shape)
    total = None
    for off, c in stencil:
        m = sp.identity(1, format="csr")
        for n, e, o in zip(shape, ext, off):
            m = sp.kron(m, sp.eye(e, n, k=o, format="csr"), format="csr")
        total = c * m if total is None else total + c * m
    return total.tocsr()


@dataclass
class PenaltyTerm:
    """One penalty term ``L^T diag(w) L`` of a difference stencil ``L``.

    Attributes
    ----------
    stencil : Stencil
        The difference operator ``L``.
    w : array
        Local weights on the stencil's valid region, with every scale factor
        (``alpha_00``, axis weight, cross weight) already folded in.
    """

    stencil: Stencil
    w: Any


@dataclass
class Penalty:
    """The assembled regularization ``R = sum_terms L^T diag(w) L + diag(diagonal)``."""

    terms: list[PenaltyTerm]
    diagonal: Any
    backend: Backend = NUMPY

    def apply(self, g: Any) -> Any:
        """``R g`` for ``g`` of the model shape (matrix-free)."""
        out = self.diagonal * g
        for term in self.terms:
            stencil_adjoint_add(term.stencil, term.w * stencil_apply(term.stencil, g), out)
        return out

    def diag(self) -> Any:
        """Diagonal of ``R`` (model shape)."""
        out = self.diagonal.copy()
        for term in self.terms:
            stencil_diag_add(term.stencil, term.w, out)
        return out

    def matrix(self, dtype: Any = None) -> Any:
        """``R`` as a sparse matrix in diagonal (DIA) storage, assembled by array slicing.

        On a regular grid every stencil pair ``(a, b)`` of a term contributes to one
        diagonal, at the flat offset ``lin(o_b) - lin(o_a)``; ``R`` has at most about 25
        diagonals in 3-D and no index arrays, which makes ``R @ x`` memory-lean.
        """
        xp = self.backend.xp
        shape = tuple(self.diagonal.shape)
        n = int(np.prod(shape))
        strides = np.cumprod((1,) + shape[::-1][:-1])[::-1]
        pairs = []
        offs = {0}
        for term in self.terms:
            for (oa, ca), (ob, cb) in itertools.product(term.stencil, term.stencil):
                off = int(np.dot(ob, strides) - np.dot(oa, strides))
                offs.add(off)
                pairs.append((term, off, ob, ca * cb))
        offsets = sorted(offs)
        row = {o: k for k, o in enumerate(offsets)}
        # fill one preallocated (n_diagonals, n) array in place (no per-diagonal copies)
        data = xp.zeros((len(offsets),) + shape, dtype=dtype or self.diagonal.dtype)
        data[row[0]] = self.diagonal
        for term, off, ob, c in pairs:
            # DIA stores A[i, j] at data[k, j]: index by the column's window
            data[row[off]][_window(ob, term.w.shape)] += c * term.w
        data = data.reshape(len(offsets), n)
        return self.backend.sparse.dia_matrix((data, np.asarray(offsets)), shape=(n, n))

    def sparse(self) -> sp.csr_matrix:
        """``R`` as a ``scipy.sparse`` matrix built term by term (reference for tests)."""
        to_host = self.backend.to_host
        shape = self.diagonal.shape
        r = sp.diags(to_host(self.diagonal).ravel())
        for term in self.terms:
            lmat = stencil_sparse(term.stencil, tuple(shape))
            r = r + lmat.T @ sp.diags(to_host(term.w).ravel()) @ lmat
        return r.tocsr()


@dataclass(frozen=True)
class RegularizationSettings:
    """Resolved regularization parameters (see :func:`nmrilt.invert` for their meaning)."""

    alpha_00: float
    alpha_0: float
    alpha_p: float
    alpha_c: float
    alpha_amp: float
    alpha_cross: float
    alpha_zc: float
    alpha_cross_identity: float
    alpha_bc: float
    alpha_nn: float
    nonneg: bool
    neighbourhood: int
    axis_weights: tuple[float, ...]
    inverted: tuple[bool, ...]
    ridge: float


def build_penalty(
    g: Any, s: RegularizationSettings, backend: Backend = NUMPY, uniform: float | None = None
) -> Penalty:
    """Build the regularization ``R(g)`` for the current distribution ``g``.

    Parameters
    ----------
    g : array
        Current distribution (model shape).
    s : RegularizationSettings
        Parameters.
    backend : Backend
        Array backend.
    uniform : float, optional
        Use this constant instead of the local uniform-penalty weights (the solver's first
        iteration, where ``g = 0`` says nothing about where the features are).

    Returns
    -------
    Penalty
    """
    xp = backend.xp
    ndim = g.ndim
    size = 2 * s.neighbourhood + 1
    a00 = s.alpha_00
    terms: list[PenaltyTerm] = []
    diagonal = xp.full(g.shape, a00 * s.ridge)
    zc_weight = xp.zeros(g.shape)

    def local_weight(c: Any, p: Any | None, amp: Any | None = None) -> Any:
        if uniform is not None:
            return xp.full(c.shape, float(uniform))
        cm = backend.maximum_filter(xp.abs(c), size)
        den = s.alpha_0 + s.alpha_c * cm * cm
        if amp is not None and s.alpha_amp > 0:
            am = backend.maximum_filter(xp.abs(amp), size)
            den = den + s.alpha_amp * am * am
        if p is not None and s.alpha_p > 0:
            pm = backend.maximum_filter(xp.abs(p), size)
            den = den + s.alpha_p * pm * pm
        return 1.0 / den

    for d in range(ndim):
        n = g.shape[d]
        if n >= 3 and s.axis_weights[d] > 0:
            st = second_difference_stencil(ndim, d)
            c = stencil_apply(st, g)
            p = stencil_apply(slope_stencil(ndim, d), g)
            centre = [slice(None)] * ndim
            centre[d] = slice(1, n - 1)  # the middle point of each stencil
            w = local_weight(c, p, g[tuple(centre)])
            terms.append(PenaltyTerm(st, (a00 * s.axis_weights[d]) * w))
            if s.alpha_zc > 0:
                # zero crossings between neighbours k, k+1 along this axis
                lo = [slice(None)] * ndim
                hi = [slice(None)] * ndim
                lo[d], hi[d] = slice(0, n - 1), slice(1, n)
                cross = (g[tuple(lo)] * g[tuple(hi)]) < 0
                pad = [(0, 0)] * ndim
                pad[d] = (1, 1)
                wpad = xp.pad(w, pad, mode="edge")
                zc_weight[tuple(lo)] += cross * wpad[tuple(lo)]
                zc_weight[tuple(hi)] += cross * wpad[tuple(hi)]
        if s.inverted[d] and s.alpha_bc > 0 and n >= 2:
            for idx in (0, n - 1):
                sl = [slice(None)] * ndim
                sl[d] = slice(idx, idx + 1)
                diagonal[tuple(sl)] += a00 * s.alpha_bc
    for d, e in itertools.combinations(range(ndim), 2):
        ax = s.alpha_cross if s.inverted[d] and s.inverted[e] else s.alpha_cross_identity
        ad, ae = s.axis_weights[d], s.axis_weights[e]
        if ax <= 0 or ad <= 0 or ae <= 0 or g.shape[d] < 2 or g.shape[e] < 2:
            continue
        st = mixed_difference_stencil(ndim, d, e)
        w = local_weight(stencil_apply(st, g), None)
        terms.append(PenaltyTerm(st, (a00 * ax * float(np.sqrt(ad * ae))) * w))
    if s.alpha_zc > 0:
        diagonal = diagonal + (a00 * s.alpha_zc) * zc_weight
    if s.nonneg:
        diagonal = diagonal + (a00 * s.alpha_nn) * (g < 0)
    return Penalty(terms, diagonal, backend)


def blend_penalties(old: Penalty, new: Penalty, beta: float, xp: Any) -> Penalty:
    """Geometric blend of the local weights, ``w = w_old^(1-beta) w_new^beta`` (and an
    arithmetic blend of the diagonal), which damps the weight/solution feedback loop."""
    terms = [
        PenaltyTerm(n.stencil, xp.exp((1 - beta) * xp.log(o.w) + beta * xp.log(n.w)))
        for o, n in zip(old.terms, new.terms)
    ]
    return Penalty(terms, (1 - beta) * old.diagonal + beta * new.diagonal, new.backend)
