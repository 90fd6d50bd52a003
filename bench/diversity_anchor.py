#!/usr/bin/env python3
"""cshaib/diversity anchors for bench/diversity_pkg.sh.

`import diversity` needs spacy and openai (undeclared), so the three metric modules are
loaded by file path from the installed package. They are called exactly as the package
defines them (diversity 0.3.1):

  compression_ratio(docs, algorithm='gzip')      # temp dir, double gzip, rounded to 3 dp
  ngram_diversity_score(docs, num_n=4)           # sum over n=1..4, split(' '), rounded to 3 dp
  self_repetition_score(docs, n=4, verbose=False)  # verbose=False only hides the tqdm bar

Documents: one per line, trailing CR/LF removed, blank lines skipped (as tailwatch reads text).
Prints JSON: values, per-function seconds, n_docs.
"""
import importlib.util
import json
import sys
import time
from importlib.metadata import distribution, version
from pathlib import Path


def load(modname):
    pkg_dir = Path(distribution("diversity").locate_file("diversity"))
    spec = importlib.util.spec_from_file_location(f"diversity_{modname}", pkg_dir / f"{modname}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    path = sys.argv[1]
    t0 = time.perf_counter()
    with open(path, encoding="utf-8", newline="") as f:
        docs = [l.rstrip("\r\n") for l in f]
    docs = [d for d in docs if d.strip()]
    load_s = time.perf_counter() - t0

    compression = load("compression")
    ngram = load("ngram_diversity")
    selfrep = load("self_repetition")

    res = {"impl": "diversity " + version("diversity"), "n_docs": len(docs), "load_s": load_s,
           "values": {}, "seconds": {}}
    calls = [
        ("compression_ratio", lambda: compression.compression_ratio(docs, algorithm="gzip")),
        ("ngram_diversity", lambda: ngram.ngram_diversity_score(docs, num_n=4)),
        ("self_repetition", lambda: selfrep.self_repetition_score(docs, n=4, verbose=False)),
    ]
    for name, fn in calls:
        t0 = time.perf_counter()
        v = fn()
        res["seconds"][name] = time.perf_counter() - t0
        res["values"][name] = float(v)
    res["compute_s"] = sum(res["seconds"].values())
    json.dump(res, sys.stdout)
    print()


if __name__ == "__main__":
    main()
