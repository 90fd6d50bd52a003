"""Answers grouped by prompt from Python: the CLI's grouped profiles, merged exactly."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import tailwatch as tw


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
