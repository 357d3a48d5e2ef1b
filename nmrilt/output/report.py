"""Text output: ``peaks.csv`` (one row per component) and ``report.txt``."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..model import Result, jsonable
from .columns import ColumnProvider, add_columns
from .components import SUPPORT_FRACTION, components, coverage
from .files import write_text
from .plot_data import figure_caption

__all__ = ["peaks_rows", "report_text", "rounded", "write_peaks_csv", "write_report"]

#: Leading columns of peaks.csv; the per-dimension ones follow in dimension order.
_FIRST = ["component", "sign", "group", "integral_au", "fraction_abs_pct",
          "fraction_signed_pct"]


def rounded(value: Any, digits: int = 4) -> Any:
    """``value`` with every float (also inside lists and mappings) to ``digits``
    significant figures, for text meant to be read (no 16-digit JSON floats)."""
    if isinstance(value, float) and np.isfinite(value):
        return float(f"{value:.{digits}g}")
    if isinstance(value, Mapping):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, digits) for v in value]
    return value


def peaks_rows(
    result: Result,
    threshold: float = 0.15,
    extra_columns: Iterable[ColumnProvider] | Mapping[str, ColumnProvider] | None = None,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names and rows of ``peaks.csv``: the listed components
    (:func:`~nmrilt.output.components.components`) with the columns of the registered
    providers and of ``extra_columns`` (:mod:`nmrilt.output.columns`)."""
    rows = components(result, threshold)
    keys = list(_FIRST)
    for r in rows:
        keys += [k for k in r if k not in keys and not k.startswith("_")]
    added = add_columns(result, rows, extra_columns)
    keys += [k for k in added if k not in keys and not k.startswith("_")]
    return keys, rows


def write_peaks_csv(
    result: Result,
    path: str | Path,
    threshold: float = 0.15,
    extra_columns: Iterable[ColumnProvider] | Mapping[str, ColumnProvider] | None = None,
) -> Path:
    """Write ``peaks.csv`` (one row per listed component, see :func:`peaks_rows`)
    atomically; floats with 6 significant figures, SI units named in the columns."""
    keys, rows = peaks_rows(result, threshold, extra_columns)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n", extrasaction="ignore")
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
    ]
    lines += [f"reader note:   {n}" for n in meta.get("notes", ())]
    lines += [
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
        lines.append(f"  {k}: {json.dumps(rounded(jsonable(v)))}")
    if result.warnings:
        lines += ["", "warnings:"] + [f"WARNING: {w}" for w in result.warnings]
    listed, minor = components(result, threshold, with_minor=True)
    cover = coverage(result, listed + minor)
    lines += ["", (f"components (connected |g| > {SUPPORT_FRACTION:g} max|g| of their ppm "
                   f"region; listed when |integral| >= {threshold:g} x the strongest of the "
                   "same region):"),
              (f"  fractions are of all {len(listed) + len(minor)} components (listed + minor), "
               f"which hold {100 * cover:.1f} % of sum |g|; positions: |g|-weighted geometric "
               "mean (logmean), width: weighted SD of log10 tau in decades")]
    for c in listed:
        pos = "  ".join(_position(k, v) for k, v in c.items() if _is_position(k))
        lines.append(f"  {c['component']:>2} {c['sign']} integral {c['integral_au']:.4g} "
                     f"({c['fraction_abs_pct']:.1f} % abs, {c['fraction_signed_pct']:.1f} % "
                     f"signed)  {pos}")
    if minor:
        lines.append(f"  {len(minor)} minor (not in peaks.csv): together "
                     f"{sum(c['fraction_abs_pct'] for c in minor):.1f} % abs, "
                     f"{sum(c['fraction_signed_pct'] for c in minor):.1f} % signed; largest "
                     f"{max(c['fraction_abs_pct'] for c in minor):.1f} % abs")
    else:
        lines.append("  none below threshold")
    lines += _uncertainty_lines(result, listed)
    lines += ["", "figure (map.*):"]
    lines += textwrap.wrap(figure_caption(result), 92, initial_indent="  ",
                           subsequent_indent="  ")
    lines += ["", "input files (SHA-256):"]
    lines += [f"  {v}  {k}" for k, v in result.checksums.items()]
    return "\n".join(lines) + "\n"


def _uncertainty_lines(result: Result, listed: list[dict[str, Any]]) -> list[str]:
    """The uncertainty paragraph: how the intervals were made and each one, or why none."""
    from ..uncertainty.result import uncertainty_columns

    unc = result.uncertainty
    if unc is None:
        why = result.parameters.get("uncertainty", {}).get("why")
        return ["", f"uncertainty: {why}"] if why else []
    lines = ["", f"uncertainty ({unc.elapsed_s:.1f} s):"]
    lines += textwrap.wrap(unc.method, 92, initial_indent="  ", subsequent_indent="  ")
    lines.append("  standard-deviation map of g: /uncertainty/g_std in result.h5")
    for c, cols in zip(listed, uncertainty_columns(result, listed)):
        pairs = {}
        for key, value in cols.items():
            stem, _, rest = key.partition("_ci")
            end, _, unit = rest.partition("_")[2].partition("_")
            pairs.setdefault((stem, unit), {})[end] = value
        text = "; ".join(f"{stem} {v.get('low', np.nan):.4g}..{v.get('high', np.nan):.4g}"
                         f" {unit}" for (stem, unit), v in pairs.items())
        lines.append(f"  {c['component']:>2} {text}")
    return lines


def _is_position(key: str) -> bool:
    """A per-dimension column worth a place in the report line."""
    return (key not in _FIRST and key not in ("component",) and not key.startswith("_")
            and "mean_log10" not in key)


def _position(key: str, value: Any) -> str:
    """``T1_logmean_s=0.1234`` with 4 significant figures (3 decimals for widths)."""
    if isinstance(value, float):
        return f"{key}={value:.3f}" if key.endswith("_decades") else f"{key}={value:.4g}"
    return f"{key}={value}"


def write_report(result: Result, path: str | Path, threshold: float = 0.15) -> Path:
    """Write ``report.txt`` atomically."""
    return write_text(path, report_text(result, threshold))
