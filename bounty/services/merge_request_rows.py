"""Storing merge requests read from GitLab: their rows and commit rows, with the DCO verdicts.

Called by `merged_work` (the sync and the webhook import) inside their transactions; these
functions only flush. A merge request is one row per GitLab project id and iid (a unique
constraint); its commits are rows keyed by sha within it. New merge requests and their
commits go in with two multi-row INSERTs (executemany without RETURNING, which the driver
pipelines), then are read back as objects; stored ones are compared field by field and
changed in place, a commit no longer listed (a force-push) losing its row. Changed and new
merge requests are then credited (`identities.credit`) and attached to claims
(`submissions.attach_merged_works`), in that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from bounty.dco.rules import CommitVerdict, DcoChecker
from bounty.gitlab.records import CommitRecord, MergeRequestRecord, ProjectRecord
from bounty.models import GitLabSyncCursor, MergeRequest, MergeRequestCommit, utcnow
from bounty.models.engine import is_postgres
from bounty.services import identities, submissions


@dataclass
class Stored:
    """A merge request whose commits were checked: its row, the verdicts, what storing did
    ("created", "updated" or "unchanged")."""

    merge_request: MergeRequest
    verdicts: list[CommitVerdict]
    outcome: str


def store(
    session: Session, project: ProjectRecord, fetched: list[tuple[MergeRequestRecord, list[CommitRecord]]],
    checker: DcoChecker,
) -> list[Stored]:
    """Upsert the merge requests and their commits, credit and attach the changed ones (flushes).

    New merge requests and their commits go in with two multi-row INSERTs (executemany, no
    RETURNING: the driver pipelines them), then are read back as objects for crediting;
    existing ones are compared field by field and changed in place.
    """
    if not fetched:
        return []
    existing = {
        mr.iid: mr for mr in session.execute(
            select(MergeRequest)
            .where(MergeRequest.gitlab_project_id == project.id,
                   MergeRequest.iid.in_([record.iid for record, _ in fetched]))
            .options(selectinload(MergeRequest.commits))
            .execution_options(populate_existing=True)
        ).scalars()
    }
    now = utcnow()
    changed: list[MergeRequest] = []
    new_rows: dict[int, tuple[dict[str, Any], dict[str, dict[str, Any]]]] = {}
    verdicts_of: dict[int, list[CommitVerdict]] = {}
    outcome: dict[int, str] = {}
    for record, commits in fetched:
        verdict, verdicts = checker.check_merge_request([c.commit for c in commits])
        # No commits at all is the DCO app's "neutral": not checked, so it counts toward nothing.
        is_ok = verdict.dco_ok if commits else None
        values, rows = _merge_request_values(record, is_ok), _commit_rows(commits, verdicts)
        verdicts_of[record.iid] = verdicts
        merge_request = existing.get(record.iid)
        if merge_request is None:
            new_rows[record.iid] = (values, rows)
            outcome[record.iid] = "created"
        elif _apply(session, merge_request, values, rows):
            merge_request.synced_at = now
            changed.append(merge_request)
            outcome[record.iid] = "updated"
        else:
            outcome[record.iid] = "unchanged"
    if new_rows:
        changed += _insert(session, project, new_rows, now)
    session.flush()
    identities.credit(session, changed)
    submissions.attach_merged_works(session, changed)
    stored = {mr.iid: mr for mr in [*existing.values(), *changed]}
    return [Stored(stored[record.iid], verdicts_of[record.iid], outcome[record.iid]) for record, _ in fetched]


def _insert(session: Session, project: ProjectRecord,
            new_rows: dict[int, tuple[dict[str, Any], dict[str, dict[str, Any]]]], now: datetime,
            ) -> list[MergeRequest]:
    """Insert new merge requests and their commits; the merge requests, commits loaded."""
    session.execute(insert(MergeRequest), [
        {"gitlab_project_id": project.id, "iid": iid, "synced_at": now, "author_identity_id": None,
         "person_id": None, **values}
        for iid, (values, _) in new_rows.items()
    ])
    ids = {row.iid: row.id for row in session.execute(
        select(MergeRequest.iid, MergeRequest.id)
        .where(MergeRequest.gitlab_project_id == project.id, MergeRequest.iid.in_(list(new_rows)))
    )}
    commit_rows = [{"merge_request_id": ids[iid], "sha": sha, **row}
                   for iid, (_, rows) in new_rows.items() for sha, row in rows.items()]
    if commit_rows:
        session.execute(insert(MergeRequestCommit), commit_rows)
    return list(session.execute(
        select(MergeRequest).where(MergeRequest.id.in_(list(ids.values())))
        .options(selectinload(MergeRequest.commits)).order_by(MergeRequest.iid)
    ).scalars())


def _merge_request_values(record: MergeRequestRecord, is_ok: bool | None) -> dict[str, Any]:
    """The columns of a merge request row, from GitLab's record and the DCO verdict."""
    author = record.author
    return {
        "project_path": record.project_path, "title": record.title[:500], "description": record.description,
        "web_url": record.web_url[:500], "author_username": author.username[:255] if author else None,
        "author_gitlab_id": author.id if author else None, "merged_at": record.merged_at,
        "gitlab_updated_at": record.updated_at, "head_sha": record.head_sha, "is_dco_ok": is_ok,
    }


def _commit_rows(commits: list[CommitRecord], verdicts: list[CommitVerdict]) -> dict[str, dict[str, Any]]:
    """The columns of each commit row by sha (a sha listed twice keeps its first place)."""
    rows: dict[str, dict[str, Any]] = {}
    for item, verdict in zip(commits, verdicts, strict=True):
        c = item.commit
        rows.setdefault(c.sha, {
            "position": item.position,
            "author_name": c.author_name[:255], "author_email": c.author_email[:320],
            "committer_name": c.committer_name[:255], "committer_email": c.committer_email[:320],
            "message": c.message, "authored_at": item.authored_at, "is_dco_ok": verdict.dco_ok,
            "dco_reason": verdict.reason, "dco_exempt": verdict.exempt,
        })
    return rows


def _apply(session: Session, merge_request: MergeRequest, values: dict[str, Any],
           wanted: dict[str, dict[str, Any]]) -> bool:
    """Bring a stored merge request and its commit rows to `values`/`wanted`; whether anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(merge_request, name) != value:
            setattr(merge_request, name, value)
            changed = True
    current = {row.sha: row for row in merge_request.commits}
    if set(current) == set(wanted) and all(getattr(current[sha], name) == value
                                           for sha, row in wanted.items() for name, value in row.items()):
        return changed
    kept = []
    for sha, row in current.items():
        if sha in wanted:
            kept.append(row)
        else:
            session.delete(row)  # gone from the merge request (a force-push)
    for sha, values_of_commit in wanted.items():
        row = current.get(sha) or MergeRequestCommit(sha=sha)
        for name, value in values_of_commit.items():
            setattr(row, name, value)
        if sha not in current:
            kept.append(row)
    merge_request.commits = sorted(kept, key=lambda row: row.position)
    return True


def lock_cursor(session: Session, project: ProjectRecord) -> GitLabSyncCursor:
    """The project's sync cursor, created on first use, row-locked until the caller commits."""
    dialect_insert = postgresql_insert if is_postgres(session) else sqlite_insert
    session.execute(
        dialect_insert(GitLabSyncCursor)
        .values(gitlab_project_id=project.id, project_path=project.path_with_namespace, merge_requests_seen=0)
        .on_conflict_do_nothing()
    )
    cursor = session.execute(
        select(GitLabSyncCursor).where(GitLabSyncCursor.gitlab_project_id == project.id)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    if cursor.project_path != project.path_with_namespace:
        cursor.project_path = project.path_with_namespace  # the project was renamed or moved
    return cursor
