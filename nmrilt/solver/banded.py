"""Exact banded solve of ``(K^T K + R) g = rhs`` for problems with few inverted unknowns
per identity slice (typically pseudo-2D: one inverted dimension and a long identity axis).

Ordering the unknowns with the identity axes slowest and the inverted axes fastest makes
``K^T K`` block diagonal with dense ``n_I x n_I`` blocks (``n_I`` = inverted unknowns per
slice) and keeps the difference stencils of ``R`` within a band of
``u = max(n_I - 1, max stencil offset)``.  LAPACK's banded Cholesky then costs
``O(N u^2)`` flops and ``O(N u)`` memory — for 60 x 1000 about 1e9 flops and 60 MB.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .operators import KroneckerOperator


def _perm(shape: Sequence[int], inverted: Sequence[bool]) -> list[int]:
    return [a for a in range(len(shape)) if not inverted[a]] + [
        a for a in range(len(shape)) if inverted[a]
    ]


def bandwidth(shape: Sequence[int], inverted: Sequence[bool]) -> int:
    """Half bandwidth of ``K^T K + R`` in the slice-major ordering."""
    perm = _perm(shape, inverted)
    pshape = [shape[a] for a in perm]
    strides = np.cumprod([1] + pshape[::-1][:-1])[::-1]  # C-order strides in permuted order
    stride = {a: int(s) for a, s in zip(perm, strides)}
    n_inv = int(np.prod([shape[a] for a in range(len(shape)) if inverted[a]]))
    reach = [2 * stride[a] for a in range(len(shape)) if shape[a] >= 3]
    axes = [a for a in range(len(shape)) if shape[a] >= 2]
    reach += [stride[a] + stride[b] for i, a in enumerate(axes) for b in axes[i + 1 :]]
    return max([n_inv - 1] + reach)


def banded_cost(shape: Sequence[int], inverted: Sequence[bool]) -> tuple[float, float]:
    """(flops, bytes) of the banded factorization."""
    n = float(np.prod(shape))
    u = bandwidth(shape, inverted)
    return n * u * u, n * (u + 1) * 8.0


def banded_solve(
    op: KroneckerOperator, rmat: sp.csr_matrix, rhs: np.ndarray, inverted: Sequence[bool]
) -> np.ndarray:
    """Solve ``(K^T K + R) g = rhs`` exactly (host arrays); ``rhs`` and the result flat."""
    shape = op.model_shape
    perm = _perm(shape, inverted)
    n = int(np.prod(shape))
    order = np.arange(n).reshape(shape).transpose(perm).ravel()  # new -> old index
    u = bandwidth(shape, inverted)
    # Gram block of one slice (inverted axes, C order)
    block = np.ones((1, 1))
    for a in range(len(shape)):
        if inverted[a]:
            block = np.kron(block, np.asarray(op.grams[a]))
    n_inv = block.shape[0]
    n_sl = n // n_inv
    ab = np.zeros((u + 1, n))
    # dense blocks: A[i, j] with i <= j in the same slice -> ab[u + i - j, j]
    ii, jj = np.triu_indices(n_inv)
    cols = (np.arange(n_sl)[:, None] * n_inv + jj[None, :]).ravel()
    rows = np.broadcast_to(u + ii - jj, (n_sl, ii.size)).ravel()
    ab[rows, cols] = np.broadcast_to(block[ii, jj], (n_sl, ii.size)).ravel()
    # penalty, permuted
    rp = sp.csr_matrix(rmat)[order][:, order].tocoo()
    keep = rp.row <= rp.col
    np.add.at(ab, (u + rp.row[keep] - rp.col[keep], rp.col[keep]), rp.data[keep])
    c = scipy.linalg.cholesky_banded(ab, lower=False, overwrite_ab=True, check_finite=False)
    x = scipy.linalg.cho_solve_banded((c, False), rhs[order], check_finite=False)
    out = np.empty(n)
    out[order] = x
    return out
