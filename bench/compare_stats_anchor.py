"""The permutation test of `tailwatch compare` written with NumPy/SciPy, on distinct_2.

    python compare_stats_anchor.py BASE CAND PERMUTATIONS

BASE and CAND hold one document per line; tokens are whitespace-separated (tailwatch runs with
`--tokenizer whitespace`). distinct_2 = distinct bigrams / bigrams, bigrams within documents.
Two tests with scipy.stats.permutation_test (one-sided, collapse = lower distinct_2):
  documents: reassign the pooled documents between the sides (the textbook test), the
             statistic distinct_2(candidate) - distinct_2(baseline) recomputed per resample;
  blocks:    tailwatch's design: each side dealt into 10 blocks, distinct_2 per block, the
             blocks reassigned, statistic = mean of candidate blocks - mean of baseline blocks.
Prints one JSON line: values, p-values and seconds of each (reading and tokenizing excluded).
"""
import json
import sys
import time

import numpy as np
from scipy import stats


def load(path):
    with open(path, encoding="utf-8") as f:
        return [line.split() for line in f if line.strip()]


def main():
    base_path, cand_path, permutations = sys.argv[1], sys.argv[2], int(sys.argv[3])
    base, cand = load(base_path), load(cand_path)
    # bigram ids, interned once over both sides (as tailwatch hashes them once)
    ids = {}
    def bigrams(doc):
        return np.array([ids.setdefault((a, b), len(ids)) for a, b in zip(doc, doc[1:])], dtype=np.int64)
    pooled = [bigrams(d) for d in base + cand]
    nb = len(base)

    def distinct_2(indices):
        parts = [pooled[i] for i in indices]
        total = sum(len(p) for p in parts)
        return len(np.unique(np.concatenate(parts))) / total if total else float("nan")

    b_idx, c_idx = np.arange(nb), np.arange(nb, len(pooled))
    result = {"docs": [len(base), len(cand)],
              "distinct_2": [distinct_2(b_idx), distinct_2(c_idx)], "permutations": permutations}

    t0 = time.perf_counter()
    docs_test = stats.permutation_test(
        (b_idx, c_idx), lambda x, y: distinct_2(y) - distinct_2(x), permutation_type="independent",
        n_resamples=permutations, alternative="less", vectorized=False, rng=np.random.default_rng(0))
    result["documents"] = {"p_value": float(docs_test.pvalue), "seconds": time.perf_counter() - t0}

    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    m = min(len(b_idx), len(c_idx))
    def block_values(indices):
        dealt = rng.permutation(indices)[:m]
        size = m // 10
        return np.array([distinct_2(dealt[k * size:(k + 1) * size]) for k in range(10)])
    bb, cb = block_values(b_idx), block_values(c_idx)
    blocks_test = stats.permutation_test(
        (bb, cb), lambda x, y, axis: np.mean(y, axis=axis) - np.mean(x, axis=axis),
        permutation_type="independent", n_resamples=permutations, alternative="less",
        vectorized=True, rng=rng)
    result["blocks"] = {"p_value": float(blocks_test.pvalue), "seconds": time.perf_counter() - t0}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
