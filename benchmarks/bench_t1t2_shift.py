"""Benchmark (the pipeline's real case): IR x CPMG x chemical shift, 12x12xNZ -> 40x40xNZ
(default NZ = 368, every ppm point of ``example_datasets/bruker_t1t2_pseudo3d``), kernels
inversion_recovery, exponential, identity; six lines with one to three components each.
Target <= 20 s, memory linear in NZ.  ILTpy cannot run this size here (``--vs-iltpy`` off).

    python benchmarks/bench_t1t2_shift.py [--nz 368] [--ntau 40] [--seed N]
"""

import runner
import truth


def _args(ap):
    ap.add_argument("--nz", type=int, default=368, help="number of chemical-shift points")
    ap.add_argument("--ntau", type=int, default=40, help="tau points per inverted dimension")


if __name__ == "__main__":
    runner.main(truth.t1t2_shift_case, __doc__, per_slice_corr=False, allow_iltpy=False,
                extra_args=_args, case_kwargs=lambda a: {"n_shift": a.nz, "n_tau": a.ntau})
