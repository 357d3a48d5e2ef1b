"""``diagnostics.png/pdf``: per-region decay points with the inversion's and the exponential
fits, and the phased spectrum with the chosen regions marked.

One panel per region of :func:`nmrilt.crosscheck.region_series` (at most
:data:`MAX_PANELS`, the strongest), each showing the region's summed data (points), the
inversion's back-calculated fit (line) and the conventional mono-exponential fit (dashed;
bi-exponential dotted when justified), with both values in the title.  The top panel is the
phased spectrum of the strongest increment with the regions shaded; when the pipeline
cannot rebuild the full spectrum, the kept columns of the result stand in for it.
matplotlib is imported inside the functions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..model import Result
from .files import atomic_path

log = logging.getLogger(__name__)

__all__ = ["MAX_PANELS", "diagnostics_figure", "plot_diagnostics"]

#: At most this many region panels (the regions with the largest signal).
MAX_PANELS = 12
_MM = 25.4


def _columns_spectrum(result: Result) -> tuple[np.ndarray, np.ndarray] | None:
    """The kept chemical-shift columns at the strongest increment (spectrum units)."""
    shift = [i for i, d in enumerate(result.dims) if not d.inverted and d.unit == "ppm"]
    inv = [i for i, d in enumerate(result.dims) if d.inverted]
    if len(shift) != 1 or len(inv) != 1:
        return None
    scale = np.broadcast_to(np.asarray(result.scale, float), result.data.shape)
    data = np.moveaxis(result.data * scale, [inv[0], shift[0]], [0, 1])
    data = data.reshape(data.shape[0], data.shape[1], -1).sum(axis=2)
    row = data[int(np.argmax(np.sum(data**2, axis=1)))]
    return np.asarray(result.tau[shift[0]], float), row


def diagnostics_figure(
    result: Result,
    table: Sequence[Mapping[str, Any]] | None = None,
    spectrum: tuple[np.ndarray, np.ndarray] | None = None,
    width_mm: float = 170.0,
    font_size: float = 8.0,
) -> Any:
    """Build the diagnostics figure (module docstring); None for results it does not
    apply to (no single inverted dimension with a conventional model)."""
    import matplotlib
    from matplotlib.figure import Figure

    from ..crosscheck import MODELS, crosscheck, fit_exponentials, region_series
    from .components import unit_tag

    series = region_series(result)
    if not series:
        return None
    table = list(table) if table is not None else crosscheck(result)
    ax_inv = next(i for i, d in enumerate(result.dims) if d.inverted)
    d = result.dims[ax_inv]
    q = f"{d.name}_{unit_tag(d.unit)}"
    order = np.argsort([-float(np.ptp(s.data)) for s in series])[:MAX_PANELS]
    spec = spectrum if spectrum is not None else _columns_spectrum(result)
    ncol = min(3, len(order))
    nrow = int(np.ceil(len(order) / ncol)) + (spec is not None)
    w = width_mm / _MM
    style = {"font.size": font_size, "axes.titlesize": font_size,
             "axes.labelsize": font_size, "xtick.labelsize": 0.85 * font_size,
             "ytick.labelsize": 0.85 * font_size, "legend.fontsize": 0.8 * font_size}
    with matplotlib.rc_context(style):
        fig = Figure(figsize=(w, 0.3 * w * nrow + 0.3), layout="constrained")
        grid = fig.add_gridspec(nrow, ncol)
        row0 = 0
        if spec is not None:
            ax = fig.add_subplot(grid[0, :])
            _spectrum_panel(ax, spec, series, order)
            row0 = 1
        t_unit = d.t_unit or ""
        logx = d.kernel != "diffusion" and bool(np.any(series[0].t > 0))
        for k, i in enumerate(order):
            s, row = series[i], table[i]
            ax = fig.add_subplot(grid[row0 + k // ncol, k % ncol])
            ax.plot(s.t, s.data, "o", ms=3, color="k", label="data")
            srt = np.argsort(s.t)
            ax.plot(s.t[srt], s.ilt_fit[srt], "-", color="tab:blue", lw=1, label="ILT fit")
            dense = np.geomspace(max(s.t[s.t > 0].min(), 1e-300), s.t.max(), 200) \
                if logx else np.linspace(s.t.min(), s.t.max(), 200)
            title = f"{i + 1}: {s.label}\nILT {_fmt(row.get(f'ilt_{q}'))}"
            if f"mono_{q}" in row:
                mono = fit_exponentials(s.t, s.data, d.kernel, 1)
                ax.plot(dense, _curve(mono, dense, d.kernel, MODELS), "--", color="tab:red",
                        lw=1, label="mono-exp")
                title += (f", mono {_fmt(row[f'mono_{q}'])} ± {_fmt(row[f'mono_{q}_se'])}"
                          if row.get("mono_ok") else ", mono not determined")
                if row.get("bi_justified"):
                    bi = fit_exponentials(s.t, s.data, d.kernel, 2)
                    ax.plot(dense, _curve(bi, dense, d.kernel, MODELS), ":",
                            color="tab:green", lw=1.2, label="bi-exp")
            ax.set_title(title, parse_math=False)
            if logx:
                ax.set_xscale("symlog", linthresh=float(s.t[s.t > 0].min()))
            ax.set_xlabel(f"{d.t_name} / {t_unit}" if t_unit else d.t_name, parse_math=False)
            if k == 0:
                ax.legend(frameon=False)
        from .plotting import experiment_title, mark_warnings

        fig.suptitle(f"{experiment_title(result.source)}: exponential cross-check "
                     f"({d.name}, unit {d.unit})", fontsize=font_size, parse_math=False)

        mark_warnings(fig, result, font_size)
    return fig


def _fmt(v: Any) -> str:
    return f"{float(v):.3g}" if v is not None and np.isfinite(float(v)) else "-"


def _curve(fit: Any, t: np.ndarray, kernel: str, models: Mapping[str, bool]) -> np.ndarray:
    """The fitted model at ``t``."""
    v = fit.values[None, :]
    e = np.exp(-t[:, None] * v) if kernel == "diffusion" else np.exp(-t[:, None] / v)
    if models[kernel]:
        return fit.offset - e @ fit.amplitudes
    return e @ fit.amplitudes


def _spectrum_panel(ax: Any, spec: tuple[np.ndarray, np.ndarray], series: list,
                    order: np.ndarray) -> None:
    ppm, y = spec
    ax.plot(ppm, y, color="k", lw=0.6)
    for s in series:
        if s.ppm_range is not None:
            ax.axvspan(*s.ppm_range, color="tab:orange", alpha=0.3, lw=0)
    # numbers of the regions shown below, the first shown first; one that would touch a
    # number already placed is left out (its panel title gives its ppm range)
    span = float(np.ptp(ppm)) or 1.0
    placed: list[float] = []
    for i in order.tolist():
        if series[i].ppm_range is None:
            continue
        centre = 0.5 * sum(series[i].ppm_range)
        if all(abs(centre - c) >= 0.025 * span for c in placed):
            placed.append(centre)
            ax.annotate(str(i + 1), (centre, 1.0), xycoords=("data", "axes fraction"),
                        ha="center", va="bottom", fontsize="small")
    ax.set_xlim(float(np.max(ppm)), float(np.min(ppm)))
    ax.set_xlabel("δ / ppm")
    ax.set_title("phased spectrum (strongest increment), regions shaded", parse_math=False)


def plot_diagnostics(
    result: Result,
    outdir: str | Path,
    table: Sequence[Mapping[str, Any]] | None = None,
    spectrum: tuple[np.ndarray, np.ndarray] | None = None,
    formats: Sequence[str] = ("png", "pdf"),
    width_mm: float = 170.0,
    font_size: float = 8.0,
    dpi: int = 200,
    **_ignored: Any,
) -> list[Path]:
    """Write ``diagnostics.<fmt>`` (png and pdf of ``formats``) atomically; [] when the
    figure does not apply to the result."""
    fig = diagnostics_figure(result, table, spectrum, width_mm, font_size)
    if fig is None:
        return []
    paths = []
    for fmt in [f for f in formats if f in ("png", "pdf")] or ["png"]:
        path = Path(outdir) / f"diagnostics.{fmt}"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi)
        paths.append(path)
    return paths
