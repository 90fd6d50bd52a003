#!/usr/bin/env python3
"""Calibration of `tailwatch compare`'s verdicts: false breaches on splits of human corpora,
detection of planted collapses, and the fast-detect-gpt machine-vs-human verdicts.

    python3 bench/calibrate.py            # all of it, about 10 minutes on 2 cores
    NULL_SPLITS=50 POWER_REPS=5 python3 bench/calibrate.py   # a quick look

Needs the release binary (cargo build --release -p tailwatch-cli) and the KN sampler example
(cargo build --release -p tailwatch-lm --example kn_sample); standard library only. Every run
is the default `tailwatch compare BASE CAND --json --seed S` (default rules, alpha 0.05,
1,000 block permutations), on files written under bench/out/calibrate/.

Null: for each corpus, NULL_SPLITS seeded random splits into two disjoint sides, the smaller of
50, 100 or 200 documents and the larger 1 to 5 times that, in three reference modes in turn:
none, the baseline itself (`--reference BASE`, held out by compare) and a third disjoint sample
of 300 documents. Power: a baseline of 200 documents and a candidate of 200 others in which a
share (10, 25, 50 %) is replaced by (a) copies of 3 of its documents, (b) sentences filled
from one template with corpus words, (c) documents sampled from a trigram Kneser-Ney model
trained on the corpus; the separate reference in every run.

Prints markdown tables (for docs/RULES.md) and writes bench/out/calibrate/results.json.
"""
import collections
import glob
import json
import os
import random
import subprocess
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
DATA = os.environ.get("TW_DATA", os.path.join(REPO, "..", "shared", "data"))
TAILWATCH = os.environ.get("TAILWATCH", os.path.join(REPO, "target", "release", "tailwatch"))
KN_SAMPLE = os.environ.get("KN_SAMPLE", os.path.join(REPO, "target", "release", "examples", "kn_sample"))
OUT = os.path.join(BENCH, "out", "calibrate")
NULL_SPLITS = int(os.environ.get("NULL_SPLITS", "200"))
POWER_REPS = int(os.environ.get("POWER_REPS", "20"))
SHARES = (0.1, 0.25, 0.5)
KINDS = ("copies", "template", "ngram")
RULES = ("distinct_2", "entropy_1", "self_bleu_4", "js_to_reference", "tail_coverage",
         "duplicate_rate", "compression_ratio")


def die(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def one_line(text):
    return " ".join(text.split())


def shakespeare():
    """Speeches (blank-line separated blocks) without the speaker's name line."""
    with open(os.path.join(DATA, "tiny-shakespeare", "input.txt"), encoding="utf-8") as f:
        blocks = f.read().split("\n\n")
    speeches = [one_line(" ".join(b.strip().split("\n")[1:])) for b in blocks]
    return [s for s in speeches if s]


def wikitext():
    """Paragraphs of valid and test, without headings."""
    docs = []
    for name in ("valid.txt", "test.txt"):
        with open(os.path.join(DATA, "wikitext2", name), encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("="):
                    docs.append(one_line(line))
    return docs


def fast_detect_files():
    return sorted(glob.glob(os.path.join(DATA, "fast-detect-gpt", "exp_main", "*.raw_data.json")))


def fast_detect_originals():
    """The human `original` texts of every fast-detect-gpt file, each once."""
    seen, docs = set(), []
    for path in fast_detect_files():
        with open(path, encoding="utf-8") as f:
            for text in json.load(f)["original"]:
                text = one_line(text)
                if text and text not in seen:
                    seen.add(text)
                    docs.append(text)
    return docs


def write(path, docs):
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(d + "\n")


def compare(base, cand, seed, reference=None):
    cmd = [TAILWATCH, "compare", base, cand, "--json", "--seed", str(seed), "-q"]
    if reference:
        cmd += ["--reference", reference]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode not in (0, 1):
        die(f"{' '.join(cmd)} exited {run.returncode}: {run.stderr.strip()}")
    return json.loads(run.stdout)


def null_runs(name, docs, tally):
    rng = random.Random(f"null {name}")
    for i in range(NULL_SPLITS):
        small = (50, 100, 200)[i % 3]
        ratio = 1 + (i // 3) % 5
        while small * (ratio + 1) + 300 > len(docs):
            small //= 2
        picked = rng.sample(docs, small * (ratio + 1) + 300)
        base, cand, ref = picked[:small], picked[small:small * (ratio + 1)], picked[small * (ratio + 1):]
        if i % 2:  # the larger side is the baseline every other split
            base, cand = cand, base
        mode = ("none", "baseline", "separate")[(i // 15) % 3]
        paths = [os.path.join(OUT, f"{name}.{part}.txt") for part in ("base", "cand", "ref")]
        write(paths[0], base)
        write(paths[1], cand)
        write(paths[2], ref)
        reference = {"none": None, "baseline": paths[0], "separate": paths[2]}[mode]
        result = compare(paths[0], paths[1], i, reference)
        tally["null", name, mode]["runs"] += 1
        tally["null", name, mode]["collapse"] += result["verdict"] == "collapse"
        for check in result["checks"]:
            if check["status"] != "skipped":
                tally["null", name, mode]["tested " + check["metric"]] += 1
            tally["null", name, mode]["breach " + check["metric"]] += check["status"] == "breach"
            tally["null", name, mode]["past " + check["metric"]] += check["status"] in ("breach", "not significant")


def kn_samples(name, docs, n):
    corpus = os.path.join(OUT, f"{name}.kn-train.txt")
    write(corpus, docs)
    run = subprocess.run([KN_SAMPLE, corpus, str(n), "7", "3"], capture_output=True, text=True)
    if run.returncode != 0:
        die(f"kn_sample: {run.stderr.strip()}")
    return [line for line in run.stdout.split("\n") if line.strip()]


def power_runs(name, docs, tally):
    rng = random.Random(f"power {name}")
    words = [w for d in rng.sample(docs, min(len(docs), 2000)) for w in d.split()]
    generated = kn_samples(name, docs, 200 * POWER_REPS)
    for kind in KINDS:
        for share in SHARES:
            for r in range(POWER_REPS):
                picked = rng.sample(docs, 700)
                base, cand, ref = picked[:200], picked[200:400], picked[400:]
                planted = int(round(share * len(cand)))
                if kind == "copies":
                    few = cand[:3]
                    fill = [few[j % 3] for j in range(planted)]
                elif kind == "template":
                    fill = [f"the {rng.choice(words)} of the {rng.choice(words)} is {rng.choice(words)} ."
                            for _ in range(planted)]
                else:
                    fill = rng.sample(generated, planted)
                cand = fill + cand[planted:]
                rng.shuffle(cand)
                paths = [os.path.join(OUT, f"{name}.{part}.txt") for part in ("base", "cand", "ref")]
                write(paths[0], base)
                write(paths[1], cand)
                write(paths[2], ref)
                result = compare(paths[0], paths[1], r, paths[2])
                key = ("power", name, kind, share)
                tally[key]["runs"] += 1
                tally[key]["collapse"] += result["verdict"] == "collapse"
                for check in result["checks"]:
                    tally[key]["breach " + check["metric"]] += check["status"] == "breach"


def fast_detect_table():
    rows = []
    for path in fast_detect_files():
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        stem = os.path.basename(path).replace(".raw_data.json", "")
        base, cand = os.path.join(OUT, f"{stem}.original.txt"), os.path.join(OUT, f"{stem}.sampled.txt")
        write(base, [one_line(t) for t in data["original"] if one_line(t)])
        write(cand, [one_line(t) for t in data["sampled"] if one_line(t)])
        result = compare(base, cand, 0, base)
        rows.append((stem, result))
    return rows


def texygen_textgan():
    base = os.path.join(DATA, "texygen", "ref_test_coco.txt")
    cand = os.path.join(DATA, "texygen", "gen_textgan.txt")
    return compare(base, cand, 0)


def pct(k, n):
    return f"{100.0 * k / n:.1f} %" if n else "-"


def main():
    for tool in (TAILWATCH, KN_SAMPLE):
        if not os.access(tool, os.X_OK):
            die(f"{tool} missing (cargo build --release -p tailwatch-cli; "
                "cargo build --release -p tailwatch-lm --example kn_sample)")
    os.makedirs(OUT, exist_ok=True)
    corpora = {"tiny-shakespeare": shakespeare(), "wikitext2": wikitext(),
               "fast-detect-gpt original": fast_detect_originals()}
    tally = collections.defaultdict(collections.Counter)
    for name, docs in corpora.items():
        print(f"{name}: {len(docs)} documents; null splits ...", file=sys.stderr)
        null_runs(name.split()[0], docs, tally)
        print(f"{name}: planted collapses ...", file=sys.stderr)
        power_runs(name.split()[0], docs, tally)
    rows = fast_detect_table()
    textgan = texygen_textgan()

    print("### Null: splits of one human corpus\n")
    print("| corpus | reference | splits | `collapse` | " + " | ".join(f"`{r}`" for r in RULES) + " |")
    print("|---|---|---|---|" + "---|" * len(RULES))
    totals = collections.Counter()
    for (kind, *key), counts in sorted(tally.items()):
        if kind != "null":
            continue
        name, mode = key
        totals["runs"] += counts["runs"]
        totals["collapse"] += counts["collapse"]
        cells = []
        for r in RULES:
            totals["breach " + r] += counts["breach " + r]
            totals["tested " + r] += counts["tested " + r]
            totals["past " + r] += counts["past " + r]
            cells.append(f"{counts['breach ' + r]} / {counts['tested ' + r]}" if counts["tested " + r] else "-")
        print(f"| {name} | {mode} | {counts['runs']} | {counts['collapse']} ({pct(counts['collapse'], counts['runs'])}) | "
              + " | ".join(cells) + " |")
    print(f"| **all** | | {totals['runs']} | {totals['collapse']} ({pct(totals['collapse'], totals['runs'])}) | "
          + " | ".join(pct(totals["breach " + r], totals["tested " + r]) for r in RULES) + " |")
    print("\nPast the threshold alone (the old verdict): "
          + ", ".join(f"`{r}` {pct(totals['past ' + r], totals['tested ' + r])}" for r in RULES) + "\n")

    print("### Power: planted collapses (200 vs 200 documents, separate reference)\n")
    print("| corpus | planted | share | `collapse` | " + " | ".join(f"`{r}`" for r in RULES) + " |")
    print("|---|---|---|---|" + "---|" * len(RULES))
    for (kind, *key), counts in sorted(tally.items(), key=lambda kv: str(kv[0])):
        if kind != "power":
            continue
        name, planted, share = key
        n = counts["runs"]
        print(f"| {name} | {planted} | {int(share * 100)} % | {pct(counts['collapse'], n)} | "
              + " | ".join(pct(counts["breach " + r], n) for r in RULES) + " |")

    print("\n### fast-detect-gpt: machine `sampled` vs human `original` (baseline and held-out reference)\n")
    print("| file | verdict | " + " | ".join(f"`{r}` p" for r in RULES) + " |")
    print("|---|---|" + "---|" * len(RULES))
    for stem, result in rows:
        by = {c["metric"]: c for c in result["checks"]}

        def cell(r):
            c = by.get(r)
            if not c or c["p_value"] is None:
                return "-"
            mark = " **B**" if c["status"] == "breach" else ""
            return f"{c['p_value']:.3f}{mark}"
        print(f"| {stem} | {result['verdict']} | " + " | ".join(cell(r) for r in RULES) + " |")
    print(f"\ntexygen TextGAN vs COCO test: **{textgan['verdict']}** (breaching: "
          + ", ".join(c["metric"] for c in textgan["checks"] if c["status"] == "breach") + ")")

    with open(os.path.join(OUT, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"tally": {" / ".join(map(str, k)): v for k, v in tally.items()},
                   "fast_detect": {stem: r for stem, r in rows}, "textgan": textgan}, f, indent=1)


if __name__ == "__main__":
    main()
