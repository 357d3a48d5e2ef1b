"""The panels the figure layouts are built of: a map with one global contour scale, the
residuals on physical axes, the spectrum trace and the projections."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..model import Result
from .components import ppm_segments
from .plot_axes import edges, is_log, log_ticks, plain, sampling_label
from .plot_data import CONTOUR_FRACTIONS

#: Residual colour scale: +-3 sigma.
RESIDUAL_LIMIT = 3.0
_RESIDUAL_IMAGE = {"cmap": "RdBu_r", "vmin": -RESIDUAL_LIMIT, "vmax": RESIDUAL_LIMIT,
                   "rasterized": True}


def draw_map(ax, x: np.ndarray, y: np.ndarray, z: np.ndarray, norm, cmap, vmax: float,
             log_x: bool = False, log_y: bool = False, contours: bool = True,
             x_edges: np.ndarray | None = None) -> Any:
    """Coloured map with contours at :data:`CONTOUR_FRACTIONS` of ``vmax`` (the figure's
    one scale, not this panel's maximum); z has shape (len(y), len(x)).  ``contours``
    False for categorical columns (summed regions), which contours would join; ``x_edges``
    where the cells of x are placed by the caller."""
    xe = edges(x, log_x) if x_edges is None else x_edges
    ye = edges(y, log_y)
    mesh = ax.pcolormesh(xe, ye, z, norm=norm, cmap=cmap, rasterized=True)
    if contours and min(z.shape) > 2 and vmax > 0:
        levels = np.asarray(CONTOUR_FRACTIONS) * vmax
        if np.max(z) > levels[0]:
            ax.contour(x, y, z, levels=levels, colors="k", linewidths=0.35)
        if np.min(z) < -levels[0]:
            ax.contour(x, y, z, levels=-levels[::-1], colors="k", linewidths=0.35,
                       linestyles="dashed")
    return mesh


def region_labels(result: Result, axis: int) -> list[str]:
    """Tick labels of a categorical region axis: the ppm range of each summed region."""
    tau = np.asarray(result.tau[axis], float)
    shift = result.parameters.get("choices", {}).get("shift", {})
    ranges = shift.get("regions_ppm") if isinstance(shift, dict) else None
    if isinstance(ranges, list) and len(ranges) == tau.size:
        return [f"{max(a, b):.2f}–{min(a, b):.2f}" for a, b in ranges]
    return [f"{v:.2f}" for v in tau]


def _column_axis(ax, result: Result, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Column order (high ppm first) and positions of an identity axis drawn by index,
    with ppm tick labels and lines between regions; returns (order, positions)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    v = np.asarray(result.tau[axis], float)
    order = np.argsort(-v, kind="stable")
    pos = np.arange(v.size, dtype=float)
    d = result.dims[axis]
    if d.name == "region":
        ax.set_xticks(pos)
        ax.set_xticklabels([region_labels(result, axis)[i] for i in order], rotation=0)
        ax.set_xlabel("summed region / ppm")
    else:
        for a, _ in ppm_segments(v[order])[1:]:
            ax.axvline(a - 0.5, color="k", lw=0.6)
        ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))
        vs = v[order]
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda x, _p: f"{vs[round(x)]:.2f}" if 0 <= round(x) < vs.size else ""))
        ax.set_xlabel("δ / ppm (inverted points)" if d.unit == "ppm" else plain(d.name))
    ax.set_xlim(-0.5, v.size - 0.5)
    return order, pos


def residuals_panel(ax, result: Result, colorbar: bool = True) -> None:
    """Residuals / sigma on physical axes: points against the delay (1-D data), an image
    delay x shift or delay x second delay otherwise; further identity axes are averaged
    and multiplied by sqrt(n), which keeps pure noise at unit variance."""
    r = np.asarray(result.residuals, float)
    note = ""
    rms = float(np.sqrt(np.mean(r**2))) if r.size else 0.0
    d0, t0 = result.dims[0], np.asarray(result.t[0], float)
    ylabel = sampling_label(d0)
    if r.ndim == 1:
        ax.axhspan(-2, 2, color="0.9", lw=0)
        ax.plot(t0, r, ".", ms=2.5, color="k")
        ax.set_xlabel(ylabel)
        if is_log(t0):
            ax.set_xscale("log")
            log_ticks(ax, "x")
        ax.set_ylabel("r / σ")
    else:
        rows = np.argsort(t0, kind="stable")
        log_y = is_log(t0)
        ident = [i for i, d in enumerate(result.dims) if not d.inverted and i > 0]
        inv = [i for i, d in enumerate(result.dims) if d.inverted and i > 0]
        kw = _RESIDUAL_IMAGE
        if inv:  # a second sampled dimension: its delays on x, identity axes averaged
            j = inv[0]
            other = tuple(i for i in range(r.ndim) if i not in (0, j))
            n = int(np.prod([r.shape[i] for i in other])) if other else 1
            img = r.mean(axis=other) * np.sqrt(n) if other else r
            img = img if j == 1 else img.T
            t1 = np.asarray(result.t[j], float)
            cols = np.argsort(t1, kind="stable")
            log_x = is_log(t1)
            im = ax.pcolormesh(edges(t1[cols], log_x), edges(t0[rows], log_y),
                               img[np.ix_(rows, cols)], **kw)
            dj = result.dims[j]
            ax.set_xlabel(sampling_label(dj))
            if log_x:
                ax.set_xscale("log")
                log_ticks(ax, "x")
            note = f"; mean over {n} shifts × √{n}" if n > 1 else ""
        else:  # delay x shift (or region) columns
            j = ident[0]
            flat = np.moveaxis(r, j, 1).reshape(r.shape[0], r.shape[j], -1)
            n = flat.shape[2]
            img = flat.mean(axis=2) * np.sqrt(n)
            note = f"; mean over {n} × √{n}" if n > 1 else ""
            order, pos = _column_axis(ax, result, j)
            im = ax.pcolormesh(edges(pos, False), edges(t0[rows], log_y),
                               img[np.ix_(rows, order)], **kw)
        _delay_axis(ax, t0, ylabel)
        if colorbar:
            ax.figure.colorbar(im, ax=ax, label="r / σ", fraction=0.03, pad=0.01, aspect=10)
    ax.set_title(f"residuals (rms {rms:.2f} σ{note})", loc="left", fontsize="small")


def _delay_axis(ax, t0: np.ndarray, label: str) -> None:
    """The delay (y) axis of a residual image: log scale when it spans decades."""
    if is_log(t0):
        ax.set_yscale("log")
        log_ticks(ax, "y", 3)
    ax.set_ylabel(label)


def residuals_on_shift_axis(ax, cax, result: Result, axes: tuple[int, int],
                            columns: list[tuple]) -> None:
    """Residuals / sigma of a pseudo-2D result on the map's compressed shift axis: delay
    (rows, ``axes[0]``) x the inverted points (``axes[1]``), ``columns`` = (first, stop,
    cell edges) per ppm segment; the colour bar goes inside ``cax`` (an empty cell)."""
    ti, xi = axes
    r = np.moveaxis(np.asarray(result.residuals, float), (ti, xi), (0, 1))
    rms = float(np.sqrt(np.mean(r**2))) if r.size else 0.0
    t0 = np.asarray(result.t[ti], float)
    rows = np.argsort(t0, kind="stable")
    y_edges = edges(t0[rows], is_log(t0))
    im = None
    for a, b, u_edges in columns:
        im = ax.pcolormesh(u_edges, y_edges, r[np.ix_(rows, np.arange(a, b))],
                           **_RESIDUAL_IMAGE)
    _delay_axis(ax, t0, sampling_label(result.dims[ti]))
    ax.set_title(f"residuals (rms {rms:.2f} σ)", loc="left", fontsize="small")
    cax.axis("off")
    bar = cax.inset_axes((0.1, 0.1, 0.08, 0.8))
    ax.figure.colorbar(im, cax=bar, label="r / σ")
    bar.tick_params(labelsize="x-small", length=2)


def spectrum_rows(result: Result, axis: int) -> tuple[np.ndarray, str]:
    """The strongest increment's data along identity ``axis`` (spectrum units) and a label."""
    data = np.moveaxis(np.asarray(result.data, float), axis, -1)
    flat = data.reshape(-1, data.shape[-1])
    k = int(np.argmax(np.sum(np.abs(flat), axis=1)))
    scale = np.broadcast_to(np.moveaxis(np.broadcast_to(result.scale, result.data.shape),
                                        axis, -1).reshape(-1, data.shape[-1])[k], flat[k].shape)
    return flat[k] * scale, f"strongest increment ({k + 1} of {flat.shape[0]})"


def spectrum_trace(ax, x: np.ndarray, y: np.ndarray, bars: bool = False) -> None:
    """The spectrum above a pseudo-2D map: a line through the inverted points (bars for
    summed regions), no y ticks (arbitrary units)."""
    if bars:
        ax.bar(x, y, width=0.6, color="0.35")
    else:
        ax.plot(x, y, "-", color="k", lw=0.8)
        ax.plot(x, y, ".", color="k", ms=2)
    ax.axhline(0, color="0.6", lw=0.4)
    ax.tick_params(labelbottom=False, left=False, labelleft=False)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
