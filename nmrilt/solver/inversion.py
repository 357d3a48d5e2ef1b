"""The result of an inversion: an immutable, self-describing record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Inversion:
    """Result of :func:`nmrilt.invert`.

    Attributes
    ----------
    g : numpy.ndarray
        The distribution, shape ``tuple(len(tau_d))``; axis ``d`` is sampled at ``tau[d]``.
        Signed (no non-negativity unless ``nonneg=True`` was asked).
    fit : numpy.ndarray
        ``K g`` (+ baseline), shape of ``data``.
    residuals : numpy.ndarray
        ``data - fit``.
    data : numpy.ndarray
        The data inverted (as given, float64).
    t : tuple of numpy.ndarray
        Sampling vector of each dimension.
    tau : tuple of numpy.ndarray
        Output grid of each dimension (identity dimensions: their labels).
    kernels : tuple of str
        Kernel name of each dimension.
    iterations : int
        Outer iterations run.
    converged : bool
        True when the relative change of ``g`` fell below ``tol``.
    message : str
        Why the iteration stopped.
    convergence : numpy.ndarray
        Relative change ``||g_i - g_{i-1}|| / ||g_i||`` of each iteration.
    baseline : numpy.ndarray or None
        Fitted constant offset per identity slice (shape of ``data`` with inverted
        dimensions of length 1) when ``baseline=True``, else None.
    options : dict
        Every resolved option (JSON-serialisable).
    elapsed_s : float
        Wall time of the call.
    stats : dict
        Solver diagnostics (inner Krylov iterations, solver path, residual std, ...).
    """

    g: np.ndarray
    fit: np.ndarray
    residuals: np.ndarray
    data: np.ndarray
    t: tuple[np.ndarray, ...]
    tau: tuple[np.ndarray, ...]
    kernels: tuple[str, ...]
    iterations: int
    converged: bool
    message: str
    convergence: np.ndarray
    baseline: np.ndarray | None
    options: dict[str, Any]
    elapsed_s: float
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def residual_std(self) -> float:
        """Standard deviation of the residuals (about 1 for data scaled to unit noise)."""
        return float(np.std(self.residuals))

    def __repr__(self) -> str:
        return (
            f"Inversion(g.shape={self.g.shape}, kernels={self.kernels}, "
            f"iterations={self.iterations}, converged={self.converged}, "
            f"residual_std={self.residual_std:.3g}, elapsed_s={self.elapsed_s:.3g})"
        )
