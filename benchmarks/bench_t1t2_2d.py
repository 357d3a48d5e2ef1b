"""Benchmark: 2-D T1 (inversion recovery) x T2 map, 24x64 -> 40x40, one negative component.

    python benchmarks/bench_t1t2_2d.py [--seed N] [--vs-iltpy]
"""

import runner
import truth

if __name__ == "__main__":
    runner.main(truth.t1t2_case, __doc__)
