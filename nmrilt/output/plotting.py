"""Publication figures from a :class:`~nmrilt.model.Result` (matplotlib, Agg backend).

One figure per result, chosen by the dimensions:

* one inverted dimension — the distribution as a line (signed, filled);
* two inverted dimensions — a map on log axes with contours and projections on both axes;
* one inverted dimension and a chemical-shift (or other identity) dimension — a pseudo-2D
  map, δ (ppm, decreasing to the right) × T;
* two inverted dimensions and an identity dimension — a grid of map slices: one per signal
  region along the chemical shift (summed over the region), or one per temperature/index;

each with a residuals panel (residuals in units of the noise sigma).  Signed maps use a
diverging colour map centred on zero; non-negative ones a sequential map.  Axis labels carry
units: ``T1 / s``, ``T2 / ms``, ``D / m² s⁻¹``, ``δ / ppm``.

matplotlib is imported inside the functions, so ``import nmrilt`` never loads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..model import Dimension, Result
from .components import ppm_segments, true_runs
from .files import atomic_path

MM_PER_INCH = 25.4
_SUBSCRIPT = {"T1": "$T_1$", "T2": "$T_2$", "D": "$D$"}


def plain(text: str) -> str:
    """``text`` shown as written: dollar signs escaped, so matplotlib never reads mathtext
    in folder, axis or unit names (``a$^$b``, ``50% \\alpha``)."""
    return str(text).replace("$", r"\$")


def axis_label(dim: Dimension) -> tuple[str, float]:
    """Axis label with unit and the factor that converts tau into the displayed unit."""
    if dim.name == "T2" and dim.unit == "s":
        return "$T_2$ / ms", 1e3
    if dim.name in _SUBSCRIPT:
        unit = {"m^2/s": "m² s⁻¹"}.get(dim.unit, dim.unit)
        return f"{_SUBSCRIPT[dim.name]} / {unit}", 1.0
    if dim.unit == "ppm":
        return "δ / ppm", 1.0
    name, unit = plain(dim.name), plain(dim.unit)
    return (f"{name} / {unit}" if unit else name), 1.0


def _style(font_size: float) -> dict[str, Any]:
    return {
        "font.size": font_size, "axes.labelsize": font_size, "axes.titlesize": font_size,
        "xtick.labelsize": font_size * 0.9, "ytick.labelsize": font_size * 0.9,
        "legend.fontsize": font_size * 0.9, "axes.linewidth": 0.6, "lines.linewidth": 1.0,
        "svg.fonttype": "none", "pdf.fonttype": 42,
    }


def _norm(z: np.ndarray, signed: bool, cmap_signed: str, cmap_positive: str):
    from matplotlib.colors import Normalize

    vmax = float(np.max(np.abs(z))) or 1.0
    if signed:
        return Normalize(-vmax, vmax), cmap_signed
    return Normalize(0.0, vmax), cmap_positive


def _set_axis(ax, which: str, dim: Dimension, values: np.ndarray) -> np.ndarray:
    label, factor = axis_label(dim)
    getattr(ax, f"set_{which}label")(label)
    v = values * factor
    if dim.inverted and np.all(v > 0):
        getattr(ax, f"set_{which}scale")("log")
    if dim.unit == "ppm":
        lo, hi = float(v.min()), float(v.max())
        if hi - lo < 1e-6:  # a one-point region
            lo, hi = lo - 0.01, hi + 0.01
        getattr(ax, f"set_{which}lim")(hi, lo)
    return v


def _map(ax, x, y, z, xdim, ydim, norm, cmap) -> Any:
    """Coloured map with contours; z has shape (len(y), len(x))."""
    xv = _set_axis(ax, "x", xdim, np.asarray(x, float))
    yv = _set_axis(ax, "y", ydim, np.asarray(y, float))
    mesh = ax.pcolormesh(xv, yv, z, shading="nearest", norm=norm, cmap=cmap, rasterized=True)
    vmax = float(np.max(np.abs(z)))
    if vmax > 0 and min(z.shape) > 2:
        levels = np.array([0.1, 0.3, 0.5, 0.7, 0.9]) * vmax
        ax.contour(xv, yv, z, levels=levels, colors="k", linewidths=0.4)
        if np.min(z) < -0.1 * vmax:
            ax.contour(xv, yv, z, levels=-levels[::-1], colors="k", linewidths=0.4,
                       linestyles="dashed")
    return mesh


def residuals_panel(ax, result: Result) -> None:
    """Residuals / sigma: points against the delay (1-D) or an image over the increments."""
    r = result.residuals
    rms = float(np.sqrt(np.mean(r**2)))
    if r.ndim == 1:
        d = result.dims[0]
        t = result.t[0]
        ax.axhspan(-2, 2, color="0.9", lw=0)
        ax.plot(t, r, ".", ms=3, color="k")
        ax.set_xlabel(plain(f"{d.t_name} / {d.t_unit}" if d.t_unit else d.t_name))
        if np.all(t > 0):
            ax.set_xscale("log")
        ax.set_ylabel("residual / σ")
    else:
        flat = r.reshape(r.shape[0], -1)
        rows = np.arange(flat.shape[0])
        last = result.dims[-1]
        segs: list[tuple[int, int]] = []
        if r.ndim == 2 and last.unit == "ppm":
            # one column per kept point, regions separated by lines, labelled by ppm range
            ppm = np.asarray(result.t[-1], float)
            order = np.argsort(-ppm, kind="stable")  # high ppm on the left
            segs = ppm_segments(ppm[order])
        if r.ndim == 2 and last.unit == "ppm" and len(segs) == 1:
            im = ax.pcolormesh(ppm, rows, flat, shading="nearest", cmap="RdBu_r",
                               vmin=-3, vmax=3, rasterized=True)
            ax.set_xlim(float(np.max(ppm)), float(np.min(ppm)))
            ax.set_xlabel("δ / ppm")
        elif r.ndim == 2 and last.unit == "ppm":
            im = ax.pcolormesh(np.arange(ppm.size), rows, flat[:, order], shading="nearest",
                               cmap="RdBu_r", vmin=-3, vmax=3, rasterized=True)
            for a, _ in segs[1:]:
                ax.axvline(a - 0.5, color="k", lw=0.8)
            ax.set_xticks([(a + b - 1) / 2 for a, b in segs])
            ax.set_xticklabels([f"{ppm[order][a]:.2f}–{ppm[order][b - 1]:.2f}" for a, b in segs])
            ax.set_xlabel("δ / ppm (signal regions only)")
        else:
            im = ax.pcolormesh(np.arange(flat.shape[1]), rows, flat, shading="nearest",
                               cmap="RdBu_r", vmin=-3, vmax=3, rasterized=True)
            ax.set_xlabel(plain(f"{result.dims[1].t_name} increment") if r.ndim == 2
                          else "data point (later dimensions flattened)")
        from matplotlib.ticker import MaxNLocator

        ax.invert_yaxis()
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(plain(f"{result.dims[0].t_name} increment"))
        ax.figure.colorbar(im, ax=ax, label="residual / σ", fraction=0.04, pad=0.01)
    ax.set_title(f"residuals (rms {rms:.2f} σ)", loc="left")


def _slices(result: Result, axis: int, max_panels: int = 12) -> list[tuple[str, np.ndarray]]:
    """(title, summed g) per panel along an identity axis."""
    g = np.moveaxis(result.g, axis, -1)
    dim, tau = result.dims[axis], result.tau[axis]
    energy = np.sum(np.abs(g), axis=tuple(range(g.ndim - 1)))
    panels = []
    if dim.name == "shift":
        # one panel per region of the (gapped) ppm axis, split further where it is empty
        for s0, s1 in ppm_segments(tau):
            keep = np.zeros(tau.size, bool)
            keep[s0:s1] = energy[s0:s1] > 0.05 * float(energy.max() or 1.0)
            for a, b in true_runs(keep):
                hi, lo = max(tau[a], tau[b - 1]), min(tau[a], tau[b - 1])
                title = f"δ {hi:.2f}–{lo:.2f} ppm" if b - a > 1 else f"δ {lo:.2f} ppm"
                panels.append((hi, title, g[..., a:b].sum(axis=-1)))
        panels.sort(key=lambda p: -float(np.sum(np.abs(p[2]))))
        panels = sorted(panels[:max_panels], key=lambda p: -p[0])  # high ppm first
        return [(title, z) for _, title, z in panels]
    idx = np.unique(np.linspace(0, tau.size - 1, min(tau.size, max_panels)).round().astype(int))
    label = plain(f"{dim.name} {{:.4g}} {dim.unit}".strip())
    return [(label.format(tau[i]), g[..., i]) for i in idx]


def _title(source: str) -> str:
    """Figure title: the experiment folder, with its parent for numbered Bruker EXPNOs."""
    path = Path(source)
    if path.name.isdigit() and path.parent.name:
        return f"{path.parent.name}/{path.name}"
    return path.name or str(source)


def _figure(width_mm: float, height_mm: float, aspect: float):
    """An empty Figure ``width_mm`` wide; ``height_mm`` 0 means ``aspect`` times the width."""
    from matplotlib.figure import Figure

    w = width_mm / MM_PER_INCH
    return Figure(figsize=(w, height_mm / MM_PER_INCH or w * aspect), layout="constrained")


def figure_1d(result: Result, norm, cmap, width_mm: float, height_mm: float):
    """One inverted dimension (others summed): the signed distribution as a filled line."""
    fig = _figure(width_mm, height_mm, 0.75)
    gs = fig.add_gridspec(2, 1, height_ratios=[3, 1.4])
    ax = fig.add_subplot(gs[0])
    g = result.g
    inv = [i for i, d in enumerate(result.dims) if d.inverted]
    i = inv[0] if inv else 0
    z = np.moveaxis(g, i, 0).reshape(g.shape[i], -1).sum(-1)
    label, f = axis_label(result.dims[i])
    x = result.tau[i] * f
    ax.plot(x, z, color="k")
    for where, colour in ((z >= 0, "tab:red"), (z < 0, "tab:blue")):
        ax.fill_between(x, z, where=where, interpolate=True, color=colour, alpha=0.35, lw=0)
    ax.axhline(0, color="0.6", lw=0.5)
    ax.set_xlabel(label)
    if result.dims[i].inverted:
        ax.set_xscale("log")
    ax.set_ylabel("amplitude")
    residuals_panel(fig.add_subplot(gs[1]), result)
    return fig


def figure_map(result: Result, norm, cmap, width_mm: float, height_mm: float):
    """Two inverted dimensions: a map on log axes with the projections along both axes."""
    fig = _figure(width_mm, height_mm, 1.15)
    gs = fig.add_gridspec(3, 2, width_ratios=[4, 1], height_ratios=[1, 4, 1.6])
    yi, xi = [i for i, d in enumerate(result.dims) if d.inverted]
    z = result.g if yi < xi else result.g.T
    main = fig.add_subplot(gs[1, 0])
    mesh = _map(main, result.tau[xi], result.tau[yi], z, result.dims[xi], result.dims[yi],
                norm, cmap)
    top = fig.add_subplot(gs[0, 0], sharex=main)
    right = fig.add_subplot(gs[1, 1], sharey=main)
    _, xf = axis_label(result.dims[xi])
    _, yf = axis_label(result.dims[yi])
    top.plot(result.tau[xi] * xf, z.sum(axis=0), color="k")
    top.axhline(0, color="0.6", lw=0.5)
    top.tick_params(labelbottom=False)
    top.set_ylabel("projection")
    right.plot(z.sum(axis=1), result.tau[yi] * yf, color="k")
    right.axvline(0, color="0.6", lw=0.5)
    right.tick_params(labelleft=False)
    right.set_xlabel("projection")
    fig.colorbar(mesh, ax=right, label="amplitude")
    residuals_panel(fig.add_subplot(gs[2, :]), result)
    return fig


def figure_pseudo2d(result: Result, norm, cmap, width_mm: float, height_mm: float):
    """One inverted dimension x chemical shift (or another identity axis): one map panel
    per signal region, sharing the T axis, widths following the ppm spans."""
    from matplotlib.ticker import MaxNLocator

    fig = _figure(width_mm, height_mm, 0.85)
    gs = fig.add_gridspec(2, 1, height_ratios=[3, 1.4])
    g = result.g
    ti = next(i for i, d in enumerate(result.dims) if d.inverted)
    xi = next(i for i, d in enumerate(result.dims) if not d.inverted)
    z = np.moveaxis(g, [ti, xi], [0, 1]).reshape(g.shape[ti], g.shape[xi], -1).sum(-1)
    x = np.asarray(result.tau[xi], float)
    segs = ppm_segments(x) if result.dims[xi].unit == "ppm" else [(0, x.size)]
    segs.sort(key=lambda ab: -float(x[ab[0]: ab[1]].max()))  # high ppm on the left
    spans = [max(float(np.ptp(x[a:b])), 1e-9) for a, b in segs]
    widths = [max(sp, 0.12 * sum(spans)) for sp in spans]
    top = gs[0].subgridspec(1, len(segs), width_ratios=widths, wspace=0.04)
    axes = []
    for k, (a, b) in enumerate(segs):
        ax = fig.add_subplot(top[0, k], sharey=axes[0] if axes else None)
        mesh = _map(ax, x[a:b], result.tau[ti], z[:, a:b], result.dims[xi], result.dims[ti],
                    norm, cmap)
        if k:
            ax.tick_params(labelleft=False)
            ax.set_ylabel("")
        if len(segs) > 1 and k != len(segs) // 2:
            ax.set_xlabel("")
        ax.xaxis.set_major_locator(MaxNLocator(3))
        axes.append(ax)
    fig.colorbar(mesh, ax=axes, label="amplitude")
    residuals_panel(fig.add_subplot(gs[1]), result)
    return fig


def figure_slices(result: Result, norm, cmap, width_mm: float, height_mm: float):
    """Two inverted dimensions x an identity axis: a grid of maps, one per signal region
    (summed over it) or per temperature/index value."""
    inv = [i for i, d in enumerate(result.dims) if d.inverted]
    idn = [i for i, d in enumerate(result.dims) if not d.inverted]
    panels = _slices(result, idn[0])
    ncol = min(4, max(1, len(panels)))
    nrow = -(-len(panels) // ncol) if panels else 1
    fig = _figure(width_mm, height_mm, 0.95 * nrow / ncol + 0.3)
    gs = fig.add_gridspec(nrow + 1, ncol, height_ratios=[1] * nrow + [0.9])
    yi, xi = inv
    mesh = None
    for k, (title, z) in enumerate(panels):
        ax = fig.add_subplot(gs[k // ncol, k % ncol])
        z2 = z if yi < xi else z.T
        mesh = _map(ax, result.tau[xi], result.tau[yi], z2, result.dims[xi], result.dims[yi],
                    norm, cmap)
        ax.set_title(title)
    if mesh is not None:
        fig.colorbar(mesh, ax=fig.axes, label="amplitude", shrink=0.6)
    residuals_panel(fig.add_subplot(gs[nrow, :]), result)
    return fig


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
):
    """Build the figure for a result, the layout chosen by its dimensions (see the module
    docstring); returns a matplotlib Figure."""
    import matplotlib

    g = result.g
    n_inv = sum(d.inverted for d in result.dims)
    has_identity = n_inv < len(result.dims)
    signed = bool(np.min(g) < -0.02 * float(np.max(np.abs(g)) or 1.0))
    norm, cmap = _norm(g, signed, cmap_signed, cmap_positive)
    if n_inv == 2 and has_identity:
        layout = figure_slices
    elif n_inv == 2:
        layout = figure_map
    elif n_inv == 1 and has_identity:
        layout = figure_pseudo2d
    else:
        layout = figure_1d
    with matplotlib.rc_context(_style(font_size)):
        fig = layout(result, norm, cmap, width_mm, height_mm)
        fig.suptitle(_title(result.source), fontsize=font_size, parse_math=False)
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
    **_ignored: Any,
) -> list[Path]:
    """Render the result's figure into ``outdir/<basename>.<format>`` (atomically).

    Parameters
    ----------
    result : Result
        From :func:`nmrilt.pipeline.run` or :func:`nmrilt.output.read_result`.
    outdir : path
        Existing folder.
    formats : sequence of str
        Any of ``png``, ``pdf``, ``svg``.
    width_mm, height_mm : float
        Figure size in millimetres (height 0: from the layout).
    font_size : float
        Base font size in points.
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    import matplotlib

    fig = make_figure(result, width_mm, height_mm, font_size, cmap_signed, cmap_positive)
    paths = []
    with matplotlib.rc_context(_style(font_size)):
        for fmt in formats:
            path = Path(outdir) / f"{basename}.{fmt}"
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format=fmt, dpi=dpi)  # Figure() renders with Agg / vector
            paths.append(path)
    return paths
