"""Benchmark: 1-D CPMG decay, three components in log T2, the middle one negative.

    python benchmarks/bench_signed_1d.py [--seed N] [--vs-iltpy]
"""

import runner
import truth

if __name__ == "__main__":
    runner.main(truth.signed_1d_case, __doc__)
