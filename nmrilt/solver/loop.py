"""The outer iteration of :func:`nmrilt.invert`, one step per function.

Each outer iteration ``i``

1. builds the adaptive regularization ``R(g_{i-1})`` (:mod:`nmrilt.solver.regularization`);
2. solves the regularized normal equations (:mod:`nmrilt.solver.normal_equations`) by dense
   Cholesky for small problems, a banded Cholesky when the bandwidth allows, otherwise by
   preconditioned conjugate gradients warm-started from the previous solution;
3. takes a damped step ``g_i = g_{i-1} + beta (g_hat - g_{i-1})``;
4. near convergence, lowers ``alpha_00`` while the residual RMS of the unit-noise data
   exceeds the target (discrepancy principle);
5. stops when ``||g_i - g_{i-1}|| / ||g_i|| < tol``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InversionInputError
from ..progress import Progress
from .backend import Backend, get_backend
from .banded import banded_cost, banded_solve
from .inversion import Inversion
from .kernels import Kernel
from .normal_equations import RIDGE_BASELINE, NormalEquations, dense_solve, pcg
from .operators import BaselineOperator, KroneckerOperator
from .options import Options
from .regularization import Penalty, RegularizationSettings, blend_penalties, build_penalty

log = logging.getLogger(__name__)

#: Banded path only while its factor fits in this many bytes.
BANDED_MAX_BYTES = 1e9
#: A CG solve of at most this many steps means the operator barely changes: keep the
#: preconditioner.
SETTLED_CG_STEPS = 3
#: The fit-change stop (``fit_tol``) applies from this iteration on: the first steps from
#: ``g = 0`` can fit the data at once while the weights are still far from settled.
FIT_STOP_MIN_ITERATIONS = 5
#: The preconditioner is rebuilt at every one of the first iterations.
PRECOND_WARMUP_ITERATIONS = 3


@dataclass
class _State:
    """What the outer iteration carries from one step to the next."""

    g: Any
    b: Any | None
    x_hat: Any
    a00: float
    target: float
    prev_penalty: Penalty | None = None
    pre: Callable[[Any], Any] | None = None
    history: list[float] = field(default_factory=list)
    cg_iters: list[int] = field(default_factory=list)
    fit_changes: list[float] = field(default_factory=list)


def noise_weights(sigma: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    """``1/sigma^2`` broadcast to the data ``shape`` (None without ``sigma``)."""
    if sigma is None:
        return None
    sig = np.asarray(sigma, dtype=float)
    try:
        sig = np.broadcast_to(sig, shape)
    except ValueError:
        raise InversionInputError(
            f"sigma has shape {sig.shape}, which does not match data shape {shape}"
        ) from None
    if not np.all(np.isfinite(sig)) or np.any(sig <= 0):
        raise InversionInputError("sigma must be finite and > 0 everywhere")
    return 1.0 / sig**2


def choose_path(opt: Options, neq: NormalEquations, inverted: tuple[bool, ...]) -> str:
    """The linear solver: ``opt.expert.solver``, or for ``"auto"`` dense when small, banded
    when its cost allows, else CG.  Weights and the offset never change the choice: every
    path solves the same normal equations."""
    path = opt.expert.solver
    if path == "auto":
        n_data_inv = int(np.prod([n for n, inv in zip(neq.op.data_shape, inverted) if inv]))
        flops, nbytes = banded_cost(neq.op.model_shape, inverted, neq.baseline is not None,
                                    neq.weights is not None, n_data_inv)
        if neq.n_unknowns <= opt.expert.dense_max:
            path = "dense"
        elif flops <= opt.expert.banded_max_flops and nbytes <= BANDED_MAX_BYTES:
            path = "banded"
        else:
            path = "cg"
    return path


def initial_state(opt: Options, neq: NormalEquations, path: str, backend: Backend) -> _State:
    """Starting ``g`` (``g0`` or zeros), zero baseline and the discrepancy target."""
    xp = backend.xp
    model_shape = neq.op.model_shape
    if opt.expert.g0 is not None:
        g0 = np.asarray(opt.expert.g0, dtype=float)
        if g0.shape != model_shape:
            raise InversionInputError(f"g0 has shape {g0.shape}, expected {model_shape}")
        g = backend.asarray(g0)
    else:
        g = xp.zeros(model_shape)
    x_hat = xp.zeros(neq.n_unknowns)
    x_hat[: neq.n_g] = g.ravel()
    b = None if neq.baseline is None else xp.zeros(neq.baseline.model_shape)
    target_resid = opt.expert.target_resid
    target = 1.0 if target_resid == "auto" else target_resid
    if opt.alpha_choice == "fixed":
        target = 0.0
    return _State(g=g, b=b, x_hat=x_hat, a00=opt.alpha_00, target=target)


def make_penalty(
    state: _State, it: int, opt: Options, settings: RegularizationSettings, backend: Backend
) -> Penalty:
    """``R(g)`` of this iteration, blended with the previous one when ``weight_damping < 1``."""
    # first iteration from g = 0: plain curvature smoothing with the weight a feature would
    # get (1/alpha_c) instead of the flat-region weight 1/alpha_0
    start = it == 1 and opt.expert.g0 is None
    first_w = 1.0 / (opt.alpha_0 + opt.alpha_c)
    settings = dataclasses.replace(settings, alpha_00=state.a00)
    penalty = build_penalty(state.g, settings, backend, uniform=first_w if start else None)
    if state.prev_penalty is not None and opt.expert.weight_damping < 1:
        penalty = blend_penalties(state.prev_penalty, penalty, opt.expert.weight_damping,
                                  backend.xp)
    state.prev_penalty = penalty
    return penalty


def solve(
    state: _State, it: int, path: str, penalty: Penalty, neq: NormalEquations, opt: Options,
    single: bool, inverted: tuple[bool, ...],
) -> None:
    """Solve the normal equations for ``x_hat`` by ``path``; record the CG steps."""
    backend = neq.backend
    ex = opt.expert
    if path == "dense":
        a, data_normal = neq.dense_matrices(penalty)
        state.x_hat = backend.asarray(dense_solve(a, backend.to_host(neq.rhs)))
        state.cg_iters.append(0)
        if ex.target_resid == "auto":
            # effective number of parameters: trace of the hat matrix
            dof = float(np.trace(dense_solve(a, data_normal)))
            state.target = math.sqrt(max(0.5, 1.0 - dof / neq.data.size))
    elif path == "banded":
        weights = None if neq.weights is None else backend.to_host(neq.weights)
        state.x_hat = backend.asarray(banded_solve(
            neq.op, penalty.matrix(), backend.to_host(neq.rhs), inverted, weights,
            neq.baseline is not None, RIDGE_BASELINE))
        state.cg_iters.append(0)
    else:
        # the preconditioner only needs to be close to the operator: after the first
        # iterations the weights change slowly and it is rebuilt every few iterations;
        # near convergence (few CG steps) the operator barely changes: keep it
        every = ex.precond_every
        settled = bool(state.cg_iters) and state.cg_iters[-1] <= SETTLED_CG_STEPS
        due = it <= PRECOND_WARMUP_ITERATIONS or every <= 1 or (it - 1) % every == 0
        if state.pre is None or (not settled and due):
            state.pre = neq.preconditioner(penalty, ex.preconditioner, ex.precond_drop,
                                           ex.precond_coarse)
        mv = neq.matvec(penalty, single)
        state.x_hat, n_cg, _ = pcg(backend.xp, mv, neq.rhs, state.x_hat, state.pre, ex.cg_tol,
                                   ex.cg_max_iter, ex.cg_forcing,
                                   ex.cg_noise_tol * neq.noise_scale)
        state.cg_iters.append(n_cg)


def take_step(state: _State, it: int, opt: Options, neq: NormalEquations) -> float:
    """Damped step towards the solve's ``x_hat``; returns the relative change."""
    g_hat, b_hat = neq.split(state.x_hat)
    # fixed-point residual: how far the solve moved away from the current g
    norm = float(neq.xp.linalg.norm(g_hat))
    change = float(neq.xp.linalg.norm(g_hat - state.g)) / norm if norm > 0 else 0.0
    step = 1.0 if it == 1 and opt.expert.g0 is None else opt.expert.damping
    dfit = neq.op.matvec(g_hat - state.g)
    state.fit_changes.append(float(neq.xp.sqrt(neq.xp.mean(neq.weigh(dfit) * dfit))))
    state.g = state.g + step * (g_hat - state.g)
    if b_hat is not None:
        state.b = state.b + step * (b_hat - state.b)
    state.history.append(change)
    return change


def adapt_alpha(state: _State, it: int, change: float, opt: Options,
                neq: NormalEquations) -> float:
    """Discrepancy principle: lower ``alpha_00`` while the residual exceeds the target.

    The data arrive at unit noise, so a residual RMS above the target means the fit is
    over-regularized; ``alpha_00`` drops by at most ``discrepancy_step`` per iteration, never
    below ``alpha_00 * discrepancy_range``, and recovers up to the user's ``alpha_00`` once
    the residual falls below.  Returns the change, raised above ``tol`` while ``alpha_00``
    still moves.
    """
    ex = opt.expert
    settled = change < ex.discrepancy_start or (
        ex.fit_tol > 0 and state.fit_changes[-1] < 3 * ex.fit_tol)
    if not (state.target > 0 and it >= 2 and settled):
        return change
    chi = neq.residual_rms(state.g, state.b)
    ds = ex.discrepancy_step
    # the residual RMS of n unit-noise values scatters by 1/sqrt(2n): inside that band
    # (times discrepancy_band) the data cannot tell whether alpha_00 is too large
    band = ex.discrepancy_band / math.sqrt(2.0 * neq.data.size)
    if chi > state.target + band:
        aim = state.target + band
    elif chi < state.target - band:
        aim = state.target - band
    else:
        aim = chi
    step_a = min(ds, max(1 / ds, (chi / aim) ** ex.discrepancy_power))
    new = min(opt.alpha_00, max(opt.alpha_00 * ex.discrepancy_range, state.a00 / step_a))
    if abs(new / state.a00 - 1) > 0.01:  # alpha_00 still moving: not converged
        change = max(change, 1.5 * opt.tol)
        state.history[-1] = change
        state.fit_changes[-1] = max(state.fit_changes[-1], 1.5 * ex.fit_tol)
    state.a00 = new
    return change


def run(
    data_h: np.ndarray,
    t_list: list[np.ndarray],
    tau_list: list[np.ndarray],
    k_list: list[Kernel],
    opt: Options,
    progress: bool,
    t_start: float,
) -> Inversion:
    """The inversion proper, on validated inputs."""
    backend = get_backend(opt.expert.backend)
    weights_h = noise_weights(opt.sigma, data_h.shape)
    inverted = tuple(not k.is_identity for k in k_list)
    mats = [None if k.is_identity else k.matrix(tv, tu)
            for k, tv, tu in zip(k_list, t_list, tau_list)]
    op = KroneckerOperator(mats, tuple(len(tu) for tu in tau_list), backend)
    baseline = BaselineOperator(op.data_shape, inverted, backend) if opt.baseline else None
    neq = NormalEquations(op, backend.asarray(data_h),
                          None if weights_h is None else backend.asarray(weights_h),
                          baseline, backend)
    ex = opt.expert
    settings = RegularizationSettings(
        alpha_00=opt.alpha_00, alpha_0=opt.alpha_0, alpha_p=ex.alpha_p, alpha_c=opt.alpha_c,
        alpha_amp=ex.alpha_amp,
        alpha_cross=ex.alpha_cross, alpha_zc=opt.alpha_zc,
        alpha_cross_identity=ex.alpha_cross_identity, alpha_bc=opt.alpha_bc,
        alpha_nn=ex.alpha_nn, nonneg=opt.nonneg, neighbourhood=ex.neighbourhood,
        axis_weights=tuple(ex.axis_weights), inverted=inverted, ridge=ex.ridge,
    )
    path = choose_path(opt, neq, inverted)
    state = initial_state(opt, neq, path, backend)
    single = neq.n_g >= 200_000 if ex.penalty_float32 == "auto" else ex.penalty_float32
    converged = False
    message = f"stopped after max_iter={opt.max_iter} iterations"
    it = 0
    with Progress(opt.max_iter, desc="ILT", enabled=progress) as bar:
        for it in range(1, opt.max_iter + 1):
            penalty = make_penalty(state, it, opt, settings, backend)
            solve(state, it, path, penalty, neq, opt, single, inverted)
            change = take_step(state, it, opt, neq)
            change = adapt_alpha(state, it, change, opt, neq)
            bar.update(1, info=f"change {change:.2e}")
            fit_change = state.fit_changes[-1]
            if it > 1 and change < opt.tol:
                converged = True
                message = f"converged: relative change {change:.2e} < tol={opt.tol:g}"
                break
            if it >= FIT_STOP_MIN_ITERATIONS and fit_change < opt.expert.fit_tol:
                converged = True
                message = (f"converged: fit change {fit_change:.2e} noise RMS < "
                           f"fit_tol={opt.expert.fit_tol:g}")
                break
        bar.close(info=message)
    log.info("inversion %s after %d iterations (%s)", "converged" if converged else "stopped",
             it, path)
    return _inversion(state, neq, data_h, t_list, tau_list, k_list, opt, path,
                      it, converged, message, t_start)


def _inversion(
    state: _State, neq: NormalEquations, data_h: np.ndarray, t_list: list[np.ndarray],
    tau_list: list[np.ndarray], k_list: list[Kernel], opt: Options, path: str,
    it: int, converged: bool, message: str, t_start: float,
) -> Inversion:
    """Package the final iterate as an :class:`Inversion` on the host."""
    to_host = neq.backend.to_host
    fit_h = to_host(neq.forward(state.g, state.b))
    residuals = data_h - fit_h
    stored = opt.as_dict()
    stored["backend"] = neq.backend.name
    stats = {
        "solver_path": path,
        "cg_iterations": state.cg_iters,
        "n_unknowns": neq.n_unknowns,
        "residual_std": float(np.std(residuals)),
        "alpha_choice": opt.alpha_choice,
        "fit_changes": state.fit_changes,
        "alpha_00_used": state.a00,
        "residual_rms": neq.residual_rms(state.g, state.b),
    }
    return Inversion(
        g=to_host(state.g),
        fit=fit_h,
        residuals=residuals,
        data=data_h,
        t=tuple(t_list),
        tau=tuple(tau_list),
        kernels=tuple(k.name for k in k_list),
        iterations=it,
        converged=converged,
        message=message,
        convergence=np.asarray(state.history),
        baseline=None if state.b is None else to_host(state.b),
        options=stored,
        elapsed_s=time.perf_counter() - t_start,
        stats=stats,
    )
