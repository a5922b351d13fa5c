"""Merged work from GitLab: the incremental sync, one merge request at a time, lookups by URL.

The sync (`sync_projects`) reads each project's merged merge requests updated since its
cursor (GitLab's `updated_after`, inclusive), oldest update first, in batches of
`BATCH_SIZE`. For each batch it
1. reads what is stored of those merge requests and ends that read (no database
   transaction stays open while GitLab is being read);
2. fetches the commits of the merge requests that are new or changed (same `updated_at`
   and head commit as stored: unchanged, nothing fetched, unless `full`), in a worker
   thread, while this thread writes the batch before;
3. in one transaction: locks the project's cursor row (so two syncs of one project, or
   a sync and a webhook import, queue instead of inserting the same merge request twice),
   stores the merge requests and their commits with the DCO verdicts, credited and attached
   to claims (`merge_request_rows.store`), awards the badges the batch earned its credited
   people (`badges.award_badges_now`, one evaluation per batch), moves the cursor to the
   newest `updated_at` of the batch, and commits.
An interruption (GitLab down, the process killed) loses at most the batch in flight: the
cursor never passes a merge request that is not committed, and a merge request comes back
as an update of its row (unique project id + iid), never as a second row.

Write-back (`write_back=True`) posts a `dco` commit status on the head commit of each
merge request whose commits were checked in this run, after its batch is committed.
One audit event per project sync (`gitlab.sync`, with the counts) when it changed anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.dco.rules import CommitVerdict, DcoChecker
from bounty.gitlab.client import GitLabClient, GitLabError
from bounty.gitlab.records import CommitRecord, MergeRequestRecord, ProjectRecord
from bounty.governance.permissions import Permission
from bounty.models import GitLabSyncCursor, MergeRequest, utcnow
from bounty.services import audit, badges
from bounty.services import merge_request_rows as rows
from bounty.services.actors import Actor

BATCH_SIZE = 50
Progress = Callable[[str, int], None]
_MR_PATH = re.compile(r"^/(?P<path>.+?)/(?:-/)?merge_requests/(?P<iid>[0-9]{1,9})/?$")


@dataclass
class SyncSummary:
    """What a sync did; `per_project` holds one summary per project path (same fields)."""

    projects: int = 0
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dco_failing: int = 0
    statuses_written: int = 0
    statuses_failed: int = 0
    per_project: dict[str, SyncSummary] = field(default_factory=dict)

    def add(self, other: SyncSummary) -> None:
        for name in ("projects", "fetched", "created", "updated", "unchanged", "dco_failing",
                     "statuses_written", "statuses_failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def count(self, stored: list[rows.Stored]) -> None:
        """Add what storing these merge requests did."""
        for item in stored:
            self.fetched += 1
            setattr(self, item.outcome, getattr(self, item.outcome) + 1)
            self.dco_failing += item.merge_request.is_dco_ok is False

    def counts(self) -> dict[str, int]:
        return {"fetched": self.fetched, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "dco_failing": self.dco_failing}

    def line(self, name: str) -> str:
        """One summary line, e.g. `helm/helm: 400 merge requests (400 new, ...), 7 failing DCO`."""
        text = (f"{name}: {self.fetched} merge request{'' if self.fetched == 1 else 's'} "
                f"({self.created} new, {self.updated} updated, {self.unchanged} unchanged), "
                f"{self.dco_failing} failing DCO")
        if self.statuses_written or self.statuses_failed:
            text += f"; dco statuses: {self.statuses_written} written, {self.statuses_failed} failed"
        return text


def sync_projects(
    session: Session, actor: Actor, client: GitLabClient, projects: Sequence[int | str],
    groups: Sequence[str] = (), *, checker: DcoChecker, full: bool = False, write_back: bool = False,
    progress: Progress | None = None, batch_size: int = BATCH_SIZE,
) -> SyncSummary:
    """Sync the merged merge requests of `projects` and of every project of `groups`.

    Commits per batch (see the module docstring); raises GitLabError when GitLab fails,
    keeping the batches committed before. `full` reads every merge request again and
    re-checks its commits; otherwise only those updated since the project's cursor.
    `progress(project_path, merge_requests_done)` is called after each batch.
    """
    actor.require(Permission.MANAGE_BOUNTIES)
    resolved: dict[int, ProjectRecord] = {}
    for id_or_path in projects:
        project = client.project(id_or_path)
        resolved.setdefault(project.id, project)
    for group in groups:
        for project in client.group_projects(group):
            resolved.setdefault(project.id, project)
    summary = SyncSummary()
    for project in resolved.values():
        one = _sync_project(session, actor, client, project, checker=checker, full=full,
                            write_back=write_back, progress=progress, batch_size=batch_size)
        summary.add(one)
        summary.per_project[project.path_with_namespace] = one
    return summary


def _sync_project(
    session: Session, actor: Actor, client: GitLabClient, project: ProjectRecord, *, checker: DcoChecker,
    full: bool, write_back: bool, progress: Progress | None, batch_size: int,
) -> SyncSummary:
    summary = SyncSummary(projects=1)
    # One worker fetches the next batch's commits while this thread writes the batch before:
    # GitLab's latency and the database's overlap. It has its own HTTP session.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gitlab-commits")
    fetcher: GitLabClient | None = None
    try:
        cursor = rows.lock_cursor(session, project)
        since = None if full else cursor.updated_after
        session.commit()
        if progress is not None:
            progress(project.path_with_namespace, 0)
        fetcher = client.fork()
        pending: _Batch | None = None
        for records in _batches(client.merged_merge_requests(project.id, since), batch_size):
            batch = _prepare(session, pool, fetcher, project, records, full)
            if pending is not None:
                _write(session, client, project, pending, checker, write_back, summary, progress)
            pending = batch
        if pending is not None:
            _write(session, client, project, pending, checker, write_back, summary, progress)
        cursor = rows.lock_cursor(session, project)
        now = utcnow()
        cursor.last_run_at = now
        if full:
            cursor.last_full_sync_at = now
        cursor.merge_requests_seen = _stored_count(session, project.id)
        if summary.created or summary.updated:
            _audit_sync(session, actor, project, cursor, summary, full)
        session.commit()
    except Exception as exc:
        pool.shutdown(wait=True, cancel_futures=True)
        session.rollback()
        if summary.created or summary.updated:
            _audit_interrupted(session, actor, project, summary, full, exc)
        raise
    finally:
        pool.shutdown(wait=True)
        if fetcher is not None:
            fetcher.close()
    return summary


@dataclass
class _Batch:
    """Merge requests listed together: those unchanged since stored, and the commit fetches
    of the others (running in the worker)."""

    records: list[MergeRequestRecord]
    unchanged: list[bool | None]
    fetches: list[tuple[MergeRequestRecord, Future[list[CommitRecord]]]]


def _batches(records: Iterator[MergeRequestRecord], size: int) -> Iterator[list[MergeRequestRecord]]:
    """`records` in lists of `size`; an MR listed twice in one (moved while paging) once, the later."""
    batch: dict[int, MergeRequestRecord] = {}
    for record in records:
        batch.pop(record.iid, None)
        batch[record.iid] = record
        if len(batch) >= size:
            yield list(batch.values())
            batch = {}
    if batch:
        yield list(batch.values())


def _prepare(session: Session, pool: ThreadPoolExecutor, fetcher: GitLabClient, project: ProjectRecord,
             records: list[MergeRequestRecord], full: bool) -> _Batch:
    """Sort out the unchanged merge requests and start fetching the others' commits."""
    known = {
        row.iid: row for row in session.execute(
            select(MergeRequest.iid, MergeRequest.gitlab_updated_at, MergeRequest.head_sha,
                   MergeRequest.is_dco_ok)
            .where(MergeRequest.gitlab_project_id == project.id,
                   MergeRequest.iid.in_([r.iid for r in records]))
        )
    }
    session.commit()  # end the read: no transaction stays open while GitLab is read
    batch = _Batch(records, [], [])
    for record in records:
        stored = known.get(record.iid)
        if (not full and stored is not None and stored.is_dco_ok is not None
                and stored.gitlab_updated_at == record.updated_at and stored.head_sha == record.head_sha):
            batch.unchanged.append(stored.is_dco_ok)
        else:
            batch.fetches.append(
                (record, pool.submit(fetcher.merge_request_commits, project.id, record.iid)))
    return batch


def _write(session: Session, client: GitLabClient, project: ProjectRecord, batch: _Batch,
           checker: DcoChecker, write_back: bool, summary: SyncSummary, progress: Progress | None) -> None:
    """Store one batch and move the cursor past it, in one transaction; then write back."""
    fetched = [(record, future.result()) for record, future in batch.fetches]
    cursor = rows.lock_cursor(session, project)
    written = SyncSummary()
    checked = rows.store(session, project, fetched, checker)
    written.count(checked)
    badges.award_badges_now(session, credited_people(checked), metrics=badges.MERGE_METRICS)
    newest = max(record.updated_at for record in batch.records)
    if cursor.updated_after is None or newest > cursor.updated_after:
        cursor.updated_after = newest
    session.commit()
    written.fetched += len(batch.unchanged)
    written.unchanged += len(batch.unchanged)
    written.dco_failing += sum(1 for ok in batch.unchanged if ok is False)
    if write_back:
        _write_back(client, project, checked, written)
    summary.add(written)
    if progress is not None:
        progress(project.path_with_namespace, summary.fetched)


def _write_back(client: GitLabClient, project: ProjectRecord, checked: list[rows.Stored],
                summary: SyncSummary) -> None:
    """Post the `dco` status of each checked merge request; a refusal is counted, not fatal."""
    for item in checked:
        merge_request = item.merge_request
        if merge_request.head_sha is None or merge_request.is_dco_ok is None:
            continue
        try:
            client.set_commit_status(project.id, merge_request.head_sha, bool(merge_request.is_dco_ok),
                                     status_description(item.verdicts))
        except GitLabError:
            summary.statuses_failed += 1
        else:
            summary.statuses_written += 1


def credited_people(stored: list[rows.Stored]) -> set[int]:
    """The people whose DCO-clean merged work was added or changed: their badges are re-evaluated
    once per batch, not once per merge request."""
    return {item.merge_request.person_id for item in stored
            if item.outcome != "unchanged" and item.merge_request.person_id is not None
            and item.merge_request.is_dco_ok and item.merge_request.merged_at is not None}


def status_description(verdicts: Sequence[CommitVerdict]) -> str:
    """The text of the `dco` commit status: the first failure's reason, or that all passed."""
    failing = [v for v in verdicts if not v.dco_ok]
    if not failing:
        return f"DCO: all {len(verdicts)} commit{'' if len(verdicts) == 1 else 's'} signed off"
    more = f" (and {len(failing) - 1} more failing)" if len(failing) > 1 else ""
    return f"DCO: commit {failing[0].sha[:8]}: {failing[0].reason}{more}"


def _stored_count(session: Session, project_id: int) -> int:
    return int(session.execute(
        select(func.count(MergeRequest.id)).where(MergeRequest.gitlab_project_id == project_id)
    ).scalar_one())


def _audit_sync(session: Session, actor: Actor, project: ProjectRecord, cursor: GitLabSyncCursor,
                summary: SyncSummary, full: bool) -> None:
    audit.record(session, actor, "gitlab.sync", "gitlab_project", project.id, {
        "project": project.path_with_namespace, "full": full, **summary.counts(),
        "updated_after": cursor.updated_after.isoformat() if cursor.updated_after else None,
    })


def _audit_interrupted(session: Session, actor: Actor, project: ProjectRecord, summary: SyncSummary,
                       full: bool, exc: Exception) -> None:
    """Record what the committed batches of an interrupted sync changed (best effort)."""
    try:
        audit.record(session, actor, "gitlab.sync", "gitlab_project", project.id, {
            "project": project.path_with_namespace, "full": full, **summary.counts(),
            "interrupted": " ".join(str(exc).split())[:300],
        })
        session.commit()
    except Exception:
        # The database itself may be what failed; the original error is the one to raise.
        session.rollback()


def import_merge_request(
    session: Session, actor: Actor, client: GitLabClient, project_id: int, iid: int, *,
    checker: DcoChecker, write_back: bool = False,
) -> MergeRequest | None:
    """Bring one merge request in (the webhook worker's path); None when it is not merged.

    Commits; raises GitLabError when GitLab fails. The project's cursor is not moved:
    deliveries arrive in any order, and the sync still reads whatever they skipped.
    """
    actor.require(Permission.MANAGE_BOUNTIES)
    record = client.merge_request(project_id, iid)
    if not record.is_merged:
        return None
    commits = client.merge_request_commits(project_id, iid)
    project = ProjectRecord(id=record.project_id, path_with_namespace=record.project_path, web_url="")
    summary = SyncSummary()
    try:
        rows.lock_cursor(session, project)
        checked = rows.store(session, project, [(record, commits)], checker)
        summary.count(checked)
        if summary.created or summary.updated:
            merge_request = checked[0].merge_request
            audit.record(session, actor, "merge_request.import", "merge_request", merge_request.id, {
                "project": record.project_path, "iid": iid, "created": bool(summary.created),
                "dco_ok": merge_request.is_dco_ok,
            })
            badges.award_badges_now(session, credited_people(checked), metrics=badges.MERGE_METRICS)
        session.commit()
    except Exception:
        session.rollback()
        raise
    if write_back:
        _write_back(client, project, checked, summary)
    return checked[0].merge_request


def merge_request_for_url(session: Session, url: str) -> MergeRequest | None:
    """The synced merge request a URL such as `.../group/project/-/merge_requests/12` names."""
    parsed = parse_merge_request_url(url)
    if parsed is None:
        return None
    path, iid = parsed
    return session.execute(
        select(MergeRequest)
        .where(func.lower(MergeRequest.project_path) == path.lower(), MergeRequest.iid == iid)
        .order_by(MergeRequest.id).limit(1)
    ).scalar_one_or_none()


def parse_merge_request_url(url: str) -> tuple[str, int] | None:
    """(project path, iid) of a merge-request URL, or None when it names none."""
    match = _MR_PATH.match(unquote(urlsplit(url.strip()).path))
    return (match["path"], int(match["iid"])) if match else None
