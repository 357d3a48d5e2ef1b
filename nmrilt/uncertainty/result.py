"""Noise resampling of a finished :class:`~nmrilt.model.Result`: how many resamples the
time budget allows, the intervals of the listed components, and their ``peaks.csv``
columns."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..model import Result, Uncertainty
from ..output.components import components, unit_tag
from .resampling import IntervalEstimate, resample_intervals

__all__ = ["AUTO_RESAMPLES", "MIN_AUTO_RESAMPLES", "interval_columns", "plan_resamples",
           "uncertainty_columns", "uncertainty_of"]

#: Resamples of ``resamples = "auto"`` when the budget allows them all.
AUTO_RESAMPLES = 40
#: Below this many, ``"auto"`` skips resampling (intervals from fewer are too ragged).
MIN_AUTO_RESAMPLES = 20

METHOD = ("noise resampling ({n} inversions from scratch, seed {seed}): half about the fit, "
          "half about the components sharpened by the inversion's own broadening; "
          "{pct:g} % intervals = union of the two bias-corrected intervals")


def plan_resamples(
    resamples: str | int, inversion_s: float, budget: float, workers: int | None = None
) -> tuple[int, str]:
    """How many resamples to run, and why.

    ``resamples`` an integer: that many (0: none).  ``"auto"``: :data:`AUTO_RESAMPLES`,
    or as many as fit in ``budget`` times the inversion time on ``workers`` parallel
    processes (default: the cores), none when fewer than :data:`MIN_AUTO_RESAMPLES` fit.

    Returns
    -------
    (n, why)
        ``why`` is one line for report.txt.
    """
    if resamples != "auto":
        n = int(resamples)
        return n, f"{n} resamples asked" if n else "off (uncertainty.resamples = 0)"
    cores = workers or os.cpu_count() or 1
    # each resample costs about one inversion; the budget covers them plus the
    # noise-free inversion of the collapsed model
    fits = math.floor(budget * cores) - 1
    n = min(AUTO_RESAMPLES, fits - fits % 2)
    if n < MIN_AUTO_RESAMPLES:
        est = (AUTO_RESAMPLES + 1) * inversion_s / cores
        return 0, (f"off: {AUTO_RESAMPLES} resamples would take about {est:.0f} s on {cores} "
                   f"core(s), more than uncertainty.budget = {budget:g} x the inversion time; "
                   f"`--uncertainty {AUTO_RESAMPLES}` runs them")
    return n, f"auto: {n} resamples fit in {budget:g} x the inversion time on {cores} cores"


def interval_columns(
    result: Result, estimate: IntervalEstimate
) -> list[dict[str, float]]:
    """The ``peaks.csv`` columns of each component's intervals (SI units in the names)."""
    pct = f"{100 * estimate.level:g}".replace(".", "p")
    inverted = [d for d in result.dims if d.inverted]
    rows = []
    for lo, hi in zip(estimate.low, estimate.high):
        row: dict[str, float] = {}
        for k, d in enumerate(inverted):
            unit = unit_tag(d.unit)
            row[f"{d.name}_logmean_ci{pct}_low_{unit}"] = float(10.0 ** lo[k])
            row[f"{d.name}_logmean_ci{pct}_high_{unit}"] = float(10.0 ** hi[k])
        row[f"integral_ci{pct}_low_au"] = float(lo[-1])
        row[f"integral_ci{pct}_high_au"] = float(hi[-1])
        rows.append(row)
    return rows


def uncertainty_of(
    result: Result, options: Mapping[str, Any], n_resamples: int, level: float = 0.95,
    seed: int = 0, threshold: float = 0.15, executor: Any = None, progress: bool = False,
) -> Uncertainty:
    """Intervals of the components listed in ``peaks.csv`` and a standard-deviation map.

    Parameters
    ----------
    result : Result
    options : mapping
        The solver options the result was inverted with (``Settings.inversion``).
    n_resamples, level, seed, executor, progress
        As for :func:`nmrilt.uncertainty.resample_intervals`.
    threshold : float
        ``output.peak_threshold``: which components are listed.
    """
    listed: Sequence[dict[str, Any]] = components(result, threshold)  # type: ignore[assignment]
    masks = [c["_mask"] for c in listed]
    labels = np.zeros(result.g.shape, np.int32)
    for k, mask in enumerate(masks, 1):
        labels[mask] = k
    inv = result.inversion
    estimate = resample_intervals(
        inv.fit, inv.g, float(inv.stats.get("alpha_00_used", options.get("alpha_00", 1.0))),
        np.asarray(result.scale, float), masks, inv.t, inv.tau, list(inv.kernels),
        options, n_resamples, level, seed, executor, progress,
        relabel=lambda g: _all_components(result, g))
    return Uncertainty(
        g_std=estimate.g_std, labels=labels, columns=tuple(interval_columns(result, estimate)),
        n_resamples=estimate.n_resamples, level=level, seed=seed,
        elapsed_s=estimate.elapsed_s,
        method=METHOD.format(n=estimate.n_resamples, seed=seed, pct=100 * level))


def _all_components(result: Result, g: np.ndarray) -> list[np.ndarray]:
    """The supports of every component (listed and minor) of ``result`` with ``g``."""
    listed, minor = components(replace(result, inversion=replace(result.inversion, g=g)),
                               with_minor=True)
    return [c["_mask"] for c in (*listed, *minor)]


def uncertainty_columns(result: Result, rows: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Column provider for ``peaks.csv`` (:mod:`nmrilt.output.columns`): each listed
    component's interval columns, matched by its support."""
    unc = result.uncertainty
    if unc is None:
        return [{} for _ in rows]
    names = list(unc.columns[0]) if unc.columns else []
    out = []
    for row in rows:
        ks = unc.labels[row["_mask"]]
        ks = ks[ks > 0]
        k = int(np.bincount(ks).argmax()) if ks.size else 0
        out.append(dict(unc.columns[k - 1]) if k else dict.fromkeys(names, float("nan")))
    return out
