"""Shared runner of the benchmark scripts: runs nmrilt (and ILTpy with ``--vs-iltpy``) on a
case from :mod:`truth` and prints one row per tool.

Peak RSS comes from ``resource.getrusage`` and is the process-wide peak so far: the ILTpy
row (run second) therefore shows ``max(nmrilt, ILTpy)``.  Run without ``--vs-iltpy`` for
nmrilt's own figure.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import Any, Callable

if "--vs-iltpy" in sys.argv:
    # ILTpy's dense K^T K (10240 x 16000 for the seed) segfaults inside multithreaded
    # OpenBLAS with numpy 2.4 on this machine; one thread works.  Must be set before numpy
    # loads.  nmrilt runs with one BLAS thread by default anyway (option blas_threads).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import truth as T


def accuracy(g: np.ndarray, case: dict, per_slice_corr: bool) -> dict[str, Any]:
    logtau = [np.log10(case["tau"][a]) for a in case["inverted_axes"]]
    rep = T.component_report(g, case["truth"], logtau, case["components"], case["slice_axis"])
    out = {
        "components": f"{rep['passed']}/{rep['checked']}",
        "worst_dec": rep["worst_distance"],
        "corr_all": T.pearson(g, case["truth"]),
    }
    if per_slice_corr and case["slice_axis"] is not None:
        c = T.slice_correlations(g, case["truth"], case["slice_axis"])
        out["corr_mean"], out["corr_min"] = float(c.mean()), float(c.min())
        out["corr_slices"] = c
    return out


def run_nmrilt(case: dict, progress: bool, **options: Any) -> dict[str, Any]:
    import nmrilt

    t0 = time.perf_counter()
    res = nmrilt.invert(case["data"], case["t"], case["tau"], case["kernels"],
                        progress=progress, **options)
    wall = time.perf_counter() - t0
    return {
        "tool": "nmrilt", "wall_s": wall, "rss_mb": T.peak_rss_mb(),
        "iterations": res.iterations, "resid_std": float(np.std(res.residuals)),
        "g": res.g, "extra": f"cg={sum(res.stats['cg_iterations'])} {res.stats['solver_path']}",
    }


class _InversionRecovery:  # ILTpy's documented custom-kernel pattern (IltKernel docstring)
    def __new__(cls):
        import iltpy

        class IR(iltpy.IltKernel):
            def __init__(self):
                super().__init__()
                self._name = "inversion_recovery"
                self._kernel = lambda t, tau: 1 - 2 * np.exp(-t / tau)
                self._kernel_str = "lambda t, tau: 1 - 2 * np.exp(-t / tau)"

        return IR()


def run_iltpy(case: dict) -> dict[str, Any] | None:
    try:
        import iltpy
    except ImportError:
        logging.warning("ILTpy is not installed (pip install ilt-py-lib); skipping it")
        return None
    kmap = {"exponential": iltpy.Exponential, "identity": iltpy.Identity,
            "diffusion": iltpy.Diffusion, "inversion_recovery": _InversionRecovery}
    t0 = time.perf_counter()
    d = iltpy.iltload(data=case["data"], t=[np.asarray(t).reshape(-1, 1) for t in case["t"]]
                      if len(case["t"]) > 1 else np.asarray(case["t"][0]).reshape(-1, 1))
    tau = case["tau"] if len(case["tau"]) > 1 else case["tau"][0]
    kernels = [kmap[k]() for k in case["kernels"]]
    d.init(tau, kernel=kernels if len(kernels) > 1 else kernels[0], verbose=0)
    d.invert(verbose=0)
    wall = time.perf_counter() - t0
    g = np.asarray(d.g).reshape(case["truth"].shape)
    resid = np.asarray(d.residuals)
    return {
        "tool": "ILTpy", "wall_s": wall, "rss_mb": T.peak_rss_mb(),
        "iterations": len(getattr(d, "convergence", []) or []),
        "resid_std": float(np.std(resid)), "g": g, "extra": f"iltpy {iltpy.__version__}",
    }


def print_rows(case: dict, rows: list[dict], per_slice_corr: bool) -> None:
    print(f"\n{case['name']}")
    head = (f"{'tool':8s} {'wall_s':>8s} {'peakRSS_MB':>10s} {'iters':>5s} {'resid_std':>9s} "
            f"{'comps':>7s} {'worst_dec':>9s} {'corr_all':>8s}")
    if per_slice_corr and case["slice_axis"] is not None:
        head += f" {'corr_mean':>9s} {'corr_min':>8s}"
    print(head)
    for r in rows:
        acc = accuracy(r["g"], case, per_slice_corr)
        line = (f"{r['tool']:8s} {r['wall_s']:8.3f} {r['rss_mb']:10.0f} {r['iterations']:5d} "
                f"{r['resid_std']:9.3f} {acc['components']:>7s} {acc['worst_dec']:9.3f} "
                f"{acc['corr_all']:8.3f}")
        if "corr_mean" in acc:
            line += f" {acc['corr_mean']:9.3f} {acc['corr_min']:8.3f}"
        print(line + f"   ({r['extra']})")
        if "corr_slices" in acc and len(acc["corr_slices"]) <= 12:
            print(f"{'':8s} per-slice corr: {np.array2string(acc['corr_slices'], precision=3)}")
    if len(rows) == 2:
        a, b = (accuracy(r["g"], case, False) for r in rows)
        print(f"ratio ILTpy/nmrilt wall time: {rows[1]['wall_s'] / rows[0]['wall_s']:.1f}x; "
              f"corr nmrilt - ILTpy {a['corr_all'] - b['corr_all']:+.3f}; worst peak nmrilt - "
              f"ILTpy {a['worst_dec'] - b['worst_dec']:+.3f} dec")


def _fastest(rows: list[dict]) -> dict:
    """The run with the shortest wall time (the tools are deterministic)."""
    return min(rows, key=lambda r: r["wall_s"])


def _seed_list(text: str) -> list[int]:
    """``"0-4"`` or ``"0,2,5"`` -> list of seeds."""
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def print_summary(case_name: str, runs: dict[str, list[tuple[dict, dict]]],
                  per_slice_corr: bool) -> None:
    """Figures over several noise seeds, per tool: worst and mean of each."""
    print(f"\n{case_name}: {len(next(iter(runs.values())))} noise seeds")
    for tool, pairs in runs.items():
        rows = [r for r, _ in pairs]
        acc = [a for _, a in pairs]
        corr = [a["corr_all"] for a in acc]
        line = (f"  {tool:8s} wall s mean {np.mean([r['wall_s'] for r in rows]):.3f} max "
                f"{max(r['wall_s'] for r in rows):.3f}; peak RSS MB "
                f"{max(r['rss_mb'] for r in rows):.0f}; iterations max "
                f"{max(r['iterations'] for r in rows)}; components "
                f"{' '.join(a['components'] for a in acc)}; worst peak max "
                f"{max(a['worst_dec'] for a in acc):.3f} dec; corr_all mean {np.mean(corr):.3f} "
                f"min {min(corr):.3f}")
        if per_slice_corr and "corr_mean" in acc[0]:
            means = [a["corr_mean"] for a in acc]
            line += (f"; slice corr mean {np.mean(means):.3f} (per seed "
                     f"{min(means):.3f}-{max(means):.3f}), min {min(a['corr_min'] for a in acc):.3f}")
        print(line)
    if len(runs) == 2:
        (_, a), (_, b) = runs.items()
        ratio = np.mean([r["wall_s"] for r, _ in b]) / np.mean([r["wall_s"] for r, _ in a])
        print(f"  ratio ILTpy/nmrilt mean wall time: {ratio:.1f}x")


def _run_seeds(make_case: Callable[..., dict], kwargs: dict, args: argparse.Namespace,
               allow_iltpy: bool, per_slice_corr: bool) -> None:
    runs: dict[str, list[tuple[dict, dict]]] = {"nmrilt": []}
    with_iltpy = args.vs_iltpy and allow_iltpy
    if with_iltpy:
        runs["ILTpy"] = []
    name = ""
    for seed in _seed_list(args.seeds):
        case = make_case(rng_seed=seed, **kwargs)
        name = case["name"]
        rows = [_fastest([run_nmrilt(case, progress=args.progress)
                          for _ in range(max(1, args.repeat))])]
        if with_iltpy:
            row = run_iltpy(case)
            if row is not None:
                rows.append(row)
        case["name"] += f", noise seed {seed}"
        print_rows(case, rows, per_slice_corr)
        for r in rows:
            runs.setdefault(r["tool"], []).append((r, accuracy(r["g"], case, per_slice_corr)))
    print_summary(name, {k: v for k, v in runs.items() if v}, per_slice_corr)


def main(
    make_case: Callable[..., dict],
    description: str,
    per_slice_corr: bool = True,
    allow_iltpy: bool = True,
    extra_args: Callable[[argparse.ArgumentParser], None] | None = None,
    case_kwargs: Callable[[argparse.Namespace], dict] | None = None,
) -> None:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    ap.add_argument("--seeds", default=None,
                    help="several noise seeds, e.g. 0-4 or 0,3: one table per seed and a summary")
    ap.add_argument("--vs-iltpy", action="store_true",
                    help="also run ILTpy (pip install ilt-py-lib) on the same data")
    ap.add_argument("--progress", action="store_true", help="show nmrilt's progress line")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each tool this many times and keep the fastest (first calls "
                         "pay one-off import and set-up costs; use 3 for the sub-second cases)")
    if extra_args:
        extra_args(ap)
    args = ap.parse_args()
    kwargs = case_kwargs(args) if case_kwargs else {}
    if args.seeds:
        _run_seeds(make_case, kwargs, args, allow_iltpy, per_slice_corr)
        return
    case = make_case(rng_seed=args.seed, **kwargs)
    repeat = max(1, args.repeat)
    rows = [_fastest([run_nmrilt(case, progress=args.progress) for _ in range(repeat)])]
    if args.vs_iltpy:
        if not allow_iltpy:
            print("--vs-iltpy is disabled for this case (ILTpy would need hours/too much memory)")
        else:
            runs = [run_iltpy(case) for _ in range(repeat)]
            if runs[0] is not None:
                rows.append(_fastest(runs))
    print_rows(case, rows, per_slice_corr)
