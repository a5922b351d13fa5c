"""Plain records of what the GitLab adapter reads: projects, merge requests, their commits.

They carry no python-gitlab objects, so the services and tests can build and compare them
without a GitLab. Datetimes are UTC-aware; commits are `bounty.dco.rules.Commit`, ready for
the DCO checker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bounty.dco.rules import Commit


@dataclass(frozen=True, slots=True)
class GitLabUser:
    """A GitLab account as a merge request names it."""

    id: int | None
    username: str
    name: str


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """A GitLab project: its numeric id is what the database keys on, the path what people read."""

    id: int
    path_with_namespace: str
    web_url: str


@dataclass(frozen=True, slots=True)
class MergeRequestRecord:
    """One merge request as the merge-request endpoints return it (commits are fetched apart)."""

    project_id: int
    project_path: str
    iid: int
    title: str
    description: str
    web_url: str
    state: str
    author: GitLabUser | None
    merged_at: datetime | None
    updated_at: datetime
    head_sha: str | None

    @property
    def is_merged(self) -> bool:
        return self.state == "merged"


@dataclass(frozen=True, slots=True)
class CommitRecord:
    """A commit of a merge request, at `position` (0 = the first GitLab lists, the newest)."""

    commit: Commit
    authored_at: datetime | None
    position: int


def parse_time(value: str | None) -> datetime | None:
    """A GitLab timestamp (`2026-08-20T21:58:20.000Z`, or with an offset) as a UTC-aware datetime."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        # GitLab always sends a zone; a bare timestamp is taken as UTC rather than local time.
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """`moment` in the ISO 8601 form GitLab accepts for `updated_after` (UTC, microseconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def user_from_gitlab(data: Any) -> GitLabUser | None:
    """The `author`-style user object of GitLab's REST API, or None when absent."""
    if not isinstance(data, dict) or not data.get("username"):
        return None
    raw_id = data.get("id")
    return GitLabUser(
        id=int(raw_id) if raw_id is not None else None,
        username=str(data["username"]),
        name=str(data.get("name") or data["username"]),
    )


def project_from_gitlab(data: dict[str, Any]) -> ProjectRecord:
    """A project object of GitLab's REST API as a record."""
    return ProjectRecord(
        id=int(data["id"]), path_with_namespace=str(data["path_with_namespace"]),
        web_url=str(data.get("web_url") or ""),
    )


def merge_request_from_gitlab(data: dict[str, Any], project_path: str) -> MergeRequestRecord:
    """A merge-request object of GitLab's REST API as a record."""
    updated_at = parse_time(data.get("updated_at")) or parse_time(data.get("created_at"))
    if updated_at is None:
        raise ValueError(f"merge request !{data.get('iid')} has no updated_at")
    return MergeRequestRecord(
        project_id=int(data["project_id"]),
        project_path=project_path,
        iid=int(data["iid"]),
        title=str(data.get("title") or ""),
        description=str(data.get("description") or ""),
        web_url=str(data.get("web_url") or ""),
        state=str(data.get("state") or ""),
        author=user_from_gitlab(data.get("author")),
        merged_at=parse_time(data.get("merged_at")),
        updated_at=updated_at,
        head_sha=data.get("sha") or None,
    )
