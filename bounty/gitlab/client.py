"""The GitLab adapter: python-gitlab over REST v4, answering in the plain records of `records`.

Every list follows GitLab's pagination to the end (python-gitlab's `iterator=True`, which
follows the `Link: rel="next"` header). Lists are read with `Gitlab.http_list`, which yields
the JSON objects themselves: a python-gitlab object per merge request or commit would build
a dozen sub-managers each, only for the adapter to turn it into a record.

Failures of any kind (server unreachable, token refused, project or merge request unknown,
an error status, an unreadable answer) become one `GitLabError` whose message says what was
being read and what went wrong, so callers need not know python-gitlab.

DCO.md rule 2: GitLab's merge-request commits endpoint may answer `"parent_ids": []`; a
merge commit would then look like an ordinary one. Commits listed without parents are
fetched one by one from the single-commit endpoint, which always carries them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import gitlab
import requests
from gitlab.utils import EncodedId
from gitlab.v4.objects import Project

from bounty.dco.rules import commit_from_gitlab
from bounty.gitlab.records import (
    CommitRecord,
    MergeRequestRecord,
    ProjectRecord,
    format_time,
    merge_request_from_gitlab,
    parse_time,
    project_from_gitlab,
)

T = TypeVar("T")

# GitLab stores a commit status description in a 255-character column and refuses longer ones.
STATUS_DESCRIPTION_LIMIT = 255
STATUS_NAME = "dco"
# Parents learnt from the single-commit endpoint, kept for commits seen again (a re-sync).
PARENT_CACHE_SIZE = 20_000

MERGE_REQUEST_FIELDS = (
    "iid", "project_id", "title", "description", "state", "web_url", "author", "merged_at",
    "updated_at", "created_at", "sha",
)


class GitLabError(Exception):
    """GitLab could not answer: unreachable, token refused, unknown project or merge request.

    `status` is the HTTP status when GitLab answered, None when it could not be reached.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# What python-gitlab and requests raise, and what a malformed answer makes the records raise.
_TRANSLATED = (gitlab.exceptions.GitlabError, requests.exceptions.RequestException, KeyError, TypeError,
               ValueError)


def _fields(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of a python-gitlab object (cheaper than `asdict`, which deep-copies)."""
    return {name: getattr(obj, name, None) for name in names}


def truncate(text: str, limit: int = STATUS_DESCRIPTION_LIMIT) -> str:
    """`text` cut to `limit` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class GitLabClient:
    """Read merged work from one GitLab (and write `dco` commit statuses back)."""

    def __init__(self, url: str, token: str, per_page: int = 100, *, timeout: float = 30.0) -> None:
        if not 1 <= per_page <= 100:
            raise ValueError(f"per_page must be between 1 and 100, got {per_page}")
        self.url = url.rstrip("/")
        self.per_page = per_page
        self._token, self._timeout = token, timeout
        self._gl = gitlab.Gitlab(self.url, private_token=token or None, per_page=per_page, timeout=timeout)
        self._paths: dict[int, str] = {}
        self._handles: dict[int | str, Project] = {}
        self._parents: OrderedDict[str, tuple[str, ...]] = OrderedDict()

    def fork(self) -> GitLabClient:
        """A client for another thread: the same GitLab and token, an HTTP session of its own
        (python-gitlab's session is not meant to be shared between threads)."""
        twin = GitLabClient(self.url, self._token, self.per_page, timeout=self._timeout)
        twin._paths = self._paths  # project paths already read
        return twin

    def close(self) -> None:
        """Close the HTTP session (its pooled connections)."""
        self._gl.session.close()

    # -- error translation ---------------------------------------------------------------

    def _call(self, what: str, func: Callable[[], T]) -> T:
        """Run one python-gitlab call; any failure becomes a GitLabError naming `what`."""
        try:
            return func()
        except _TRANSLATED as exc:
            raise self._translate(what, exc) from exc

    def _translate(self, what: str, exc: Exception) -> GitLabError:
        """The GitLabError saying what went wrong while reading `what`."""
        if isinstance(exc, requests.exceptions.Timeout):
            return GitLabError(f"GitLab at {self.url} did not answer in time while reading {what}")
        if isinstance(exc, requests.exceptions.RequestException):
            reason = type(exc).__name__
            return GitLabError(f"GitLab at {self.url} is unreachable ({reason}) while reading {what}")
        if isinstance(exc, gitlab.exceptions.GitlabError):
            status = exc.response_code
            if status == 401:
                return GitLabError(f"GitLab at {self.url} refused the token (401 Unauthorized) "
                                   f"while reading {what}", status)
            if status == 403:
                return GitLabError(f"the GitLab token may not read {what} (403 Forbidden)", status)
            if status == 404:
                return GitLabError(f"{what} was not found on GitLab at {self.url} (404)", status)
            if status is None:
                return GitLabError(f"GitLab at {self.url} sent an unreadable answer for {what}: {exc}")
            message = " ".join(str(exc.error_message).split())[:200]
            return GitLabError(f"GitLab at {self.url} answered {status} for {what}: {message}", status)
        return GitLabError(f"GitLab at {self.url} sent an unexpected answer for {what}: {exc!r}")

    def _iterate(self, what: str, items: Callable[[], Any]) -> Iterator[Any]:
        """Iterate a python-gitlab list, translating errors of every page fetch, not just the first."""
        iterator = iter(self._call(what, items))
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                return
            except _TRANSLATED as exc:
                raise self._translate(what, exc) from exc
            yield item

    def _project(self, project_id: int | str) -> Project:
        """A lazy project handle (no request until something under it is read), kept for reuse."""
        handle = self._handles.get(project_id)
        if handle is None:
            handle = self._handles[project_id] = self._gl.projects.get(project_id, lazy=True)
        return handle

    def _list(self, path: str, query: dict[str, Any] | None = None) -> Any:
        """Every page of a list endpoint, as GitLab's JSON objects (python-gitlab's iterator)."""
        return self._gl.http_list(path, query or {}, iterator=True, per_page=self.per_page)

    def _path_of(self, project_id: int) -> str:
        if project_id not in self._paths:
            self.project(project_id)
        return self._paths[project_id]

    # -- reading ---------------------------------------------------------------------------

    def project(self, id_or_path: int | str) -> ProjectRecord:
        """The project with this numeric id or full path (`group/project`)."""
        what = f"project {id_or_path}"
        obj = self._call(what, lambda: self._gl.projects.get(id_or_path))
        record = self._call(what, lambda: project_from_gitlab(
            _fields(obj, ("id", "path_with_namespace", "web_url"))))
        self._paths[record.id] = record.path_with_namespace
        return record

    def group_projects(self, group: str) -> list[ProjectRecord]:
        """Every project of the group `group` (full path or id), its subgroups' included."""
        what = f"the projects of group {group}"
        url = f"/groups/{EncodedId(group)}/projects"
        query = {"include_subgroups": "true", "order_by": "id", "sort": "asc"}
        records = []
        for data in self._iterate(what, lambda: self._list(url, query)):
            record = self._call(what, lambda data=data: project_from_gitlab(data))
            self._paths[record.id] = record.path_with_namespace
            records.append(record)
        return records

    def merged_merge_requests(
        self, project_id: int, updated_after: datetime | None,
    ) -> Iterator[MergeRequestRecord]:
        """Merged merge requests of the project, oldest update first, all pages.

        `updated_after` is inclusive, as GitLab's filter is: a merge request updated at
        exactly that moment comes again.
        """
        path = self._path_of(project_id)
        what = f"the merged merge requests of project {path}"
        query: dict[str, Any] = {"state": "merged", "order_by": "updated_at", "sort": "asc"}
        if updated_after is not None:
            query["updated_after"] = format_time(updated_after)
        url = f"/projects/{EncodedId(project_id)}/merge_requests"
        for data in self._iterate(what, lambda: self._list(url, query)):
            yield self._call(what, lambda data=data: merge_request_from_gitlab(data, path))

    def merge_request(self, project_id: int, iid: int) -> MergeRequestRecord:
        """One merge request, whatever its state."""
        path = self._path_of(project_id)
        what = f"merge request !{iid} of project {path}"
        obj = self._call(what, lambda: self._project(project_id).mergerequests.get(iid))
        return self._call(what, lambda: merge_request_from_gitlab(_fields(obj, MERGE_REQUEST_FIELDS), path))

    def merge_request_commits(self, project_id: int, iid: int) -> list[CommitRecord]:
        """The merge request's commits in GitLab's order (newest first), parents filled in."""
        path = self._path_of(project_id)
        what = f"the commits of merge request !{iid} of project {path}"
        url = f"/projects/{EncodedId(project_id)}/merge_requests/{int(iid)}/commits"
        raw = list(self._iterate(what, lambda: self._list(url)))
        records = []
        for position, data in enumerate(raw):
            if not data.get("parent_ids"):
                data["parent_ids"] = list(self.commit_parents(project_id, str(data["id"])))
            commit = self._call(what, lambda data=data: commit_from_gitlab(data))
            authored = self._call(what, lambda data=data: parse_time(data.get("authored_date")))
            records.append(CommitRecord(commit=commit, authored_at=authored, position=position))
        return records

    def commit_parents(self, project_id: int, sha: str) -> tuple[str, ...]:
        """The parents of commit `sha`, from the single-commit endpoint (remembered)."""
        if sha in self._parents:
            self._parents.move_to_end(sha)
            return self._parents[sha]
        what = f"commit {sha[:12]} of project {self._path_of(project_id)}"
        obj = self._call(what, lambda: self._project(project_id).commits.get(sha))
        parents = tuple(str(p) for p in (getattr(obj, "parent_ids", None) or ()))
        self._parents[sha] = parents
        if len(self._parents) > PARENT_CACHE_SIZE:
            self._parents.popitem(last=False)
        return parents

    # -- writing ---------------------------------------------------------------------------

    def set_commit_status(self, project_id: int, sha: str, ok: bool, description: str) -> None:
        """Post the `dco` commit status on `sha`: success, or failed with the reason."""
        what = f"the dco status of commit {sha[:12]} of project {self._path_of(project_id)}"
        data = {"state": "success" if ok else "failed", "name": STATUS_NAME,
                "description": truncate(" ".join(description.split()))}
        commit = self._project(project_id).commits.get(sha, lazy=True)
        self._call(what, lambda: commit.statuses.create(data))
