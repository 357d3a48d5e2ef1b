"""Exact banded solve of the normal equations for problems with few inverted unknowns per
identity slice (typically pseudo-2D: one inverted dimension and a long identity axis).

The unknowns ``x = [g, b]`` (``b`` the optional constant offset per slice) solve

``([K B]^T W [K B] + diag(R, ridge_b)) x = rhs``.

Ordering them with the identity axes slowest, the inverted axes fastest and each slice's
offset right after its ``n_I`` distribution points makes the data part block diagonal, one
dense ``(n_I + 1) x (n_I + 1)`` block per slice (``n_I`` = inverted unknowns per slice):
``K_I^T W_s K_I`` bordered by ``K_I^T W_s 1`` and ``1^T W_s 1``, where ``K_I`` is the
Kronecker product of the inverted kernels and ``W_s`` the weights of slice ``s``.  The
difference stencils of ``R`` stay within a band of half width ``u`` (a few slice lengths at
most), so LAPACK's banded Cholesky costs ``O(N u^2)`` flops and ``O(N u)`` memory — for
60 x 1000 about 1e9 flops and 60 MB — with or without weights and offset: the same exact
answer as the dense path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .operators import KroneckerOperator


def _perm(shape: Sequence[int], inverted: Sequence[bool]) -> list[int]:
    return [a for a in range(len(shape)) if not inverted[a]] + [
        a for a in range(len(shape)) if inverted[a]
    ]


def _n_inverted(shape: Sequence[int], inverted: Sequence[bool]) -> int:
    return int(np.prod([shape[a] for a in range(len(shape)) if inverted[a]]))


def bandwidth(shape: Sequence[int], inverted: Sequence[bool], baseline: bool = False) -> int:
    """Half bandwidth of the normal matrix in the slice-major ordering (with one offset
    unknown per slice after its distribution points when ``baseline``)."""
    perm = _perm(shape, inverted)
    pshape = [shape[a] for a in perm]
    strides = np.cumprod([1] + pshape[::-1][:-1])[::-1]  # C-order strides in permuted order
    n_inv = _n_inverted(shape, inverted)
    block = n_inv + int(baseline)
    # identity axes step over whole slice blocks (distribution points plus offset)
    stride = {a: int(s) if inverted[a] else int(s) // n_inv * block
              for a, s in zip(perm, strides)}
    reach = [2 * stride[a] for a in range(len(shape)) if shape[a] >= 3]
    axes = [a for a in range(len(shape)) if shape[a] >= 2]
    reach += [stride[a] + stride[b] for i, a in enumerate(axes) for b in axes[i + 1 :]]
    return max([block - 1] + reach)


def banded_cost(
    shape: Sequence[int], inverted: Sequence[bool], baseline: bool = False,
    weighted: bool = False, n_data_inverted: int = 0,
) -> tuple[float, float]:
    """(flops, bytes) of the banded factorization, plus the per-slice weighted Gram blocks
    (``n_data_inverted`` data points per slice) when ``weighted``."""
    n_inv = _n_inverted(shape, inverted)
    n_sl = int(np.prod(shape)) // n_inv
    n = float(n_sl * (n_inv + int(baseline)))
    u = bandwidth(shape, inverted, baseline)
    flops = n * u * u
    nbytes = n * (u + 1) * 8.0
    if weighted:
        flops += float(n_sl) * n_data_inverted * n_inv * n_inv
        nbytes += float(n_sl) * n_inv * n_inv * 8.0
    return flops, nbytes


def _slice_blocks(
    k_inv: np.ndarray, w_slices: np.ndarray | None, baseline: bool, ridge_b: float, n_sl: int,
) -> np.ndarray:
    """Data part of the normal matrix per slice: ``(n_sl or 1, m, m)`` with
    ``m = n_I + baseline`` (one shared block without weights)."""
    n_inv = k_inv.shape[1]
    m = n_inv + int(baseline)
    n_blocks = 1 if w_slices is None else n_sl
    out = np.empty((n_blocks, m, m))
    w = np.ones((1, k_inv.shape[0])) if w_slices is None else w_slices
    # K_I^T W_s K_I for every slice, as one batched product
    out[:, :n_inv, :n_inv] = np.einsum("ti,st,tj->sij", k_inv, w, k_inv, optimize=True)
    if baseline:
        col = w @ k_inv  # K_I^T W_s 1
        out[:, :n_inv, n_inv] = col
        out[:, n_inv, :n_inv] = col
        out[:, n_inv, n_inv] = w.sum(axis=1) + ridge_b
    return out


def banded_solve(
    op: KroneckerOperator,
    rmat: sp.spmatrix,
    rhs: np.ndarray,
    inverted: Sequence[bool],
    weights: np.ndarray | None = None,
    baseline: bool = False,
    ridge_b: float = 0.0,
) -> np.ndarray:
    """Solve the normal equations exactly (host arrays); ``rhs`` and the result flat.

    Parameters
    ----------
    op : KroneckerOperator
        The kernel ``K``.
    rmat : sparse matrix
        The regularization ``R`` on ``g`` (C-order flattening of the model shape).
    rhs : numpy.ndarray
        ``[K B]^T W s`` flattened: ``g`` part then the offsets (slice order).
    inverted : sequence of bool
        Per axis, whether it is inverted.
    weights : numpy.ndarray, optional
        ``1/sigma^2`` in the data shape (None: unit weights).
    baseline : bool
        Whether ``x`` carries one constant offset per identity slice.
    ridge_b : float
        Ridge on the offsets.

    Returns
    -------
    numpy.ndarray
        ``x = [g, b]`` flattened like ``rhs``.
    """
    shape = op.model_shape
    perm = _perm(shape, inverted)
    n = int(np.prod(shape))
    n_inv = _n_inverted(shape, inverted)
    n_sl = n // n_inv
    m = n_inv + int(baseline)
    order = np.arange(n).reshape(shape).transpose(perm).ravel()  # permuted -> old index
    pos = np.arange(n)
    new_g = pos // n_inv * m + pos % n_inv  # banded index of permuted g entry
    u = bandwidth(shape, inverted, baseline)
    k_inv = np.ones((1, 1))
    for a in range(len(shape)):
        if inverted[a]:
            k_inv = np.kron(k_inv, np.asarray(op.mats[a]))
    w_slices = None
    if weights is not None:
        dperm = _perm(op.data_shape, inverted)
        w_slices = np.transpose(np.asarray(weights), dperm).reshape(n_sl, -1)
    blocks = _slice_blocks(k_inv, w_slices, baseline, ridge_b, n_sl)
    ab = np.zeros((u + 1, n_sl * m))
    # dense blocks: A[i, j] with i <= j in the same slice -> ab[u + i - j, j]
    ii, jj = np.triu_indices(m)
    cols = (np.arange(n_sl)[:, None] * m + jj[None, :]).ravel()
    rows = np.broadcast_to(u + ii - jj, (n_sl, ii.size)).ravel()
    ab[rows, cols] = np.broadcast_to(blocks[:, ii, jj], (n_sl, ii.size)).ravel()
    # penalty, permuted into the banded ordering
    rp = sp.csr_matrix(rmat)[order][:, order].tocoo()
    r_row, r_col = new_g[rp.row], new_g[rp.col]
    keep = r_row <= r_col
    np.add.at(ab, (u + r_row[keep] - r_col[keep], r_col[keep]), rp.data[keep])
    b_rhs = np.empty(n_sl * m)
    b_rhs[new_g] = rhs[:n][order]
    if baseline:
        b_rhs[np.arange(n_sl) * m + n_inv] = rhs[n:]
    c = scipy.linalg.cholesky_banded(ab, lower=False, overwrite_ab=True, check_finite=False)
    x = scipy.linalg.cho_solve_banded((c, False), b_rhs, check_finite=False)
    out = np.empty(n + (n_sl if baseline else 0))
    out[order] = x[new_g]
    if baseline:
        out[n:] = x[np.arange(n_sl) * m + n_inv]
    return out
