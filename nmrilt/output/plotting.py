"""Publication figures from a :class:`~nmrilt.model.Result` (matplotlib, Agg backend).

One figure per result, chosen by the dimensions (:func:`~nmrilt.output.plot_data.layout_of`):

* one inverted dimension — the distribution as a line (signed, filled);
* two inverted dimensions — a map on log axes with contours and projections on both axes;
* one inverted dimension and a chemical-shift (or region) axis — a pseudo-2D map,
  δ (ppm, decreasing to the right) × T, the strongest increment's spectrum above it and the
  projection onto the T axis beside it (one panel per signal region; beyond
  :data:`MAX_PANELS` regions one compressed δ axis, :mod:`~nmrilt.output.shift_axis`); summed regions (``shift_mode = "regions"``) on a
  categorical axis, one equal column per region;
* two inverted dimensions and an identity axis — a grid of maps: one per signal region
  (summed over it) or per temperature/index;

each with a residuals panel on physical axes (residuals in units of the noise sigma) unless
``residuals=False``.  All panels share one colour scale and one set of contour levels
(:data:`~nmrilt.output.plot_data.CONTOUR_FRACTIONS` of the largest |value| of all panels;
stated in ``report.txt``).  tau axes show the sampled range and half a decade beyond, the
unsampled part shaded (``tau_axis="shade"``), or the sampled range only (``"crop"``) or the
whole grid (``"grid"``).  Signed maps use a diverging colour map centred on zero, non-negative
ones a sequential map.  Every axis is in SI units, as ``peaks.csv``.  Layouts are checked at
85 mm (one column) and 170 mm (two columns).

matplotlib is imported inside the functions, so ``import nmrilt`` never loads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..model import Result
from .components import ppm_segments
from .files import atomic_path
from .plot_axes import (
    MM_PER_INCH,
    axis_label,
    plain,
    set_ppm_axis,
    set_tau_axis,
    style,
)
from .plot_data import layout_of, panels, vmax_of
from .plot_panels import (
    draw_map,
    region_labels,
    residuals_on_shift_axis,
    residuals_panel,
    spectrum_rows,
    spectrum_trace,
)
from .shift_axis import CompressedShiftAxis

__all__ = ["axis_label", "make_figure", "plain", "plot_result", "residuals_panel"]

#: Widths below this (mm) get the narrow layouts: fewer columns, fewer ticks.
NARROW_MM = 120.0
#: Most ppm segments drawn as panels side by side (wide / narrow figures); more share one
#: compressed shift axis (:mod:`nmrilt.output.shift_axis`).
MAX_PANELS = 4
MAX_PANELS_NARROW = 3


def _norm(vmax: float, signed: bool, cmap_signed: str, cmap_positive: str):
    from matplotlib.colors import Normalize

    if signed:
        return Normalize(-vmax, vmax), cmap_signed
    return Normalize(0.0, vmax), cmap_positive


def experiment_title(source: str) -> str:
    """Figure title: the experiment folder, with its parent for numbered Bruker EXPNOs."""
    path = Path(source)
    if path.name.isdigit() and path.parent.name == "pdata" and path.parent.parent.name:
        return f"{experiment_title(str(path.parent.parent))}, pdata {path.name}"
    if path.name.isdigit() and path.parent.name:
        return f"{path.parent.name}/{path.name}"
    return path.name or str(source)


def _figure(width_mm: float, height_mm: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_mm / MM_PER_INCH, height_mm / MM_PER_INCH),
                 layout="constrained")
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.02, hspace=0.02)
    return fig


def _colorbar_in(fig, cell, mesh, label: str = "amplitude") -> None:
    """A horizontal colour bar inside an otherwise empty grid cell (the corner above the
    right projection): it takes no width from the maps at any figure width."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    holder = fig.add_subplot(cell)
    holder.axis("off")
    cax = holder.inset_axes((0.08, 0.62, 0.84, 0.16))
    cb = fig.colorbar(mesh, cax=cax, orientation="horizontal")
    cb.ax.tick_params(labelsize="x-small", length=2)
    cb.ax.xaxis.set_major_locator(MaxNLocator(3, symmetric=mesh.norm.vmin < 0))
    # a power of ten in the label keeps the tick labels short enough for an 85 mm figure
    vmax = float(max(abs(mesh.norm.vmin), abs(mesh.norm.vmax)) or 1.0)
    e = int(np.floor(np.log10(vmax)))
    if abs(e) >= 3:
        cb.ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v / 10**e:g}"))
        label = f"{label} / $10^{{{e}}}$"
    cb.ax.set_title(label, fontsize="small", pad=2)


def _tau_projection(ax, values: np.ndarray, y: np.ndarray) -> None:
    """The map summed onto its tau (y) axis, in a narrow panel beside it."""
    ax.plot(values, y, color="k", lw=0.8)
    ax.axvline(0, color="0.6", lw=0.4)
    ax.tick_params(labelleft=False, labelbottom=False, bottom=False)
    ax.set_xlabel("projection", fontsize="x-small")


def _same_trace_range(axes: list, traces: list[np.ndarray]) -> None:
    """One y-range for every spectrum trace panel: one spectrum, one scale."""
    lo = min(float(np.min(s)) for s in traces)
    hi = max(float(np.max(s)) for s in traces)
    pad = 0.05 * (hi - lo or 1.0)
    for a in axes:
        a.set_ylim(min(lo, 0.0) - pad, hi + pad)


def _heights(kind: str, width_mm: float, residuals: bool, nrow: int = 1,
             ncol: int = 1) -> tuple[float, float]:
    """Automatic (main, residuals) heights in mm per layout: panels near square at either
    column width, the residuals panel about a quarter of the figure (18-40 mm)."""
    narrow = width_mm < NARROW_MM
    if kind == "1d":
        main = 0.5 * width_mm if narrow else 0.32 * width_mm
    elif kind == "map":
        main = (0.92 if narrow else 0.6) * width_mm
    elif kind == "pseudo2d":
        main = (0.8 if narrow else 0.5) * width_mm
    else:
        main = nrow * 0.85 * (0.88 * width_mm / ncol) + 6.0
    res = float(np.clip(0.3 * main, 18.0, 40.0)) if residuals else 0.0
    return main, res


def figure_1d(result: Result, fig, gs, norm, cmap, vmax, o: dict) -> None:
    """One inverted dimension (others summed): the signed distribution as a filled line."""
    ax = fig.add_subplot(gs[0])
    inv = [i for i, d in enumerate(result.dims) if d.inverted]
    i = inv[0] if inv else 0
    z = panels(result)[0][1]
    x = np.asarray(result.tau[i], float)
    ax.plot(x, z, color="k", lw=0.8)
    for where, colour in ((z >= 0, "tab:red"), (z < 0, "tab:blue")):
        ax.fill_between(x, z, where=where, interpolate=True, color=colour, alpha=0.35, lw=0)
    ax.axhline(0, color="0.6", lw=0.5)
    if result.dims[i].inverted:
        set_tau_axis(ax, "x", result, i, o["tau_axis"])
    else:
        ax.set_xlabel(axis_label(result.dims[i])[0])
    ax.set_ylabel("amplitude")
    if o["residuals"]:
        residuals_panel(fig.add_subplot(gs[1]), result)


def figure_map(result: Result, fig, gs, norm, cmap, vmax, o: dict) -> None:
    """Two inverted dimensions: a map on log axes with the projections along both axes."""
    sub = gs[0].subgridspec(2, 2, width_ratios=[4, 1.1], height_ratios=[1.1, 4],
                            wspace=0.02, hspace=0.02)
    yi, xi = [i for i, d in enumerate(result.dims) if d.inverted]
    z = panels(result)[0][1]
    z = z if yi < xi else z.T
    x, y = np.asarray(result.tau[xi], float), np.asarray(result.tau[yi], float)
    main = fig.add_subplot(sub[1, 0])
    mesh = draw_map(main, x, y, z, norm, cmap, vmax, log_x=True, log_y=True)
    set_tau_axis(main, "x", result, xi, o["tau_axis"])
    set_tau_axis(main, "y", result, yi, o["tau_axis"])
    top = fig.add_subplot(sub[0, 0], sharex=main)
    right = fig.add_subplot(sub[1, 1], sharey=main)
    top.plot(x, z.sum(axis=0), color="k", lw=0.8)
    top.axhline(0, color="0.6", lw=0.4)
    top.tick_params(labelbottom=False, labelleft=False, left=False)
    top.set_ylabel("projection", fontsize="x-small")
    _tau_projection(right, z.sum(axis=1), y)
    _colorbar_in(fig, sub[0, 1], mesh)
    if o["residuals"]:
        residuals_panel(fig.add_subplot(gs[1]), result)


def figure_pseudo2d(result: Result, fig, gs, norm, cmap, vmax, o: dict) -> None:
    """One inverted dimension x chemical shift (or region): the map, the spectrum above it
    (one panel per signal region, widths following the ppm spans) and the projection
    onto the T axis beside it."""
    ti = next(i for i, d in enumerate(result.dims) if d.inverted)
    xi = next(i for i, d in enumerate(result.dims) if not d.inverted)
    z = panels(result)[0][1]
    x = np.asarray(result.tau[xi], float)
    y = np.asarray(result.tau[ti], float)
    spec, spec_label = spectrum_rows(result, xi)
    regions = result.dims[xi].name == "region"
    if regions or result.dims[xi].unit != "ppm":
        order = np.argsort(-x, kind="stable") if result.dims[xi].unit == "ppm" else np.arange(x.size)
        segs, xs, zs, ss = [(0, x.size)], [np.arange(x.size, dtype=float)], [z[:, order]], [spec[order]]
    else:
        segs = ppm_segments(x)
        segs.sort(key=lambda ab: -float(x[ab[0]: ab[1]].max()))  # high ppm on the left
        xs = [x[a:b] for a, b in segs]
        zs = [z[:, a:b] for a, b in segs]
        ss = [spec[a:b] for a, b in segs]
    if not regions and len(segs) > (MAX_PANELS_NARROW if o["width_mm"] < NARROW_MM
                                    else MAX_PANELS):
        _pseudo2d_one_axis(result, fig, gs, norm, cmap, vmax, o, segs, xs, zs, ss,
                           spec_label, (ti, xi, y, z))
        return
    spans = [max(float(np.ptp(v)), 1e-9) for v in xs]
    widths = [max(sp, 0.15 * sum(spans)) for sp in spans]
    # one grid for traces, maps and the projection column, so constrained layout lines
    # every trace up with its map
    n = len(segs)
    sub = gs[0].subgridspec(2, n + 1, width_ratios=[*widths, 0.25 * sum(widths)],
                            height_ratios=[1.0, 4], wspace=0.03, hspace=0.02)
    axes: list[Any] = []
    mesh = None
    # narrow panels side by side: no tick at a panel edge, where its label would touch the
    # neighbour's
    crowded = o["width_mm"] < NARROW_MM and len(segs) > 1
    nbins = 3
    for k in range(len(segs)):
        ax = fig.add_subplot(sub[1, k], sharey=axes[0] if axes else None)
        mesh = draw_map(ax, xs[k], y, zs[k], norm, cmap, vmax, log_y=True,
                        contours=not regions)
        set_tau_axis(ax, "y", result, ti, o["tau_axis"], label=not k)
        if regions:
            ax.set_xticks(xs[k])
            labels = region_labels(result, xi)
            ax.set_xticklabels([labels[i] for i in np.argsort(-x, kind="stable")],
                               fontsize="x-small")
            ax.set_xlabel("summed region / ppm")
            ax.set_xlim(-0.5, x.size - 0.5)
        elif result.dims[xi].unit == "ppm":
            set_ppm_axis(ax, "x", xs[k], nbins=nbins,
                         label=(len(segs) == 1 or k == len(segs) // 2),
                         prune="both" if crowded else None)
        else:
            ax.set_xticks(xs[k])
            ax.set_xticklabels([f"{v:.4g}" for v in x[order]])
            ax.set_xlabel(axis_label(result.dims[xi])[0])
        if k:
            ax.tick_params(labelleft=False)
        top = fig.add_subplot(sub[0, k], sharex=ax)
        spectrum_trace(top, xs[k], ss[k], bars=regions)
        if k == 0:
            top.set_title(f"spectrum, {spec_label}", loc="left", fontsize="x-small")
        axes.append(ax)
    _same_trace_range([a for a in fig.axes if a not in axes], ss)
    _tau_projection(fig.add_subplot(sub[1, n], sharey=axes[0]), z.sum(axis=1), y)
    _colorbar_in(fig, sub[0, n], mesh)
    if o["residuals"]:
        residuals_panel(fig.add_subplot(gs[1]), result)


def _pseudo2d_one_axis(result: Result, fig, gs, norm, cmap, vmax, o: dict, segs, xs, zs, ss,
                       spec_label: str, tau: tuple) -> None:
    """Many ppm segments: one map on a compressed shift axis (segments side by side, thin
    lines between them, non-overlapping ppm labels), the spectrum above and the residuals
    below on the same axis, the projection beside it.  Side-by-side panels would leave each
    a few millimetres."""
    ti, xi, y, z = tau
    axis = CompressedShiftAxis.from_segments(xs)
    ratios = list(gs.get_height_ratios() or [1.0])  # [main] or [main, residuals]
    main = ratios[0]
    heights = [0.2 * main, 0.8 * main, *ratios[1:]]
    narrow = o["width_mm"] < NARROW_MM
    side = 1.1 if narrow else 0.8  # the colour bar's label needs ~12 mm
    sub = gs[:, 0].subgridspec(len(heights), 2, width_ratios=[4, side],
                               height_ratios=heights, wspace=0.02, hspace=0.02)
    ax = fig.add_subplot(sub[1, 0])
    top = fig.add_subplot(sub[0, 0], sharex=ax)
    mesh = None
    for k in range(len(xs)):
        u = axis.positions(k)
        mesh = draw_map(ax, u, y, zs[k], norm, cmap, vmax, log_y=True, x_edges=axis.edges(k))
        spectrum_trace(top, u, ss[k])
    set_tau_axis(ax, "y", result, ti, o["tau_axis"])
    # the map takes 4/(4 + side) of the width left by the tau label and ticks (~15 mm)
    ticks, labels = axis.ticks((o["width_mm"] - 15.0) * 4 / (4 + side),
                               float(style(o["font_size"])["xtick.labelsize"]))
    xlabel = (f"δ / ppm ({len(xs)} regions, gaps left out)" if narrow else
              f"δ / ppm ({len(xs)} signal regions; the gaps between them left out)")
    panels_x = [ax, top]
    if o["residuals"]:
        res = fig.add_subplot(sub[2, 0], sharex=ax)
        residuals_on_shift_axis(res, fig.add_subplot(sub[2, 1]), result, (ti, xi),
                                [(a, b, axis.edges(k)) for k, (a, b) in enumerate(segs)])
        ax.tick_params(labelbottom=False)
        res.set_xticks(ticks)
        res.set_xticklabels(labels)
        res.set_xlabel(xlabel)
        panels_x.append(res)
    else:
        ax.set_xticks(ticks)
        ax.set_xticklabels(labels)
        ax.set_xlabel(xlabel)
    for s in axis.separators():
        for a in panels_x:
            a.axvline(s, color="k", lw=0.5)
    ax.set_xlim(0.0, 1.0)
    top.set_title(f"spectrum, {spec_label}", loc="left", fontsize="x-small")
    _same_trace_range([top], ss)
    _tau_projection(fig.add_subplot(sub[1, 1], sharey=ax), z.sum(axis=1), y)
    _colorbar_in(fig, sub[0, 1], mesh)


def figure_slices(result: Result, fig, gs, norm, cmap, vmax, o: dict) -> None:
    """Two inverted dimensions x an identity axis: a grid of maps, one per signal region
    (summed over it) or per temperature/index value; shared axes, labels on the edges."""
    shown = panels(result)
    ncol = o["_ncol"]
    nrow = max(1, -(-len(shown) // ncol))
    yi, xi = [i for i, d in enumerate(result.dims) if d.inverted]
    grid = gs[0].subgridspec(nrow, ncol, wspace=0.03, hspace=0.03)
    axes: list[Any] = []
    mesh = None
    x, y = np.asarray(result.tau[xi], float), np.asarray(result.tau[yi], float)
    for k, (title, z) in enumerate(shown):
        r, c = divmod(k, ncol)
        ax = fig.add_subplot(grid[r, c], sharex=axes[0] if axes else None,
                             sharey=axes[0] if axes else None)
        z2 = z if yi < xi else z.T
        mesh = draw_map(ax, x, y, z2, norm, cmap, vmax, log_x=True, log_y=True)
        below = k + ncol < len(shown)  # another panel under this one
        set_tau_axis(ax, "x", result, xi, o["tau_axis"], label=not below)
        set_tau_axis(ax, "y", result, yi, o["tau_axis"], label=c == 0)
        if below:
            ax.tick_params(labelbottom=False)
        if c:
            ax.tick_params(labelleft=False)
        ax.set_title(title, fontsize="small")
        axes.append(ax)
    if mesh is not None:
        cb = fig.colorbar(mesh, ax=axes, label="amplitude", shrink=0.85, aspect=30, pad=0.01)
        cb.ax.tick_params(labelsize="x-small")
        cb.ax.yaxis.get_offset_text().set_fontsize("x-small")
    if o["residuals"]:
        residuals_panel(fig.add_subplot(gs[1]), result)


_LAYOUTS = {"1d": figure_1d, "map": figure_map, "pseudo2d": figure_pseudo2d,
            "slices": figure_slices}


def mark_warnings(fig: Any, result: Result, font_size: float = 8.0) -> None:
    """A small red note at the bottom left when the result carries warnings (codes from
    :mod:`nmrilt.diagnostics`; the full lines are in ``report.txt``).  Drawn as the
    figure's ``supxlabel`` so that the constrained layout makes room for it."""
    if not result.warnings:
        return
    codes = sorted({w.split(":", 1)[0] for w in result.warnings})
    fig.supxlabel(f"WARNING ({len(result.warnings)}): {', '.join(codes)} - see report.txt",
                  color="red", x=0.01, ha="left", fontsize=0.8 * font_size, parse_math=False)


def make_figure(
    result: Result,
    width_mm: float = 170.0,
    height_mm: float = 0.0,
    font_size: float = 8.0,
    cmap_signed: str = "RdBu_r",
    cmap_positive: str = "viridis",
    title: bool = True,
    residuals: bool = True,
    tau_axis: str = "shade",
):
    """Build the figure for a result, the layout chosen by its dimensions (see the module
    docstring); returns a matplotlib Figure.

    Parameters
    ----------
    result : Result
    width_mm, height_mm : float
        Size in millimetres; height 0 chooses one from the layout and the width.
    font_size : float
        Base font size in points.
    cmap_signed, cmap_positive : str
        Colour maps of signed and non-negative maps.
    title : bool
        Draw the experiment folder as the title.
    residuals : bool
        Draw the residuals panel.
    tau_axis : {"shade", "crop", "grid"}
        tau axis range: sampled range plus half a decade with the unsampled part shaded,
        the sampled range only, or the whole grid (shaded).
    """
    import matplotlib

    kind = layout_of(result)
    shown = panels(result)
    vmax = vmax_of(shown)
    g = result.g
    signed = bool(np.min(g) < -0.02 * float(np.max(np.abs(g)) or 1.0))
    norm, cmap = _norm(vmax, signed, cmap_signed, cmap_positive)
    ncol = 1
    if kind == "slices":
        ncol = min(len(shown) or 1, 2 if width_mm < NARROW_MM else 4)
    nrow = max(1, -(-len(shown) // ncol))
    main_h, res_h = _heights(kind, width_mm, residuals, nrow, ncol)
    height = height_mm or (main_h + res_h + (5.0 if title else 0.0))
    opts = {"tau_axis": tau_axis, "residuals": residuals, "width_mm": width_mm, "_ncol": ncol,
            "font_size": font_size}
    with matplotlib.rc_context(style(font_size)):
        fig = _figure(width_mm, height)
        gs = fig.add_gridspec(2 if residuals else 1, 1,
                              height_ratios=[main_h, res_h] if residuals else [1])
        _LAYOUTS[kind](result, fig, gs, norm, cmap, vmax, opts)
        if title:
            fig.suptitle(plain(experiment_title(result.source)), fontsize=font_size)
        mark_warnings(fig, result, font_size)
    return fig


def plot_result(
    result: Result,
    outdir: str | Path,
    basename: str = "map",
    formats: tuple[str, ...] | list[str] = ("png", "pdf", "svg"),
    width_mm: float = 170.0,
    height_mm: float = 0.0,
    font_size: float = 8.0,
    dpi: int = 300,
    cmap_signed: str = "RdBu_r",
    cmap_positive: str = "viridis",
    title: bool = True,
    residuals: bool = True,
    tau_axis: str = "shade",
    **_ignored: Any,
) -> list[Path]:
    """Render the result's figure into ``outdir/<basename>.<format>`` (atomically).

    Parameters
    ----------
    result : Result
        From :func:`nmrilt.pipeline.run` or :func:`nmrilt.output.read_result`.
    outdir : path
        Existing folder.
    basename : str
        File name without extension.
    formats : sequence of str
        Any of ``png``, ``pdf``, ``svg``.
    width_mm, height_mm, font_size, cmap_signed, cmap_positive, title, residuals, tau_axis
        See :func:`make_figure`.
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    import matplotlib

    fig = make_figure(result, width_mm, height_mm, font_size, cmap_signed, cmap_positive,
                      title, residuals, tau_axis)
    paths = []
    with matplotlib.rc_context(style(font_size)):
        for fmt in formats:
            path = Path(outdir) / f"{basename}.{fmt}"
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format=fmt, dpi=dpi)  # Figure() renders with Agg / vector
            paths.append(path)
    return paths
