"""One chemical-shift axis for many signal regions: the regions laid side by side on a
compressed coordinate (gaps between them removed), for pseudo-2D maps of real spectra with
more regions than side-by-side panels can hold legibly.

Each region keeps its own linear ppm scale (decreasing to the right); a region's width is
its number of inverted points, at least :data:`MIN_FRACTION` of the axis so that a
one-point region stays visible.  Tick labels are thinned so that none overlap at the
figure's width: every region first gets its centre labelled (the widest regions first),
then wide regions get inner ticks at round ppm values where room is left.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Smallest width of one region, as a fraction of the whole axis.
MIN_FRACTION = 0.025
#: Gap between neighbouring regions, as a fraction of the whole axis.
GAP_FRACTION = 0.008
#: Width of one character of a tick label, in units of the font size (digits and '.').
_CHAR_EM = 0.6
_MM_PER_POINT = 25.4 / 72.0


@dataclass(frozen=True)
class CompressedShiftAxis:
    """Placement of ppm segments on one axis.

    Attributes
    ----------
    ppm : list of numpy.ndarray
        ppm values of each segment, high ppm segment first.
    starts, widths : numpy.ndarray
        Left end and width of each segment on the compressed coordinate (the axis runs
        from 0 to 1).
    """

    ppm: list[np.ndarray]
    starts: np.ndarray
    widths: np.ndarray

    @classmethod
    def from_segments(cls, ppm: list[np.ndarray]) -> CompressedShiftAxis:
        """Place ``ppm`` segments (given high ppm first) from left to right."""
        n = len(ppm)
        points = np.array([max(v.size, 1) for v in ppm], float)
        room = 1.0 - GAP_FRACTION * (n - 1)
        small = np.zeros(n, bool)
        for _ in range(n):  # the widened small regions are paid for by the large ones
            share = np.where(small, MIN_FRACTION, 0.0)
            rest = room - share.sum()
            share[~small] = points[~small] / points[~small].sum() * rest if rest > 0 else 0
            grown = ~small & (share < MIN_FRACTION)
            if not grown.any() or rest <= 0:
                break
            small |= grown
        if rest <= 0:  # too many regions for the minimum: equal widths
            share = np.full(n, room / n)
        starts = np.concatenate([[0.0], np.cumsum(share + GAP_FRACTION)[:-1]])
        return cls([np.asarray(v, float) for v in ppm], starts, share)

    def positions(self, k: int) -> np.ndarray:
        """Compressed coordinates of segment ``k``'s points (cell centres)."""
        return self.to_axis(k, self.ppm[k])

    def edges(self, k: int) -> np.ndarray:
        """Cell edges of segment ``k``'s points: midpoints between neighbours, the segment's
        ends outside (a one-point segment fills its whole width)."""
        u = self.positions(k)
        mid = 0.5 * (u[1:] + u[:-1])
        ends = [self.starts[k], self.starts[k] + self.widths[k]]
        if u.size > 1 and u[0] > u[-1]:  # points given in increasing ppm
            ends.reverse()
        return np.concatenate([[ends[0]], mid, [ends[1]]])

    def to_axis(self, k: int, ppm: float | np.ndarray) -> np.ndarray:
        """The compressed coordinate(s) of ``ppm`` inside segment ``k``."""
        v, ppm = self.ppm[k], np.asarray(ppm, float)
        if v.size == 1:
            return np.full(ppm.shape, self.starts[k] + 0.5 * self.widths[k])
        hi, lo = float(v.max()), float(v.min())
        step = (hi - lo) / (v.size - 1)
        # a cell of half a step each side of the end points fills the width
        return self.starts[k] + self.widths[k] * (hi + 0.5 * step - ppm) / (hi - lo + step)

    def separators(self) -> np.ndarray:
        """Compressed coordinates of the gaps between segments (where a line is drawn)."""
        return self.starts[1:] - 0.5 * GAP_FRACTION

    def ticks(self, axis_mm: float, font_pt: float) -> tuple[list[float], list[str]]:
        """Tick positions and labels that do not overlap on an axis ``axis_mm`` long with
        labels of ``font_pt`` points: segment centres (widest first), then round inner
        values of the wide segments."""
        steps = [float(np.median(np.abs(np.diff(v)))) for v in self.ppm if v.size > 1]
        step = float(np.median(steps)) if steps else 0.01
        decimals = 2 if step < 0.02 else 1 if step < 0.2 else 0  # what the points resolve
        candidates: list[tuple[float, str]] = []
        for k in np.argsort(-self.widths, kind="stable"):
            v = self.ppm[int(k)]
            centre = 0.5 * (float(v.max()) + float(v.min()))
            candidates.append((float(self.to_axis(int(k), centre)), f"{centre:.{decimals}f}"))
        for k in np.argsort(-self.widths, kind="stable"):
            v = self.ppm[int(k)]
            if v.size < 3:
                continue
            for t in _round_values(float(v.min()), float(v.max())):
                candidates.append((float(self.to_axis(int(k), t)), f"{t:.{decimals}f}"))
        char = _CHAR_EM * font_pt * _MM_PER_POINT / max(axis_mm, 1.0)
        room = 1.5 / max(axis_mm, 1.0)  # space between two labels
        taken: list[tuple[float, str]] = []
        for pos, text in candidates:
            if not 0.0 <= pos <= 1.0:
                continue
            if all(abs(pos - p) >= 0.5 * (len(text) + len(t)) * char + room for p, t in taken):
                taken.append((pos, text))
        taken.sort()
        return [p for p, _ in taken], [t for _, t in taken]


def _round_values(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round ppm values strictly inside (lo, hi), about ``count`` of them."""
    from matplotlib.ticker import MaxNLocator

    margin = 0.1 * (hi - lo)
    values = MaxNLocator(count).tick_values(lo, hi)
    return [float(t) for t in values if lo + margin <= t <= hi - margin]
