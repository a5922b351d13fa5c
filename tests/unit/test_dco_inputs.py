"""Reading the checker's input: a dataset object or a list of GitLab commits, and its errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bounty.dco.inputs import DcoInput, DcoInputError, loads, parse_input
from bounty.dco.rules import Commit


def gitlab_commit(sha: str = "a" * 40, **changes: Any) -> dict[str, Any]:
    data = {"id": sha, "short_id": sha[:8], "title": "Fix", "message": "Fix\n\nSigned-off-by: A <a@b.cd>\n",
            "author_name": "A", "author_email": "a@b.cd", "committer_name": "C",
            "committer_email": "c@d.ef", "parent_ids": ["p" * 40], "trailers": {}}
    data.update(changes)
    return data


def commit_of(data: dict[str, Any]) -> Commit:
    return Commit(data["id"], data["message"], data["author_name"], data["author_email"],
                  data["committer_name"], data["committer_email"], tuple(data["parent_ids"]))


def test_a_dataset_gives_each_merge_requests_commits_and_each_commit_once():
    shared = gitlab_commit("s" * 40)
    data = {"project": {"id": 1}, "merge_requests": [{"iid": 7}, {"iid": 8}],
            "commits": {"7": [gitlab_commit("a" * 40), shared], "8": [shared]}}
    parsed = parse_input(data)
    assert parsed == DcoInput(
        commits=(commit_of(gitlab_commit("a" * 40)), commit_of(shared)),
        merge_requests={"7": (commit_of(gitlab_commit("a" * 40)), commit_of(shared)),
                        "8": (commit_of(shared),)})


def test_a_list_of_commits_has_no_merge_requests():
    parsed = parse_input([gitlab_commit("a" * 40), gitlab_commit("b" * 40, parent_ids=[])])
    assert [c.sha for c in parsed.commits] == ["a" * 40, "b" * 40]
    assert parsed.commits[1].parent_ids == ()
    assert parsed.merge_requests == {}


def test_parent_ids_may_be_left_out_or_null():
    data = gitlab_commit()
    del data["parent_ids"]
    assert parse_input([data, gitlab_commit("b" * 40, parent_ids=None)]).commits[0].parent_ids == ()


def test_an_empty_list_is_no_commits():
    assert parse_input([]) == DcoInput((), {})


NOT_PARENTS = '"parent_ids" must be a list of strings'


@pytest.mark.parametrize(("data", "message"), [
    ({"commits": {"32562": [gitlab_commit(author_email=None)]}},
     'commits["32562"][0]: "author_email" must be a string, got null'),
    ({"commits": {"32562": [{k: v for k, v in gitlab_commit().items() if k != "author_email"}]}},
     'commits["32562"][0]: "author_email" is missing'),
    ({"commits": {"1": [gitlab_commit(), gitlab_commit(message=3)]}},
     'commits["1"][1]: "message" must be a string, got a number'),
    ({"commits": {"1": [gitlab_commit(id="")]}}, 'commits["1"][0]: "id" is empty'),
    ({"commits": {"1": [gitlab_commit(parent_ids="abc")]}}, f'commits["1"][0]: {NOT_PARENTS}'),
    ({"commits": {"1": [gitlab_commit(parent_ids=[1])]}}, f'commits["1"][0]: {NOT_PARENTS}'),
    ({"commits": {"1": "abc"}}, 'commits["1"]: expected a list of commits, got a string'),
    ({"commits": {"1": ["abc"]}}, 'commits["1"][0]: expected a commit object, got a string'),
    ({"commits": [gitlab_commit()]},
     '"commits" must be an object of merge request iid to commits, got a list'),
    ({"project": {}, "merge_requests": []},
     '"commits" is missing (expected a dataset object or a list of commits)'),
    ("text", 'expected an object with "commits" or a list of commits, got a string'),
    (None, 'expected an object with "commits" or a list of commits, got null'),
    ([gitlab_commit(), 5], "[1]: expected a commit object, got a number"),
    ([gitlab_commit(committer_name=True)], '[0]: "committer_name" must be a string, got a boolean'),
])
def test_the_wrong_shape_is_named_in_one_line(data, message):
    with pytest.raises(DcoInputError) as caught:
        parse_input(data)
    assert str(caught.value) == message


def test_text_that_is_not_json_is_refused():
    with pytest.raises(DcoInputError, match=r"^not JSON: Expecting value: line 1 column 1 \(char 0\)$"):
        loads("not json")
    with pytest.raises(DcoInputError, match=r"^not JSON: "):
        loads(b"\xff\xfe\x00garbage")
    with pytest.raises(DcoInputError, match=r"^not JSON: nested too deeply$"):
        loads("[" * 100_000)


def test_json_text_is_parsed_then_checked():
    assert loads(json.dumps([gitlab_commit()])).commits == (commit_of(gitlab_commit()),)
