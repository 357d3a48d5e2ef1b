"""Structured linear operators: the n-D kernel as a Kronecker product of 1-D kernels.

The forward model of an n-D experiment is ``fit = K g`` with
``K = K_1 (x) K_2 (x) ... (x) K_n`` (``(x)`` the Kronecker product).  The operators here
never form ``K`` or ``K^T K``; they apply the small per-dimension matrices along one
axis at a time.  Identity dimensions (``K_d = I``) are skipped, so an identity axis of
length ``m`` costs nothing but memory that grows linearly with ``m``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .backend import NUMPY, Backend


def apply_along(xp: Any, mat: Any, x: Any, axis: int) -> Any:
    """Return ``x`` with ``mat`` applied along ``axis``.

    ``y[..., i, ...] = sum_j mat[i, j] x[..., j, ...]`` (``i``, ``j`` at position ``axis``).
    """
    shape = x.shape
    n = shape[axis]
    pre = int(np.prod(shape[:axis]))
    post = int(np.prod(shape[axis + 1 :]))
    out_shape = shape[:axis] + (mat.shape[0],) + shape[axis + 1 :]
    x = xp.ascontiguousarray(x)
    if post == 1:  # last axis: one matrix product, no transposes
        return (x.reshape(pre, n) @ mat.T).reshape(out_shape)
    # (m, n) @ (pre, n, post): batched products on contiguous views, no transposes
    return xp.matmul(mat, x.reshape(pre, n, post)).reshape(out_shape)


class KroneckerOperator:
    """``K = K_1 (x) ... (x) K_n`` acting on arrays of shape ``model_shape``.

    Parameters
    ----------
    mats : sequence of array or None
        Per-dimension matrices of shape ``(len(t_d), len(tau_d))``; ``None`` means identity.
    model_shape : tuple of int
        Shape of the distribution ``g``.
    backend : Backend
        Array backend (NumPy by default).

    Attributes
    ----------
    data_shape : tuple of int
        Shape of ``K g``.
    grams : list of array or None
        Per-dimension Gram matrices ``K_d^T K_d`` (``None`` for identity dimensions).
    """

    def __init__(
        self, mats: Sequence[Any | None], model_shape: Sequence[int], backend: Backend = NUMPY
    ) -> None:
        self.backend = backend
        xp = backend.xp
        self.model_shape = tuple(int(n) for n in model_shape)
        self.mats = [None if m is None else backend.asarray(m) for m in mats]
        self.data_shape = tuple(
            n if m is None else int(m.shape[0]) for m, n in zip(self.mats, self.model_shape)
        )
        self.grams = [None if m is None else m.T @ m for m in self.mats]
        self._xp = xp

    @property
    def shape(self) -> tuple[int, int]:
        """``(prod(data_shape), prod(model_shape))``."""
        return int(np.prod(self.data_shape)), int(np.prod(self.model_shape))

    def _apply(self, mats: Sequence[Any | None], x: Any) -> Any:
        for axis, m in enumerate(mats):
            if m is not None:
                x = apply_along(self._xp, m, x, axis)
        return x

    def matvec(self, g: Any) -> Any:
        """``K g`` for ``g`` of shape ``model_shape``; returns shape ``data_shape``."""
        return self._apply(self.mats, g)

    def rmatvec(self, r: Any) -> Any:
        """``K^T r`` for ``r`` of shape ``data_shape``; returns shape ``model_shape``."""
        return self._apply([None if m is None else m.T for m in self.mats], r)

    def gram_matvec(self, g: Any) -> Any:
        """``K^T K g`` through the per-dimension Gram matrices."""
        return self._apply(self.grams, g)

    def gram_diagonal(self) -> Any:
        """Diagonal of ``K^T K`` as an array of shape ``model_shape``."""
        xp = self._xp
        d = xp.ones(self.model_shape)
        for axis, gm in enumerate(self.grams):
            if gm is not None:
                shape = [1] * len(self.model_shape)
                shape[axis] = self.model_shape[axis]
                d = d * xp.diagonal(gm).reshape(shape)
        return d

    def weighted_gram_diagonal(self, w: Any) -> Any:
        """Diagonal of ``K^T diag(w) K`` (``w`` of shape ``data_shape``), model shape.

        Each entry is ``sum_i w_i K_ij^2``: the adjoint of the element-wise squared operator
        applied to ``w``.
        """
        squared = [None if m is None else m * m for m in self.mats]
        return self._apply([None if m is None else m.T for m in squared], w)

    def dense(self) -> np.ndarray:
        """The full matrix ``K`` (for tests and small problems only)."""
        out = np.ones((1, 1))
        for m, n in zip(self.mats, self.model_shape):
            mm = np.eye(n) if m is None else self.backend.to_host(m)
            out = np.kron(out, mm)
        return out


class BaselineOperator:
    """``B``: a constant offset per identity slice, broadcast along the inverted axes.

    ``B b`` repeats ``b`` (shape ``data_shape`` with inverted axes of length 1) along every
    inverted axis; ``B^T r`` sums ``r`` over them.

    Parameters
    ----------
    data_shape : tuple of int
        Shape of the data.
    inverted : sequence of bool
        Per axis, whether it is inverted (the offset is constant along it).
    backend : Backend
        Array backend.
    """

    def __init__(
        self, data_shape: Sequence[int], inverted: Sequence[bool], backend: Backend = NUMPY
    ) -> None:
        self.backend = backend
        self.data_shape = tuple(int(n) for n in data_shape)
        self.axes = tuple(d for d, inv in enumerate(inverted) if inv)
        self.model_shape = tuple(1 if inv else n for inv, n in zip(inverted, self.data_shape))
        self.size = int(np.prod(self.model_shape))

    def matvec(self, b: Any) -> Any:
        """``B b``: ``b`` broadcast to ``data_shape``."""
        return self.backend.xp.broadcast_to(b, self.data_shape)

    def rmatvec(self, r: Any) -> Any:
        """``B^T r``: ``r`` summed over the inverted axes (model shape)."""
        return self.backend.xp.sum(r, axis=self.axes, keepdims=True)

    def weighted_gram_diagonal(self, w: Any) -> Any:
        """Diagonal of ``B^T diag(w) B`` (model shape)."""
        return self.rmatvec(w)

    def dense(self) -> np.ndarray:
        """The full matrix ``B`` (indicator columns; small problems only)."""
        n = int(np.prod(self.data_shape))
        cols = np.zeros((n, self.size))
        rows = np.arange(n).reshape(self.data_shape)
        owner = np.broadcast_to(np.arange(self.size).reshape(self.model_shape), self.data_shape)
        cols[rows.ravel(), owner.ravel()] = 1.0
        return cols
