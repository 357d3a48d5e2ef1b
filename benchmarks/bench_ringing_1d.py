"""Benchmark (issue 9): ringing-prone 1-D signed decays on a fine grid (13 points per decade
over 7 decades, SNR 200) — three components with one negative, close components of
opposite sign, broad and narrow widths.

Targets: correlation with the truth >= ILTpy's and worst peak <= ILTpy's, >= 10x faster.

    python benchmarks/bench_ringing_1d.py [--variant three|close|broad_narrow]
        [--seed N | --seeds 0-4] [--vs-iltpy]
"""

import runner
import truth_ringing


def _args(ap):
    ap.add_argument("--variant", default="three", choices=sorted(truth_ringing.VARIANTS_1D))


if __name__ == "__main__":
    runner.main(truth_ringing.ringing_1d_case, __doc__, extra_args=_args,
                case_kwargs=lambda a: {"variant": a.variant})
