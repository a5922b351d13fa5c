"""Reading what `bounty dco check --input` is given, already parsed from JSON.

Two shapes are accepted: a dataset of `tests/data/gitlab/` (`{"project", "merge_requests",
"commits": {"<iid>": [<GitLab commit>, ...]}}`) or a JSON list of GitLab REST commit
objects. Anything else raises DcoInputError with one line naming where the problem is,
e.g. `commits["32562"][0]: "author_email" is missing`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bounty.dco.rules import Commit

# The GitLab commit fields the rules read; each must be a string.
STRING_FIELDS = ("id", "message", "author_name", "author_email", "committer_name", "committer_email")


class DcoInputError(ValueError):
    """The input is not something the checker can read; the message is one line."""


@dataclass(frozen=True, slots=True)
class DcoInput:
    """Distinct commits in input order, and each merge request's commits (none for a list)."""

    commits: tuple[Commit, ...]
    merge_requests: dict[str, tuple[Commit, ...]]


def _kind(value: Any) -> str:
    """How JSON would name the type of `value`, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def parse_commit(data: Any, where: str) -> Commit:
    """One GitLab commit object as a Commit; `where` prefixes any error (e.g. `[3]`)."""
    if not isinstance(data, dict):
        raise DcoInputError(f"{where}: expected a commit object, got {_kind(data)}")
    for field in STRING_FIELDS:
        if field not in data:
            raise DcoInputError(f'{where}: "{field}" is missing')
        if not isinstance(data[field], str):
            raise DcoInputError(f'{where}: "{field}" must be a string, got {_kind(data[field])}')
    if not data["id"]:
        raise DcoInputError(f'{where}: "id" is empty')
    parents = data.get("parent_ids", [])
    if parents is None:
        parents = []
    if not isinstance(parents, list) or not all(isinstance(parent, str) for parent in parents):
        raise DcoInputError(f'{where}: "parent_ids" must be a list of strings')
    return Commit(
        sha=data["id"],
        message=data["message"],
        author_name=data["author_name"],
        author_email=data["author_email"],
        committer_name=data["committer_name"],
        committer_email=data["committer_email"],
        parent_ids=tuple(parents),
    )


def _distinct(commits: list[Commit]) -> tuple[Commit, ...]:
    """Each sha once, first occurrence kept (a commit can belong to several MRs)."""
    seen: dict[str, Commit] = {}
    for commit in commits:
        seen.setdefault(commit.sha, commit)
    return tuple(seen.values())


def parse_input(data: Any) -> DcoInput:
    """A dataset object or a list of commit objects, checked field by field."""
    if isinstance(data, list):
        commits = [parse_commit(item, f"[{index}]") for index, item in enumerate(data)]
        return DcoInput(_distinct(commits), {})
    if not isinstance(data, dict):
        raise DcoInputError(
            f'expected an object with "commits" or a list of commits, got {_kind(data)}')
    if "commits" not in data:
        raise DcoInputError('"commits" is missing (expected a dataset object or a list of commits)')
    by_mr = data["commits"]
    if not isinstance(by_mr, dict):
        raise DcoInputError(
            f'"commits" must be an object of merge request iid to commits, got {_kind(by_mr)}')
    merge_requests: dict[str, tuple[Commit, ...]] = {}
    everything: list[Commit] = []
    for iid, items in by_mr.items():
        where = f"commits[{json.dumps(iid, ensure_ascii=False)}]"
        if not isinstance(items, list):
            raise DcoInputError(f"{where}: expected a list of commits, got {_kind(items)}")
        commits = tuple(parse_commit(item, f"{where}[{index}]") for index, item in enumerate(items))
        merge_requests[iid] = commits
        everything.extend(commits)
    return DcoInput(_distinct(everything), merge_requests)


def loads(text: str | bytes) -> DcoInput:
    """Parse JSON text, then its shape; DcoInputError for either."""
    try:
        data = json.loads(text)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise DcoInputError(f"not JSON: {exc}") from None
    except RecursionError:
        raise DcoInputError("not JSON: nested too deeply") from None
    return parse_input(data)
