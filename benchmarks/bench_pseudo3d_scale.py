"""Benchmark (scale): T1-T2 x chemical shift pseudo-3D, 32x32xNZ -> 40x40xNZ (default
NZ = 200): the seed's components drifting over NZ slices.  Target <= 60 s and <= 4 GB;
run with several ``--nz`` to see memory grow linearly with the identity length.
ILTpy's dense path cannot run this size here, so ``--vs-iltpy`` is disabled.

    python benchmarks/bench_pseudo3d_scale.py [--nz 200] [--seed N]
"""

import runner
import truth


def _args(ap):
    ap.add_argument("--nz", type=int, default=200, help="length of the identity dimension")


if __name__ == "__main__":
    runner.main(truth.seed_case, __doc__, per_slice_corr=True, allow_iltpy=False,
                extra_args=_args, case_kwargs=lambda a: {"n_z": a.nz})
