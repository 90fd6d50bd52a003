#!/usr/bin/env python3
"""The refusal bank as a Python `re` alternation, and the benchmark input: for bench/refusals.sh.

    python3 bench/refusal_regex.py match ANSWERS.jsonl [--refusal-window N]
    python3 bench/refusal_regex.py generate OUT.jsonl [--mb 50] [--seed 18] [--data DIR]

`match` reads `{"text": ...}` lines, then, timed, normalizes every answer as
tailwatch does (fullwidth ASCII forms to ASCII, curly apostrophes and quotes to straight,
lowercase, whitespace runs to one space, trimmed) and classifies it with two compiled
alternations of the same phrases (crates/tailwatch-metrics/data/refusal_phrases.tsv), each
phrase wrapped in the same word-edge lookarounds: `refusal` = the leftmost refusal match starts
within the window (300 characters), `disclaimer` = any disclaimer match. It prints one JSON
line on stderr like `classify_answers --stats` (seconds and MB/s of the timed loop only).
Differences from the Rust bank: Python's `lower()` applies the Greek final-sigma rule and `\\w`
follows `str.isalnum`, which can differ from Rust's `char::is_alphanumeric` on a few combining
marks; neither touches a phrase of the bank.

`generate` writes about MB megabytes of answers, deterministic for a seed: passages of the
public texts under ../shared/data (fast-detect-gpt originals and continuations, SeqXGPT
documents, the Binoculars PubMed articles and continuations, WikiText-2 paragraphs), one to
three passages of 200-2,500 characters an answer; 8 % of answers open with a refusal phrase of
the bank (any language) and 5 % carry a disclaimer phrase mid-answer; 10 % of answers have
curly apostrophes and 5 % are upper-cased, so normalization has work. Standard library only.
"""
import argparse
import glob
import json
import os
import random
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TSV = os.path.join(HERE, "..", "crates", "tailwatch-metrics", "data", "refusal_phrases.tsv")
REFUSAL_WINDOW_CHARS = 300

# the Rust bank's normalization, character for character
FOLD = {0x2018: "'", 0x2019: "'", 0x201A: "'", 0x201B: "'", 0x2032: "'", 0x02BC: "'",
        0x201C: '"', 0x201D: '"', 0x201E: '"', 0x201F: '"', 0x2033: '"'}
FOLD.update({c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})
# Rust's char::is_whitespace (White_Space), not str.isspace (which adds U+001C..U+001F)
WHITESPACE = re.compile("[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
UNSPACED = ("\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
            "\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003ffff")
UNSPACED_RE = re.compile(f"[{UNSPACED}]")
WORD = f"[^\\W_{UNSPACED}]"  # a letter or digit of a spaced script


def normalize(text):
    return WHITESPACE.sub(" ", text.translate(FOLD).lower()).strip(" ")


def is_word(c):
    return c.isalnum() and not UNSPACED_RE.match(c)


def load_bank(path=TSV):
    """[(category, language, phrase, open_end)] in file order."""
    bank = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#") or line.startswith("category\t"):
                continue
            category, language, _source, phrase = line.split("\t")
            open_end = phrase.endswith("*")
            bank.append((category, language, normalize(phrase.rstrip("*") if open_end else phrase), open_end))
    return bank


def alternation(phrases):
    """One compiled alternation; the start-of-word lookbehind is shared by every phrase that starts
    with a letter or digit (18x faster than one lookbehind per phrase), the end-of-word lookahead
    follows each phrase that needs it."""
    words, others = [], []
    for text, open_end in phrases:
        p = re.escape(text)
        if not open_end and is_word(text[-1]):
            p += f"(?!{WORD})"
        (words if is_word(text[0]) else others).append(p)
    parts = []
    if words:
        parts.append(f"(?<!{WORD})(?:{'|'.join(words)})")
    if others:
        parts.append(f"(?:{'|'.join(others)})")
    return re.compile("|".join(parts))


def match(args):
    bank = load_bank()
    refusals = [(t, o) for c, _, t, o in bank if c == "refusal"]
    refusal_re = alternation(refusals)
    disclaimer_re = alternation([(t, o) for c, _, t, o in bank if c == "disclaimer"])
    window = args.refusal_window
    # a refusal that starts inside the window ends before this (and so does the character after it)
    horizon = window + max(len(t) for t, _ in refusals) + 1
    with open(args.answers, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    start = time.perf_counter()
    n_refusal = n_disclaimer = 0
    for text in texts:
        t = normalize(text)
        m = refusal_re.search(t, 0, horizon)
        n_refusal += m is not None and m.start() < window
        n_disclaimer += disclaimer_re.search(t) is not None
    seconds = time.perf_counter() - start
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    print(json.dumps({"impl": f"python re {sys.version.split()[0]}", "refusal_window": window,
                      "answers": len(texts), "bytes": nbytes, "refusals": n_refusal,
                      "disclaimers": n_disclaimer, "seconds": round(seconds, 4),
                      "mb_per_s": round(nbytes / 1e6 / seconds, 2)}), file=sys.stderr)


def passages(data):
    out = []
    for f in sorted(glob.glob(os.path.join(data, "fast-detect-gpt", "exp_main", "*.raw_data.json"))):
        with open(f, encoding="utf-8") as fh:
            d = json.load(fh)
        out += d["original"] + d["sampled"]
    for f in sorted(glob.glob(os.path.join(data, "seqxgpt", "*", "*.jsonl"))):
        with open(f, encoding="utf-8") as fh:
            out += [json.loads(line)["text"] for line in fh if line.strip()]
    with open(os.path.join(data, "binoculars-pubmed", "pubmed-falcon7.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            o = json.loads(line)
            out += [o["article"], o["-fs-cml-models-Falcon-falcon-7b_generated_text_wo_prompt"]]
    for name in ("valid.txt", "test.txt"):
        with open(os.path.join(data, "wikitext2", name), encoding="utf-8") as fh:
            out += [p for p in fh.read().split("\n \n") if len(p) > 200 and not p.strip().startswith("=")]
    out = [p for p in out if isinstance(p, str) and len(p) >= 200]
    if not out:
        sys.exit(f"error: no passages under {data} (see ../shared/data/CATALOG.md)")
    return out


def generate(args):
    if not os.path.isdir(args.data):
        sys.exit(f"error: shared data folder {args.data} missing (set --data; see ../shared/data/CATALOG.md)")
    rng = random.Random(args.seed)
    texts = passages(args.data)
    bank = load_bank()
    refusals = [t for c, _, t, _ in bank if c == "refusal"]
    disclaimers = [t for c, _, t, _ in bank if c == "disclaimer"]
    target = int(args.mb * 1e6)
    written = answers = 0
    with open(args.out, "w", encoding="utf-8") as out:
        while written < target:
            parts = []
            for _ in range(rng.randint(1, 3)):
                p = rng.choice(texts)
                n = rng.randint(200, 2500)
                at = rng.randint(0, max(0, len(p) - n))
                parts.append(p[at:at + n])
            text = "\n\n".join(parts)
            if rng.random() < 0.08:
                text = rng.choice(refusals).capitalize() + " with that. " + text
            if rng.random() < 0.05:
                at = text.find(". ", len(text) // 2)
                if at > 0:
                    text = f"{text[:at + 2]}{rng.choice(disclaimers).capitalize()}, {text[at + 2:]}"
            if rng.random() < 0.10:
                text = text.replace("'", "\u2019")
            if rng.random() < 0.05:
                text = text.upper()
            line = json.dumps({"text": text}, ensure_ascii=False) + "\n"
            out.write(line)
            written += len(line.encode("utf-8"))
            answers += 1
    print(f"wrote {args.out}: {answers} answers, {written} bytes (seed {args.seed}, {len(texts)} passages)",
          file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("match")
    m.add_argument("answers")
    m.add_argument("--refusal-window", type=int, default=REFUSAL_WINDOW_CHARS)
    g = sub.add_parser("generate")
    g.add_argument("out")
    g.add_argument("--mb", type=float, default=50)
    g.add_argument("--seed", type=int, default=18)
    g.add_argument("--data", default=os.path.join(HERE, "..", "..", "shared", "data"))
    args = ap.parse_args()
    match(args) if args.cmd == "match" else generate(args)


if __name__ == "__main__":
    main()
