#!/usr/bin/env python3
"""NoveltyBench-sized per-prompt partition: tailwatch against NoveltyBench's own code (issue 18).

Runs under oracles/.venv-noveltybench (rouge-score and its pins:
oracles/requirements-noveltybench.txt). The partition is `partition` of
oracles/noveltybench_goldens.py, imported from there: NoveltyBench's greedy
`partition_responses` (novelty-bench/novelty-bench src/partition.py) with its `unigram`
equivalence, the real `rouge-score` package's ROUGE-1 F-measure above 0.458. (Upstream
awaits an async equivalence per pair; the synchronous copy does the same checks with less
overhead, so it is the faster of the two.)

Data: 1,100 prompts x 10 answers (NoveltyBench's size), deterministic (seed 18), answers of
30-120 words made of consecutive sentences of WikiText-2 (valid + test; `<unk>` dropped,
` @-@ ` joins undone, punctuation and quotes attached) or of EMNLP2017 news
(texygen/ref_test_emnlp.txt). Each prompt has 1-10 base answers on one topic (passages of
one wiki article, or news lines within 200 of each other); its 10 answers are exact copies of a
base, light paraphrases (a few words dropped, replaced or inserted), heavy ones (edits near
the 0.458 line) or case variants; some prompts are one answer ten times. So the class counts
spread over 1..10.

  noveltybench.py gen DIR        write DIR/flat.jsonl ({"prompt", "generation", "text"} per
                                 answer) and DIR/rec.jsonl ({"prompt", "generations": [...]}
                                 per prompt, in generation order; line n = prompt n-1)
  noveltybench.py partition DIR OUT.json
                                 NoveltyBench's partition of every prompt of DIR/flat.jsonl
                                 (answers in generation order); writes the labels, prints
                                 the in-process seconds
  noveltybench.py check DIR NB.json PER_GROUP.jsonl REPORT.json
                                 every prompt's classes (and labels) from tailwatch's
                                 --per-group rows equal NoveltyBench's, and the report's
                                 mean distinct_at_k equals theirs exactly; exit 1 otherwise
  noveltybench.py run [TAILWATCH]
                                 all of it once in a temp dir: gen, partition, tailwatch
                                 end to end, check (default binary: target/release/tailwatch)

bench/noveltybench.sh runs the rounds and takes the medians.
"""

import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "oracles"))
from noveltybench_goldens import partition  # noqa: E402  (NoveltyBench's partition_responses)

DATA = Path(os.environ.get("TW_DATA", REPO.parent / "shared" / "data"))
SEED = 18
PROMPTS = 1100
K = 10
MIN_WORDS, MAX_WORDS = 30, 120

# The tailwatch command of the benchmark (the input file is appended first).
TW_ARGS = ["--field", "generations", "--group-by", "record", "--group-sample", "all",
           "--equivalence", "unigram",
           "--metrics", "distinct_at_k,class_entropy,collapsed_group_share", "--json", "-q"]


# ---------------------------------------------------------------- data


def clean_wiki(line: str) -> str:
    """Undo WikiText-2's tokenization: drop `<unk>`, join ` @-@ `, attach punctuation and quotes."""
    line = re.sub(r" @(.)@ ", r"\1", line.replace("<unk>", " "))
    out, open_quote = [], False
    for tok in line.split():
        if tok == '"':
            if open_quote and out:
                out[-1] += '"'
            else:
                out.append('"')
            open_quote = not open_quote
        elif out and (out[-1] in ('"', "(") or (out[-1].endswith("(") and len(out[-1]) == 1)):
            out[-1] += tok
        elif out and re.fullmatch(r"[,.;:!?)%]+|'s|n't", tok):
            out[-1] += tok
        else:
            out.append(tok)
    return " ".join(out)


def wiki_articles() -> list[list[str]]:
    """Articles of WikiText-2 valid + test, each a list of its sentences in order."""
    articles = []
    for name in ("valid.txt", "test.txt"):
        path = DATA / "wikitext2" / name
        if not path.is_file():
            sys.exit(f"error: missing {path} (set TW_DATA to the shared data folder)")
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if re.fullmatch(r"= [^=].* =", line):
                articles.append([])
            elif line and not line.startswith("=") and articles:
                sents = [clean_wiki(s).rstrip(" .") + "." for s in line.split(" . ") if s.strip()]
                articles[-1].extend(s for s in sents if len(s.split()) >= 4)
    return [a for a in articles if sum(len(s.split()) for s in a) >= 4 * MAX_WORDS]


def news_lines() -> list[str]:
    path = DATA / "texygen" / "ref_test_emnlp.txt"
    if not path.is_file():
        sys.exit(f"error: missing {path} (set TW_DATA to the shared data folder)")
    return [l.strip() for l in path.read_text(encoding="utf-8").splitlines() if len(l.split()) >= 5]


def take_words(sentences, n: int) -> str:
    words = []
    for s in sentences:
        words.extend(s.split())
        if len(words) >= n:
            break
    return " ".join(words[:n])


def bases_for(rng: random.Random, m: int, articles, news) -> list[str]:
    """m base answers on one topic: passages of one wiki article, or neighbouring news lines."""
    out = []
    if rng.random() < 0.75:
        sents = rng.choice(articles)
        for _ in range(m):
            first = rng.randrange(len(sents) - 8)
            out.append(take_words(sents[first:], rng.randint(MIN_WORDS, MAX_WORDS)))
    else:
        start = rng.randrange(len(news) - 200)
        for _ in range(m):
            first = start + rng.randrange(200)
            out.append(take_words(news[first:first + 12], rng.randint(MIN_WORDS, MAX_WORDS)))
    return out


def paraphrase(rng: random.Random, text: str, rate: float, vocab: list[str]) -> str:
    """Drop, replace or insert about `rate` of the words (replacements from the prompt's words),
    drawn again until the answer has 30-120 words."""
    while True:
        out = edit_words(rng, text, rate, vocab)
        if MIN_WORDS <= len(out) <= MAX_WORDS:
            return " ".join(out)


def edit_words(rng: random.Random, text: str, rate: float, vocab: list[str]) -> list[str]:
    out = []
    for w in text.split():
        r = rng.random()
        if r < rate / 3:
            continue
        if r < 2 * rate / 3:
            out.append(rng.choice(vocab))
        elif r < rate:
            out.extend([w, rng.choice(vocab)])
        else:
            out.append(w)
    return out


def answers_for(rng: random.Random, articles, news) -> list[str]:
    kind = rng.random()
    if kind < 0.08:  # one answer ten times
        return [bases_for(rng, 1, articles, news)[0]] * K
    m = rng.choices(range(1, K + 1), weights=[10, 12, 12, 11, 10, 9, 8, 7, 7, 9])[0]
    bases = bases_for(rng, m, articles, news)
    vocab = " ".join(bases).split()
    which = list(range(m)) + [rng.randrange(m) for _ in range(K - m)]
    rng.shuffle(which)
    out = []
    for b in which:
        base, r = bases[b], rng.random()
        if r < 0.30:
            out.append(base)
        elif r < 0.75:
            out.append(paraphrase(rng, base, rng.uniform(0.02, 0.15), vocab))
        elif r < 0.92:
            out.append(paraphrase(rng, base, rng.uniform(0.35, 0.75), vocab))
        else:
            out.append(base.upper() if rng.random() < 0.5 else base.lower())
    return out


def gen(out_dir: Path) -> None:
    rng = random.Random(SEED)
    articles, news = wiki_articles(), news_lines()
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "flat.jsonl", "w", encoding="utf-8") as flat, \
            open(out_dir / "rec.jsonl", "w", encoding="utf-8") as rec:
        for p in range(PROMPTS):
            answers = answers_for(rng, articles, news)
            for i, text in enumerate(answers):
                flat.write(json.dumps({"prompt": p, "generation": i, "text": text}) + "\n")
            rec.write(json.dumps({"prompt": p, "generations": answers}) + "\n")


# ---------------------------------------------------------------- NoveltyBench


def read_flat(path: Path) -> list[list[str]]:
    """Answers per prompt, in generation order (the order NoveltyBench partitions them in)."""
    rows = [json.loads(l) for l in open(path, encoding="utf-8")]
    groups: dict[int, dict[int, str]] = {}
    for r in rows:
        groups.setdefault(r["prompt"], {})[r["generation"]] = r["text"]
    return [[g[i] for i in sorted(g)] for _, g in sorted(groups.items())]


def nb_partition(data_dir: Path, out_path: Path) -> float:
    t0 = time.perf_counter()
    groups = read_flat(data_dir / "flat.jsonl")
    t1 = time.perf_counter()
    labels = [partition(answers) for answers in groups]
    t2 = time.perf_counter()
    distinct = [max(l) + 1 for l in labels]
    out = {"read_s": t1 - t0, "partition_s": t2 - t1, "prompts": len(groups),
           "answers": sum(len(g) for g in groups), "labels": labels, "distinct": distinct,
           "mean_distinct": sum(distinct) / len(distinct)}
    out_path.write_text(json.dumps(out) + "\n")
    print(f"noveltybench partition: {len(groups)} prompts, read {t1 - t0:.3f} s, "
          f"partition {t2 - t1:.3f} s, mean distinct {out['mean_distinct']!r}")
    return t2 - t1


# ---------------------------------------------------------------- check


def check(data_dir: Path, nb_path: Path, per_group: Path, report: Path) -> bool:
    nb = json.loads(nb_path.read_text())
    recs = [json.loads(l) for l in open(data_dir / "rec.jsonl", encoding="utf-8")]
    flat = read_flat(data_dir / "flat.jsonl")
    problems = []
    if [r["generations"] for r in recs] != flat:
        problems.append("rec.jsonl and flat.jsonl hold different answers")
    rows = {}
    for line in open(per_group, encoding="utf-8"):
        row = json.loads(line)
        rows[int(row["group"].rsplit(":", 1)[1])] = row
    if sorted(rows) != list(range(1, len(recs) + 1)):
        problems.append(f"--per-group has {len(rows)} groups, want lines 1..{len(recs)}")
    mismatched, labels_differ = [], 0
    for line_no, rec in enumerate(recs, 1):
        row = rows.get(line_no)
        want = nb["distinct"][rec["prompt"]]
        if row is None or row["distinct_at_k"] != want:
            mismatched.append((rec["prompt"], want, row and row["distinct_at_k"]))
        elif "classes" in row and row["classes"] != nb["labels"][rec["prompt"]]:
            labels_differ += 1
    if mismatched:
        problems.append(f"{len(mismatched)} prompts differ in class count, first: "
                        f"{mismatched[:5]} (prompt, noveltybench, tailwatch)")
    if labels_differ:
        problems.append(f"{labels_differ} prompts have the same count but other labels")
    rep = json.loads(report.read_text())
    tw_mean = rep["metrics"]["distinct_at_k"]
    if tw_mean != nb["mean_distinct"]:
        problems.append(f"mean distinct_at_k: tailwatch {tw_mean!r}, noveltybench {nb['mean_distinct']!r}")
    hist = Counter(nb["distinct"])
    # the greedy pass compares each class's first member with every later answer still open:
    # those of its own class or of a later one
    checks = sum(sum(1 for j in range(i + 1, len(l)) if l[j] >= l[i])
                 for l in nb["labels"] for i in range(len(l)) if l[i] not in l[:i])
    print(f"check: {len(recs)} prompts, classes per prompt "
          + " ".join(f"{c}:{hist[c]}" for c in sorted(hist))
          + f"; {checks:,} ROUGE-1 checks; mean distinct {nb['mean_distinct']!r} (tailwatch {tw_mean!r}); labels compared: "
          + ("yes" if all("classes" in r for r in rows.values()) else "no (no classes field)"))
    for p in problems:
        print("MISMATCH:", p)
    print("partitions match exactly" if not problems else "partitions DIFFER")
    return not problems


# ---------------------------------------------------------------- run


def run(tailwatch: str) -> int:
    print(f"rouge-score {version('rouge_score')}, python {sys.version.split()[0]}, {tailwatch}")
    with tempfile.TemporaryDirectory(prefix="nbbench.") as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        gen(d)
        print(f"gen: {time.perf_counter() - t0:.2f} s, flat.jsonl {os.path.getsize(d / 'flat.jsonl'):,} B, "
              f"rec.jsonl {os.path.getsize(d / 'rec.jsonl'):,} B")
        py_s = nb_partition(d, d / "nb.json")
        cmd = [tailwatch, "score", str(d / "rec.jsonl"), *TW_ARGS, "--per-group", str(d / "pg.jsonl")]
        t0 = time.perf_counter()
        res = subprocess.run(cmd, stdout=subprocess.PIPE)
        tw_s = time.perf_counter() - t0
        if res.returncode != 0:
            print(f"tailwatch exited {res.returncode}")
            return 1
        (d / "report.json").write_bytes(res.stdout)
        print(f"tailwatch end to end: {tw_s:.3f} s; python partition / tailwatch = {py_s / tw_s:.1f}x")
        return 0 if check(d, d / "nb.json", d / "pg.jsonl", d / "report.json") else 1


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    args = sys.argv[1:]
    if args and args[0] == "gen" and len(args) == 2:
        gen(Path(args[1]))
        return 0
    if args and args[0] == "partition" and len(args) == 3:
        nb_partition(Path(args[1]), Path(args[2]))
        return 0
    if args and args[0] == "check" and len(args) == 5:
        return 0 if check(*map(Path, args[1:])) else 1
    if args and args[0] == "tw-args":
        print(" ".join(TW_ARGS))
        return 0
    if not args or (args[0] == "run" and len(args) <= 2):
        return run(args[1] if len(args) == 2 else str(REPO / "target" / "release" / "tailwatch"))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
