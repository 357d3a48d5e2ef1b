"""The chemical-shift dimension: keep signal regions as points, sum ranges, or sum all."""

from __future__ import annotations

import numpy as np

from ..config import ProcessingSettings
from ..errors import ProcessingError

#: ``max_shift_points = "auto"``: at most this many data values (increments x kept
#: chemical-shift columns) reach the solver.  12 x 12 x 32: the README's pseudo-3D example
#: then runs in ~15 s on a 2-core machine; a pseudo-2D example keeps every point (~4 s).
SHIFT_DATA_BUDGET = 4608
#: ``max_shift_points = "auto"`` never keeps fewer than this many chemical-shift columns.
MIN_AUTO_SHIFT_POINTS = 16


def shift_dimension(
    real: np.ndarray, ppm: np.ndarray, mask: np.ndarray, regions: list[tuple[int, int]],
    s: ProcessingSettings, choices: dict,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Collapse or crop the spectral axis; return (data, ppm axis or None, points per entry).

    ``mask`` (wide signal mask) sets the auto crop of ``sum`` mode; ``regions`` (tight
    signal regions, :func:`signal_regions`) the points kept in ``points`` mode.
    """
    mode = s.shift_mode
    if mode == "regions":
        cols, centres, counts, ranges = [], [], [], []
        for a, b in s.regions:
            lo, hi = sorted((a, b))
            sel = (ppm >= lo) & (ppm <= hi)
            if not sel.any():
                raise ProcessingError(
                    f"processing.regions: [{a}, {b}] ppm lies outside the spectrum "
                    f"({ppm.min():.2f}..{ppm.max():.2f} ppm)"
                )
            cols.append(real[..., sel].sum(axis=-1))
            centres.append(float(ppm[sel].mean()))
            counts.append(int(sel.sum()))
            ranges.append([lo, hi])
        choices["shift"] = {"mode": "regions", "ranges_ppm": ranges, "points": counts}
        data = np.stack(cols, axis=-1)
        return data, np.array(centres), np.array(counts, float)
    no_signal = ProcessingError(
        f"no signal above {s.signal_threshold:g} noise sigmas in the spectrum: "
        "set processing.crop = [ppm_a, ppm_b] or lower processing.signal_threshold"
    )
    if s.crop != "auto":
        lo, hi = sorted(s.crop)
        idx = np.flatnonzero((ppm >= lo) & (ppm <= hi))
        if idx.size == 0:
            raise ProcessingError(f"processing.crop {list(s.crop)} ppm selects no point")
        segments = [(int(idx[0]), int(idx[-1]) + 1)]
    elif mode == "sum":
        if not mask.any():
            raise no_signal
        idx = np.flatnonzero(mask)
        segments = [(int(idx[0]), int(idx[-1]) + 1)]
    else:
        if not regions:
            raise no_signal
        segments = list(regions)
    if mode == "sum":
        i0, i1 = segments[0]
        crop_ppm = [float(ppm[i0]), float(ppm[i1 - 1])]
        choices["shift"] = {"mode": "sum", "crop_ppm": crop_ppm, "points": i1 - i0}
        data = real[..., i0:i1].sum(axis=-1)
        return data, None, np.array([float(i1 - i0)])
    npts = sum(b - a for a, b in segments)
    increments = int(np.prod(real.shape[:-1]))
    if s.max_shift_points == "auto":
        limit = max(MIN_AUTO_SHIFT_POINTS, SHIFT_DATA_BUDGET // max(increments, 1))
    else:
        limit = int(s.max_shift_points)
    factor = int(np.ceil(npts / limit)) if limit and npts > limit else 1
    cols, axis, counts = [], [], []
    for a, b in segments:  # neighbours are summed within a region, never across a gap
        for k in range(a, b, factor):
            e = min(b, k + factor)
            cols.append(real[..., k:e].sum(axis=-1))
            axis.append(float(ppm[k:e].mean()))
            counts.append(e - k)
    choices["shift"] = {
        "mode": "points",
        "crop": "given" if s.crop != "auto" else "auto (signal regions)",
        "regions_ppm": [[round(float(ppm[a]), 4), round(float(ppm[b - 1]), 4)]
                        for a, b in segments],
        "crop_ppm": [float(ppm[segments[0][0]]), float(ppm[segments[-1][1] - 1])],
        "points_in_regions": int(npts), "max_shift_points": limit,
        "cap_rule": (f"auto: {SHIFT_DATA_BUDGET} data values / {increments} increments"
                     if s.max_shift_points == "auto" else "given"),
        "summed_neighbours": factor, "points_kept": len(axis),
    }
    return np.stack(cols, axis=-1), np.array(axis), np.array(counts, float)
