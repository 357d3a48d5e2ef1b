"""Axis helpers of the figures: labels with units, tau limits with the unsampled part
shaded, tick locators that keep narrow panels legible (matplotlib imported lazily)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..model import Dimension, Result
from .plot_data import sampled_range

MM_PER_INCH = 25.4
_SUBSCRIPT = {"T1": "$T_1$", "T2": "$T_2$", "D": "$D$"}
#: Margin shown beyond the sampled range in ``tau_axis="shade"`` mode (decades).
SHADE_MARGIN_DECADES = 0.5
#: Colour of the bands over the unsampled tau range.
SHADE_COLOUR = "0.55"


def plain(text: str) -> str:
    """``text`` shown as written: dollar signs escaped, so matplotlib never reads mathtext
    in folder, axis or unit names (``a$^$b``, ``50% \\alpha``)."""
    return str(text).replace("$", r"\$")


#: Units written the way journals print them.
_UNITS = {"m^2/s": "m² s⁻¹", "s/m^2": "s m⁻²", "1/s": "s⁻¹"}


def unit_text(unit: str) -> str:
    """A unit as printed (``s/m^2`` -> ``s m⁻²``), dollar signs escaped."""
    return _UNITS.get(unit, plain(unit))


def sampling_label(dim: Dimension) -> str:
    """Label of a sampling axis (delays, b values): ``vd / s``, ``b / s m⁻²``."""
    unit = unit_text(dim.t_unit) if dim.t_unit else ""
    return f"{plain(dim.t_name)} / {unit}" if unit else plain(dim.t_name)


def axis_label(dim: Dimension) -> tuple[str, float]:
    """Axis label with its SI unit, and the factor from tau to the displayed value (1:
    every axis is in the unit of ``peaks.csv`` and ``result.h5``)."""
    if dim.name in _SUBSCRIPT:
        return f"{_SUBSCRIPT[dim.name]} / {unit_text(dim.unit)}", 1.0
    if dim.unit == "ppm":
        return "δ / ppm", 1.0
    name, unit = plain(dim.name), unit_text(dim.unit)
    return (f"{name} / {unit}" if unit else name), 1.0


def style(font_size: float) -> dict[str, Any]:
    """rcParams of every figure."""
    return {
        "font.size": font_size, "axes.labelsize": font_size, "axes.titlesize": font_size,
        "xtick.labelsize": font_size * 0.85, "ytick.labelsize": font_size * 0.85,
        "legend.fontsize": font_size * 0.85, "axes.linewidth": 0.6, "lines.linewidth": 1.0,
        "xtick.major.size": 2.5, "ytick.major.size": 2.5, "xtick.minor.size": 1.5,
        "ytick.minor.size": 1.5, "axes.titlepad": 2.0, "axes.labelpad": 2.0,
        "svg.fonttype": "none", "pdf.fonttype": 42,
    }


def tau_limits(result: Result, axis: int, mode: str) -> tuple[float, float]:
    """Axis limits of inverted dimension ``axis``: ``crop`` the sampled range, ``shade``
    that range widened by :data:`SHADE_MARGIN_DECADES`, ``grid`` the whole grid (all
    clipped to the grid)."""
    tau = np.asarray(result.tau[axis], float)
    lo_g, hi_g = float(tau.min()), float(tau.max())
    rng = sampled_range(result, axis)
    if mode == "grid" or rng is None:
        return lo_g, hi_g
    lo, hi = rng
    if mode == "shade":
        f = 10.0**SHADE_MARGIN_DECADES
        lo, hi = lo / f, hi * f
    lo, hi = max(lo, lo_g), min(hi, hi_g)
    return (lo, hi) if hi > lo else (lo_g, hi_g)


def set_tau_axis(ax, which: str, result: Result, axis: int, mode: str, label: bool = True):
    """Label, log scale, limits and the shaded unsampled bands of one tau axis."""
    d = result.dims[axis]
    if label:
        getattr(ax, f"set_{which}label")(axis_label(d)[0])
    tau = np.asarray(result.tau[axis], float)
    if np.all(tau > 0):
        getattr(ax, f"set_{which}scale")("log")
        log_ticks(ax, which)
    lo, hi = tau_limits(result, axis, mode)
    getattr(ax, f"set_{which}lim")(lo, hi)
    rng = sampled_range(result, axis)
    if rng is None or mode == "crop":
        return
    span = ax.axvspan if which == "x" else ax.axhspan
    for a, b in ((min(lo, rng[0]), rng[0]), (rng[1], max(hi, rng[1]))):
        if b > a:
            span(a, b, color=SHADE_COLOUR, alpha=0.25, lw=0, zorder=2.5)


def log_ticks(ax, which: str, numticks: int = 4) -> None:
    """At most ``numticks`` labelled decades (every decade labelled collides on narrow
    panels), minor ticks unlabelled."""
    from matplotlib.ticker import LogLocator, NullFormatter

    axis = getattr(ax, f"{which}axis")
    axis.set_major_locator(LogLocator(base=10.0, numticks=numticks))
    axis.set_minor_locator(LogLocator(base=10.0, subs=np.arange(2, 10) * 0.1, numticks=12))
    axis.set_minor_formatter(NullFormatter())


def set_ppm_axis(ax, which: str, values: np.ndarray, nbins: int = 3, label: bool = True,
                 prune: str | None = None):
    """Chemical-shift axis, decreasing to the right, with at most ``nbins`` + 1 ticks
    (``prune="both"``: none within 15 % of the ends, for panels side by side)."""
    from matplotlib.ticker import FixedLocator, MaxNLocator

    v = np.asarray(values, float)
    lo, hi = float(v.min()), float(v.max())
    step = float(np.median(np.abs(np.diff(np.sort(v))))) if v.size > 1 else 0.02
    pad = 0.5 * step if step > 0 else 0.01
    getattr(ax, f"set_{which}lim")(hi + pad, lo - pad)
    locator = MaxNLocator(nbins)
    if prune == "both":
        a, b = lo - pad, hi + pad
        margin = 0.15 * (b - a)
        ticks = [t for t in locator.tick_values(a, b) if a + margin <= t <= b - margin]
        locator = FixedLocator(ticks) if ticks else locator
    getattr(ax, f"{which}axis").set_major_locator(locator)
    if label:
        getattr(ax, f"set_{which}label")("δ / ppm")


def edges(v: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges around sorted centres ``v`` (geometric midpoints on log axes)."""
    v = np.asarray(v, float)
    if v.size == 1:
        return np.array([v[0] / 1.2, v[0] * 1.2]) if log else np.array([v[0] - 0.5, v[0] + 0.5])
    x = np.log10(v) if log else v
    mid = 0.5 * (x[1:] + x[:-1])
    e = np.concatenate([[x[0] - (mid[0] - x[0])], mid, [x[-1] + (x[-1] - mid[-1])]])
    return 10.0**e if log else e


def is_log(values: np.ndarray) -> bool:
    """A sampling axis worth a log scale: positive and spanning more than a decade."""
    v = np.asarray(values, float)
    return bool(v.size > 1 and np.all(v > 0) and v.max() / v.min() > 10.0)
