#!/usr/bin/env python3
"""Deterministic, non-repetitive synthetic corpus for bench/score_throughput.sh.

  gen_synth.py OUT_FILE [--mb 210] [--seed 20240601] [--vocab 200000]

Vocabulary: VOCAB distinct pseudo-words of 1-4 random syllables (consonant cluster + vowel
+ optional coda), sorted by length so that frequent ranks get short words. Every token is drawn independently from a Zipf-Mandelbrot
distribution p(r) ~ 1/(r + 2.7)^1.07 over that vocabulary; each line (= document) has a length
drawn uniformly from 10..60 words. Lines are written until the file holds at least --mb MB
(10^6 bytes). Nothing is copied or repeated, so the n-gram content stays high-entropy.
The output only depends on the seed and numpy's PCG64 stream (numpy pinned in
bench/requirements.txt); the script prints the SHA-256 of what it wrote.
"""
import argparse
import hashlib
import sys

import numpy as np

ONSETS = "b c d f g h j k l m n p r s t v w z ch sh th tr st pl gr br kl sp".split()
VOWELS = "a e i o u ai ea ou ie oo".split()
CODAS = ["", "", "", "n", "r", "s", "l", "m", "nt", "st", "k"]


def make_vocab(rng, size):
    words = {}
    while len(words) < size:
        n = 4 * (size - len(words)) + 1000
        nsyl = rng.integers(1, 5, size=n)
        on = rng.integers(0, len(ONSETS), size=(n, 4))
        vo = rng.integers(0, len(VOWELS), size=(n, 4))
        co = rng.integers(0, len(CODAS), size=(n, 4))
        for i in range(n):
            w = "".join(ONSETS[on[i, k]] + VOWELS[vo[i, k]] + CODAS[co[i, k]] for k in range(nsyl[i]))
            words.setdefault(w, None)
            if len(words) == size:
                break
    return list(words)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=210.0)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--vocab", type=int, default=200_000)
    ap.add_argument("--lines-per-chunk", type=int, default=100_000)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    vocab = make_vocab(rng, args.vocab)
    # Zipf's law of abbreviation: frequent ranks get the shorter words (stable sort).
    vocab.sort(key=len)
    V = len(vocab)
    ranks = np.arange(1, V + 1, dtype=np.float64)
    cdf = np.cumsum(1.0 / (ranks + 2.7) ** 1.07)
    cdf /= cdf[-1]
    # table[i] = word i + ' ', table[V + i] = word i + '\n' (last word of a line)
    table = [(w + " ").encode() for w in vocab] + [(w + "\n").encode() for w in vocab]

    target = int(args.mb * 1e6)
    written = lines = words = 0
    h = hashlib.sha256()
    with open(args.out, "wb") as f:
        while written < target:
            lens = rng.integers(10, 61, size=args.lines_per_chunk)
            total = int(lens.sum())
            ids = np.searchsorted(cdf, rng.random(total), side="right")
            np.minimum(ids, V - 1, out=ids)
            ids[np.cumsum(lens) - 1] += V
            chunk = b"".join([table[i] for i in ids.tolist()])
            f.write(chunk)
            h.update(chunk)
            written += len(chunk)
            lines += len(lens)
            words += total
    print(f"wrote {args.out}: {written} bytes, {lines} lines, {words} words, "
          f"vocab {V}, seed {args.seed}, sha256 {h.hexdigest()}", file=sys.stderr)


if __name__ == "__main__":
    main()
