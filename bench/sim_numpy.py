#!/usr/bin/env python3
"""Science target 1 as a vectorized numpy loop, for bench/simulate.sh.

  sim_numpy.py R GENERATIONS M SEED

N(0, 1); every generation draws M samples per replicate from each replicate's fitted normal and
refits mean and MLE variance (np.var, divide by M); replace. All R replicates advance together
as one (R, M) array per generation. Prints JSON: seconds (the loop only), E[var_n], E[(mu_n)^2],
median var_n at the last generation.
"""
import json
import sys
import time

import numpy as np


def main():
    r, generations, m, seed = (int(a) for a in sys.argv[1:5])
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    mu = np.zeros(r)
    var = np.ones(r)
    for _ in range(generations):
        x = rng.standard_normal((r, m)) * np.sqrt(var)[:, None] + mu[:, None]
        mu = x.mean(axis=1)
        var = x.var(axis=1)
    seconds = time.perf_counter() - t0
    json.dump({"impl": f"numpy {np.__version__}", "seconds": seconds, "mean_variance": float(var.mean()),
               "mean_drift_sq": float((mu ** 2).mean()), "median_variance": float(np.median(var))}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
