"""What the figures show, as numbers (numpy only): panels, one colour/contour scale,
sampled tau ranges, and the caption text that ``report.txt`` carries.

Kept apart from the drawing (:mod:`nmrilt.output.plotting`) so the report states the
figure's contour levels without importing matplotlib.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..model import Result
from .components import ppm_segments, true_runs

__all__ = [
    "CONTOUR_FRACTIONS",
    "Panel",
    "figure_caption",
    "layout_of",
    "panels",
    "sampled_range",
    "vmax_of",
]

#: Contour levels, as fractions of the largest |value| of *all* panels of a figure
#: (negative contours, dashed, at the same fractions below zero).
CONTOUR_FRACTIONS = (0.1, 0.3, 0.5, 0.7, 0.9)

#: (title, z) of one map panel; z has the figure's axes (see :func:`panels`).
Panel = tuple[str, np.ndarray]


def layout_of(result: Result) -> str:
    """``"1d"``, ``"map"`` (two inverted dimensions), ``"pseudo2d"`` (one inverted and an
    identity axis) or ``"slices"`` (two inverted and an identity axis)."""
    n_inv = sum(d.inverted for d in result.dims)
    identity = n_inv < len(result.dims)
    if n_inv == 2:
        return "slices" if identity else "map"
    return "pseudo2d" if (n_inv == 1 and identity) else "1d"


def sampled_range(result: Result, axis: int) -> tuple[float, float] | None:
    """The tau range the sampling of inverted dimension ``axis`` constrains:
    ``[min t, max t]`` (``[1/max b, 1/min b]`` for reciprocal kernels such as diffusion);
    None for identity axes or without positive sampling values."""
    d = result.dims[axis]
    if not d.inverted:
        return None
    t = np.asarray(result.t[axis], float)
    pos = t[t > 0]
    if pos.size == 0:
        return None
    lo, hi = float(pos.min()), float(pos.max())
    from ..solver.kernels import resolve_kernel

    try:
        reciprocal = resolve_kernel(d.kernel).reciprocal
    except Exception:  # noqa: BLE001 - an unknown kernel name: treat tau like t
        reciprocal = False
    return (1.0 / hi, 1.0 / lo) if reciprocal else (lo, hi)


def _slices(result: Result, axis: int, max_panels: int = 12) -> list[Panel]:
    """(title, summed g) per panel along an identity axis, high ppm first."""
    g = np.moveaxis(result.g, axis, -1)
    dim, tau = result.dims[axis], result.tau[axis]
    energy = np.sum(np.abs(g), axis=tuple(range(g.ndim - 1)))
    if dim.unit == "ppm":
        # one panel per region of the (gapped) ppm axis, split further where it is empty
        found = []
        for s0, s1 in ppm_segments(tau):
            keep = np.zeros(tau.size, bool)
            keep[s0:s1] = energy[s0:s1] > 0.05 * float(energy.max() or 1.0)
            for a, b in true_runs(keep):
                hi, lo = max(tau[a], tau[b - 1]), min(tau[a], tau[b - 1])
                title = f"δ {hi:.2f}–{lo:.2f} ppm" if b - a > 1 else f"δ {lo:.2f} ppm"
                found.append((hi, title, g[..., a:b].sum(axis=-1)))
        found.sort(key=lambda p: -float(np.sum(np.abs(p[2]))))
        found = sorted(found[:max_panels], key=lambda p: -p[0])
        return [(title, z) for _, title, z in found]
    idx = np.unique(np.linspace(0, tau.size - 1, min(tau.size, max_panels)).round().astype(int))
    label = f"{dim.name} {{:.4g}} {dim.unit}".strip().replace("$", r"\$")
    return [(label.format(tau[i]), g[..., i]) for i in idx]


def panels(result: Result) -> list[Panel]:
    """The arrays the figure draws in colour: for ``map`` ``g`` (first inverted dimension
    first), for ``pseudo2d`` ``g`` summed over any further axes as (tau, identity), for
    ``slices`` one summed map per signal region or slice, for ``1d`` the distribution."""
    g = np.asarray(result.g, float)
    kind = layout_of(result)
    inv = [i for i, d in enumerate(result.dims) if d.inverted]
    idn = [i for i, d in enumerate(result.dims) if not d.inverted]
    if kind == "slices":
        return _slices(result, idn[0])
    if kind == "map":
        return [("", g)]
    if kind == "pseudo2d":
        ti, xi = inv[0], idn[0]
        z = np.moveaxis(g, [ti, xi], [0, 1]).reshape(g.shape[ti], g.shape[xi], -1).sum(-1)
        return [("", z)]
    i = inv[0] if inv else 0
    return [("", np.moveaxis(g, i, 0).reshape(g.shape[i], -1).sum(-1))]


def vmax_of(shown: list[Panel]) -> float:
    """The largest |value| over all panels: the one colour and contour scale."""
    return max((float(np.max(np.abs(z))) for _, z in shown if z.size), default=0.0) or 1.0


def _fmt_range(lo: float, hi: float, unit: str) -> str:
    return f"{lo:.3g}–{hi:.3g} {unit}".strip()


def figure_caption(result: Result) -> str:
    """Caption text for the figure: colour scale, contour levels, shaded tau ranges."""
    kind = layout_of(result)
    shown = panels(result)
    vmax = vmax_of(shown)
    name = Path(str(result.source)).name or str(result.source)
    lines = []
    if kind == "1d":
        lines.append(f"Distribution of {name} (signed; amplitude in unit-noise data units).")
    else:
        pct = ", ".join(f"{100 * f:g}" for f in CONTOUR_FRACTIONS)
        what = {"map": "map", "pseudo2d": "map (summed over further axes)",
                "slices": f"{len(shown)} panels (each summed over its signal region or slice)"}
        lines.append(
            f"Colour: one scale for all panels, ±{vmax:.4g} (unit-noise data units; the "
            f"{what[kind]}).  Contours at {pct} % of {vmax:.4g}, the largest |amplitude| "
            "of all panels; dashed: the same levels below zero.")
    shaded = []
    for i, d in enumerate(result.dims):
        rng = sampled_range(result, i)
        if rng is not None:
            shaded.append(f"{d.name} {_fmt_range(*rng, d.unit)}")
    if shaded:
        lines.append("Grey bands: tau outside the sampled range (" + "; ".join(shaded)
                     + "), where the data constrain the distribution little (edge artefacts).")
    if kind == "pseudo2d" and any(d.name == "region" for d in result.dims):
        lines.append("Summed regions are categorical columns (no contours drawn across "
                     "them).")
    if kind == "pseudo2d":
        lines.append("Top: the strongest increment's spectrum at the inverted points; right: "
                     "the projection onto the tau axis.")
    lines.append("Residuals in units of the noise sigma (|r| < 2 shaded where drawn as points).")
    return " ".join(lines)
