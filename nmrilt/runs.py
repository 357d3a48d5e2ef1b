"""Index runs: consecutive True values of a mask, evenly spaced stretches of a ppm axis.

Shared by processing (signal regions) and output (components, figure panels); numpy only.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index ranges of consecutive True values."""
    m = np.concatenate([[False], mask, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(m))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def ppm_segments(ppm: np.ndarray) -> list[tuple[int, int]]:
    """Split a chemical-shift axis at its gaps: half-open index ranges of evenly spaced runs.

    The default processing keeps only the signal regions of the spectrum, so the axis
    jumps between regions; figures draw one panel per run rather than stretch cells over
    the empty stretches, and components are thresholded per run.
    """
    ppm = np.asarray(ppm, float)
    if ppm.size < 3:
        return [(0, ppm.size)]
    step = np.abs(np.diff(ppm))
    gap = step > 1.5 * float(np.median(step))
    cuts = [0] + [int(i) + 1 for i in np.flatnonzero(gap)] + [ppm.size]
    return list(pairwise(cuts))
