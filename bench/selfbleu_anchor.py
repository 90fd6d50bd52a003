#!/usr/bin/env python3
"""Self-BLEU-4 anchors for bench/selfbleu.sh.

Documents are read exactly as `tailwatch score` reads plain text: one document per line,
trailing CR/LF removed, blank (whitespace-only) lines skipped. Tokens are `line.split()`
(tailwatch --tokenizer whitespace).

  --impl fastbleu: fast_bleu.SelfBLEU(tokens, {"4": (0.25,)*4}).get_score()["4"], averaged.
  --impl nltk:     for each i, nltk sentence_bleu(all other docs, doc i, weights=(0.25,)*4,
                   smoothing_function=SmoothingFunction().method1), averaged.

Prints one JSON object: impl, n_docs, n_tokens, mean, load_s, compute_s (the timed part is
only the scoring call, not interpreter start-up, imports or file reading).
"""
import argparse
import json
import math
import sys
import time
from importlib.metadata import version


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--impl", choices=["fastbleu", "nltk"], required=True)
    ap.add_argument("--first", type=int, default=None, help="only the first N documents")
    ap.add_argument("--scores", help="write per-document scores here (one per line)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    docs = []
    with open(args.file, encoding="utf-8", newline="") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.strip():
                docs.append(line)
    if args.first is not None:
        docs = docs[: args.first]
    tokens = [d.split() for d in docs]
    load_s = time.perf_counter() - t0

    weights = (0.25, 0.25, 0.25, 0.25)
    if args.impl == "fastbleu":
        from fast_bleu import SelfBLEU

        t0 = time.perf_counter()
        scores = SelfBLEU(tokens, {"4": weights}).get_score()["4"]
        compute_s = time.perf_counter() - t0
        pkg = "fast-bleu " + version("fast-bleu")
    else:
        from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

        smooth = SmoothingFunction().method1
        t0 = time.perf_counter()
        scores = [
            sentence_bleu(tokens[:i] + tokens[i + 1 :], hyp, weights=weights, smoothing_function=smooth)
            for i, hyp in enumerate(tokens)
        ]
        compute_s = time.perf_counter() - t0
        pkg = "nltk " + version("nltk")

    if args.scores:
        with open(args.scores, "w") as f:
            f.writelines(f"{s!r}\n" for s in scores)
    json.dump(
        {
            "impl": pkg,
            "n_docs": len(docs),
            "n_tokens": sum(map(len, tokens)),
            "mean": math.fsum(scores) / len(scores),
            "load_s": load_s,
            "compute_s": compute_s,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
