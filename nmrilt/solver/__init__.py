"""The solver: n-D data arrays -> signed distribution (:class:`Inversion`).

``invert`` checks its inputs, resolves the options (:mod:`.options`) and runs the outer
iteration (:mod:`.loop`) on the normal equations (:mod:`.normal_equations`) of the
Kronecker-structured kernel (:mod:`.operators`, :mod:`.kernels`) with adaptive
regularization (:mod:`.regularization`).  It knows nothing of vendors or files.
See ``docs/solver.md`` for the mathematics and every option.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..errors import InversionInputError
from .backend import blas_threads
from .grids import default_density, tau_grid
from .inversion import Inversion
from .kernels import BUILTIN_KERNELS, Kernel, check_tau, resolve_kernel
from .loop import run
from .options import OPTION_NAMES, ExpertOptions, Options, resolve_options

__all__ = [
    "BUILTIN_KERNELS",
    "OPTION_NAMES",
    "ExpertOptions",
    "Inversion",
    "Kernel",
    "Options",
    "invert",
    "resolve_kernel",
    "tau_grid",
]


def _as_list(x: Any, ndim: int, name: str) -> list[Any]:
    if ndim == 1 and (isinstance(x, np.ndarray) or not isinstance(x, (list, tuple))):
        return [x]
    if isinstance(x, (list, tuple)) and ndim == 1 and len(x) > 0 and np.isscalar(x[0]):
        return [np.asarray(x)]
    if not isinstance(x, (list, tuple)):
        raise InversionInputError(
            f"{name} must be a list with one entry per data dimension ({ndim}), "
            f"got {type(x).__name__}"
        )
    if len(x) != ndim:
        raise InversionInputError(
            f"{name} has {len(x)} entries but data has {ndim} dimensions; give one per dimension"
        )
    return list(x)


def _check_vector(v: Any, name: str) -> np.ndarray:
    try:
        a = np.asarray(v, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InversionInputError(f"{name} must be a numeric array") from None
    if a.size == 0:
        raise InversionInputError(f"{name} is empty")
    if not np.all(np.isfinite(a)):
        raise InversionInputError(f"{name} contains NaN or inf")
    return a


# --- public entry point -------------------------------------------------------------------


def invert(
    data: Any,
    t: Any,
    tau: Any = None,
    kernels: Any = "exponential",
    *,
    progress: bool = False,
    **options: Any,
) -> Inversion:
    """Invert n-D relaxation/diffusion data into a signed distribution.

    Parameters
    ----------
    data : array_like
        Data, one axis per dimension, scaled so that the noise has unit standard
        deviation (or give ``sigma``).
    t : array or list of arrays
        Sampling vector of each dimension (a single array for 1-D data).
    tau : array or list of arrays, optional
        Output grid of each dimension.  Identity dimensions: labels of length
        ``data.shape[d]`` (or None to reuse ``t``).  None for a dimension picks
        :func:`nmrilt.solver.grids.tau_grid`.
    kernels : str, callable or list
        Kernel of each dimension: ``"exponential"``, ``"inversion_recovery"``,
        ``"saturation_recovery"``, ``"diffusion"``, ``"identity"`` or a callable
        ``k(t, tau) -> (len(t), len(tau))`` matrix.  A single entry applies to every dimension.
    progress : bool
        Show a progress line with ETA on stderr (default False; the command line turns
        it on).
    **options
        Regularization and solver options; see ``docs/solver.md`` and
        :class:`~nmrilt.solver.options.Options`.  Main ones: ``alpha_00`` (global regularization scale, 1),
        ``alpha_c`` (curvature weight, 1), ``alpha_0`` (flat-region weight, 1e-4),
        ``alpha_zc`` (zero-crossing penalty, "auto": 5, or 3 with identity dimensions),
        ``alpha_choice`` ("discrepancy"), ``alpha_bc`` (edges, 50), ``nonneg`` (False),
        ``baseline`` (fit a constant offset per identity slice, False), ``sigma``
        (per-point noise std, same shape as data), ``max_iter`` (100), ``tol`` (1e-3).

    Returns
    -------
    Inversion

    Raises
    ------
    InversionInputError
        Inconsistent shapes, NaN/inf in data, non-positive tau for relaxation kernels,
        unknown kernels or options.
    """
    t_start = time.perf_counter()
    try:
        data_h = np.asarray(data, dtype=float)
    except (TypeError, ValueError):
        raise InversionInputError("data must be a numeric array") from None
    if data_h.ndim == 0 or data_h.size == 0:
        raise InversionInputError(f"data must be a non-empty array, got shape {data_h.shape}")
    if not np.all(np.isfinite(data_h)):
        bad = int(np.sum(~np.isfinite(data_h)))
        raise InversionInputError(
            f"data contains {bad} NaN or inf value(s); remove or replace them before inverting"
        )
    ndim = data_h.ndim
    t_list = [_check_vector(v, f"t[{d}]") for d, v in enumerate(_as_list(t, ndim, "t"))]
    for d, (tv, n) in enumerate(zip(t_list, data_h.shape)):
        if tv.size != n:
            raise InversionInputError(
                f"t[{d}] has {tv.size} values but data has {n} points along dimension {d} "
                f"(data shape {data_h.shape})"
            )
    if isinstance(kernels, (str, Kernel)) or callable(kernels):
        kernels = [kernels] * ndim
    if not isinstance(kernels, (list, tuple)) or len(kernels) != ndim:
        raise InversionInputError(
            f"kernels must be one kernel or a list of {ndim} (one per data dimension), "
            f"got {kernels!r}"
        )
    k_list = [resolve_kernel(k, d) for d, k in enumerate(kernels)]
    if tau is None:
        tau = [None] * ndim
    tau_in = _as_list(tau, ndim, "tau")
    tau_list = []
    ppd = default_density(sum(not k.is_identity for k in k_list))
    for d, (tv, kern) in enumerate(zip(tau_in, k_list)):
        if tv is None:
            tv = t_list[d] if kern.is_identity else tau_grid(t_list[d], kern, ppd)
        tv = _check_vector(tv, f"tau[{d}]")
        if kern.is_identity and tv.size != data_h.shape[d]:
            raise InversionInputError(
                f"tau[{d}] (identity dimension) has {tv.size} labels but data has "
                f"{data_h.shape[d]} points along dimension {d}"
            )
        check_tau(kern, tv, d)
        tau_list.append(tv)
    opt = resolve_options(options, [k.is_identity for k in k_list])
    with blas_threads(opt.expert.blas_threads):
        return run(data_h, t_list, tau_list, k_list, opt, progress, t_start)
