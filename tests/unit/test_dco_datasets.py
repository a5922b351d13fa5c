"""The checker agrees with the ground truth of both GitLab datasets on every commit and MR.

`tests/data/gitlab/*.dco_verdicts.json` holds the reference rules' verdict (dco_ok,
exempt, reason) for every commit and merge request; all must agree, reason text included.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from bounty.dco.inputs import loads
from bounty.dco.report import check, to_json
from bounty.dco.rules import DcoChecker, commit_from_gitlab
from tests.datasets import DATASETS, GITLAB_DATA_DIR

DATA_DIR = GITLAB_DATA_DIR


def load(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    dataset = json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    truth = json.loads((DATA_DIR / f"{name}.dco_verdicts.json").read_text(encoding="utf-8"))
    return dataset, truth


@pytest.mark.parametrize("name", DATASETS)
def test_every_commit_and_merge_request_agrees_with_the_ground_truth(name):
    dataset, truth = load(name)
    checker = DcoChecker()
    commits_seen: dict[str, tuple[bool, str, str | None]] = {}
    for iid, items in dataset["commits"].items():
        mr, verdicts = checker.check_merge_request([commit_from_gitlab(item) for item in items])
        expected = truth["merge_requests"][iid]
        assert (mr.dco_ok, list(mr.failing_commits)) == (expected["dco_ok"], expected["failing_commits"]), iid
        for verdict in verdicts:
            commits_seen[verdict.sha] = (verdict.dco_ok, verdict.reason, verdict.exempt)
    wanted = {sha: (v["dco_ok"], v["reason"], v["exempt"]) for sha, v in truth["commits"].items()}
    disagreeing = {sha: (got, wanted.get(sha)) for sha, got in commits_seen.items() if got != wanted.get(sha)}
    assert disagreeing == {}
    assert set(commits_seen) == set(wanted)
    assert set(dataset["commits"]) == set(truth["merge_requests"])


@pytest.mark.parametrize("name", DATASETS)
def test_the_report_of_a_dataset_is_the_ground_truth(name):
    dataset, truth = load(name)
    report = to_json(check(DcoChecker(), loads(json.dumps(dataset))))
    assert report["commits"] == {sha: {key: v[key] for key in ("dco_ok", "reason", "exempt")}
                                 for sha, v in truth["commits"].items()}
    assert report["merge_requests"] == {iid: {key: v[key] for key in ("dco_ok", "failing_commits")}
                                        for iid, v in truth["merge_requests"].items()}
    counts = truth["counts"]
    assert report["summary"] == {
        "commits": counts["commits"],
        "commits_failing": counts["commits_dco_failing"],
        "commits_exempt_merge": counts["commits_exempt_merge"],
        "commits_exempt_bot": counts["commits_exempt_bot"],
        "merge_requests": counts["merge_requests"],
        "merge_requests_failing": counts["merge_requests_dco_failing"],
    }


def test_the_datasets_exercise_every_kind_of_verdict():
    # Guards the two tests above against data that no longer covers the rules.
    kinds: Counter[str] = Counter()
    for name in DATASETS:
        _, truth = load(name)
        for v in truth["commits"].values():
            reason = v["reason"]
            kinds["merge" if v["exempt"] == "merge" else "bot" if v["exempt"] == "bot"
                  else "missing" if reason == "The sign-off is missing."
                  else "expected" if reason.startswith("Expected ")
                  else "can not find" if reason.startswith("Can not find ")
                  else "several ok" if " sign-offs match; first " in reason
                  else "one ok"] += 1
    assert set(kinds) == {"merge", "bot", "missing", "expected", "can not find", "several ok", "one ok"}
