"""Components of a distribution: connected same-sign blobs of ``g`` with their integrals."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..model import Result
from ..runs import ppm_segments, true_runs

__all__ = ["SUPPORT_FRACTION", "components", "coverage", "ppm_segments", "true_runs",
           "unit_tag"]


#: A point belongs to a component when ``|g|`` exceeds this fraction of ``max|g|``.
SUPPORT_FRACTION = 0.05


def unit_tag(unit: str) -> str:
    """A unit as a column-name suffix: ``"m^2/s"`` -> ``"m2_per_s"``, ``""`` -> ``"index"``."""
    return unit.replace("^", "").replace("/", "_per_") or "index"


def _fractions(comps: list[dict[str, Any]]) -> None:
    """Add ``fraction_abs_pct`` and ``fraction_signed_pct`` over all ``comps``."""
    integrals = np.array([c["integral_au"] for c in comps], float)
    tot_abs = float(np.sum(np.abs(integrals)))
    tot = float(np.sum(integrals))
    # a signed share of a near-zero signed total is meaningless: NaN, not +-1e9 %
    signed_ok = tot_abs > 0 and abs(tot) > 1e-9 * tot_abs
    for c, v in zip(comps, integrals):
        c["fraction_abs_pct"] = 100.0 * abs(v) / tot_abs if tot_abs else 0.0
        c["fraction_signed_pct"] = 100.0 * v / tot if signed_ok else float("nan")


def coverage(result: Result, comps: list[dict[str, Any]]) -> float:
    """Share of ``sum |g * scale|`` inside ``comps`` (0..1): what the support level cut."""
    g = np.asarray(result.g, float)
    gs = np.abs(g * np.broadcast_to(result.scale, g.shape))
    total = float(gs.sum())
    if total == 0.0:
        return 0.0
    inside = np.zeros(g.shape, bool)
    for c in comps:
        inside |= c["_mask"]
    return float(gs[inside].sum()) / total


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
        Sorted by decreasing ``|integral|``.  Keys (every unit in the name, SI):

        - ``sign`` (``+``/``-``), ``group`` (the threshold group: ppm-region index, then
          the slice index along any other identity axis, joined by ``/``);
        - ``integral_au``: ``sum(g * scale)`` over the component, spectrum units;
        - ``fraction_abs_pct``: ``100 |integral| / sum |integral|`` and
          ``fraction_signed_pct``: ``100 integral / sum integral``, both sums over *all*
          components (listed and minor), so each column sums to 100 over the two lists
          (the signed one is NaN when the signed sum is below 1e-9 of the absolute one);
        - per inverted dimension ``<name>_logmean_<unit>`` (antilog of the
          ``|g|``-weighted mean of ``log10 tau``: the geometric mean),
          ``<name>_mean_log10_<unit>`` (that mean of ``log10(tau / unit)``) and
          ``<name>_width_decades`` (the ``|g|``-weighted standard deviation of
          ``log10 tau``: 0 for one grid point; a log-normal of sigma ``s`` decades gives
          about ``s`` less the low flanks cut by the support level);
        - ``shift_mean_ppm`` (weighted mean chemical shift) for a chemical-shift point
          axis, ``<name>_<unit>`` (the slice's coordinate) for other identity axes;
        - ``_mask``: boolean array of ``g``'s shape, the component's support (for column
          providers, :mod:`nmrilt.output.columns`; not written).
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
                                       "integral_au": float(gsr[sel].sum())}
                for ax, (d, tau) in enumerate(zip(result.dims, taus)):
                    marg = w.sum(axis=tuple(i for i in range(g.ndim) if i != ax))
                    unit = unit_tag(d.unit)
                    if d.inverted:
                        lt = np.log10(tau)
                        mlog = float(np.sum(marg * lt) / wsum)
                        row[f"{d.name}_logmean_{unit}"] = 10.0**mlog
                        row[f"{d.name}_mean_log10_{unit}"] = mlog
                        var = float(np.sum(marg * (lt - mlog) ** 2) / wsum)
                        row[f"{d.name}_width_decades"] = float(np.sqrt(max(var, 0.0)))
                    elif ax == shift_ax:
                        row[f"{d.name}_mean_{unit}"] = float(np.sum(marg * tau) / wsum)
                    else:  # components never span slices of other identity axes
                        row[f"{d.name}_{unit}"] = float(np.sum(marg * tau) / wsum)
                # threshold group: the ppm region, and the slice of any other identity axis
                # (summed regions, temperatures, indices; components never span slices)
                key = [region]
                for ax, d in enumerate(result.dims):
                    if not d.inverted and ax != shift_ax:
                        other = tuple(i for i in range(g.ndim) if i != ax)
                        key.append(int(np.flatnonzero(sel.any(axis=other))[0]))
                row["group"] = "/".join(str(k) for k in key)
                full = np.zeros(g.shape, bool)
                full[tuple(sl)] = sel
                row["_mask"] = full
                comps.append(row)
    _fractions(comps)
    comps.sort(key=lambda r: -abs(r["integral_au"]))
    strongest: dict[str, float] = {}
    for r in comps:
        strongest[r["group"]] = max(strongest.get(r["group"], 0.0), abs(r["integral_au"]))
    big = [abs(r["integral_au"]) >= threshold * strongest[r["group"]] for r in comps]
    listed = [r for r, b in zip(comps, big) if b]
    minor = [r for r, b in zip(comps, big) if not b]
    for i, r in enumerate(listed, 1):
        r["component"] = i
    return (listed, minor) if with_minor else listed
