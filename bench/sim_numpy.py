#!/usr/bin/env python3
"""Science target 1 as a vectorized numpy loop, for bench/simulate.sh.

  sim_numpy.py R GENERATIONS M SEED [MODE]

N(0, 1); every generation refits mean and MLE variance (divide by M) to M samples per replicate
from each replicate's fitted normal; replace. All R replicates advance together. MODE:
  samples      (default) draw every sample: one (R, M) array per generation, np.mean/np.var
               along axis 1
  sufficient   draw only the sufficient statistics, exact in distribution (tailwatch's method):
               mean = mu + sqrt(var/M)·rng.standard_normal(R), M·var_mle = var·rng.chisquare(M−1, R)
Prints JSON: mode, seconds (the loop only), E[var_n], E[(mu_n)^2], median var_n at the last
generation.
"""
import json
import sys
import time

import numpy as np


def main():
    r, generations, m, seed = (int(a) for a in sys.argv[1:5])
    mode = sys.argv[5] if len(sys.argv) > 5 else "samples"
    if mode not in ("samples", "sufficient"):
        sys.exit(f"unknown mode {mode!r}: samples or sufficient")
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    mu = np.zeros(r)
    var = np.ones(r)
    for _ in range(generations):
        if mode == "samples":
            x = rng.standard_normal((r, m)) * np.sqrt(var)[:, None] + mu[:, None]
            mu = x.mean(axis=1)
            var = x.var(axis=1)
        else:
            mu = mu + np.sqrt(var / m) * rng.standard_normal(r)
            var = var * rng.chisquare(m - 1, r) / m
    seconds = time.perf_counter() - t0
    json.dump({"impl": f"numpy {np.__version__}", "mode": mode, "seconds": seconds, "mean_variance": float(var.mean()),
               "mean_drift_sq": float((mu ** 2).mean()), "median_variance": float(np.median(var))}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
