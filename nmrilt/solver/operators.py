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

    def dense(self) -> np.ndarray:
        """The full matrix ``K`` (for tests and small problems only)."""
        out = np.ones((1, 1))
        for m, n in zip(self.mats, self.model_shape):
            mm = np.eye(n) if m is None else self.backend.to_host(m)
            out = np.kron(out, mm)
        return out
