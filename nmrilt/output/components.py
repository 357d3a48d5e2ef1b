"""Components of a distribution: connected same-sign blobs of ``g`` with their integrals."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..model import Result
from ..runs import ppm_segments, true_runs

__all__ = ["SUPPORT_FRACTION", "components", "ppm_segments", "true_runs"]


#: A point belongs to a component when ``|g|`` exceeds this fraction of ``max|g|``.
SUPPORT_FRACTION = 0.05


def components(
    result: Result, threshold: float = 0.15, with_minor: bool = False
) -> list[dict[str, Any]] | tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Connected same-sign components of ``g``, the minor ones left out.

    A component is a connected set of same-sign points with ``|g|`` above
    :data:`SUPPORT_FRACTION` (5 %) of ``max|g|`` of its chemical-shift region (a run of the
    ppm axis between gaps, see :func:`ppm_segments`), so weak lines
    count.  It is *listed* when its ``|integral|`` reaches ``threshold`` (default 15 %) of
    the largest ``|integral|`` in its group: the same chemical-shift region and the same
    slice of any other identity axis (summed region, temperature, index); the whole map
    when there is no identity axis.
    Signs are kept: negative components are real in inversion-recovery-like or exchange
    data; the threshold is what keeps regularisation ripples (typically a few per cent,
    negative next to a strong positive peak) out of ``peaks.csv``.

    Components connect across inverted dimensions and along a chemical-shift point axis;
    other identity dimensions (regions, temperatures, indices) are separated slice by slice.
    The integral counts the component's points above the support level only, so broad peaks
    lose their low flanks (10-20 % in the examples); for amplitudes, sum ``g * scale`` over
    a region of ``result.h5`` instead.

    Parameters
    ----------
    result : Result
    threshold : float
        Fraction of the strongest component of the same region a component must reach.
    with_minor : bool
        Also return the components left out.

    Returns
    -------
    list of dict, or (listed, minor) when ``with_minor``
        Sorted by decreasing ``|integral|``; keys ``sign``, ``integral`` (spectrum units,
        ``sum(g * scale)``), ``fraction`` (of the total ``|integral|``), ``group`` (the
        threshold group: ppm-region index, then the slice index along any other identity
        axis, joined by ``/``), and per dimension ``<name>_mean_log10_<unit>`` and
        ``<name>_<unit>`` (geometric mean) for inverted dimensions or ``<name>_<unit>``
        (weighted mean position) for identity ones.
    """
    from scipy import ndimage

    g = np.asarray(result.g, float)
    gs = g * np.broadcast_to(result.scale, g.shape) if result.scale.size > 1 else g * result.scale
    peak = float(np.max(np.abs(g))) if g.size else 0.0
    if peak == 0.0:
        return ([], []) if with_minor else []
    structure = ndimage.generate_binary_structure(g.ndim, g.ndim)
    for ax, d in enumerate(result.dims):
        if not d.inverted and d.name != "shift":
            sl = [slice(None)] * g.ndim
            sl[ax] = [0, 2]
            structure[tuple(sl)] = False
    total = float(np.sum(np.abs(gs)))
    shift_ax = next((i for i, d in enumerate(result.dims) if d.name == "shift"), None)
    segments = ppm_segments(result.tau[shift_ax]) if shift_ax is not None else [(0, 1)]
    comps = []
    for region, (a, b) in enumerate(segments):
        sl = [slice(None)] * g.ndim
        if shift_ax is not None:
            sl[shift_ax] = slice(a, b)
        gr, gsr = g[tuple(sl)], gs[tuple(sl)]
        taus = [tau[a:b] if i == shift_ax else tau for i, tau in enumerate(result.tau)]
        level = SUPPORT_FRACTION * float(np.max(np.abs(gr)))  # per region: weak lines count
        if level == 0.0:
            continue
        for sign in (1, -1):
            labels, n = ndimage.label(sign * gr > level, structure=structure)
            for lab in range(1, n + 1):
                sel = labels == lab
                w = np.abs(gr) * sel
                wsum = w.sum()
                row: dict[str, Any] = {"sign": "+" if sign > 0 else "-",
                                       "integral": float(gsr[sel].sum())}
                row["fraction"] = abs(row["integral"]) / total if total else 0.0
                for ax, (d, tau) in enumerate(zip(result.dims, taus)):
                    marg = w.sum(axis=tuple(i for i in range(g.ndim) if i != ax))
                    unit = d.unit.replace("^", "").replace("/", "_per_") or "index"
                    if d.inverted:
                        mlog = float(np.sum(marg * np.log10(tau)) / wsum)
                        row[f"{d.name}_mean_log10_{unit}"] = mlog
                        row[f"{d.name}_{unit}"] = 10.0**mlog
                    else:
                        row[f"{d.name}_{unit}"] = float(np.sum(marg * tau) / wsum)
                # threshold group: the ppm region, and the slice of any other identity axis
                # (summed regions, temperatures, indices; components never span slices)
                key = [region]
                for ax, d in enumerate(result.dims):
                    if not d.inverted and ax != shift_ax:
                        other = tuple(i for i in range(g.ndim) if i != ax)
                        key.append(int(np.flatnonzero(sel.any(axis=other))[0]))
                row["group"] = "/".join(str(k) for k in key)
                comps.append(row)
    comps.sort(key=lambda r: -abs(r["integral"]))
    strongest: dict[str, float] = {}
    for r in comps:
        strongest[r["group"]] = max(strongest.get(r["group"], 0.0), abs(r["integral"]))
    listed = [r for r in comps if abs(r["integral"]) >= threshold * strongest[r["group"]]]
    minor = [r for r in comps if abs(r["integral"]) < threshold * strongest[r["group"]]]
    for i, r in enumerate(listed, 1):
        r["component"] = i
    return (listed, minor) if with_minor else listed
