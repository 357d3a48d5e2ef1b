"""Benchmark: honesty and cost of the uncertainty intervals (noise resampling).

    python benchmarks/bench_uncertainty.py [--realisations 60] [--resamples 40] [--level 0.9]
        [--example bruker_t1ir_pseudo2d] [--dask] [--skip-coverage]

Coverage: a T2 decay (64 echoes, 1 ms-3 s) with two log-normal components (1.0 at 20 ms,
0.6 at 300 ms, SNR 330) is drawn ``--realisations`` times; each draw is inverted and the
intervals of ``nmrilt.uncertainty.resample_intervals`` are checked against the true
positions and integrals, for sharp (0.08 decades) and broad (0.2 decades) components, and
for resampling about the fit alone (what the intervals would be without the sharpened
model).  Cost: a bundled example (default the pseudo-2D T1) with 40 resamples, serially, on
local worker processes and (``--dask``) on a 2-worker Dask ``LocalCluster``, against its
inversion time; the intervals must be the same on each.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from nmrilt import invert
from nmrilt.distributed import executor
from nmrilt.uncertainty import resample_intervals

T = np.geomspace(1e-3, 3.0, 64)
FINE = np.geomspace(1e-4, 30.0, 400)
SIGMA = 0.003
EXAMPLES = Path(__file__).resolve().parents[1] / "example_datasets"


def _decay(width: float) -> tuple[np.ndarray, np.ndarray]:
    def lognormal(centre: float) -> np.ndarray:
        w = np.exp(-0.5 * ((np.log10(FINE) - np.log10(centre)) / width) ** 2)
        return w / w.sum()

    g = lognormal(0.02) + 0.6 * lognormal(0.3)
    return np.exp(-np.outer(T, 1 / FINE)) @ g, np.array([[np.log10(0.02), 1.0],
                                                         [np.log10(0.3), 0.6]])


def _fit_only(inv, masks, n: int, level: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Intervals from resampling about the fit alone (normal, bias-corrected)."""
    from scipy.stats import t as student

    from nmrilt.uncertainty.statistics import component_statistics

    lt = [np.log10(inv.tau[0])]
    est = component_statistics(inv.g, np.asarray(SIGMA), masks, lt)
    rng = np.random.default_rng(seed)
    errs = np.array([component_statistics(
        invert(inv.fit + rng.standard_normal(T.size), T, tau=inv.tau[0]).g,
        np.asarray(SIGMA), masks, lt) - est for _ in range(n)])
    q = student.ppf(0.5 + level / 2, n - 1)
    mid, sd = est - errs.mean(0), errs.std(0, ddof=1)
    return mid - q * sd, mid + q * sd


def _components(g: np.ndarray) -> list[np.ndarray]:
    """Connected positive runs above 5 % of ``max|g|`` (the draws' own components)."""
    labels, k = ndimage.label(g > 0.05 * np.abs(g).max())
    return [labels == i for i in range(1, k + 1)]


def coverage(width: float, realisations: int, n: int, level: float, fit_only: bool,
             relabel: bool = True) -> str:
    clean, true = _decay(width)
    rng = np.random.default_rng(5)
    hits, widths = [], []
    for r in range(realisations):
        inv = invert((clean + SIGMA * rng.standard_normal(T.size)) / SIGMA, T)
        labels, k = ndimage.label(inv.g > 0.05 * np.abs(inv.g).max())
        if k != 2:
            continue
        masks = [labels == i for i in (1, 2)]
        if fit_only:
            lo, hi = _fit_only(inv, masks, n, level, r)
        else:
            e = resample_intervals(inv.fit, inv.g, inv.stats["alpha_00_used"],
                                   np.asarray(SIGMA), masks, [T], [inv.tau[0]],
                                   ["exponential"], {}, n, level, seed=r,
                                   relabel=_components if relabel else None)
            lo, hi = e.low, e.high
        hits.append((lo <= true) & (true <= hi))
        widths.append(hi - lo)
    rate, w = np.mean(hits, 0), np.mean(widths, 0)
    return (f"{rate[0, 0]:5.0%} {rate[0, 1]:5.0%} {rate[1, 0]:5.0%} {rate[1, 1]:5.0%}   "
            f"mean width: positions {w[0, 0]:.3f}/{w[1, 0]:.3f} decades, integrals "
            f"{w[0, 1]:.3f}/{w[1, 1]:.3f}   ({len(hits)} draws with two components)")


def cost(n: int, example: Path, dask: bool) -> None:
    from nmrilt import config, read
    from nmrilt.model import from_inversion
    from nmrilt.processing import process
    from nmrilt.uncertainty import uncertainty_of

    settings = config.load_settings(example)
    problem = process(read(example, **settings.read_options()), settings)
    t0 = time.perf_counter()
    inv = invert(problem.data, t=list(problem.t), tau=list(problem.tau),
                 kernels=list(problem.kernels))
    t_inv = time.perf_counter() - t0
    result = from_inversion(problem, inv)
    print(f"cost on {example.name} (data {problem.data.shape}): inversion {t_inv:.2f} s")
    runs = [("serial", None), ("local processes", "processes")]
    runs += [("Dask LocalCluster", "local")] if dask else []
    for label, sched in runs:
        with executor(sched, 2 if sched else None) as ex:
            t0 = time.perf_counter()
            unc = uncertainty_of(result, {}, n, executor=ex)
            el = time.perf_counter() - t0
        print(f"  {n} resamples, {label:16s}: {el:6.1f} s = {el / t_inv:5.1f} x the inversion "
              f"(incl. process start-up); 95 % T1 intervals: "
              + ", ".join(f"{c['T1_logmean_ci95_low_s']:.3f}-{c['T1_logmean_ci95_high_s']:.3f} s"
                          for c in unc.columns))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--realisations", type=int, default=60)
    ap.add_argument("--resamples", type=int, default=40)
    ap.add_argument("--level", type=float, default=0.9)
    ap.add_argument("--example", default="bruker_t1ir_pseudo2d")
    ap.add_argument("--dask", action="store_true", help="also on a 2-worker LocalCluster")
    ap.add_argument("--skip-coverage", action="store_true")
    a = ap.parse_args()
    if not a.skip_coverage:
        print(f"coverage of {a.level:.0%} intervals ({a.resamples} resamples): "
              "position 1, integral 1, position 2, integral 2")
        for label, width, fit_only in (("sharp 0.08 decades", 0.08, False),
                                       ("broad 0.2 decades ", 0.2, False),
                                       ("sharp, fit only   ", 0.08, True)):
            print(f"  {label}: "
                  f"{coverage(width, a.realisations, a.resamples, a.level, fit_only)}")
    cost(a.resamples, EXAMPLES / a.example, a.dask)
