"""Datasets for the fake GitLab (`tests/fakes/gitlab.py`): the real ones and synthetic ones.

The GitLab datasets (`tests/data/gitlab/*.json`, or `$BOUNTY_GITLAB_DATA_DIR`) are
GitLab REST v4 JSON: `{"project", "merge_requests", "commits": {"<iid>": [...]}}`. The
builders here make objects of the same shape in code, for synthetic projects of any size.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.datasets import GITLAB_DATA_DIR

DATA_DIR = GITLAB_DATA_DIR
DATASETS = {"helm/helm": DATA_DIR / "helm__helm.json",
            "SovereignCloudStack/standards": DATA_DIR / "SovereignCloudStack__standards.json"}
TOKEN = "fake-gitlab-token"
HOST = "https://gitlab.example.com"


def load_dataset(path: str | Path) -> dict[str, Any]:
    """A dataset file of the datasets' shape."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def gitlab_time(moment: datetime) -> str:
    """A UTC timestamp as GitLab writes merge-request dates."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def stable_id(text: str) -> int:
    """A stable positive id from text (the GitLab datasets derive theirs the same way)."""
    return 1 + int(hashlib.sha1(text.encode()).hexdigest()[:7], 16)


def make_commit(project_path: str, sha: str, message: str, author: tuple[str, str],
                committer: tuple[str, str] | None = None, parents: Iterable[str] = (),
                at: datetime | None = None) -> dict[str, Any]:
    """A commit object of GitLab's REST shape."""
    at = at or datetime(2026, 1, 1, tzinfo=UTC)
    committer = committer or author
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
    return {
        "id": sha, "short_id": sha[:8], "created_at": stamp, "parent_ids": list(parents),
        "title": message.split("\n", 1)[0][:100], "message": message,
        "author_name": author[0], "author_email": author[1], "authored_date": stamp,
        "committer_name": committer[0], "committer_email": committer[1], "committed_date": stamp,
        "trailers": {}, "extended_trailers": {}, "web_url": f"{HOST}/{project_path}/-/commit/{sha}",
    }


def make_merge_request(project: dict[str, Any], iid: int, updated_at: datetime, head_sha: str,
                       author: tuple[int, str, str] | None = None, title: str | None = None,
                       description: str = "", state: str = "merged") -> dict[str, Any]:
    """A merge-request object of GitLab's REST shape; author is (id, username, name)."""
    path = project["path_with_namespace"]
    uid, username, name = author or (stable_id("user:alice"), "alice", "Alice Example")
    stamp = gitlab_time(updated_at)
    return {
        "id": project["id"] * 100000 + iid, "iid": iid, "project_id": project["id"],
        "title": title or f"Change {iid}", "description": description, "state": state,
        "created_at": stamp, "updated_at": stamp, "merged_at": stamp if state == "merged" else None,
        "closed_at": None, "target_branch": "main", "source_branch": f"topic-{iid}",
        "author": {"id": uid, "username": username, "name": name, "state": "active",
                   "web_url": f"{HOST}/{username}"},
        "merged_by": None, "merge_user": None, "labels": [], "draft": False, "squash": False,
        "sha": head_sha, "merge_commit_sha": None, "squash_commit_sha": None,
        "references": {"short": f"!{iid}", "relative": f"!{iid}", "full": f"{path}!{iid}"},
        "web_url": f"{HOST}/{path}/-/merge_requests/{iid}",
    }


def make_project(path: str) -> dict[str, Any]:
    name = path.rsplit("/", 1)[-1]
    return {"id": stable_id("project:" + path), "name": name, "path": name, "path_with_namespace": path,
            "name_with_namespace": path.replace("/", " / "), "web_url": f"{HOST}/{path}",
            "http_url_to_repo": f"{HOST}/{path}.git", "default_branch": "main", "visibility": "public"}


def synthetic_dataset(path: str = "coop/widget", merge_requests: int = 20, commits_per_mr: int = 4,
                      failing_every: int = 10, start: datetime | None = None) -> dict[str, Any]:
    """A dataset of the datasets' shape: `merge_requests` merged MRs of `commits_per_mr` commits.

    Every `failing_every`-th MR has one commit without a sign-off (0: none fails). Updates are
    a minute apart from `start`; authors cycle through 25 people.
    """
    project = make_project(path)
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    mrs, commits = [], {}
    for iid in range(1, merge_requests + 1):
        person = iid % 25
        author = (f"Person {person}", f"person{person}@example.org")
        signoff = f"\n\nSigned-off-by: {author[0]} <{author[1]}>"
        listed = []
        for n in range(commits_per_mr):
            sha = f"{iid:08x}{n:04x}".ljust(40, "a")
            unsigned = failing_every and iid % failing_every == 0 and n == 0
            message = f"Change {iid} part {n}" + ("" if unsigned else signoff)
            parent = f"{iid:08x}{n + 1:04x}".ljust(40, "a") if n + 1 < commits_per_mr else "b" * 40
            listed.append(make_commit(path, sha, message, author, parents=[parent],
                                      at=start + timedelta(minutes=iid)))
        mrs.append(make_merge_request(project, iid, start + timedelta(minutes=iid), listed[0]["id"],
                                      author=(stable_id(f"user:person{person}"), f"person{person}",
                                              author[0])))
        commits[str(iid)] = listed
    mrs.reverse()  # newest first, as the dataset files list them
    return {"project": project, "merge_requests": mrs, "commits": commits}


def shared_dataset(path: str) -> dict[str, Any]:
    """One of the two GitLab datasets by project path (`helm/helm`, `SovereignCloudStack/standards`)."""
    return load_dataset(DATASETS[path])
