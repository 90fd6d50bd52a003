#!/usr/bin/env python3
"""Generate golden JSON files for tailwatch's Rust oracle tests.

Run from anywhere with the pinned venv (see oracles/README.md):

    oracles/.venv/bin/python oracles/generate_goldens.py

Everything is deterministic:
  * corpora come from ``random.Random(SEED)`` only (no numpy RNG);
  * the script re-executes itself with ``PYTHONHASHSEED=0`` because
    ``lexical_diversity.lex_div.hdd`` sums over ``list(set(tokens))``, whose
    order (and therefore the last ulp of the float sum) depends on str hashing;
  * nltk runs in a 2-process ``multiprocessing.Pool`` but every score is stored
    by index, and means are plain sequential ``sum(per_doc) / len(per_doc)``.

The reference packages are *called*, never vendored.  The only re-typed code
is code that is not pip-installable: SimCTG ``measure_repetition_and_diversity``,
degen ``zipf.py`` / ``distinct_n.py`` / ``self_bleu.py`` sampling logic,
Texygen ``SelfBleu.get_bleu_fast`` and DialoGPT ``cal_entropy``.  Each re-typed
function is a line-for-line copy of the cited upstream file (see comments).
"""

import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    env = dict(os.environ, PYTHONHASHSEED="0")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

os.environ.setdefault("MPLBACKEND", "Agg")  # lexicalrichness imports matplotlib.pyplot

import contextlib
import gzip
import importlib.metadata
import importlib.util
import io
import json
import lzma
import math
import operator
import platform
import random
import re
import tempfile
import time
import zlib
from collections import Counter, defaultdict
from multiprocessing import Pool

import numpy as np
import scipy
import scipy.spatial.distance
import scipy.stats
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from nltk.util import ngrams as nltk_ngrams

SEED = 20260611
HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "goldens")
N_PROCS = 2
T0 = time.time()


def log(msg):
    print(f"[{time.time() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# versions
# ---------------------------------------------------------------------------

def pkg_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


VERSIONS = {
    "python": platform.python_version(),
    "python_implementation": platform.python_implementation(),
    "platform": platform.platform(),
    "zlib_runtime": zlib.ZLIB_RUNTIME_VERSION,
    "zlib_compiled": zlib.ZLIB_VERSION,
    "nltk": pkg_version("nltk"),
    "fast-bleu": pkg_version("fast-bleu"),
    "diversity": pkg_version("diversity"),
    "lexicalrichness": pkg_version("lexicalrichness"),
    "lexical-diversity": pkg_version("lexical-diversity"),
    "numpy": pkg_version("numpy"),
    "scipy": pkg_version("scipy"),
    "setuptools": pkg_version("setuptools"),
    "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED"),
}


# ---------------------------------------------------------------------------
# the `diversity` package: import metric modules by file path
# (``import diversity`` pulls in spacy/openai, which are not installed)
# ---------------------------------------------------------------------------

def _load_diversity_module(modname):
    spec = importlib.util.find_spec("diversity")  # top-level: does not execute __init__
    if spec is None or spec.origin is None:
        raise RuntimeError("diversity package not installed (pip install --no-deps diversity==0.3.1)")
    path = os.path.join(os.path.dirname(spec.origin), modname + ".py")
    mspec = importlib.util.spec_from_file_location("diversity_" + modname, path)
    mod = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(mod)
    return mod, path


div_compression, DIV_COMPRESSION_PATH = _load_diversity_module("compression")
div_ngram, DIV_NGRAM_PATH = _load_diversity_module("ngram_diversity")
div_selfrep, DIV_SELFREP_PATH = _load_diversity_module("self_repetition")

from fast_bleu import SelfBLEU  # noqa: E402
from lexicalrichness import LexicalRichness  # noqa: E402
from lexical_diversity import lex_div  # noqa: E402


# ---------------------------------------------------------------------------
# synthetic corpora
# ---------------------------------------------------------------------------

FUNCTION_WORDS = ["the", "of", "and", "a", "to", "in", "is", "it", "that", "was"]
NON_ASCII = ["café", "naïve", "東京", "straße", "über", "résumé", "ñandú", "żółw"]
# ranks (0-based, after the function words are placed at ranks 0..9) where the
# non-ASCII words are inserted so that they actually get sampled
NON_ASCII_RANKS = [3, 12, 20, 35, 60, 110, 240, 700]

ONSETS = ["", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s",
          "t", "v", "w", "z", "br", "st", "tr", "ch", "sh", "th", "pl", "gr"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ou", "ea"]
CODAS = ["", "", "", "n", "r", "s", "l", "m", "t", "nd", "st"]

TEMPLATES = [
    "the {0} of the {1} is {2}",
    "it was a {0} and {1} day in the {2}",
    "in the {0} the {1} was {2} and {3}",
    "a {0} is a {1} is a {2}",
    "to {0} or not to {1} that is the {2}",
    "the {0} and the {1} and the {2} and the {3}",
]

# separators used between tokens when a doc is "noisy"; weights favour the
# plain space.  Python str.split() splits on all of them (U+001C..U+001F are
# whitespace for Python but not for Rust char::is_whitespace).
SEP_POOL_FULL = ["  ", "\t", " \t ", "\x1c", "\x1d", "\x1e", "\x1f", "\u00a0", "\u3000", "\x85", "\n"]
SEP_POOL_LINE = ["  ", "\t", " \t ", "\x1c", "\x1d", "\x1e", "\x1f", "\u00a0", "\u3000"]  # no line breaks


def make_vocab(rng, n):
    seen = set(FUNCTION_WORDS) | set(NON_ASCII)
    out = []
    while len(out) < n:
        k = rng.choice([1, 2, 2, 3, 3, 4])
        w = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(k))
        if w and w not in seen:
            assert w.isalpha() and w.isascii() and w.islower()
            seen.add(w)
            out.append(w)
    ranked = FUNCTION_WORDS + out
    for word, rank in zip(NON_ASCII, NON_ASCII_RANKS):
        ranked.insert(rank, word)
    return ranked


class Zipf:
    def __init__(self, vocab, s):
        self.vocab = vocab
        self.s = s
        acc = 0.0
        self.cum = []
        for r in range(1, len(vocab) + 1):
            acc += 1.0 / r ** s
            self.cum.append(acc)

    def sample(self, rng, k):
        return rng.choices(self.vocab, cum_weights=self.cum, k=k)


def join_tokens(rng, toks, p_noise, sep_pool):
    if rng.random() >= p_noise or len(toks) < 2:
        return " ".join(toks)
    parts = [toks[0]]
    for t in toks[1:]:
        parts.append(rng.choice(sep_pool) if rng.random() < 0.3 else " ")
        parts.append(t)
    s = "".join(parts)
    r = rng.random()
    if r < 0.15:
        s = " " + s
    elif r < 0.30:
        s = s + "  "
    elif r < 0.40:
        s = "\t" + s + " "
    return s


def make_docs(rng, zipf, n_docs, lo, hi, *, p_template=0.15, p_dup=0.06, p_noise=0.2,
              sep_pool=SEP_POOL_LINE, edge_docs=None):
    """n_docs docs; `edge_docs` (list of str) are inserted at deterministic
    positions spread over the corpus, replacing generated docs."""
    docs = []
    while len(docs) < n_docs:
        r = rng.random()
        if docs and r < p_dup:
            docs.append(docs[rng.randrange(len(docs))])  # exact duplicate
            continue
        if r < p_dup + p_template:
            tpl = rng.choice(TEMPLATES)
            fill = zipf.sample(rng, 4)
            toks = tpl.format(*fill).split(" ")
            # sometimes extend the template with a Zipf tail
            if rng.random() < 0.5:
                toks += zipf.sample(rng, rng.randint(0, max(0, hi - len(toks))))
            toks = toks[:hi]
        else:
            toks = zipf.sample(rng, rng.randint(lo, hi))
        docs.append(join_tokens(rng, toks, p_noise, sep_pool))
    if edge_docs:
        step = n_docs // (len(edge_docs) + 1)
        for j, d in enumerate(edge_docs):
            docs[step * (j + 1)] = d
    return docs


def make_long_docs(rng, zipf, n_docs, lo, hi):
    docs = []
    for i in range(n_docs):
        L = rng.randint(lo, hi)
        toks = []
        while len(toks) < L:
            r = rng.random()
            if r < 0.12:  # a templated, repetitive stretch
                tpl = rng.choice(TEMPLATES)
                toks += tpl.format(*zipf.sample(rng, 4)).split(" ")
            elif r < 0.18 and len(toks) > 20:  # repeat a recent chunk verbatim
                a = rng.randrange(len(toks) - 10)
                toks += toks[a:a + rng.randint(3, 10)]
            else:
                toks += zipf.sample(rng, rng.randint(5, 25))
        toks = toks[:L]
        docs.append(join_tokens(rng, toks, 0.35, SEP_POOL_LINE))
    return docs


def build_corpora():
    rng = random.Random(SEED)
    vocab = make_vocab(rng, 3000)
    z_main = Zipf(vocab, 1.07)
    z_ref = Zipf(vocab, 1.35)
    z_long = Zipf(vocab, 1.0)

    small_edge = ["", "café", "naïve", "straße 東京", "the of", "a\x1cb\x1dc\x1ed",
                  "  \t  ", "über über über über", "  lead  trail  "]
    main_edge = ["", "東京", "the", "café naïve", "a\x1fto", "straße über résumé",
                 "of\tthe  end", "\x1c\x1d\x1e\x1f"]
    small = make_docs(rng, z_main, 60, 2, 18, p_template=0.2, p_dup=0.1, p_noise=0.35,
                      sep_pool=SEP_POOL_FULL, edge_docs=small_edge)
    main = make_docs(rng, z_main, 300, 5, 30, p_template=0.15, p_dup=0.06, p_noise=0.2,
                     sep_pool=SEP_POOL_FULL, edge_docs=main_edge)
    long = make_long_docs(rng, z_long, 20, 200, 600)
    reference = make_docs(rng, z_ref, 400, 5, 30, p_template=0.05, p_dup=0.02, p_noise=0.1,
                          edge_docs=["", "the", "東京 café"])
    texygen_like = make_docs(rng, z_main, 700, 3, 15, p_template=0.2, p_dup=0.08, p_noise=0.15,
                             edge_docs=["naïve", "the of"])
    degen_like = make_docs(rng, z_main, 1500, 4, 20, p_template=0.15, p_dup=0.05, p_noise=0.15,
                           edge_docs=["", "東京", "über alles"])
    # edge texts for MTLD / HD-D / MATTR (N < 42 draws)
    lexical_edge = [
        "the cat the dog the cat ran away",  # 8 tokens
        " ".join(z_long.sample(rng, 30)),  # 30 tokens
    ]
    assert len(lexical_edge[0].split()) == 8 and len(lexical_edge[1].split()) == 30

    # reference as raw word frequencies (floats that do not sum to 1)
    ref_counts = Counter(t for d in reference for t in d.split())
    ref_freqs = {}
    for w, c in ref_counts.items():
        ref_freqs[w] = c * 0.37 + (0.013 if len(w) % 2 else 0.0)
    for w in ["zzyzx", "quokka", "東京タワー"]:  # words absent from every corpus
        ref_freqs[w] = 0.25
    ref_freqs = {w: ref_freqs[w] for w in sorted(ref_freqs)}

    corpora = {
        "small": small,
        "main": main,
        "long": long,
        "reference": reference,
        "texygen_like": texygen_like,
        "degen_like": degen_like,
        "lexical_edge": lexical_edge,
    }
    description = {
        "small": "60 short docs (2-18 tokens, Zipf s=1.07) incl. an empty doc, whitespace-only doc, "
                 "1-4 token docs, duplicates, templates, double spaces/tabs/newlines/U+001C-001F/NBSP/"
                 "U+3000/U+0085 separators, leading/trailing whitespace, non-ASCII words",
        "main": "300 docs, mostly 5-30 tokens (Zipf s=1.07) plus 8 edge docs at fixed positions "
                "(empty, 1-3 token docs, a doc made only of U+001C-001F), ~6% exact duplicates, ~15% templated",
        "long": "20 docs of 200-600 tokens (Zipf s=1.0) with repetitive templated stretches and verbatim "
                "repeats; no empty docs (for MTLD/HD-D/MATTR)",
        "reference": "400 docs, 5-30 tokens, Zipf s=1.35 over the same vocabulary (divergence reference)",
        "texygen_like": "700 short docs (3-15 tokens), no line breaks; Texygen scores only the first 500",
        "degen_like": "1500 docs (4-20 tokens), no line breaks, for degen-style sampled self-BLEU",
        "lexical_edge": "two short texts for lexical-diversity edge cases: 8 tokens and 30 tokens",
    }
    return corpora, description, ref_freqs, vocab


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def fl(x):
    """plain Python float (or None) for JSON"""
    if x is None:
        return None
    x = float(x)
    assert math.isfinite(x), x
    return x


def mean(xs):
    return sum(xs) / len(xs)


def case(corpus, tool, function, params, tokenizer, value, per_doc=None, extra=None):
    c = {"corpus": corpus, "tool": tool, "function": function, "params": params,
         "tokenizer": tokenizer, "value": value}
    if per_doc is not None:
        c["per_doc"] = per_doc
    if extra is not None:
        c["extra"] = extra
    return c


def write_golden(name, cases, note):
    path = os.path.join(OUT_DIR, name)
    doc = {
        "generator": "oracles/generate_goldens.py",
        "seed": SEED,
        "versions": VERSIONS,
        "note": note,
        "cases": cases,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False, allow_nan=False)
        f.write("\n")
    log(f"wrote {path} ({len(cases)} cases)")


# ---------------------------------------------------------------------------
# nltk self-BLEU (parallel over hypotheses, results stored by index)
# ---------------------------------------------------------------------------

_G_TOKS = None
_G_WEIGHTS = None
_SMOOTH = SmoothingFunction().method1


def _pool_init(toks, weights):
    global _G_TOKS, _G_WEIGHTS
    _G_TOKS = toks
    _G_WEIGHTS = weights


def _bleu_leave_one_out(i):
    # identical to degen `bleu_i` / Texygen `get_bleu_parallel` body
    return sentence_bleu(
        _G_TOKS[:i] + _G_TOKS[i + 1:],
        _G_TOKS[i],
        weights=_G_WEIGHTS,
        smoothing_function=_SMOOTH,
    )


def nltk_self_bleu(toks, weights, indices):
    with Pool(N_PROCS, initializer=_pool_init, initargs=(toks, weights)) as pool:
        res = pool.map(_bleu_leave_one_out, list(indices), chunksize=8)
    return [float(r) for r in res]


# ---------------------------------------------------------------------------
# a. / b. / c. self-BLEU
# ---------------------------------------------------------------------------

DEGEN_WEIGHTS = {
    1: (1.0, 0, 0, 0),
    2: (0.5, 0.5, 0, 0),
    3: (1.0 / 3, 1.0 / 3, 1.0 / 3, 0),
    4: (0.25, 0.25, 0.25, 0.25),
    5: (0.2, 0.2, 0.2, 0.2, 0.2),
}


def selfbleu_cases(corpora):
    cases = []
    nltk_store = {}
    for cname in ["small", "main"]:
        toks = [d.split() for d in corpora[cname]]
        for n in (2, 3, 4, 5):
            w = (1.0 / n,) * n
            t = time.time()
            per = nltk_self_bleu(toks, w, range(len(toks)))
            nltk_store[(cname, n)] = per
            log(f"nltk self-BLEU-{n} {cname}: {time.time() - t:.1f}s mean={mean(per):.6f}")
            cases.append(case(
                cname, "nltk", "nltk.translate.bleu_score.sentence_bleu",
                {"n": n, "weights": list(w), "smoothing": "SmoothingFunction().method1",
                 "references": "all other docs (leave-one-out)", "hypotheses": "all docs"},
                "python-split", mean(per), per,
                {"n_docs": len(toks), "mean": "sum(per_doc)/len(per_doc)"}))

        # b. fast-bleu, one SelfBLEU instance holding all four weight sets
        weights = {n: (1.0 / n,) * n for n in (2, 3, 4, 5)}
        t = time.time()
        scores = SelfBLEU(toks, weights).get_score()
        log(f"fast-bleu {cname}: {time.time() - t:.2f}s")
        for n in (2, 3, 4, 5):
            per = [float(x) for x in scores[n]]
            ref = nltk_store[(cname, n)]
            maxdiff = max(abs(a - b) for a, b in zip(per, ref))
            assert maxdiff < 1e-7, (cname, n, maxdiff)
            cases.append(case(
                cname, "fast-bleu", "fast_bleu.SelfBLEU(tokens, {n: weights}).get_score()[n]",
                {"n": n, "weights": list(weights[n]), "weights_dict_keys": [2, 3, 4, 5],
                 "smoothing_func": 1, "auto_reweight": False},
                "python-split", mean(per), per,
                {"n_docs": len(per), "max_abs_diff_vs_nltk": maxdiff,
                 "mean": "sum(per_doc)/len(per_doc)"}))

    # Texygen get_bleu_fast: first sample_size=500 lines, leave-one-out within them, gram=3
    docs = corpora["texygen_like"]
    toks = [d.split() for d in docs][:500]
    weight = tuple((1. / 3 for _ in range(3)))
    t = time.time()
    per = nltk_self_bleu(toks, weight, range(len(toks)))
    score = 0.0
    cnt = 0
    for s in per:  # Texygen accumulates sequentially then divides
        score += s
        cnt += 1
    log(f"texygen self-BLEU-3: {time.time() - t:.1f}s value={score / cnt:.6f}")
    cases.append(case(
        "texygen_like", "nltk", "Texygen SelfBleu(gram=3).get_score(is_fast=True) semantics via nltk sentence_bleu",
        {"n": 3, "gram": 3, "weights": list(weight), "smoothing": "SmoothingFunction().method1",
         "sample_size": 500, "references": "the other 499 of the first 500 docs",
         "hypotheses": "first 500 docs"},
        "python-split", score / cnt, per,
        {"n_docs_corpus": len(docs), "n_scored": len(per),
         "tokenizer_note": "Texygen uses nltk.word_tokenize (needs punkt data, unavailable offline); "
                           "here tokens are str.split() so the golden tests the 500-line leave-one-out semantics"}))

    # c. degen: random.seed(0) once, then one random.sample call per BLEU order 1..5 in order
    for cname, k in [("main", 100), ("degen_like", 1000)]:
        toks = [d.split() for d in corpora[cname]]
        N = len(toks)
        random.seed(0)
        samples = {}
        for n_gram in range(1, 6):
            samples[n_gram] = random.sample(range(N), k)
        for n_gram in range(1, 6):
            idx = samples[n_gram]
            w = DEGEN_WEIGHTS[n_gram]
            t = time.time()
            per = nltk_self_bleu(toks, w, idx)
            log(f"degen self-BLEU-{n_gram} {cname} k={k}: {time.time() - t:.1f}s mean={sum(per) / k:.6f}")
            extra = {
                "sampled_indices": idx,
                "sample_call_index": n_gram,
                "sampling": "random.seed(0) once; then random.sample(range(N), k) called once per BLEU order "
                            "n_gram=1..5 in order (degen metrics/self_bleu.py); this is call #n_gram",
                "sampled_indices_first_call": samples[1],
                "N": N, "k": k,
                "mean": "sum(per_doc)/k (degen: sum(bleu_scores)/n_sample)",
            }
            if n_gram >= 2 and cname == "main":
                # check: zero-padded degen weights == uniform (1/n,)*n weights in nltk
                uni = nltk_self_bleu(toks, (1.0 / n_gram,) * n_gram, idx[:20])
                extra["uniform_weights_identical_first20"] = all(a == b for a, b in zip(uni, per[:20]))
            cases.append(case(
                cname, "nltk", "degen metrics/self_bleu.py bleu_i -> nltk.translate.bleu_score.sentence_bleu",
                {"n": n_gram, "weights": list(w), "smoothing": "SmoothingFunction().method1",
                 "seed": 0, "k": k, "references": "all other docs of the corpus",
                 "hypotheses": "sampled docs, in sample order"},
                "python-split", sum(per) / k, per, extra))

    # CPython random.sample fixtures for a Rust MT19937 re-implementation
    fixtures = []
    for seed in (0, 42):
        for (N, k) in [(50, 10), (5000, 1000), (300, 5), (30, 25), (1500, 1000), (300, 100), (10, 10), (100000, 3)]:
            random.seed(seed)
            s = random.sample(range(N), k)
            random.seed(seed)
            seq = [random.sample(range(N), k)[:5] for _ in range(3)]
            # which CPython algorithm (pool vs set) random.sample used
            setsize = 21
            if k > 5:
                setsize += 4 ** math.ceil(math.log(k * 3, 4))
            fixtures.append({
                "seed": seed, "N": N, "k": k,
                "algorithm": "pool" if N <= setsize else "set",
                "random_sample_first_20": s[:20],
                "random_sample_full": s if k <= 100 else None,
                "random_sample_sum": sum(s),
                "successive_calls_first_5": seq,
            })
    random.seed(0)
    first_random = [random.random() for _ in range(5)]
    random.seed(0)
    first_getrandbits32 = [random.getrandbits(32) for _ in range(5)]
    cases.append(case(
        "none", "cpython", "random.seed(seed); random.sample(range(N), k)",
        {"python": VERSIONS["python"]}, "none", None, None,
        {"fixtures": fixtures, "seed0_random_first5": first_random,
         "seed0_getrandbits32_first5": first_getrandbits32}))
    return cases


# ---------------------------------------------------------------------------
# d. the `diversity` package
# ---------------------------------------------------------------------------

FROZEN_MTIME = 1700000000  # inner gzip header mtime during the package call (see run_compression)


class _FrozenClock:
    """Stand-in for the `time` module inside `gzip` only: the package's inner
    ``gzip.compress(...)`` stamps ``time.time()`` into the inner header, whose
    4 bytes are then compressed by the outer GzipFile, so the measured size
    could wobble by ~1 byte between runs.  Freezing the clock makes the golden
    reproducible without touching the package's code path."""

    def __getattr__(self, name):
        return getattr(time, name)

    @staticmethod
    def time():
        return float(FROZEN_MTIME)


def run_compression(data, algorithm):
    buf = io.StringIO()
    with tempfile.TemporaryDirectory() as td:
        old = os.getcwd()
        os.chdir(td)  # older versions wrote compressed.gz into the cwd
        saved_time = gzip.time
        gzip.time = _FrozenClock()
        try:
            with contextlib.redirect_stdout(buf):
                val = div_compression.compression_ratio(data, algorithm, verbose=True)
        finally:
            gzip.time = saved_time
            os.chdir(old)
    m = re.search(r"Original Size: (\d+)\nCompressed Size: (\d+)", buf.getvalue())
    return val, int(m.group(1)), int(m.group(2))


def outer_gzip_replica(joined_bytes, inner_mtime=0):
    inner = gzip.compress(joined_bytes, compresslevel=9, mtime=inner_mtime)
    bio = io.BytesIO()
    with gzip.GzipFile(filename="compressed.gz", mode="wb", compresslevel=9, fileobj=bio, mtime=0) as f:
        f.write(inner)
    return len(inner), len(bio.getvalue())


def ngram_diversity_unrounded(data, num_n=4):
    # same formula as diversity/ngram_diversity.py, without the final round()
    score = 0
    toks = " ".join(data).split(" ")
    per_n = {}
    for i in range(1, num_n + 1):
        grams = list(nltk_ngrams(toks, i))
        u, t = len(set(grams)), len(grams)
        per_n[str(i)] = {"unique": u, "total": t}
        score += u / t
    return score, per_n, toks.count("")


def self_repetition_formula(dataset, n):
    # same formula as diversity/self_repetition.py (0.3.1), honouring n; per-doc terms too
    ngram_docs = [list(set([" ".join(g) for g in nltk_ngrams(doc.split(), n)])) for doc in dataset]
    counts = Counter(g for d in ngram_docs for g in d)
    per_doc, sum_nis = [], []
    total = 0
    for d in ngram_docs:
        sum_ni = sum([counts[g] for g in d]) - len(d)
        sum_nis.append(sum_ni)
        v = np.log(sum_ni + 1)
        per_doc.append(float(v))
        total += v
    return float(total / len(dataset)), per_doc, sum_nis


def diversity_cases(corpora):
    cases = []
    # does self_repetition_score honour n?  (metrics-tools.md: ignored before a90fb65)
    probe = corpora["main"]
    sr2 = float(div_selfrep.self_repetition_score(probe, n=2, verbose=False))
    sr4 = float(div_selfrep.self_repetition_score(probe, n=4, verbose=False))
    honours_n = (sr2 != sr4) and abs(sr2 - self_repetition_formula(probe, 2)[0]) < 1e-12
    log(f"diversity self_repetition honours n: {honours_n} (n=2 {sr2}, n=4 {sr4})")

    for cname in ["small", "main", "long"]:
        data = corpora[cname]
        joined = " ".join(data).encode("utf-8")

        # compression (gzip, double-compressed) ------------------------------
        val, orig, outer = run_compression(data, "gzip")
        assert orig == len(joined), (orig, len(joined))
        inner_size, outer_mtime0 = outer_gzip_replica(joined)
        formula = 10 + len("compressed\0") + len(zlib.compress(gzip.compress(joined, 9, mtime=0), 9)) - 2 - 4 + 8
        cases.append(case(
            cname, "diversity", "diversity.compression.compression_ratio",
            {"algorithm": "gzip"}, "none", float(val), None,
            {"original_size": orig, "inner_gzip_size": inner_size, "outer_size": outer,
             "outer_size_replica_mtime0": outer_mtime0,
             "outer_size_formula_10_11_deflate_8": formula,
             "zlib9_size": len(zlib.compress(joined, 9)),
             "gzip9_size": len(gzip.compress(joined, compresslevel=9, mtime=0)),
             "raw_deflate9_size": len(zlib.compress(joined, 9)) - 6,
             "unrounded": orig / outer,
             "inner_mtime_frozen": FROZEN_MTIME,
             "outer_size_replica_frozen_mtime": outer_gzip_replica(joined, FROZEN_MTIME)[1],
             "note": "outer_size is what the package measured, with gzip's clock frozen at inner_mtime_frozen "
                     "(the inner header mtime is compressed by the outer gzip, so other mtimes can move the "
                     "size by ~1 byte); value = round(original_size/outer_size, 3); "
                     "formula = 10 + len('compressed\\0') + len(raw_deflate9(gzip9(text))) + 8"}))
        # compression (xz) ---------------------------------------------------
        val, orig, xz_size = run_compression(data, "xz")
        cases.append(case(
            cname, "diversity", "diversity.compression.compression_ratio",
            {"algorithm": "xz"}, "none", float(val), None,
            {"original_size": orig, "xz_size": xz_size,
             "xz_size_replica": len(lzma.compress(joined)),
             "unrounded": orig / xz_size}))

        # n-gram diversity ------------------------------------------------------
        val = div_ngram.ngram_diversity_score(data, num_n=4)
        unr, per_n, n_empty = ngram_diversity_unrounded(data, 4)
        assert round(unr, 3) == val
        cases.append(case(
            cname, "diversity", "diversity.ngram_diversity.ngram_diversity_score",
            {"num_n": 4}, "single-space", float(val), None,
            {"unrounded": unr, "per_n": per_n, "empty_tokens": n_empty,
             "note": "tokens = ' '.join(data).split(' '); n-grams cross doc boundaries; sum over n of unique/total"}))

        # self-repetition -------------------------------------------------------
        for n in ([2, 3, 4] if honours_n else [4]):
            val = float(div_selfrep.self_repetition_score(data, n=n, verbose=False))
            f_val, per_doc, sum_nis = self_repetition_formula(data, n)
            assert abs(val - f_val) <= 1e-12 * max(1.0, abs(val)), (val, f_val)
            cases.append(case(
                cname, "diversity", "diversity.self_repetition.self_repetition_score",
                {"n": n}, "python-split", val, per_doc,
                {"honours_n": honours_n, "sum_ni": sum_nis,
                 "unrounded": val,
                 "note": "not rounded by the package; per_doc = ln(sum_ni + 1) recomputed with the same formula"}))
    return cases, honours_n


# ---------------------------------------------------------------------------
# e. distinct-n, f. SimCTG, DialoGPT entropy, h. Zipf
# ---------------------------------------------------------------------------

def distinct_li(docs_tokens, n):
    c = Counter()
    for toks in docs_tokens:
        for i in range(len(toks) - n + 1):
            c[tuple(toks[i:i + n])] += 1
    total = sum(c.values())
    return len(c), total, sum(1 for v in c.values() if v == 1)


def degen_distinct_n(examples, n):
    # re-typed from ari-holtzman/degen metrics/distinct_n.py::distinct_n
    counter = Counter()
    n_total = 0
    n_distinct = 0
    for example in examples:
        gen = example['tokens']
        for token in zip(*(gen[i:] for i in range(n))):
            if token not in counter:
                n_distinct += 1
            elif counter[token] == 1:
                n_distinct -= 1
            counter[token] += 1
            n_total += 1
    return n_distinct, n_total


# re-typed from yxuansu/SimCTG simctg/evaluation.py (commit 0b56980)
def eval_text(text, ngram):
    token_list = text.strip().split()
    start_idx, end_idx = 0, ngram
    total_num = 0
    ngram_set = set()
    while end_idx < len(token_list):
        one_ngram_list = token_list[start_idx:end_idx]
        assert len(one_ngram_list) == ngram
        one_ngram = ' '.join(one_ngram_list)
        total_num += 1
        ngram_set.add(one_ngram)
        start_idx += 1
        end_idx += 1
    return len(ngram_set), total_num


def eval_one_instance(text, ngram_list):
    res_dict = {}
    for n in ngram_list:
        n_unique, n_total = eval_text(text, n)
        res_dict[n] = {'unique': n_unique, 'total': n_total}
    unique_token_set = set(text.strip().split())
    return res_dict, unique_token_set


def measure_repetition_and_diversity(text_list):
    ngram_list = [2, 3, 4]
    pred_res_dict = {}
    for n in ngram_list:
        pred_res_dict[n] = {}
        pred_res_dict[n]['unique'] = 0
        pred_res_dict[n]['total'] = 0

    pred_unique_token_set = set()
    for text in text_list:
        text = text.strip('\n').strip()
        one_pred_res_dict, one_pred_uni_token_set = eval_one_instance(text, ngram_list)
        pred_unique_token_set = pred_unique_token_set.union(one_pred_uni_token_set)
        for n in ngram_list:
            pred_res_dict[n]['unique'] += one_pred_res_dict[n]['unique']
            pred_res_dict[n]['total'] += one_pred_res_dict[n]['total']

    pred_seq_2 = 1 - (pred_res_dict[2]['unique'] / pred_res_dict[2]['total'])
    pred_seq_2 = round(pred_seq_2 * 100, 2)
    pred_seq_3 = 1 - (pred_res_dict[3]['unique'] / pred_res_dict[3]['total'])
    pred_seq_3 = round(pred_seq_3 * 100, 2)
    pred_seq_4 = 1 - (pred_res_dict[4]['unique'] / pred_res_dict[4]['total'])
    pred_seq_4 = round(pred_seq_4 * 100, 2)
    pred_div = (1 - pred_seq_2 / 100) * (1 - pred_seq_3 / 100) * (1 - pred_seq_4 / 100)
    return pred_seq_2, pred_seq_3, pred_seq_4, pred_div, pred_res_dict


# re-typed from microsoft/DialoGPT gpt2_training/eval_utils.py::cal_entropy
def cal_entropy(generated):
    etp_score = [0.0, 0.0, 0.0, 0.0]
    div_score = [0.0, 0.0, 0.0, 0.0]
    counter = [defaultdict(int), defaultdict(int),
               defaultdict(int), defaultdict(int)]
    for gg in generated:
        g = gg.rstrip().split()
        for n in range(4):
            for idx in range(len(g) - n):
                ngram = ' '.join(g[idx:idx + n + 1])
                counter[n][ngram] += 1
    for n in range(4):
        total = sum(counter[n].values()) + 1e-10
        for v in counter[n].values():
            etp_score[n] += - (v + 0.0) / total * (np.log(v + 0.0) - np.log(total))
        div_score[n] = (len(counter[n].values()) + 0.0) / total
    return etp_score, div_score


def zipf_coefficient(docs, N=5000):
    # ari-holtzman/degen metrics/zipf.py main(), on str.split() tokens
    cnt = Counter()
    for d in docs:
        cnt.update(d.split())
    xs = np.arange(1, min(len(cnt), N) + 1)
    ys = np.array(sorted(cnt.values(), key=operator.neg)[:N])
    res = scipy.stats.linregress(np.log(xs), np.log(ys))
    a, b, r, p, std = res
    return res, [int(y) for y in ys], cnt


def counts_cases(corpora):
    cases = []
    for cname in ["small", "main"]:
        toks = [d.split() for d in corpora[cname]]
        for n in (1, 2, 3, 4):
            u, t, h = distinct_li(toks, n)
            cases.append(case(
                cname, "python", "distinct-n (Li et al. 2016): #unique n-grams / #n-grams, n-grams within docs, pooled",
                {"n": n}, "python-split", u / t, None, {"unique": u, "total": t, "hapax": h}))
            dn, dt = degen_distinct_n([{"tokens": x} for x in toks], n)
            assert dn == h and dt == t
            cases.append(case(
                cname, "degen", "degen metrics/distinct_n.py::distinct_n (hapax n-grams / #n-grams)",
                {"n": n}, "python-split", dn / dt, None, {"hapax": dn, "total": dt, "unique": u}))

    for cname in ["small", "main", "long"]:
        r2, r3, r4, div, res = measure_repetition_and_diversity(corpora[cname])
        cases.append(case(
            cname, "simctg", "simctg.evaluation.measure_repetition_and_diversity",
            {"ngram_list": [2, 3, 4]}, "python-split", div, None,
            {"rep_2": r2, "rep_3": r3, "rep_4": r4, "diversity": div,
             "unique": {str(n): res[n]["unique"] for n in (2, 3, 4)},
             "total": {str(n): res[n]["total"] for n in (2, 3, 4)},
             "note": "tokens = text.strip().split(); last n-gram of every text dropped (while end_idx < len); "
                     "rep_n = round(100*(1-U/T), 2); diversity = product of (1 - rep_n/100) from rounded rep_n"}))

        etp, dv = cal_entropy(corpora[cname])
        cases.append(case(
            cname, "dialogpt", "DialoGPT gpt2_training/eval_utils.py::cal_entropy",
            {}, "python-split", None, None,
            {"entropy_nats": [fl(x) for x in etp], "div": [fl(x) for x in dv],
             "note": "tokens = rstrip().split(); n=1..4; total = sum(counts) + 1e-10; natural log"}))

    for cname in ["main", "long", "reference"]:
        res, freqs, cnt = zipf_coefficient(corpora[cname])
        cases.append(case(
            cname, "degen", "degen metrics/zipf.py (scipy.stats.linregress(log rank, log freq), top N=5000)",
            {"N": 5000}, "python-split", fl(-res.slope), None,
            {"neg_slope": fl(-res.slope), "neg_r": fl(-res.rvalue), "p": fl(res.pvalue),
             "slope": fl(res.slope), "intercept": fl(res.intercept), "rvalue": fl(res.rvalue),
             "stderr": fl(res.stderr), "intercept_stderr": fl(res.intercept_stderr),
             "K": len(freqs), "vocab_size": len(cnt), "sorted_freqs": freqs}))
    return cases


# ---------------------------------------------------------------------------
# g. lexical richness / lexical_diversity
# ---------------------------------------------------------------------------

def lr_call(text, method, **kw):
    lr = LexicalRichness(text, preprocessor=None, tokenizer=str.split)
    assert lr.wordlist == text.split()
    try:
        return fl(getattr(lr, method)(**kw)), None
    except Exception as e:  # noqa: BLE001
        return None, f"{type(e).__name__}: {e}"


def ld_call(tokens, fn, *args):
    try:
        return fl(fn(tokens, *args)), None
    except Exception as e:  # noqa: BLE001
        return None, f"{type(e).__name__}: {e}"


def lexical_cases(corpora):
    cases = []
    inputs = [
        ("long", "per_doc", corpora["long"]),
        ("long", "joined", [" ".join(corpora["long"])]),
        ("lexical_edge", "per_doc", corpora["lexical_edge"]),
    ]
    specs = [
        ("lexicalrichness", "LexicalRichness(text, preprocessor=None, tokenizer=str.split).mtld(threshold=0.72)",
         {"threshold": 0.72}, lambda t: lr_call(t, "mtld", threshold=0.72)),
        ("lexicalrichness", "LexicalRichness(text, preprocessor=None, tokenizer=str.split).hdd(draws=42)",
         {"draws": 42}, lambda t: lr_call(t, "hdd", draws=42)),
        ("lexicalrichness", "LexicalRichness(text, preprocessor=None, tokenizer=str.split).mattr(window_size=100)",
         {"window_size": 100}, lambda t: lr_call(t, "mattr", window_size=100)),
        ("lexical-diversity", "lexical_diversity.lex_div.mtld(tokens)", {"min": 10},
         lambda t: ld_call(t.split(), lex_div.mtld)),
        ("lexical-diversity", "lexical_diversity.lex_div.hdd(tokens)", {"draws": 42},
         lambda t: ld_call(t.split(), lex_div.hdd)),
        ("lexical-diversity", "lexical_diversity.lex_div.mattr(tokens, 50)", {"window_length": 50},
         lambda t: ld_call(t.split(), lex_div.mattr, 50)),
    ]
    for cname, mode, texts in inputs:
        for tool, fn, params, call in specs:
            vals, errs = [], []
            for t in texts:
                v, e = call(t)
                vals.append(v)
                errs.append(e)
            p = dict(params, input=mode)
            if mode == "joined":
                p["joiner"] = " "
            extra = {"n_tokens": [len(t.split()) for t in texts],
                     "n_types": [len(set(t.split())) for t in texts]}
            if any(errs):
                extra["error"] = errs
            value = None if any(v is None for v in vals) else mean(vals)
            cases.append(case(cname, tool, fn, p, "python-split", value,
                              vals if mode == "per_doc" else None, extra))
            if mode == "joined":
                cases[-1]["value"] = vals[0]
    return cases


# ---------------------------------------------------------------------------
# i. scipy divergences
# ---------------------------------------------------------------------------

EPS = 1e-4


def divergence_cases(corpora, ref_freqs):
    cases = []
    ref_counts = Counter(t for d in corpora["reference"] for t in d.split())

    def run(cname, qmap, ref_label, ref_params):
        pc = Counter(t for d in corpora[cname] for t in d.split())
        V = sorted(set(pc) | set(qmap))
        counts_p = np.array([pc.get(w, 0) for w in V], dtype=np.float64)
        q_raw = np.array([qmap.get(w, 0) for w in V], dtype=np.float64)
        P = counts_p / counts_p.sum()
        Q = q_raw / q_raw.sum()
        Qs = (1 - EPS) * Q + EPS / len(V)
        ent = scipy.stats.entropy(counts_p, base=2)  # counts over the union vocab (zeros contribute 0)
        ent_nz = scipy.stats.entropy(counts_p[counts_p > 0], base=2)
        assert abs(ent - ent_nz) <= 1e-12 * ent
        kl = scipy.stats.entropy(P, Qs, base=2)
        js_dist = scipy.spatial.distance.jensenshannon(P, Q, base=2)
        js = js_dist ** 2
        common = {"vocab_union_size": len(V), "vocab_candidate_size": len(pc),
                  "vocab_reference_size": sum(1 for v in qmap.values() if v > 0),
                  "candidate_tokens": int(counts_p.sum())}
        base_p = dict(ref_params, reference=ref_label)
        cases.append(case(cname, "scipy", "scipy.stats.entropy(counts_P, base=2)",
                          {"base": 2, "metric": "entropy_1"}, "python-split", fl(ent), None,
                          dict(common, entropy_1_nats=fl(scipy.stats.entropy(counts_p)))))
        cases.append(case(cname, "scipy", "scipy.stats.entropy(P, (1-eps)*Q + eps/|V|, base=2)",
                          dict(base_p, base=2, eps=EPS, metric="kl_to_reference"), "python-split", fl(kl), None,
                          dict(common, note="P = counts_P/sum over sorted union vocab V; Q = reference "
                                            "distribution over V; only Q is smoothed")))
        cases.append(case(cname, "scipy", "scipy.spatial.distance.jensenshannon(P, Q, base=2)**2",
                          dict(base_p, base=2, metric="js_to_reference"), "python-split", fl(js), None,
                          dict(common, js_distance=fl(js_dist), note="no smoothing")))

    for cname in ["small", "main", "long", "reference"]:
        run(cname, ref_counts, "reference", {"reference_corpus": "reference"})
    run("main", ref_freqs, "frequencies",
        {"reference_frequencies": ref_freqs,
         "normalise": "Q = freqs / sum(freqs) over the union vocabulary"})
    return cases


# ---------------------------------------------------------------------------

def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    log(f"versions: {json.dumps(VERSIONS)}")
    corpora, description, ref_freqs, vocab = build_corpora()
    with open(os.path.join(OUT_DIR, "corpora.json"), "w", encoding="utf-8") as f:
        json.dump({"corpora": corpora, "seed": SEED, "description": description,
                   "versions": VERSIONS,
                   "generator": "oracles/generate_goldens.py (random.Random(seed) only)"},
                  f, indent=1, ensure_ascii=False, allow_nan=False)
        f.write("\n")
    log("wrote corpora.json: " + ", ".join(f"{k}={len(v)}" for k, v in corpora.items()))

    cases, honours_n = diversity_cases(corpora)
    write_golden("diversity_pkg.json", cases,
                 f"cshaib/diversity {VERSIONS['diversity']} metric modules imported by file path. "
                 f"self_repetition_score honours n: {honours_n}.")
    write_golden("counts.json", counts_cases(corpora),
                 "distinct-n (Li / degen hapax), SimCTG rep-n/diversity, DialoGPT cal_entropy, degen Zipf.")
    write_golden("lexical.json", lexical_cases(corpora),
                 "lexicalrichness + lexical_diversity on str.split() tokens; value=null with extra.error when "
                 "the package raises; value = mean(per_doc) for per_doc inputs.")
    write_golden("scipy_divergence.json", divergence_cases(corpora, ref_freqs),
                 "unigram entropy / KL (Q smoothed, eps=1e-4) / JS^2 against the reference corpus.")
    write_golden("selfbleu.json", selfbleu_cases(corpora),
                 "nltk / fast-bleu / Texygen / degen self-BLEU plus CPython random.sample fixtures.")
    log("done")


if __name__ == "__main__":
    main()
