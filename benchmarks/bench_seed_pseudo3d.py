"""Benchmark: the mission's pseudo-3D example (ILTpy docs), 32x32x10 -> 40x40x10.

Targets: <= 10 s and <= 1 GB peak RSS; every component right sign within 0.25 decade;
per-slice Pearson correlation with the pooled truth mean >= 0.95, each >= 0.90; residual
std 0.95-1.10.  ILTpy needs ~33 min and ~10 GB here: ``--vs-iltpy`` runs it anyway if asked.

    python benchmarks/bench_seed_pseudo3d.py [--seed N] [--vs-iltpy]
"""

import runner
import truth

if __name__ == "__main__":
    runner.main(truth.seed_case, __doc__)
