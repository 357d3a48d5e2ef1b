"""Audit of the real-data references: what a *perfect* estimator scores on the yardstick.

    python benchmarks/audit_references.py [--shared ../shared] [--tol 0.10]

``../shared/tools/real_check.py`` sums nmrilt's map over ``ppm ± half_width_ppm`` of each
reference peak and takes the |g|-weighted geometric mean of tau over the main lobe.  For the
experiments whose spectra are stored processed (TopSpin ``pdata``, read by nmrilt's own
reader as spectra), this script fits the same processed rows without any ILT and prints,
per reference peak:

* ``point``: a mono-exponential decay fit of the single spectrum point nearest the
  reference ppm (and of the highest point within ±2 points);
* ``window``: the same fit on the sum over the yardstick's window;
* ``ideal``: the amplitude-weighted geometric mean of the per-point fits over the window —
  what a per-column ILT without any bias returns under the yardstick's reading;

each as its deviation from the reference value.  The references of PROJECT are reproduced
to four digits by ``point`` while the yardstick reads a window: ``ideal`` shows the ceiling
any estimator reaches under that reading.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHARED = Path(__file__).resolve().parents[2] / "shared"


def fit_decay(t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(amplitude, T) of ``a exp(-t/T)``, the references' model (nmrilt's conventional
    cross-check fit, :func:`nmrilt.crosscheck.fit_exponentials`); NaN where it fails."""
    from nmrilt.crosscheck import fit_exponentials

    fit = fit_exponentials(t, y, "exponential")
    if not fit.ok:
        return float("nan"), float("nan")
    return float(fit.amplitudes[0]), float(fit.values[0])


def audit(name: str, ref: dict, datasets: Path, tol: float) -> tuple[int, int, int]:
    from nmrilt.readers import read

    kind = "t2_cpmg" if ref["quantity"].startswith("T2") else None
    if kind is None:
        print(f"{name}: {ref['quantity']} — only decays (T2) are audited")
        return 0, 0, 0
    exp = read(datasets / name, kind=kind)
    axes = {a.role: a for a in exp.axes}
    if "chemical_shift" not in axes:
        print(f"{name}: raw FIDs (no processed spectra) — not audited")
        return 0, 0, 0
    t = np.asarray(exp.axes[0].values, float)
    ppm = np.asarray(axes["chemical_shift"].values, float)
    data = np.asarray(exp.data, float).reshape(t.size, ppm.size)
    print(f"{name}: {len(ref['peaks'])} peaks, deviation from the reference value")
    print(f"  {'ppm':>6s} {'ref':>6s} {'nearest':>8s} {'top':>7s} {'window':>7s} {'ideal':>7s}"
          f"  T range in window")
    counts = [0, 0, 0]
    for pk in ref["peaks"]:
        i = int(np.argmin(np.abs(ppm - pk["ppm"])))
        top = i - 2 + int(np.argmax(data[0, max(i - 2, 0): i + 3]))
        window = np.flatnonzero(np.abs(ppm - pk["ppm"]) <= pk["half_width_ppm"])
        fits = np.array([fit_decay(t, data[:, j]) for j in window])
        ok = np.isfinite(fits).all(axis=1) & (fits[:, 0] > 0) & (fits[:, 1] > 0)
        a, taus = fits[ok, 0], fits[ok, 1]
        ideal = 10 ** (np.sum(a * np.log10(taus)) / a.sum())
        values = [fit_decay(t, data[:, i])[1], fit_decay(t, data[:, top])[1],
                  fit_decay(t, data[:, window].sum(axis=1))[1], ideal]
        dev = [v / pk["value"] - 1 for v in values]
        for k, d in enumerate((dev[0], dev[2], dev[3])):
            counts[k] += abs(d) <= tol
        print(f"  {pk['ppm']:6.3f} {pk['value']:6.3f} " + " ".join(f"{d:+7.1%}" for d in dev)
              + f"  {taus.min():.2f}..{taus.max():.2f} s ({window.size} points)")
    n = len(ref["peaks"])
    print(f"  within {tol:.0%}: nearest point {counts[0]}/{n}, window sum {counts[1]}/{n}, "
          f"ideal per-point estimator {counts[2]}/{n}")
    return counts[0], counts[2], n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=SHARED)
    ap.add_argument("--tol", type=float, default=0.10)
    a = ap.parse_args()
    datasets = a.shared / "datasets"
    if not (datasets / "references.json").exists():
        print(f"{datasets} not present: nothing to audit")
        return 0
    refs = json.loads((datasets / "references.json").read_text())["datasets"]
    for name, ref in refs.items():
        audit(name, ref, datasets, a.tol)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
