"""Benchmark: default runs on the real spectrometer experiments in ../shared/datasets.

    python benchmarks/bench_real_data.py [--tol 0.10] [names ...]

For every experiment that ``references.json`` describes: ``nmrilt run`` with default settings
(plus the dataset's ``user_config`` for local pulse programs) on a temporary copy, then per
dataset the reference peaks within ``--tol``, the median |error|, the wall time, whether the
solver converged, the noise-model figures (thermal factor, epsilon, total chi^2/dof of the
column fits) and the WARNING codes.  Peak values are read from result.h5 exactly as
``../shared/tools/real_check.py`` (the independent yardstick) reads them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("only", nargs="*")
    ap.add_argument("--tol", type=float, default=0.10)
    ap.add_argument("--shared", type=Path, default=SHARED, help="folder holding datasets/ and tools/")
    a = ap.parse_args()
    datasets = a.shared / "datasets"
    if not (datasets / "references.json").exists():
        print(f"{datasets} not present: nothing to benchmark")
        return 0
    sys.path.insert(0, str(a.shared / "tools"))
    from real_check import peak_values  # the yardstick's own reading of result.h5


    refs = json.loads((datasets / "references.json").read_text())["datasets"]
    exe = Path(sys.executable).with_name("nmrilt")
    print(f"{'dataset':28s} {'hits':>6s} {'median|err|':>11s} {'time_s':>7s} conv  "
          f"{'thermal':>8s} {'epsilon':>9s} {'chi2/dof':>9s}  warnings")
    hits = total = 0
    for name, ref in refs.items():
        if a.only and name not in a.only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            exp = Path(tmp) / name
            shutil.copytree(datasets / name, exp)
            if ref.get("user_config"):
                (exp / "nmrilt.toml").write_text(ref["user_config"])
            out = Path(tmp) / "out"
            t0 = time.perf_counter()
            p = subprocess.run([str(exe), "-q", "run", str(exp), "--out", str(out), "--force"],
                               check=False, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            n = len(ref["peaks"])
            total += n
            if p.returncode != 0:
                print(f"{name:28s} {0:>3d}/{n:<2d} exit {p.returncode}: {p.stderr.strip()[-90:]}")
                continue
            vals, conv = peak_values(str(out / "result.h5"), ref["peaks"])
            err = np.array([v / pk["value"] - 1 for v, pk in zip(vals, ref["peaks"])])
            h = int(np.sum(np.abs(err) <= a.tol))
            hits += h
            model = {}
            for line in (out / "report.txt").read_text().splitlines():
                if line.strip().startswith("noise_model:"):
                    model = json.loads(line.split(":", 1)[1])
            codes = sorted({w.split(":")[1].strip() for w in (out / "report.txt").read_text()
                            .splitlines() if w.startswith("WARNING:")})
            print(f"{name:28s} {h:>3d}/{n:<2d} {np.nanmedian(np.abs(err)):>10.1%} {wall:>7.1f} "
                  f"{bool(conv)!s:5s} {model.get('thermal_factor', 1.0):>8.4g} "
                  f"{model.get('epsilon', 0.0):>9.3g} {model.get('chi2_per_dof_total', float('nan')):>9.4g}  "
                  f"{','.join(codes) or '-'}")
    print(f"TOTAL {hits}/{total} reference peaks within {a.tol:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
