"""Signed n-D inverse Laplace transform: the outer iteration and the linear solves.

Each outer iteration ``i``

1. builds the adaptive regularization ``R(g_{i-1})`` (:mod:`nmrilt.solver.regularization`);
2. solves the regularized normal equations ``(K^T W K + R) g = K^T W s`` — by dense
   Cholesky for small problems, otherwise by preconditioned conjugate gradients with
   matrix-free Kronecker products (:mod:`nmrilt.solver.operators`), warm-started from the previous
   solution;
3. takes a damped step ``g_i = g_{i-1} + beta (g_hat - g_{i-1})``;
4. near convergence on the exact (dense/banded) paths, lowers ``alpha_00`` while the
   residual RMS of the unit-noise data exceeds ``target_resid`` (discrepancy principle);
5. stops when ``||g_i - g_{i-1}|| / ||g_i|| < tol``.

CG stops once its residual is a small fraction (``cg_noise_tol``) of the size of ``K^T W e``
for unit noise ``e``: solving further changes ``g`` by far less than the noise does.

See ``docs/solver.md`` for the mathematics and every option.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from typing import Any, Callable, Sequence

import numpy as np
import scipy.linalg

from .backend import Backend, blas_threads, get_backend
from .banded import banded_cost, banded_solve
from ..errors import InversionInputError
from .inversion import Inversion
from .kernels import Kernel, check_tau, resolve_kernel
from .grids import tau_grid
from .operators import KroneckerOperator
from .preconditioners import make_preconditioner
from ..progress import Progress
from .regularization import Penalty, RegularizationSettings, blend_penalties, build_penalty

log = logging.getLogger(__name__)

#: Default options of :func:`invert` (documented in docs/solver.md).
DEFAULTS: dict[str, Any] = {
    "alpha_00": 1.0,
    "alpha_0": 1e-4,
    "alpha_p": "auto",
    "alpha_c": 1.0,
    "alpha_cross": 0.05,
    "alpha_cross_identity": 0.2,
    "alpha_zc": 1.0,
    "alpha_bc": 50.0,
    "alpha_nn": 1000.0,
    "nonneg": False,
    "neighbourhood": 1,
    "axis_weights": None,
    "identity_weight": 0.3,
    "baseline": False,
    "sigma": None,
    "max_iter": 100,
    "tol": 1e-3,
    "damping": 0.8,
    "weight_damping": 1.0,
    "solver": "auto",
    "dense_max": 1000,
    "banded_max_flops": 3e9,
    "cg_tol": 1e-6,
    "cg_max_iter": 150,
    "cg_forcing": 0.0,
    "cg_noise_tol": 0.1,
    "preconditioner": "slice",
    "precond_drop": 1.0,
    "precond_coarse": 0,
    "precond_every": 1,
    "ridge": 1e-8,
    "backend": "numpy",
    "blas_threads": 1,
    "g0": None,
    "target_resid": 1.0,
    "penalty_float32": "auto",
    "discrepancy_range": 0.05,
    "discrepancy_start": 0.02,
    "discrepancy_step": 1.25,
    "discrepancy_cg": False,
}


# --- input checking -----------------------------------------------------------------------


def _as_list(x: Any, ndim: int, name: str) -> list[Any]:
    if ndim == 1 and (isinstance(x, np.ndarray) or not isinstance(x, (list, tuple))):
        return [x]
    if isinstance(x, np.ndarray) and x.ndim == 1 and ndim == 1:
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


def _resolve_options(
    options: dict[str, Any], ndim: int, identity: Sequence[bool]
) -> dict[str, Any]:
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise InversionInputError(
            f"unknown option(s) {unknown}; valid options are {sorted(DEFAULTS)}"
        )
    opt = {**DEFAULTS, **options}
    if opt["alpha_p"] == "auto":
        # slope term: sharpens 1-D distributions (two close components resolve); off in n-D,
        # where the curvature and cross terms already constrain the shape
        opt["alpha_p"] = 1.0 if ndim == 1 else 0.0
    for key in ("alpha_00", "alpha_0", "alpha_p", "alpha_c", "alpha_cross",
                "alpha_cross_identity", "alpha_zc",
                "alpha_bc", "alpha_nn", "ridge", "cg_tol", "tol", "cg_forcing", "cg_noise_tol",
                "discrepancy_range", "discrepancy_start", "discrepancy_step"):
        val = opt[key]
        if not isinstance(val, (int, float)) or not math.isfinite(val) or val < 0:
            raise InversionInputError(f"option {key}={val!r} must be a finite number >= 0")
        opt[key] = float(val)
    if opt["alpha_00"] <= 0 or opt["alpha_0"] <= 0:
        raise InversionInputError("options alpha_00 and alpha_0 must be > 0")
    if not 0 < float(opt["damping"]) <= 1:
        raise InversionInputError(f"option damping={opt['damping']!r} must be in (0, 1]")
    opt["damping"] = float(opt["damping"])
    if not 0 < float(opt["weight_damping"]) <= 1:
        raise InversionInputError(
            f"option weight_damping={opt['weight_damping']!r} must be in (0, 1]"
        )
    opt["weight_damping"] = float(opt["weight_damping"])
    if opt["blas_threads"] is not None:
        if int(opt["blas_threads"]) != opt["blas_threads"] or opt["blas_threads"] < 1:
            raise InversionInputError(
                f"option blas_threads={opt['blas_threads']!r} must be an integer >= 1 or None"
            )
        opt["blas_threads"] = int(opt["blas_threads"])
    for key in ("max_iter", "dense_max", "cg_max_iter", "neighbourhood", "precond_coarse",
                "precond_every"):
        if int(opt[key]) != opt[key] or opt[key] < 0:
            raise InversionInputError(f"option {key}={opt[key]!r} must be an integer >= 0")
        opt[key] = int(opt[key])
    if opt["max_iter"] < 1:
        raise InversionInputError("option max_iter must be >= 1")
    if opt["preconditioner"] not in ("slice", "jacobi"):
        raise InversionInputError(
            f"option preconditioner={opt['preconditioner']!r} must be 'slice' or 'jacobi'"
        )
    opt["precond_drop"] = float(opt["precond_drop"])
    if opt["solver"] not in ("auto", "dense", "banded", "cg"):
        raise InversionInputError(
            f"option solver={opt['solver']!r} must be 'auto', 'dense', 'banded' or 'cg'"
        )
    opt["banded_max_flops"] = float(opt["banded_max_flops"])
    aw = opt["axis_weights"]
    iw = opt["identity_weight"]
    if not isinstance(iw, (int, float)) or not math.isfinite(iw) or iw < 0:
        raise InversionInputError(f"option identity_weight={iw!r} must be a number >= 0")
    opt["identity_weight"] = float(iw)
    if aw is None:
        aw = tuple(float(iw) if identity[d] else 1.0 for d in range(ndim))
    else:
        aw = tuple(float(a) for a in np.atleast_1d(aw))
        if len(aw) != ndim or any(a < 0 for a in aw):
            raise InversionInputError(
                f"option axis_weights must have {ndim} non-negative entries, "
                f"got {opt['axis_weights']!r}"
            )
    opt["axis_weights"] = list(aw)
    if opt["target_resid"] != "auto":
        tr = opt["target_resid"]
        if not isinstance(tr, (int, float)) or not math.isfinite(tr) or tr < 0:
            raise InversionInputError(
                f"option target_resid={tr!r} must be 'auto' or a number >= 0 (0: off)"
            )
        opt["target_resid"] = float(tr)
    if opt["penalty_float32"] not in ("auto", True, False):
        raise InversionInputError(
            f"option penalty_float32={opt['penalty_float32']!r} must be 'auto', True or False"
        )
    opt["nonneg"] = bool(opt["nonneg"])
    opt["discrepancy_cg"] = bool(opt["discrepancy_cg"])
    opt["baseline"] = bool(opt["baseline"])
    return opt


# --- linear algebra -----------------------------------------------------------------------


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


class _Problem:
    """Everything fixed during the outer iteration: operator, weights, right-hand side."""

    def __init__(
        self,
        op: KroneckerOperator,
        data: Any,
        weights: Any | None,
        baseline: bool,
        inverted: Sequence[bool],
        ridge_b: float,
        backend: Backend,
    ) -> None:
        xp = backend.xp
        self.op, self.xp, self.backend = op, xp, backend
        self.weights = weights
        self.data = data
        self.baseline = baseline
        self.inverted = tuple(inverted)
        self.inv_axes = tuple(d for d, inv in enumerate(inverted) if inv)
        self.b_shape = tuple(1 if inv else n for inv, n in zip(inverted, op.data_shape))
        self.n_g = int(np.prod(op.model_shape))
        self.n_b = int(np.prod(self.b_shape)) if baseline else 0
        self.ridge_b = ridge_b
        wd = data if weights is None else weights * data
        rhs_g = op.rmatvec(wd).ravel()
        if baseline:
            rhs_b = xp.sum(wd, axis=self.inv_axes, keepdims=True).ravel()
            self.rhs = xp.concatenate([rhs_g, rhs_b])
        else:
            self.rhs = rhs_g
        # diagonal of K^T W K
        if weights is None:
            self.data_diag = op.gram_diagonal()
        else:
            sq = KroneckerOperator(
                [None if m is None else m * m for m in op.mats], op.model_shape, backend
            )
            self.data_diag = sq.rmatvec(weights)
        # size of K^T W e for unit noise e: sqrt(trace(K^T W K)); solves whose residual is a
        # small fraction of it are exact to well within the statistical uncertainty
        self.noise_scale = math.sqrt(float(xp.sum(self.data_diag)))
        if baseline:
            w = xp.ones(op.data_shape) if weights is None else weights
            self.b_diag = xp.sum(w, axis=self.inv_axes, keepdims=True).ravel() + ridge_b

    def split(self, x: Any) -> tuple[Any, Any | None]:
        g = x[: self.n_g].reshape(self.op.model_shape)
        b = x[self.n_g :].reshape(self.b_shape) if self.baseline else None
        return g, b

    def residual_rms(self, g: Any, b: Any | None) -> float:
        """RMS of the (noise-weighted) residual of the current iterate."""
        r = self.data - self.forward(g, b)
        if self.weights is not None:
            r = r * self.xp.sqrt(self.weights)
        return float(self.xp.sqrt(self.xp.mean(r * r)))

    def forward(self, g: Any, b: Any | None) -> Any:
        f = self.op.matvec(g)
        return f if b is None else f + b

    def matvec(self, penalty: Penalty, single: bool = False) -> Callable[[Any], Any]:
        """``x -> (K^T W K + R) x``; ``single``: the memory-bound ``R x`` in float32 (its
        rounding error, ~1e-7 ||R|| ||x||, is far below the CG tolerance)."""
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
            if self.weights is None and not self.baseline:
                return self.op.gram_matvec(g).ravel() + rmv(x)
            r = self.forward(g, b)
            if self.weights is not None:
                r = self.weights * r
            out_g = self.op.rmatvec(r).ravel() + rmv(x[: self.n_g])
            if not self.baseline:
                return out_g
            out_b = xp.sum(r, axis=self.inv_axes, keepdims=True).ravel() + self.ridge_b * b.ravel()
            return xp.concatenate([out_g, out_b])

        return mv

    def preconditioner(
        self, penalty: Penalty, kind: str, drop: float, coarse: int = 0
    ) -> Callable[[Any], Any]:
        pdiag = penalty.diag()
        if self.weights is None and not self.baseline:
            return make_preconditioner(kind, self.op, self.data_diag, pdiag, self.backend, drop,
                                       penalty, coarse)
        d = (self.data_diag + pdiag).ravel()
        if self.baseline:
            d = self.xp.concatenate([d, self.b_diag])
        inv = 1.0 / d
        return lambda r: inv * r

    def dense_matrix(self, penalty: Penalty) -> np.ndarray:
        """The full normal matrix on the host (small problems only)."""
        k = self.op.dense()
        to_host = self.backend.to_host
        if self.baseline:
            cols = np.zeros((k.shape[0], self.n_b))
            idx = np.arange(k.shape[0]).reshape(self.op.data_shape)
            bidx = np.arange(self.n_b).reshape(self.b_shape)
            bidx = np.broadcast_to(bidx, self.op.data_shape)
            cols[idx.ravel(), bidx.ravel()] = 1.0
            k = np.hstack([k, cols])
        w = None if self.weights is None else to_host(self.weights).ravel()
        a = k.T @ k if w is None else k.T @ (w[:, None] * k)
        r = penalty.matrix().toarray()
        self.data_normal = a.copy()  # K^T W K (for the effective degrees of freedom)
        a[: self.n_g, : self.n_g] += r
        if self.baseline:
            a[self.n_g :, self.n_g :] += self.ridge_b * np.eye(self.n_b)
        return a


def _dense_solve(a: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    try:
        c = scipy.linalg.cho_factor(a, check_finite=False)
        return scipy.linalg.cho_solve(c, rhs, check_finite=False)
    except np.linalg.LinAlgError:
        return scipy.linalg.lstsq(a, rhs, check_finite=False)[0]


# --- public entry point -------------------------------------------------------------------


def invert(
    data: Any,
    t: Any,
    tau: Any = None,
    kernels: Any = "exponential",
    *,
    progress: bool = True,
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
        Show a progress line with ETA on stderr (default True).
    **options
        Regularization and solver options; see ``docs/solver.md`` and
        :data:`DEFAULTS`.  Main ones: ``alpha_00`` (global regularization scale, 1),
        ``alpha_c`` (curvature weight, 1), ``alpha_0`` (flat-region weight, 1e-4),
        ``alpha_zc`` (zero-crossing penalty, 1), ``alpha_bc`` (edges, 50), ``nonneg`` (False),
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
    for d, (tv, kern) in enumerate(zip(tau_in, k_list)):
        if tv is None:
            tv = t_list[d] if kern.is_identity else tau_grid(t_list[d], kern)
        tv = _check_vector(tv, f"tau[{d}]")
        if kern.is_identity and tv.size != data_h.shape[d]:
            raise InversionInputError(
                f"tau[{d}] (identity dimension) has {tv.size} labels but data has "
                f"{data_h.shape[d]} points along dimension {d}"
            )
        check_tau(kern, tv, d)
        tau_list.append(tv)
    opt = _resolve_options(options, ndim, [k.is_identity for k in k_list])
    with blas_threads(opt["blas_threads"]):
        return _run(data_h, t_list, tau_list, k_list, opt, progress, t_start)


def _run(
    data_h: np.ndarray,
    t_list: list[np.ndarray],
    tau_list: list[np.ndarray],
    k_list: list[Kernel],
    opt: dict[str, Any],
    progress: bool,
    t_start: float,
) -> Inversion:
    """The inversion proper, on validated inputs."""
    backend = get_backend(opt["backend"])
    xp = backend.xp

    sigma = opt["sigma"]
    weights_h = None
    if sigma is not None:
        sig = np.asarray(sigma, dtype=float)
        try:
            sig = np.broadcast_to(sig, data_h.shape)
        except ValueError:
            raise InversionInputError(
                f"sigma has shape {sig.shape}, which does not match data shape {data_h.shape}"
            ) from None
        if not np.all(np.isfinite(sig)) or np.any(sig <= 0):
            raise InversionInputError("sigma must be finite and > 0 everywhere")
        weights_h = 1.0 / sig**2

    inverted = tuple(not k.is_identity for k in k_list)
    mats = [k.matrix(tv, tu) if not k.is_identity else None
            for k, tv, tu in zip(k_list, t_list, tau_list)]
    model_shape = tuple(len(tu) for tu in tau_list)
    op = KroneckerOperator(mats, model_shape, backend)
    data_b = backend.asarray(data_h)
    weights_b = None if weights_h is None else backend.asarray(weights_h)
    ridge_b = 1e-8
    prob = _Problem(op, data_b, weights_b, opt["baseline"], inverted, ridge_b, backend)

    settings = RegularizationSettings(
        alpha_00=opt["alpha_00"], alpha_0=opt["alpha_0"], alpha_p=opt["alpha_p"],
        alpha_c=opt["alpha_c"], alpha_cross=opt["alpha_cross"], alpha_zc=opt["alpha_zc"],
        alpha_cross_identity=opt["alpha_cross_identity"],
        alpha_bc=opt["alpha_bc"], alpha_nn=opt["alpha_nn"], nonneg=opt["nonneg"],
        neighbourhood=opt["neighbourhood"], axis_weights=tuple(opt["axis_weights"]),
        inverted=inverted, ridge=opt["ridge"],
    )
    n_unknowns = prob.n_g + prob.n_b
    path = opt["solver"]
    simple = weights_b is None and not opt["baseline"]
    if path == "auto":
        flops, nbytes = banded_cost(model_shape, inverted)
        if n_unknowns <= opt["dense_max"]:
            path = "dense"
        elif simple and flops <= opt["banded_max_flops"] and nbytes <= 1e9:
            path = "banded"
        else:
            path = "cg"
    if path == "banded" and not simple:
        raise InversionInputError(
            "solver='banded' does not support sigma or baseline; use solver='cg' or 'auto'"
        )

    if opt["g0"] is not None:
        g0 = np.asarray(opt["g0"], dtype=float)
        if g0.shape != model_shape:
            raise InversionInputError(f"g0 has shape {g0.shape}, expected {model_shape}")
        g = backend.asarray(g0)
    else:
        g = xp.zeros(model_shape)
    x_hat = xp.zeros(n_unknowns)
    x_hat[: prob.n_g] = g.ravel()
    b = xp.zeros(prob.b_shape) if opt["baseline"] else None

    history: list[float] = []
    cg_iters: list[int] = []
    prev_penalty: Penalty | None = None
    pre = None
    single = opt["penalty_float32"]
    if single == "auto":
        single = prob.n_g >= 200_000
    a00 = opt["alpha_00"]
    a00_history: list[float] = []
    target = 1.0 if opt["target_resid"] == "auto" else opt["target_resid"]
    if path == "cg" and not opt["discrepancy_cg"]:
        # with the noise-scaled CG tolerance, lowering alpha_00 moves the fit by less than
        # the noise there: the adaptation then only adds iterations (measured: 12 -> 53 on
        # 32x32x200 at the same map), so iterative solves leave it off by default
        target = 0.0
    converged = False
    message = f"stopped after max_iter={opt['max_iter']} iterations"
    it = 0
    with Progress(opt["max_iter"], desc="ILT", enabled=progress) as bar:
        for it in range(1, opt["max_iter"] + 1):
            # first iteration from g = 0: plain curvature smoothing with the weight a
            # feature would get (1/alpha_c) instead of the flat-region weight 1/alpha_0
            start = it == 1 and opt["g0"] is None
            first_w = 1.0 / (opt["alpha_0"] + opt["alpha_c"])
            if a00 != settings.alpha_00:
                settings = dataclasses.replace(settings, alpha_00=a00)
            penalty = build_penalty(g, settings, backend, uniform=first_w if start else None)
            if prev_penalty is not None and opt["weight_damping"] < 1:
                penalty = blend_penalties(prev_penalty, penalty, opt["weight_damping"], xp)
            prev_penalty = penalty
            if path == "dense":
                a = prob.dense_matrix(penalty)
                x_hat = backend.asarray(_dense_solve(a, backend.to_host(prob.rhs)))
                cg_iters.append(0)
                if opt["target_resid"] == "auto":
                    # effective number of parameters: trace of the hat matrix
                    dof = float(np.trace(_dense_solve(a, prob.data_normal)))
                    target = math.sqrt(max(0.5, 1.0 - dof / data_h.size))
            elif path == "banded":
                x_hat = backend.asarray(banded_solve(
                    op, penalty.matrix(), backend.to_host(prob.rhs), inverted))
                cg_iters.append(0)
            else:
                # the preconditioner only needs to be close to the operator: after the first
                # iterations the weights change slowly and it is rebuilt every few iterations
                every = opt["precond_every"]
                # near convergence (last solve took <= 3 CG steps) the operator barely
                # changes between iterations: keep the preconditioner
                settled = bool(cg_iters) and cg_iters[-1] <= 3
                if pre is None or (not settled and (it <= 3 or every <= 1
                                                    or (it - 1) % every == 0)):
                    pre = prob.preconditioner(penalty, opt["preconditioner"],
                                              opt["precond_drop"], opt["precond_coarse"])
                mv = prob.matvec(penalty, single)
                x_hat, n_cg, _ = pcg(xp, mv, prob.rhs, x_hat, pre, opt["cg_tol"],
                                     opt["cg_max_iter"], opt["cg_forcing"],
                                     opt["cg_noise_tol"] * prob.noise_scale)
                cg_iters.append(n_cg)
            g_hat, b_hat = prob.split(x_hat)
            # fixed-point residual: how far the solve moved away from the current g
            norm = float(xp.linalg.norm(g_hat))
            change = float(xp.linalg.norm(g_hat - g)) / norm if norm > 0 else 0.0
            step = 1.0 if it == 1 and opt["g0"] is None else opt["damping"]
            g = g + step * (g_hat - g)
            if b_hat is not None:
                b = b + step * (b_hat - b)
            history.append(change)
            if target > 0 and it >= 2 and change < opt["discrepancy_start"]:
                # discrepancy principle: the data arrive at unit noise, so a residual RMS
                # above the target means the fit is over-regularized; lower alpha_00 (by
                # at most 2x per iteration, never below alpha_00 * discrepancy_range), and
                # let it recover up to the user's alpha_00 once the residual falls below
                chi = prob.residual_rms(g, b)
                ds = opt["discrepancy_step"]
                step_a = min(ds, max(1 / ds, (chi / target) ** 2))
                new = min(opt["alpha_00"], max(opt["alpha_00"] * opt["discrepancy_range"],
                                               a00 / step_a))
                if abs(new / a00 - 1) > 0.01:  # alpha_00 still moving: not converged
                    change = max(change, 1.5 * opt["tol"])
                    history[-1] = change
                a00 = new
                a00_history.append(a00)
            bar.update(1, info=f"change {change:.2e}")
            if it > 1 and change < opt["tol"]:
                converged = True
                message = f"converged: relative change {change:.2e} < tol={opt['tol']:g}"
                break
        bar.close(info=message)

    fit = prob.forward(g, b)
    fit_h = backend.to_host(fit)
    g_h = backend.to_host(g)
    residuals = data_h - fit_h
    stored = dict(opt)
    stored["sigma"] = None if sigma is None else "array"
    stored["g0"] = None if opt["g0"] is None else "array"
    stored["backend"] = backend.name
    stats = {
        "solver_path": path,
        "cg_iterations": cg_iters,
        "n_unknowns": n_unknowns,
        "residual_std": float(np.std(residuals)),
        "alpha_00_used": a00,
    }
    log.info("inversion %s after %d iterations (%s)", "converged" if converged else "stopped",
             it, path)
    return Inversion(
        g=g_h,
        fit=fit_h,
        residuals=residuals,
        data=data_h,
        t=tuple(t_list),
        tau=tuple(tau_list),
        kernels=tuple(k.name for k in k_list),
        iterations=it,
        converged=converged,
        message=message,
        convergence=np.asarray(history),
        baseline=None if b is None else backend.to_host(b),
        options=stored,
        elapsed_s=time.perf_counter() - t_start,
        stats=stats,
    )
