"""Goldens of NoveltyBench's per-prompt metrics: partition, distinct, utility, class entropy.

NoveltyBench is not on PyPI, so its logic is re-typed from the cited upstream files (and
checked against them by hand), while the equivalence it calls is the real `rouge-score`
package:
- `partition_responses` and `equivalence_check_unigram` (ROUGE-1 F > 0.458):
  novelty-bench/novelty-bench `src/partition.py`;
- `score_partition_rm`'s first-member scores and the patience-weighted `np.average`:
  `src/score.py`; `mean_distinct` = classes: `src/summarize.py`;
- `cluster_assignment_entropy`: jlko/semantic_uncertainty `uncertainty/uncertainty_measures/
  semantic_entropy.py`.
Groups are synthetic and deterministic (seed 17): paraphrase-like edits of a few base answers,
exact copies, case and punctuation variants, text outside ASCII, short and empty answers.

    oracles/.venv-noveltybench/bin/python oracles/noveltybench_goldens.py   # -> goldens/noveltybench.json
"""

import json
import random
from importlib.metadata import version
from pathlib import Path

import numpy as np
from rouge_score import rouge_scorer

SCORER = rouge_scorer.RougeScorer(["rouge1"])
THRESHOLD = 0.458
PATIENCE = 0.8
WORDS = ("the cat dog sat ran on under a an mat roof quickly slowly because it was raining "
         "Paris café naïve über 2026 one two three (note) e-mail can't won't").split()


def rouge1(a: str, b: str) -> float:
    return SCORER.score(a, b)["rouge1"].fmeasure


def partition(answers: list[str]) -> list[int]:
    classes = 0
    labels = [-1] * len(answers)
    for i in range(len(answers)):
        if labels[i] >= 0:
            continue
        labels[i] = classes
        for j in range(i + 1, len(answers)):
            if labels[j] == -1 and rouge1(answers[i], answers[j]) > THRESHOLD:
                labels[j] = classes
        classes += 1
    return labels


def utility(labels: list[int], scores: list[int]) -> float:
    earned, opened = [], 0
    for label, s in zip(labels, scores):
        if label == opened:
            earned.append(s)
            opened += 1
        else:
            earned.append(0)
    return float(np.average(earned, weights=PATIENCE ** np.arange(len(labels))))


def entropy(labels: list[int]) -> float:
    counts = np.bincount(labels)
    p = counts / len(labels)
    return float(-(p * np.log(p)).sum())


def edit(rng: random.Random, answer: str, rate: float) -> str:
    out = []
    for w in answer.split():
        r = rng.random()
        if r < rate / 3:
            continue
        if r < 2 * rate / 3:
            out.append(rng.choice(WORDS))
        elif r < rate:
            out.extend([w, rng.choice(WORDS)])
        else:
            out.append(w)
    text = " ".join(out)
    if rng.random() < 0.2:
        text = text.upper()
    if rng.random() < 0.2:
        text = text.replace(" ", ", ", 1) + "!"
    return text


def group(rng: random.Random, k: int) -> list[str]:
    bases = [" ".join(rng.choices(WORDS, k=rng.randint(1, 14))) for _ in range(rng.randint(1, 4))]
    answers = []
    for _ in range(k):
        r = rng.random()
        if r < 0.05:
            answers.append("")
        elif r < 0.25 and answers:
            answers.append(rng.choice(answers))
        else:
            answers.append(edit(rng, rng.choice(bases), rng.choice([0.0, 0.1, 0.3, 0.6])))
    return answers


def main() -> None:
    rng = random.Random(17)
    groups = []
    for g in range(300):
        answers = group(rng, rng.choice([1, 2, 5, 10, 10, 10]))
        scores = [rng.randint(1, 10) for _ in answers]
        labels = partition(answers)
        pairs = [(i, j, rouge1(answers[i], answers[j])) for i in range(len(answers)) for j in range(i + 1, len(answers))]
        groups.append({
            "answers": answers,
            "scores": scores,
            "partition": labels,
            "distinct": max(labels) + 1,
            "utility": utility(labels, scores),
            "class_entropy": entropy(labels),
            "rouge1": pairs[:12],
        })
    out = {
        "about": "NoveltyBench unigram partition, utility (patience 0.8) and semantic-entropy goldens; see oracles/noveltybench_goldens.py",
        "versions": {"rouge_score": version("rouge_score"), "numpy": np.__version__},
        "threshold": THRESHOLD,
        "patience": PATIENCE,
        "groups": groups,
    }
    path = Path(__file__).parent / "goldens" / "noveltybench.json"
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{path}: {len(groups)} groups, {sum(len(g['answers']) for g in groups)} answers")


if __name__ == "__main__":
    main()
