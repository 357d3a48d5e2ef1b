"""Benchmark (scale): pseudo-2D T1 inversion recovery, 16 delays x 1000 chemical-shift
points -> 60 tau x 1000.  Target <= 10 s (ILTpy's sparse path: ~94 s, 541 MB).

    python benchmarks/bench_pseudo2d_scale.py [--seed N] [--shift 1000] [--vs-iltpy]
"""

import runner
import truth


def _args(ap):
    ap.add_argument("--shift", type=int, default=1000, help="chemical-shift points")


if __name__ == "__main__":
    runner.main(truth.pseudo2d_case, __doc__, per_slice_corr=False, extra_args=_args,
                case_kwargs=lambda a: {"n_shift": a.shift})
