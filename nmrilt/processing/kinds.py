"""Experiment kind and axis roles -> kernels, reference increment and tau grids."""

from __future__ import annotations

import numpy as np

from ..config import ProcessingSettings
from ..errors import ProcessingError
from ..readers import Experiment
from ..solver.grids import default_density, tau_grid

#: Display names of the inverted quantity per kernel, with the unit of tau.
KERNEL_LABELS = {
    "inversion_recovery": ("T1", "s"),
    "saturation_recovery": ("T1", "s"),
    "exponential": ("T2", "s"),
    "diffusion": ("D", "m^2/s"),
}
_RECOVERY = ("inversion_recovery", "saturation_recovery")


def kernel_for_axis(axis_role: str, kind: str, name: str) -> str:
    if axis_role in ("temperature", "index"):
        return "identity"
    if axis_role == "echo":
        return "exponential"
    if axis_role == "b_value":
        return "diffusion"
    if axis_role == "delay":
        if kind in ("t1_ir", "t1_t2"):
            return "inversion_recovery"
        if kind == "t1_sr":
            return "saturation_recovery"
        if kind in ("t2_cpmg", "t2_t2", "d_t2"):
            return "exponential"
        raise ProcessingError(
            f"axis {name!r} holds delays but the experiment kind is {kind!r}: set kind = "
            f'"t1_ir" (or "t1_sr", "t2_cpmg") in nmrilt.toml, or pass --kind / kind='
        )
    if axis_role == "gradient":
        raise ProcessingError(
            f"axis {name!r} holds gradient strengths, not b-values: the reader could not "
            "compute b (needs delta/DELTA); give the b-values or a recipe to the reader"
        )
    raise ProcessingError(f"axis {name!r} has role {axis_role!r}, which cannot be inverted")


def choose_kernels(exp: Experiment, indirect: tuple, requested: list[str]) -> list[str]:
    if requested:
        if len(requested) != len(indirect):
            raise ProcessingError(
                f"processing.kernels gives {len(requested)} kernels but {exp.source} has "
                f"{len(indirect)} indirect dimensions ({[a.name for a in indirect]})"
            )
        return list(requested)
    return [kernel_for_axis(ax.role, exp.kind, ax.name) for ax in indirect]


def reference_index(indirect: tuple, kernels: list[str], strongest: tuple) -> tuple:
    """Increment whose signal must be positive (see the module docstring)."""
    idx = []
    for ax, k, s in zip(indirect, kernels, strongest):
        t = np.asarray(ax.values, float)
        if k in _RECOVERY:
            idx.append(int(np.argmax(t)))
        elif k in ("exponential", "diffusion"):
            idx.append(int(np.argmin(t)))
        else:
            idx.append(int(s))
    return tuple(idx)


def tau_grid_for(
    t: np.ndarray, kernel: str, s: ProcessingSettings, n_inverted: int = 1
) -> tuple[np.ndarray, dict]:
    """The tau grid of one dimension (``points_per_decade = "auto"``: the solver's default
    density for ``n_inverted`` inverted dimensions) and its description for the report."""
    ppd = s.points_per_decade
    ppd = default_density(n_inverted) if ppd == "auto" else float(ppd)
    ext, cap = float(s.extend_decades), s.max_tau_points
    tau = tau_grid(t, kernel, points_per_decade=ppd, extend_decades=ext)
    if kernel != "identity" and tau.size > cap:
        ppd = ppd * (cap - 1) / (tau.size - 1)
        tau = tau_grid(t, kernel, points_per_decade=ppd, extend_decades=ext)
    info = {"min": float(tau.min()), "max": float(tau.max()), "points": int(tau.size)}
    if kernel != "identity":
        info.update(points_per_decade=round(ppd, 3), extend_decades=ext)
    return tau, info
