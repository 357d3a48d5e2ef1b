"""Text output: ``peaks.csv`` (one row per component) and ``report.txt``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from ..model import Result, jsonable
from .components import SUPPORT_FRACTION, components
from .files import write_text

__all__ = ["report_text", "write_peaks_csv", "write_report"]


def write_peaks_csv(result: Result, path: str | Path, threshold: float = 0.15) -> Path:
    """Write ``peaks.csv`` (one row per component, see :func:`components`) atomically."""
    rows = components(result, threshold)
    keys = ["component", "sign", "integral", "fraction"]
    for r in rows:
        keys += [k for k in r if k not in keys]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return write_text(path, buf.getvalue())


def report_text(result: Result, threshold: float = 0.15) -> str:
    """Human-readable summary of a result."""
    p = result.parameters
    meta = p.get("meta", {})
    lines = [
        f"nmrilt {result.version} result, created {result.created}",
        f"source:        {result.source}",
        (f"kind:          {result.kind}   pulse program: {meta.get('pulse_program', '?')}"
         f"   nucleus: {meta.get('nucleus', '?')}"),
        f"data shape:    {result.data.shape}   distribution shape: {result.g.shape}",
        "",
        "dimensions:",
    ]
    for i, (d, t, tau) in enumerate(zip(result.dims, result.t, result.tau)):
        lines.append(
            f"  {i}: {d.name} [{d.unit}] kernel {d.kernel}; sampled {d.t_name} "
            f"{t.min():.4g}..{t.max():.4g} {d.t_unit} ({t.size}); grid {tau.min():.4g}.."
            f"{tau.max():.4g} ({tau.size})"
        )
    res = result.residuals
    lines += [
        "",
        f"noise sigma per spectrum point: {result.sigma:.4g}",
        (f"solver: converged={result.converged} iterations={result.iterations} "
         f"time={result.elapsed_s:.1f} s message: {result.message}"),
        (f"regularization: alpha_choice={result.stats.get('alpha_choice', '?')} "
         f"alpha_00 used {float(result.stats.get('alpha_00_used', float('nan'))):.4g} "
         f"(solver path {result.stats.get('solver_path', '?')})"),
        (f"residuals (unit-noise data): rms {np.sqrt(np.mean(res**2)):.3f}, "
         f"mean {np.mean(res):.3f}  (rms near 1 means the fit reaches the noise)"),
        "",
        "processing choices:",
    ]
    for k, v in p.get("choices", {}).items():
        lines.append(f"  {k}: {json.dumps(jsonable(v))}")
    if result.warnings:
        lines += ["", "warnings:"] + [f"WARNING: {w}" for w in result.warnings]
    listed, minor = components(result, threshold, with_minor=True)
    lines += ["", (f"components (connected |g| > {SUPPORT_FRACTION:g} max|g|; listed when "
                   f"|integral| >= {threshold:g} x the strongest of the same ppm region):")]
    for c in listed:
        pos = ", ".join(f"{k}={v:.4g}" for k, v in c.items()
                        if k not in ("component", "sign", "integral", "fraction", "group")
                        and "mean_log10" not in k)
        lines.append(f"  {c['component']:>2} {c['sign']} integral {c['integral']:.4g} "
                     f"({100 * c['fraction']:.1f} %)  {pos}")
    if minor:
        big = max(minor, key=lambda c: c["fraction"])
        lines.append(f"  {len(minor)} more below threshold (not in peaks.csv; largest "
                     f"{big['sign']}{100 * big['fraction']:.1f} % of the total)")
    else:
        lines.append("  none below threshold")
    lines += ["", "input files (SHA-256):"]
    lines += [f"  {v}  {k}" for k, v in result.checksums.items()]
    return "\n".join(lines) + "\n"


def write_report(result: Result, path: str | Path, threshold: float = 0.15) -> Path:
    """Write ``report.txt`` atomically."""
    return write_text(path, report_text(result, threshold))
