#!/usr/bin/env python3
"""Generate oracles/goldens/datasketch_minhash.json from the real `datasketch` package.

Run with the pinned venv (see oracles/README.md):

    oracles/.venv-datasketch/bin/python oracles/datasketch_goldens.py

The Rust test crates/tailwatch-sketch/tests/datasketch.rs compares tailwatch's MinHash
against this file bit for bit.

Everything is deterministic:
  * the documents come from ``random.Random(SEED)`` only;
  * datasketch draws its permutations from ``np.random.RandomState(seed)`` (legacy MT19937);
  * the default hash is SHA-1, so nothing depends on PYTHONHASHSEED.

datasketch 2.0.0 changed the default permutation scheme to "affine32". The classic
scheme from before 2.0.0 (``(a*h + b) % (2^61-1) & 0xFFFFFFFF``) is now
``scheme="legacy"``. The goldens record both. The "legacy" cases are the ones that
``tailwatch_sketch::minhash::classic_signature`` reproduces.

A document is a list of words. Its shingles are the word 5-grams joined with one ASCII
space, in order, with duplicates kept: ``[" ".join(w[i:i+5]) for i in range(len(w)-4)]``.
Each shingle goes to datasketch as ``s.encode("utf-8")``.
"""

import hashlib
import importlib.metadata
import json
import os
import platform
import random
import sys

import numpy as np
from datasketch import MinHash, MinHashLSH
from datasketch.hashfunc import sha1_hash32

SEED = 20260612
SHINGLE_N = 5
HERE = os.path.dirname(os.path.abspath(__file__))
OUT_PATH = os.path.join(HERE, "goldens", "datasketch_minhash.json")

VERSIONS = {
    "python": platform.python_version(),
    "python_implementation": platform.python_implementation(),
    "datasketch": importlib.metadata.version("datasketch"),
    "numpy": importlib.metadata.version("numpy"),
    "scipy": importlib.metadata.version("scipy"),
}

LEGACY_CONFIGS = [(128, 1), (64, 42)]  # (num_perm, seed): digests of every document
PERM_CONFIGS = [(128, 1), (64, 42), (256, 7)]  # permutations only
AFFINE32_DIGEST_CONFIGS = [(128, 1)]  # datasketch 2.x default MinHash()
LSH_THRESHOLDS = [0.5, 0.7, 0.8, 0.9]
LSH_NUM_PERMS = [128, 256]


# ---------------------------------------------------------------------------
# documents
# ---------------------------------------------------------------------------

NON_ASCII = [
    "café", "naïve", "東京", "straße", "über", "résumé", "ñandú", "żółw", "Ελλάδα",
    "москва", "🙂", "e\u0301cole", "ﬁn", "İstanbul", "日本語", "Ångström", "\u00a0nbsp",
]


def make_vocab(rng):
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = set()
    while len(words) < 500:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(1, 9))))
    vocab = sorted(words)
    rng.shuffle(vocab)
    # Non-ASCII words sit among the frequent ranks so that most documents contain some.
    for i, w in enumerate(NON_ASCII):
        vocab.insert(3 + 7 * i, w)
    return vocab


def make_documents(rng):
    vocab = make_vocab(rng)
    weights = [1.0 / (r + 1) ** 1.07 for r in range(len(vocab))]

    def words(n):
        return rng.choices(vocab, weights=weights, k=n)

    def mutate(ws, n_sub, n_ins=0, n_del=0):
        ws = list(ws)
        for _ in range(n_sub):
            ws[rng.randrange(len(ws))] = rng.choice(vocab)
        for _ in range(n_ins):
            ws.insert(rng.randrange(len(ws) + 1), rng.choice(vocab))
        for _ in range(n_del):
            del ws[rng.randrange(len(ws))]
        return ws

    docs, notes, near_pairs = [], [], []

    def add(ws, note):
        docs.append(list(ws))
        notes.append(note)
        return len(docs) - 1

    add([], "empty: no shingles (digest stays 2^32-1 everywhere)")
    add(["café", "naïve", "東京", "straße", "🙂"], "single shingle, non-ASCII")
    add(words(6), "2 shingles")
    add(words(9), "5 shingles")
    phrase = words(8)
    add(phrase * 12, "repetitive: 8-word phrase x12 (many duplicate shingles)")
    for n in (12, 20, 35, 50, 80, 120, 200, 300, 500):
        add(words(n), f"random, {n} words")
    add(words(2000), "random, 2000 words (large set)")
    # near-duplicate pairs: base, then a mutated copy right after it
    for n, sub, ins, dele in [
        (30, 1, 0, 0),
        (60, 2, 1, 1),
        (100, 3, 0, 0),
        (150, 10, 2, 2),
        (200, 1, 0, 0),
        (250, 20, 5, 5),
        (400, 5, 0, 0),
        (40, 0, 0, 1),
    ]:
        base = words(n)
        i = add(base, f"near-duplicate base, {n} words")
        j = add(mutate(base, sub, ins, dele), f"near-duplicate of previous: {sub} sub, {ins} ins, {dele} del")
        near_pairs.append((i, j))
    # a document that is a strict superset of another (prefix + extension)
    base = words(70)
    i = add(base, "prefix base, 70 words")
    j = add(base + words(70), "previous + 70 more words (Jaccard ~0.5)")
    near_pairs.append((i, j))
    while len(docs) < 40:
        add(words(rng.randint(5, 150)), "random filler")
    return docs, notes, near_pairs


def shingles(ws):
    return [" ".join(ws[i : i + SHINGLE_N]) for i in range(len(ws) - SHINGLE_N + 1)]


# ---------------------------------------------------------------------------
# output: compact JSON (scalar lists on one line)
# ---------------------------------------------------------------------------

def dump(obj, indent=0):
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad} {json.dumps(k, ensure_ascii=False)}: {dump(v, indent + 1)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if all(not isinstance(x, (dict, list)) for x in obj):
            return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        items = [f"{pad} {dump(x, indent + 1)}" for x in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def exact_jaccard(i, j, x, y):
    """[i, j, |X & Y|, |X | Y|, Jaccard] of two shingle sets (1.0 for two empty sets)."""
    x, y = set(x), set(y)
    inter, union = len(x & y), len(x | y)
    return [i, j, inter, union, inter / union if union else 1.0]


def main():
    rng = random.Random(SEED)
    docs, notes, near_pairs = make_documents(rng)
    shingle_lists = [shingles(d) for d in docs]
    encoded = [[s.encode("utf-8") for s in sh] for sh in shingle_lists]

    # --- sha1_hash32 ---------------------------------------------------------
    sha_inputs = ["", "a", "é", "東京", "🙂", "e\u0301cole"]
    for i in (1, 2, 3, 5):
        for s in shingle_lists[i]:
            if s not in sha_inputs:
                sha_inputs.append(s)
    sha1 = []
    for s in sha_inputs:
        b = s.encode("utf-8")
        h = sha1_hash32(b)
        assert h == int.from_bytes(hashlib.sha1(b).digest()[:4], "little")
        sha1.append([s, h])

    # --- permutations --------------------------------------------------------
    permutations = []
    for num_perm, seed in PERM_CONFIGS:
        for scheme in ("legacy", "affine32"):
            m = MinHash(num_perm=num_perm, seed=seed, scheme=scheme)
            a, b = m.permutations
            permutations.append({
                "scheme": scheme, "num_perm": num_perm, "seed": seed,
                "dtype": str(a.dtype), "a": a.tolist(), "b": b.tolist(),
            })
    # the default scheme of this datasketch version
    default_scheme = MinHash(num_perm=8).scheme

    # --- digests and jaccard -------------------------------------------------
    n = len(docs)
    pairs = list(near_pairs)
    pairs += [(0, 0), (0, 1), (1, 1), (5, 6), (4, 4), (13, 12), (7, 30), (3, 2), (10, 11), (14, 13)]
    pairs += [(i, (i * 7 + 3) % n) for i in range(0, n, 4)]

    def digest_case(scheme, num_perm, seed):
        mhs = []
        for enc in encoded:
            m = MinHash(num_perm=num_perm, seed=seed, scheme=scheme)
            m.update_batch(enc)
            mhs.append(m)
        # update() one value at a time must agree with update_batch
        for i in (1, 3, 5):
            m = MinHash(num_perm=num_perm, seed=seed, scheme=scheme)
            for e in encoded[i]:
                m.update(e)
            assert np.array_equal(m.digest(), mhs[i].digest())
        jac = [[i, j, mhs[i].jaccard(mhs[j])] for i, j in pairs]
        return {
            "scheme": scheme, "num_perm": num_perm, "seed": seed,
            "digest_dtype": str(mhs[0].digest().dtype),
            "digests": [m.digest().tolist() for m in mhs],
            "jaccard": jac,
        }

    digests = [digest_case("legacy", k, s) for k, s in LEGACY_CONFIGS]
    digests += [digest_case("affine32", k, s) for k, s in AFFINE32_DIGEST_CONFIGS]

    # --- LSH (b, r) ----------------------------------------------------------
    lsh = []
    for num_perm in LSH_NUM_PERMS:
        for t in LSH_THRESHOLDS:
            idx = MinHashLSH(threshold=t, num_perm=num_perm)
            lsh.append({"threshold": t, "num_perm": num_perm, "weights": [0.5, 0.5],
                        "b": int(idx.b), "r": int(idx.r)})

    out = {
        "generator": "oracles/datasketch_goldens.py",
        "seed": SEED,
        "versions": VERSIONS,
        "default_scheme": default_scheme,
        "note": (
            "legacy: slot = min over shingles of ((a*h + b) mod 2^64 mod (2^61-1)) & 0xFFFFFFFF, "
            "h = sha1_hash32(utf8(shingle)), empty slot 2^32-1. affine32 (datasketch 2.x default): "
            "slot = min of (a*fmix32(h) + b) mod 2^32. Permutations: np.random.RandomState(seed); "
            "legacy interleaves a=randint(1,2^61-1,uint64), b=randint(0,2^61-1,uint64) per permutation; "
            "affine32 draws a=randint(0,2^31,num_perm,uint32)*2+1 then b=randint(0,2^32,num_perm,uint32)."
        ),
        "shingling": {"n": SHINGLE_N, "joiner": " ", "duplicates_kept": True, "encoding": "utf-8"},
        "documents": [
            {"note": note, "n_shingles": len(sh), "n_distinct_shingles": len(set(sh)), "words": d}
            for d, sh, note in zip(docs, shingle_lists, notes)
        ],
        "exact_jaccard": [exact_jaccard(i, j, shingle_lists[i], shingle_lists[j]) for i, j in pairs],
        "sha1_hash32": sha1,
        "permutations": permutations,
        "minhash": digests,
        "lsh": lsh,
    }
    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    text = dump(out) + "\n"
    with open(OUT_PATH, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {OUT_PATH} ({len(text.encode('utf-8'))} bytes); versions {VERSIONS}", file=sys.stderr)


if __name__ == "__main__":
    main()
