"""Benchmark (issue 9): broad-feature pseudo-2D, 16 echo times x 1000 points -> 60 x 1000,
two Gaussian bands 1-1.5 ppm wide with single T2 (0.05 s, 1 s), amplitude 100 sigma.

Targets: <= 30 outer iterations and <= 5 s (was 78 iterations, 13.6 s).  The per-slice
correlation is not meaningful here (most slices carry almost no signal): read corr_all.

    python benchmarks/bench_broad_pseudo2d.py [--seed N] [--shift 1000]
"""

import runner
import truth_ringing


def _args(ap):
    ap.add_argument("--shift", type=int, default=1000, help="chemical-shift points")


if __name__ == "__main__":
    runner.main(truth_ringing.broad_pseudo2d_case, __doc__, per_slice_corr=False,
                extra_args=_args, case_kwargs=lambda a: {"n_shift": a.shift})
