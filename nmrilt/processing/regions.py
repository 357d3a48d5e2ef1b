"""Where the signal is: signal mask, tight signal regions, ppm segments, baseline."""

from __future__ import annotations

import numpy as np

from ..runs import true_runs
from .noise import filter_edge_points, robust_sigma

#: Signal regions with less than this fraction of the largest region's area are ignored.
MIN_REGION_FRACTION = 0.05
#: A signal region extends from its peak while the strongest spectrum stays above this
#: fraction of the peak's height (and above ``signal_threshold`` sigmas): +-5 linewidths of a
#: Lorentzian line, 94 % of its area.
REGION_EXTENT_FRACTION = 0.01
#: Points added on each side of every region.
REGION_MARGIN_POINTS = 2
#: A ppm axis is split where a step exceeds this many times the median step.
SEGMENT_GAP_FACTOR = 1.5


def signal_mask(row: np.ndarray, threshold: float) -> np.ndarray:
    """Signal points of a real spectrum: above ``threshold`` sigmas, widened per peak.

    Single-point spikes, the outer 2 % at each edge of the window (digital-filter
    roll-off) and regions holding less than :data:`MIN_REGION_FRACTION` of the area of the
    largest one (DC spikes, artifacts) are not signal.
    """
    sigma = robust_sigma(row)
    if sigma <= 0:
        return np.zeros(row.shape, bool)
    hit = np.abs(row - np.median(row)) > threshold * sigma
    n = row.size
    edge = filter_edge_points(n)
    hit[:edge] = hit[n - edge:] = False
    mask = np.zeros_like(hit)
    for a, b in true_runs(hit):
        if b - a < 2:
            continue
        w = max(2, b - a)
        mask[max(0, a - w): min(n, b + w)] = True
    runs = true_runs(mask)
    areas = [float(np.sum(np.abs(row[a:b]))) for a, b in runs]
    for (a, b), area in zip(runs, areas):
        if area < MIN_REGION_FRACTION * max(areas):
            mask[a:b] = False
    return mask


def signal_regions(
    row: np.ndarray, sigma: float, threshold: float, min_peak_fraction: float = 0.05
) -> list[tuple[int, int]]:
    """Tight signal regions of a real spectrum: half-open index ranges, sorted, disjoint.

    Every local maximum higher than ``threshold * sigma`` and than
    ``min_peak_fraction`` of the highest one opens a region, which extends on both sides
    while the spectrum stays above ``max(threshold * sigma, REGION_EXTENT_FRACTION * height)``
    (a Lorentzian line keeps +-5 linewidths, 94 % of its area), widened by
    :data:`REGION_MARGIN_POINTS`.  Overlapping or touching regions merge; single-point
    spikes and the outer 2 % of the window (filter roll-off) are ignored.
    """
    row = np.asarray(row, float)
    n = row.size
    edge = filter_edge_points(n)
    inner = np.abs(row[edge: n - edge])
    if inner.size < 3 or sigma <= 0:
        return []
    top = float(inner.max())
    floor = max(threshold * sigma, min_peak_fraction * top)
    cand = np.flatnonzero((inner[1:-1] >= inner[:-2]) & (inner[1:-1] >= inner[2:])
                          & (inner[1:-1] > floor)) + 1
    cand = cand[np.argsort(inner[cand])[::-1]] + edge
    mag = np.abs(row)
    covered = np.zeros(n, bool)
    regions = []
    for c in cand:
        if covered[c]:
            continue
        level = max(threshold * sigma, REGION_EXTENT_FRACTION * mag[c])
        a = c
        while a > edge and mag[a - 1] > level:
            a -= 1
        b = c + 1
        while b < n - edge and mag[b] > level:
            b += 1
        if b - a < 2:
            continue
        a, b = max(edge, a - REGION_MARGIN_POINTS), min(n - edge, b + REGION_MARGIN_POINTS)
        covered[a:b] = True
        regions.append((a, b))
    return true_runs(covered)


def subtract_baseline(rows: np.ndarray, free: np.ndarray, order: int) -> np.ndarray:
    n = rows.shape[-1]
    x = np.linspace(-1.0, 1.0, n)
    design = np.vander(x, order + 1)
    coef, *_ = np.linalg.lstsq(design[free], rows[:, free].T, rcond=None)
    return rows - (design @ coef).T
