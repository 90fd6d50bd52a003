"""Answers grouped by prompt from Python: the CLI's grouped profiles, merged exactly."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

import tailwatch as tw
from conftest import SCORED, SCORED_FLAGS, need, run_cli, scored_rows, write_jsonl


def _groups() -> dict[str, list[str]]:
    groups = {}
    for p in range(40):
        if p % 5 == 0:
            groups[f"p{p}"] = [f"the same answer to {p}"] * 4
        else:
            groups[f"p{p}"] = [f"alpha{k} beta{k} gamma{k} for {p}" for k in range(4)]
    return groups


def test_from_groups_equals_the_cli_profile(cli: Path, tmp_path: Path) -> None:
    groups = _groups()
    lines = [json.dumps({"prompt": key, "text": text}) for key, answers in groups.items() for text in answers]
    corpus = tmp_path / "answers.jsonl"
    corpus.write_text("\n".join(lines) + "\n")
    out = tmp_path / "cli.twp"
    subprocess.run([str(cli), "profile", str(corpus), "--group-field", "prompt", "-o", str(out), "-q"], check=True)
    profile = tw.Profile.from_groups(groups)
    assert profile.to_bytes() == out.read_bytes()
    metrics = profile.metrics()
    assert metrics["collapsed_group_share"] == pytest.approx(0.2)
    assert metrics["distinct_at_k"] == pytest.approx(0.2 * 1 + 0.8 * 4)


def test_groups_split_across_profiles_merge_to_one_pass() -> None:
    groups = _groups()
    first = {k: v[:2] for k, v in groups.items()}
    second = [(k, v[2:]) for k, v in groups.items()]
    a = tw.Profile.from_groups(first)
    b = tw.Profile.from_groups(second)
    assert a.merge(b).to_bytes() == tw.Profile.from_groups(groups).to_bytes()
    assert b.merge(a).to_bytes() == tw.Profile.from_groups(groups).to_bytes()


def test_groups_of_records_keep_the_order_of_their_answers(cli: Path, tmp_path: Path) -> None:
    # `--group-by record`: a record's array holds one prompt's answers, in generation order,
    # which decides the greedy partition (a ~ b ~ c, a !~ c); the group key is `input:record`
    records = [
        {"answers": ["red green blue", "green blue yellow", "blue yellow black"]},
        {"answers": ["blue yellow black", "green blue yellow", "red green blue", "pink"]},
    ]
    first, both = tmp_path / "first.twp", tmp_path / "both.twp"
    for out, body in ((first, records[:1]), (both, records)):
        lines = "".join(json.dumps(r) + "\n" for r in body)
        args = [str(cli), "profile", "-", "--format", "jsonl", "--field", "answers", "--group-by", "record", "-o", str(out), "-q"]
        subprocess.run(args, input=lines, text=True, check=True)
    p = tw.Profile.load(first)
    p.update_groups({"-:2": records[1]["answers"]})
    assert p.to_bytes() == both.read_bytes()
    rows = p.report().per_group
    assert [r["classes"] for r in rows if r["group"] == "-:2"] == [[0, 0, 1, 2]]


def test_bad_groups_are_refused() -> None:
    with pytest.raises(TypeError, match="list of answers"):
        tw.Profile.from_groups({"p": "one string"})
    with pytest.raises(TypeError, match="mapping of key to answers"):
        tw.Profile.from_groups([1, 2])
    with pytest.raises(tw.InputError, match="does not group answers"):
        tw.Profile().update_groups({"p": ["a"]})
    with pytest.raises(tw.IncompatibleProfilesError):
        tw.Profile.from_groups({"p": ["a", "b"]}).merge(tw.Profile.from_texts(["a", "b"]))
    # an empty profile is the identity of the merge, grouped or not
    grouped = tw.Profile.from_groups({"p": ["a b", "a b"]})
    assert tw.Profile().merge(grouped).to_bytes() == grouped.to_bytes()


# --- order and score fields, tables, scoring options: as `tailwatch profile/score` ---

def _table(rows: list[dict]):
    pa = need("pyarrow")
    return pa.table({k: [r[k] for r in rows] for k in rows[0]})


def _groups_of(rows: list[dict]) -> dict[str, list]:
    groups: dict[str, list] = {}
    for r in rows:
        fields = {"i": r["i"], "reward": r["reward"], "pass": r["pass"]}
        groups.setdefault(r["prompt"], []).append((r["answer"], fields))
    return groups


@pytest.fixture(scope="module")
def scored(cli: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], Path]:
    """The scored answers and `tailwatch profile`'s profile of them (a JSONL file, in order)."""
    rows = scored_rows()
    d = tmp_path_factory.mktemp("scored")
    corpus = write_jsonl(d / "answers.jsonl", rows)
    out = d / "cli.twp"
    run_cli(cli, "profile", corpus, *SCORED_FLAGS, "-o", out, "-q")
    return rows, out


def test_a_table_of_scored_answers_equals_the_cli_profile(scored) -> None:
    pa = need("pyarrow")
    rows, cli_profile = scored
    want = cli_profile.read_bytes()
    # rows in any order: the order field, not the rows, orders a group's answers
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    p = tw.Profile(**SCORED)
    p.update_arrow(_table(shuffled), "answer")
    assert p.to_bytes() == want
    assert p.config["order_field"] == "i" and p.config["score_fields"] == ["reward", "pass"]
    # a stream of small batches, polars, pandas (when they read Arrow streams)
    reader = pa.RecordBatchReader.from_batches(_table(rows).schema, _table(rows).to_batches(max_chunksize=7))
    assert tw.Profile.from_arrow(reader, "answer", **SCORED).to_bytes() == want
    pl = need("polars")
    assert tw.Profile.from_arrow(pl.DataFrame(rows), "answer", **SCORED).to_bytes() == want
    pd = need("pandas")
    frame = pd.DataFrame(rows)
    if hasattr(frame, "__arrow_c_stream__"):
        assert tw.Profile.from_arrow(frame, "answer", **SCORED).to_bytes() == want
    # update_groups with each answer's fields, in one call or split across profiles
    assert tw.Profile.from_groups(_groups_of(rows), **SCORED).to_bytes() == want
    first, second = tw.Profile(**SCORED), tw.Profile(**SCORED)
    first.update_arrow(_table(rows[0::2]), "answer")
    second.update_arrow(_table(rows[1::2]), "answer")
    assert first.merge(second).to_bytes() == want
    assert tw.merge([second, first]).to_bytes() == want


def test_report_options_and_per_group_rows_match_the_cli(cli: Path, scored, tmp_path: Path) -> None:
    rows, cli_profile = scored
    p = tw.Profile.from_arrow(_table(rows), "answer", **SCORED)
    options = [
        ({}, []),
        (
            {"equivalence": "jaccard:0.6", "patience": 0.5, "pass_threshold": 1.0},
            ["--equivalence", "jaccard:0.6", "--patience", "0.5", "--pass-threshold", "1"],
        ),
        ({"equivalence": "exact"}, ["--equivalence", "exact"]),
        ({"equivalence": "unigram:0.5"}, ["--equivalence", "unigram:0.5"]),
    ]
    for kwargs, flags in options:
        per_group = tmp_path / "per-group.jsonl"
        done = run_cli(cli, "score", cli_profile, "--json", "-q", "--per-group", per_group, *flags)
        want = json.loads(done.stdout)
        report = p.report(**kwargs)
        assert report.metrics == want["metrics"], kwargs
        assert p.metrics(**kwargs) == want["metrics"], kwargs
        assert report.groups == want["groups"], kwargs
        assert report.notes == want["notes"], kwargs
        cli_rows = [json.loads(line) for line in per_group.read_text().splitlines()]
        assert [r.pop("input") for r in cli_rows] == [str(cli_profile)] * 30
        assert report.per_group == cli_rows, kwargs
    # worst first: the collapsed prompts lead
    assert {r["group"] for r in report.per_group[:5]} == {f"q{p}" for p in range(0, 30, 6)}
    assert all(r["collapsed"] for r in report.per_group[:5])
    # every score-field id of the catalog's templates, for each field (rate: 0/1 fields only)
    templates = [m["id"] for m in json.loads(run_cli(cli, "metrics", "--json").stdout) if "<field>" in m["id"]]
    ids = {t.replace("<field>", f) for t in templates for f in ("reward", "pass")} - {"score_reward_rate"}
    assert ids <= set(report.metrics)
    assert {k for k in report.metrics if k.startswith("score_")} == ids
    assert report.metrics["score_pass_rate"] == pytest.approx(sum(r["pass"] for r in rows) / len(rows))
    assert report.metrics["utility_at_k"] is not None and report.metrics["distinct_among_passing"] is not None
    # a plain report has no groups
    plain = tw.Profile.from_texts(["a b", "c d"]).report()
    assert plain.groups is None and plain.per_group == []


def test_compare_scores_groups_with_the_options(cli: Path, scored, tmp_path: Path) -> None:
    rows, cli_profile = scored
    collapsed = [{**r, "answer": "the same answer", "reward": 0.0} for r in rows]
    other = tmp_path / "collapsed.twp"
    run_cli(cli, "profile", write_jsonl(tmp_path / "collapsed.jsonl", collapsed), *SCORED_FLAGS, "-o", other, "-q")
    a = tw.Profile.from_arrow(_table(rows), "answer", **SCORED)
    b = tw.Profile.from_arrow(_table(collapsed), "answer", **SCORED)
    for kwargs, flags in [({}, []), ({"equivalence": "exact", "patience": 0.5}, ["--equivalence", "exact", "--patience", "0.5"])]:
        done = subprocess.run(
            [str(cli), "compare", str(cli_profile), str(other), "--json", "-q", "--permutations", "50", *flags],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode in (0, 1), done.stderr
        want = json.loads(done.stdout)
        got = tw.compare(a, b, permutations=50, **kwargs)
        assert got.verdict == want["verdict"] == "collapse"
        assert [(c["metric"], c["baseline"], c["candidate"]) for c in got.checks] == [
            (c["metric"], c["baseline"], c["candidate"]) for c in want["checks"]
        ]
        assert "collapsed_group_share" in {c["metric"] for c in got.checks}


def test_scores_without_groups_and_documents_without_scores(cli: Path, tmp_path: Path) -> None:
    rows = scored_rows()
    corpus = write_jsonl(tmp_path / "scored.jsonl", rows)
    out = tmp_path / "scores.twp"
    run_cli(cli, "profile", corpus, "--field", "answer", "--score-field", "reward", "-o", out, "-q")
    p = tw.Profile(score_fields=["reward"])
    p.update_arrow(_table(rows), "answer")
    assert p.to_bytes() == out.read_bytes()
    assert p.metrics()["score_reward_mean"] == pytest.approx(
        sum(r["reward"] for r in rows if r["reward"] is not None) / sum(r["reward"] is not None for r in rows)
    )
    # documents without their fields: each score is missing, as for records without the field
    bare = write_jsonl(tmp_path / "bare.jsonl", [{"answer": r["answer"]} for r in rows])
    run_cli(cli, "profile", bare, "--field", "answer", "--score-field", "reward", "-o", out, "-q")
    q = tw.Profile.from_texts([r["answer"] for r in rows], score_fields=["reward"])
    assert q.to_bytes() == out.read_bytes()
    assert tw.Profile.from_bytes(q.to_bytes()) == q
    assert any("150 of 150 documents have no value" in n for n in q.report().notes)


def test_bad_tables_are_refused_naming_row_and_column() -> None:
    pa = need("pyarrow")
    rows = scored_rows()[:4]
    p = tw.Profile(**SCORED)
    p.update_arrow(_table(rows), "answer")
    before = p.to_bytes()

    def table(**columns):
        base = {k: [r[k] for r in rows] for k in rows[0]}
        return pa.table({**base, **columns})

    bad = [
        (pa.table({k: [r[k] for r in rows] for k in ("prompt", "answer", "reward", "pass")}), r"no column `i` \(the order field\): the columns are prompt, answer, reward, pass"),
        (pa.table({k: [r[k] for r in rows] for k in ("i", "answer", "reward", "pass")}), r"no column `prompt` \(the group field\)"),
        (pa.table({k: [r[k] for r in rows] for k in ("prompt", "i", "answer", "pass")}), r"no column `reward` \(a score field\)"),
        (table(prompt=["q0", "q0", None, "q1"]), r"<table>: row 2: no group field `prompt`"),
        (table(reward=[1.0, float("nan"), 0.5, 0.5]), r"<table>: row 1: score field `reward`: `NaN` is not a finite number"),
        (table(reward=[1.0, 0.5, float("inf"), 0.5]), r"row 2: score field `reward`: `inf` is not a finite number"),
        (table(reward=["high", "1", "0", "0"]), r"row 0: score field `reward`: `high` is not a number"),
        (table(i=[0, 1, -2, 3]), r"row 2: order field `i`: `-2` is not a whole number 0 or more"),
        (table(i=[0.0, 1.0, 2.0, 3.0]), r"row 0: order field `i`: `0.0` is not a whole number"),
        (table(i=[0, None, 2, 3]), r"row 1: order field `i`: missing"),
        (table(answer=["a", "b", None, "d"]), r"row 2: the column `answer` is null, not a document \(pass skip_nulls=True"),
    ]
    for t, message in bad:
        with pytest.raises(tw.InputError, match=message):
            p.update_arrow(t, "answer")
        assert p.to_bytes() == before, message  # nothing was added
    with pytest.raises(tw.InputError, match=r"no column `text` \(the documents\)"):
        p.update_arrow(_table(rows), "text")
    with pytest.raises(TypeError, match="documents must be strings"):
        p.update_arrow(table(answer=[1, 2, 3, 4]), "answer")
    # skip_nulls leaves the null answer out, with its fields
    p.update_arrow(table(answer=["a", "b", None, "d"], reward=[1.0, 0.0, float("nan"), 1.0]), "answer", skip_nulls=True)
    assert p.n_docs == 7
    # a grouped profile takes no answer without its group
    with pytest.raises(tw.InputError, match="groups answers by field `prompt`"):
        p.update(["an answer"])


def test_bad_settings_answers_and_options() -> None:
    with pytest.raises(tw.InputError, match="order_field `i` orders the answers of each group: it needs group_field"):
        tw.Profile(order_field="i")
    with pytest.raises(TypeError, match="not one str"):
        tw.Profile(score_fields="reward")
    with pytest.raises(TypeError, match="list of str"):
        tw.Profile(score_fields=[1])
    with pytest.raises(tw.InputError, match=r"score fields `a\.b` and `a_b` both name metrics `score_a_b_\*`"):
        tw.Profile(score_fields=["a.b", "a_b"])
    with pytest.raises(tw.InputError, match="no ASCII letter or digit"):
        tw.Profile(score_fields=["..."])
    p = tw.Profile(**SCORED)
    answers = [
        ([("x", {"foo": 1})], tw.InputError, r"group `g`, answer 0: `foo` is not an order or score field of this profile \(its fields: reward, pass, i\)"),
        ([("x", {"i": 0}), ("y", {"i": 1, "reward": float("nan")})], tw.InputError, r"group `g`, answer 1: score field `reward`: `NaN` is not a finite number"),
        ([("x", {"i": 0, "reward": [1]})], TypeError, r"field `reward` holds a value of type `list`"),
        (["x"], tw.InputError, r"group `g`, answer 0: order field `i`: missing"),
        ([("x", {"i": 0, "prompt": "h"})], tw.InputError, "`prompt` is the group field"),
        ([("x", {"i": "first"})], tw.InputError, r"order field `i`: `first` is not a whole number"),
        ([("x", ["i", 0])], TypeError, "a dict of field to value"),
        ([1], TypeError, r"an answer is a str, or a \(str, \{field: value\}\) pair"),
    ]
    for given, error, message in answers:
        with pytest.raises(error, match=message):
            p.update_groups({"g": given})
        assert p.n_docs == 0, message  # nothing was added
    # values as a JSON record gives them: numbers, bools, numeric strings, None (missing)
    p.update_groups({"g": [("x", {"i": 0, "reward": "0.5", "pass": True}), ("y", {"i": 1, "reward": None, "pass": 0})]})
    assert p.n_docs == 2 and p.metrics()["score_reward_mean"] == 0.5
    for kwargs, message in [
        ({"equivalence": "levenshtein"}, "equivalence must be `unigram`, `unigram:<t>`, `exact` or `jaccard:<t>`"),
        ({"equivalence": "jaccard:1.5"}, "found `jaccard:1.5`"),
        ({"patience": 0.0}, r"patience must be in \(0, 1\], found 0"),
        ({"patience": 1.5}, "patience must be"),
        ({"pass_threshold": float("nan")}, "pass_threshold must be a finite number"),
    ]:
        with pytest.raises(tw.InputError, match=message):
            p.metrics(**kwargs)
        with pytest.raises(tw.InputError, match=message):
            p.report(**kwargs)
        with pytest.raises(tw.InputError, match=message):
            tw.compare(p, p, **kwargs)


def test_a_sample_of_groups_past_max_memory_is_refused() -> None:
    # 200 prompts of 4 answers of about 2 KB: 1.6 MB of answers against a 1 MiB budget
    groups = {f"p{p}": [f"answer {a} to prompt {p} " * 90 for a in range(4)] for p in range(200)}
    with pytest.raises(tw.InputError, match="past the memory budget of 1048576 bytes"):
        tw.Profile.from_groups(groups, max_memory=1 << 20)
    fits = tw.Profile.from_groups(groups, max_memory=1 << 20, group_sample=50)
    assert fits.report().groups["groups"] == 50
