"""A fake GitLab REST v4 API on loopback, enough for python-gitlab to sync merged work unmodified.

`FakeGitLab` is an `http.server` in a thread (HTTP/1.1, keep-alive) serving datasets of the
shape of `tests/data/gitlab/*.json` (`{"project", "merge_requests", "commits"}`), loaded
from those files or built in code (`synthetic_dataset`). Routes, under `/api/v4`:

    GET  /projects/:id                                 numeric id or URL-encoded full path
    GET  /groups/:id/projects                          projects under the group path (subgroups too)
    GET  /projects/:id/merge_requests                  state, updated_after/updated_before
                                                       (inclusive, like GitLab), order_by
                                                       (created_at|updated_at), sort, page, per_page
    GET  /projects/:id/merge_requests/:iid
    GET  /projects/:id/merge_requests/:iid/commits     paginated; `empty_parent_ids=True` answers
                                                       `"parent_ids": []` as a real GitLab does
    GET  /projects/:id/repository/commits/:sha         parents always filled in
    POST /projects/:id/statuses/:sha                   recorded in `statuses`

Lists paginate as GitLab does: `Link` (`rel="prev"`, `"next"`, `"first"`, `"last"`, URLs built
from the request's own base URL), `X-Page`, `X-Per-Page`, `X-Next-Page`, `X-Prev-Page`,
`X-Total`, `X-Total-Pages` (the last two left out above 10,000 items, as GitLab leaves them out).
Every request needs the `PRIVATE-TOKEN` header (401 otherwise). The fake counts requests by
kind (`counts`), can be told to fail every request after the next N (`fail_after`: a 500 or a
dropped connection) until `heal()`, and lets a test add or change merge requests between syncs.

Fixtures: `make_fake_gitlab(*datasets, **options)` starts servers (stopped after the test);
`fake_gitlab` is one serving both GitLab datasets; `shared_datasets` reads those once. The
datasets and builders of GitLab-shaped objects live in `tests/fakes/gitlab_data.py`.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import pytest

# The dataset helpers, re-exported: tests import everything GitLab-shaped from here.
from tests.fakes.gitlab_data import (  # noqa: F401 - re-exported
    DATA_DIR,
    DATASETS,
    TOKEN,
    gitlab_time,
    load_dataset,
    make_commit,
    make_merge_request,
    make_project,
    parse_time,
    shared_dataset,
    stable_id,
    synthetic_dataset,
)

STATUS_STATES = ("pending", "running", "success", "failed", "canceled", "skipped")
# GitLab stops counting above this many items: no X-Total / X-Total-Pages then.
COUNT_LIMIT = 10_000


class _Stop(Exception):
    """Abandon the request without an answer (a dropped connection)."""


class FakeGitLab:
    """The fake server and its state; start with `start()` (the fixtures do), stop with `stop()`."""

    def __init__(self, *datasets: dict[str, Any], token: str = TOKEN, empty_parent_ids: bool = False) -> None:
        self.token = token
        self.empty_parent_ids = empty_parent_ids
        self.projects: dict[int, dict[str, Any]] = {}
        self.merge_requests: dict[int, dict[int, dict[str, Any]]] = {}
        self.commits: dict[int, dict[int, list[dict[str, Any]]]] = {}
        self.statuses: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self.requests = 0
        self._sorted: dict[tuple[int, str, str], list[dict[str, Any]]] = {}
        self._fail_after: int | None = None
        self._fail_mode = "500"
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for dataset in datasets:
            self.add_dataset(dataset)

    # -- data -----------------------------------------------------------------------------

    def add_dataset(self, dataset: dict[str, Any]) -> None:
        """Serve a dataset of the datasets' shape (a project, its MRs and their commits)."""
        project = dataset["project"]
        with self._lock:
            self.projects[project["id"]] = project
            self.merge_requests.setdefault(project["id"], {})
            self.commits.setdefault(project["id"], {})
            for mr in dataset["merge_requests"]:
                self.merge_requests[project["id"]][mr["iid"]] = dict(mr)
                self.commits[project["id"]][mr["iid"]] = list(dataset["commits"].get(str(mr["iid"]), []))
            self._sorted.clear()

    def project_id(self, path: str) -> int:
        return next(pid for pid, p in self.projects.items() if p["path_with_namespace"] == path)

    def add_merge_request(self, project_id: int, mr: dict[str, Any], commits: list[dict[str, Any]]) -> None:
        with self._lock:
            self.merge_requests[project_id][mr["iid"]] = mr
            self.commits[project_id][mr["iid"]] = commits
            self._sorted.clear()

    def update_merge_request(self, project_id: int, iid: int, commits: list[dict[str, Any]] | None = None,
                             **fields: Any) -> dict[str, Any]:
        """Change a merge request as GitLab would: `updated_at` moves to one second after the newest."""
        with self._lock:
            mrs = self.merge_requests[project_id]
            newest = max(parse_time(m["updated_at"]) for m in mrs.values())
            mr = mrs[iid]
            mr.update(fields)
            if "updated_at" not in fields:
                mr["updated_at"] = gitlab_time(newest + timedelta(seconds=1))
            if commits is not None:
                self.commits[project_id][iid] = commits
                mr["sha"] = commits[0]["id"] if commits else None
            self._sorted.clear()
            return mr

    def newest_update(self, project_id: int) -> datetime:
        return max(parse_time(m["updated_at"]) for m in self.merge_requests[project_id].values())

    # -- failures -------------------------------------------------------------------------

    def fail_after(self, requests: int, mode: str = "500") -> None:
        """Answer the next `requests` requests, then fail every one ("500" or "drop") until healed."""
        if mode not in ("500", "drop"):
            raise ValueError(mode)
        with self._lock:
            self._fail_after = self.requests + requests
            self._fail_mode = mode

    def heal(self) -> None:
        with self._lock:
            self._fail_after = None

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.requests = 0
            if self._fail_after is not None:
                self._fail_after = None

    # -- server ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeGitLab:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- request handling (called from the handler threads) -------------------------------

    def handle(self, method: str, raw_path: str, query: dict[str, str], headers: Any,
               body: bytes, base_url: str) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.requests += 1
            if self._fail_after is not None and self.requests > self._fail_after:
                if self._fail_mode == "drop":
                    raise _Stop()
                return 500, {"message": "500 Internal Server Error"}, {}
        token = headers.get("PRIVATE-TOKEN") or (headers.get("Authorization") or "").removeprefix("Bearer ")
        if token != self.token:
            return 401, {"message": "401 Unauthorized"}, {}
        segments = [unquote(s) for s in raw_path.split("/")]
        if segments[:3] != ["", "api", "v4"] or len(segments) < 5:
            return 404, {"error": "404 Not Found"}, {}
        kind, key, rest = segments[3], segments[4], segments[5:]
        if kind == "groups" and rest == ["projects"] and method == "GET":
            return self._group_projects(key, query, base_url)
        if kind != "projects":
            return 404, {"error": "404 Not Found"}, {}
        project = self._find_project(key)
        if project is None:
            return 404, {"message": "404 Project Not Found"}, {}
        pid = project["id"]
        route = (method, tuple("#" if s.isdigit() and i == 1 else s for i, s in enumerate(rest)))
        name = _ROUTE_NAMES.get(route) or {"repository": "commit", "statuses": "status"}.get(rest[0], "other")
        with self._lock:
            self.counts[name] += 1
        if route == ("GET", ()):
            return 200, project, {}
        if route == ("GET", ("merge_requests",)):
            return self._list_merge_requests(pid, query, base_url)
        if route[1][:2] == ("merge_requests", "#") and method == "GET":
            mr = self.merge_requests[pid].get(int(rest[1]))
            if mr is None:
                return 404, {"message": "404 Not found"}, {}
            if len(rest) == 2:
                return 200, mr, {}
            if rest[2:] == ["commits"]:
                commits = self.commits[pid][mr["iid"]]
                if self.empty_parent_ids:
                    commits = [{**c, "parent_ids": []} for c in commits]
                return self._page(commits, query, base_url)
        if method == "GET" and rest[:2] == ["repository", "commits"] and len(rest) == 3:
            for commits in self.commits[pid].values():
                for commit in commits:
                    if commit["id"] == rest[2]:
                        return 200, commit, {}
            return 404, {"message": "404 Commit Not Found"}, {}
        if method == "POST" and rest[:1] == ["statuses"] and len(rest) == 2:
            return self._post_status(pid, rest[1], body, headers)
        return 404, {"error": "404 Not Found"}, {}

    def _find_project(self, key: str) -> dict[str, Any] | None:
        if key.isdigit():
            return self.projects.get(int(key))
        return next((p for p in self.projects.values() if p["path_with_namespace"] == key), None)

    def _group_projects(self, group: str, query: dict[str, str], base_url: str) -> tuple[int, Any, dict]:
        with self._lock:
            self.counts["group_projects"] += 1
        include_subgroups = query.get("include_subgroups", "false").lower() == "true"
        found = []
        for project in sorted(self.projects.values(), key=lambda p: p["id"]):
            namespace = project["path_with_namespace"].rsplit("/", 1)[0]
            if namespace == group or (include_subgroups and namespace.startswith(group + "/")):
                found.append(project)
        if not found:
            return 404, {"message": "404 Group Not Found"}, {}
        return self._page(found, query, base_url)

    def _list_merge_requests(self, pid: int, query: dict[str, str], base_url: str) -> tuple[int, Any, dict]:
        state = query.get("state", "all")
        order_by = query.get("order_by", "created_at")
        sort = query.get("sort", "desc")
        if order_by not in ("created_at", "updated_at") or sort not in ("asc", "desc"):
            return 400, {"error": "order_by, sort does not have a valid value"}, {}
        with self._lock:
            cache_key = (pid, order_by, sort)
            ordered = self._sorted.get(cache_key)
            if ordered is None:
                ordered = sorted(self.merge_requests[pid].values(),
                                 key=lambda m: (parse_time(m[order_by]), m["id"]), reverse=sort == "desc")
                self._sorted[cache_key] = ordered
        items: Iterable[dict[str, Any]] = ordered
        if state != "all":
            items = [m for m in items if m["state"] == state]
        try:
            after = parse_time(query["updated_after"]) if "updated_after" in query else None
            before = parse_time(query["updated_before"]) if "updated_before" in query else None
        except ValueError:
            return 400, {"error": "updated_after is invalid"}, {}
        if after is not None:
            items = [m for m in items if parse_time(m["updated_at"]) >= after]
        if before is not None:
            items = [m for m in items if parse_time(m["updated_at"]) <= before]
        return self._page(list(items), query, base_url)

    def _page(self, items: list[Any], query: dict[str, str], base_url: str) -> tuple[int, Any, dict]:
        try:
            per_page = min(max(int(query.get("per_page", 20)), 1), 100)
            page = max(int(query.get("page", 1)), 1)
        except ValueError:
            return 400, {"error": "page or per_page is invalid"}, {}
        total = len(items)
        pages = max((total + per_page - 1) // per_page, 1)

        def link(number: int) -> str:
            return base_url + "?" + urlencode({**query, "page": number, "per_page": per_page})

        links = []
        if page > 1:
            links.append(f'<{link(page - 1)}>; rel="prev"')
        if page < pages:
            links.append(f'<{link(page + 1)}>; rel="next"')
        links += [f'<{link(1)}>; rel="first"', f'<{link(pages)}>; rel="last"']
        headers = {
            "Link": ", ".join(links), "X-Page": str(page), "X-Per-Page": str(per_page),
            "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        if total <= COUNT_LIMIT:
            headers |= {"X-Total": str(total), "X-Total-Pages": str(pages)}
        return 200, items[(page - 1) * per_page: page * per_page], headers

    def _post_status(self, pid: int, sha: str, body: bytes, headers: Any) -> tuple[int, Any, dict]:
        content_type = headers.get("Content-Type") or ""
        try:
            data = json.loads(body or b"{}") if "json" in content_type else dict(parse_qsl(body.decode()))
        except ValueError:
            return 400, {"error": "body is not valid JSON"}, {}
        state = data.get("state")
        if state not in STATUS_STATES:
            return 400, {"error": "state does not have a valid value"}, {}
        if len(data.get("description") or "") > 255:
            return 400, {"message": {"description": ["is too long (maximum is 255 characters)"]}}, {}
        status = {"id": len(self.statuses) + 1, "project_id": pid, "sha": sha, "status": state,
                  "name": data.get("name") or data.get("context") or "default",
                  "description": data.get("description"), "target_url": data.get("target_url")}
        with self._lock:
            self.statuses.append(status)
        return 201, status, {}


_ROUTE_NAMES = {
    ("GET", ()): "project",
    ("GET", ("merge_requests",)): "merge_requests",
    ("GET", ("merge_requests", "#")): "merge_request",
    ("GET", ("merge_requests", "#", "commits")): "commits",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as python-gitlab's requests session expects
    # Headers and body in one segment, sent at once: no Nagle / delayed-ACK stall per request.
    wbufsize = -1
    disable_nagle_algorithm = True
    server_fake: FakeGitLab

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        # The raw path keeps `%2F` in project paths, so links name the project as the client did.
        base_url = f"http://{self.headers.get('Host')}{parts.path}"
        try:
            status, payload, headers = self.server_fake.handle(method, parts.path, query, self.headers,
                                                               body, base_url)
        except _Stop:
            self.close_connection = True
            return
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


@pytest.fixture(name="make_fake_gitlab")
def make_fake_gitlab_fixture() -> Iterator[Callable[..., FakeGitLab]]:
    """Start fakes on demand: `make_fake_gitlab(dataset, ..., empty_parent_ids=True)`."""
    started: list[FakeGitLab] = []

    def make(*datasets: dict[str, Any], **options: Any) -> FakeGitLab:
        fake = FakeGitLab(*datasets, **options).start()
        started.append(fake)
        return fake

    yield make
    for fake in started:
        fake.stop()


@pytest.fixture(name="shared_datasets", scope="session")
def shared_datasets_fixture() -> dict[str, dict[str, Any]]:
    """Both GitLab datasets, read once per run (tests must not change them: the fake copies MRs)."""
    return {path: load_dataset(file) for path, file in DATASETS.items()}


@pytest.fixture(name="fake_gitlab")
def fake_gitlab_fixture(make_fake_gitlab: Callable[..., FakeGitLab],
                        shared_datasets: dict[str, dict[str, Any]]) -> FakeGitLab:
    """A fake GitLab serving both GitLab datasets."""
    return make_fake_gitlab(*shared_datasets.values())
