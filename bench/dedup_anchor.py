#!/usr/bin/env python3
"""Anchors for bench/dedup.sh: datasketch, rensa and the exact ground truth on the same shingles.

  dedup_anchor.py CORPUS ENGINE --bands B --rows R [--threshold 0.8] [--out PAIRS.json]

CORPUS: one document per line, already normalized (lowercase words separated by single spaces:
the planted corpus of `tailwatch-sketch/examples/planted`), so tailwatch's normalization is the
identity on it and the shingle strings below are exactly tailwatch's: word 5-grams joined by
spaces, as a set per document.
ENGINE:
  datasketch  MinHash.bulk(shingle bytes, num_perm=B*R, seed=1); MinHashLSH(threshold,
              num_perm, params=(B, R)) with insertion_session; query every document; keep
              candidate pairs whose MinHash.jaccard >= threshold; union-find.
  rensa       RMinHash.from_token_sets(shingles, num_perm=B*R, seed=42); RMinHashLSH(threshold,
              num_perm, num_bands=B).insert_many; query_all; keep candidates whose .jaccard >=
              threshold; union-find.
  truth       SetSimilaritySearch.all_pairs(sets, "jaccard", threshold): exact pairs.
Prints JSON: per-stage seconds (load = reading + shingling, signatures, index, query, verify,
cluster), counts, and writes the candidate and verified pairs to --out for recall/precision.
"""
import argparse
import json
import sys
import time
from importlib.metadata import version


def shingles(line, n=5):
    words = line.split(" ")
    if len(words) < n:
        return {line}
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def union_find(n, pairs):
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra
    roots = {}
    for x in range(n):
        roots.setdefault(find(x), []).append(x)
    return [g for g in roots.values() if len(g) > 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("engine", choices=["datasketch", "rensa", "truth"])
    ap.add_argument("--bands", type=int, required=True)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--out")
    args = ap.parse_args()
    k = args.bands * args.rows
    t = {}
    t0 = time.perf_counter()
    with open(args.corpus, encoding="utf-8") as f:
        docs = [shingles(line.rstrip("\n")) for line in f if line.strip()]
    t["load"] = time.perf_counter() - t0
    n_shingles = sum(map(len, docs))
    candidates, verified = [], []
    if args.engine == "datasketch":
        from datasketch import MinHash, MinHashLSH
        t0 = time.perf_counter()
        ms = MinHash.bulk([[s.encode("utf-8") for s in d] for d in docs], num_perm=k, seed=1)
        t["signatures"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        lsh = MinHashLSH(threshold=args.threshold, num_perm=k, params=(args.bands, args.rows))
        with lsh.insertion_session() as session:
            for i, m in enumerate(ms):
                session.insert(i, m)
        t["index"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i, m in enumerate(ms):
            candidates.extend((i, j) for j in lsh.query(m) if j > i)
        t["query"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        verified = [(a, b) for a, b in candidates if ms[a].jaccard(ms[b]) >= args.threshold]
        t["verify"] = time.perf_counter() - t0
        impl = "datasketch " + version("datasketch")
    elif args.engine == "rensa":
        from rensa import RMinHash, RMinHashLSH
        t0 = time.perf_counter()
        ms = RMinHash.from_token_sets(docs, num_perm=k, seed=42)
        t["signatures"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        lsh = RMinHashLSH(threshold=args.threshold, num_perm=k, num_bands=args.bands)
        lsh.insert_many(ms)
        t["index"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i, found in enumerate(lsh.query_all(ms)):
            candidates.extend((i, j) for j in found if j > i)
        t["query"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        verified = [(a, b) for a, b in candidates if ms[a].jaccard(ms[b]) >= args.threshold]
        t["verify"] = time.perf_counter() - t0
        impl = "rensa " + version("rensa")
    else:
        from SetSimilaritySearch import all_pairs
        t0 = time.perf_counter()
        verified = [(int(min(a, b)), int(max(a, b)), float(j)) for a, b, j in
                    all_pairs(docs, similarity_func_name="jaccard", similarity_threshold=args.threshold)]
        t["join"] = time.perf_counter() - t0
        impl = "SetSimilaritySearch " + version("SetSimilaritySearch")
    t0 = time.perf_counter()
    clusters = union_find(len(docs), [(p[0], p[1]) for p in verified]) if args.engine != "truth" else []
    t["cluster"] = time.perf_counter() - t0
    candidates = sorted(set(candidates))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"candidates": candidates, "verified": [list(p) for p in verified]}, f)
    json.dump({"impl": impl, "docs": len(docs), "shingles": n_shingles, "seconds": t,
               "compute_s": sum(v for key, v in t.items() if key != "load"),
               "candidates": len(candidates), "verified": len(verified),
               "clusters": len(clusters), "removed": sum(len(c) - 1 for c in clusters)}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
