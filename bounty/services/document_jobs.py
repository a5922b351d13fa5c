"""Documents on the job queue: asking for one, following it, fetching its file, and the
worker's side (running, progress, done or failed, purge). See docs/documents.md.

- Asking (`request_document`) checks the kind's permission and parameters, then returns the
  requester's live job for the same document (queued or running, or done with its file not
  yet expired) instead of making another; a failed one is asked for again as a new job.
- A job is seen by the person who asked for it, by READ_EVERYTHING and by the system; to
  anyone else it does not exist (NotFound), so nobody learns of someone else's documents.
- The worker acts as the system. The file is kept in the job's row until `expires_at`
  (the retention is the caller's argument: services never read settings); `purge_expired`
  deletes the rows of expired jobs, file and all.
- Audit events: the request, the completion, the failure, and each purge. Progress is not
  audited: it changes nothing but the progress bar, many times per job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.models import DocumentJob, Person, utcnow
from bounty.models.documents import JOB_STATUSES, LIVE_JOB_STATUSES
from bounty.services import audit
from bounty.services.actors import SYSTEM, Actor, person_actor
from bounty.services.document_kinds import kind_of
from bounty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
MAX_ERROR = 500
MAX_STAGE = 200
LIST_LIMIT = 100


class NotReady(Conflict):
    """The job has no file yet (queued, running) or will never have one (failed)."""


class Expired(Conflict):
    """The job's file was kept until its expiry and is gone: ask for the document again."""


class DocumentFile(NamedTuple):
    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class Requested:
    """What asking gave: the job, and whether it is new (then it still has to be enqueued)."""

    job: DocumentJob
    is_new: bool


def request_key(kind: str, params: Mapping[str, Any]) -> str:
    """The kind and its canonical parameters, as one text: equal for the same document."""
    return f"{kind}:{json.dumps(params, sort_keys=True, separators=(',', ':'))}"


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def ask_for_document(session: Session, actor: Actor, kind: str, params: Mapping[str, Any],
                     now: datetime | None = None) -> Requested:
    """The job making `kind` with `params` for `actor`: their live one, or a new queued one
    (committed, so a worker may pick it up at once)."""
    try:
        document = kind_of(kind)
        document.authorise(actor)
        canonical = document.normalise(params)
        if document.check is not None:
            document.check(session, actor, canonical)
        key = request_key(document.code, canonical)
        if actor.person_id is not None:
            # One request at a time per person: two clicks make one job (SQLite's writers are
            # already one at a time).
            session.execute(select(Person.id).where(Person.id == actor.person_id).with_for_update())
        moment = _now(now)
        mine = (DocumentJob.requested_by_id == actor.person_id if actor.person_id is not None
                else DocumentJob.requested_by_id.is_(None))
        existing = session.execute(
            select(DocumentJob).where(
                DocumentJob.request_key == key, mine,
                or_(DocumentJob.status.in_(LIVE_JOB_STATUSES),
                    (DocumentJob.status == DONE) & (DocumentJob.expires_at > moment)))
            .order_by(DocumentJob.id.desc()).limit(1)).scalar_one_or_none()
        if existing is not None:
            session.commit()
            return Requested(existing, False)
        job = DocumentJob(kind=document.code, params=canonical, request_key=key,
                          requested_by_id=actor.person_id, status=QUEUED, progress=0, stage="",
                          filename=document.filename(canonical), media_type=document.media_type,
                          size_bytes=0, error="", created_at=moment)
        session.add(job)
        session.flush()
        audit.record(session, actor, "document.requested", "document_job", job.id,
                     {"kind": document.code, "params": canonical})
        session.commit()
        return Requested(job, True)
    except Exception:
        session.rollback()
        raise


def request_document(session: Session, actor: Actor, kind: str, params: Mapping[str, Any],
                     now: datetime | None = None) -> DocumentJob:
    """`ask_for_document`'s job (see there)."""
    return ask_for_document(session, actor, kind, params, now).job


# ---------------------------------------------------------------------------------- reading


def may_see(actor: Actor, job: DocumentJob) -> bool:
    """The requester, READ_EVERYTHING and the system see a job; nobody else."""
    return (actor.can(Permission.READ_EVERYTHING)
            or (actor.person_id is not None and job.requested_by_id == actor.person_id))


def get_job(session: Session, actor: Actor, job_id: int) -> DocumentJob:
    """The job, as it is now; NotFound when there is none or `actor` may not see it."""
    job = session.get(DocumentJob, job_id, populate_existing=True)
    if job is None or not may_see(actor, job):
        raise NotFound(f"no document job {job_id}")
    return job


def list_jobs(session: Session, actor: Actor, *, everyone: bool = False, status: str | None = None,
              limit: int = LIST_LIMIT) -> list[DocumentJob]:
    """`actor`'s jobs, newest first, optionally of one status; with `everyone`
    (READ_EVERYTHING) every person's."""
    query = select(DocumentJob).order_by(DocumentJob.id.desc()).limit(max(1, min(limit, 1000)))
    if status is not None:
        if status not in JOB_STATUSES:
            raise InvalidInput("status", f"one of {', '.join(JOB_STATUSES)}")
        query = query.where(DocumentJob.status == status)
    if everyone:
        actor.require(Permission.READ_EVERYTHING)
    elif actor.person_id is None:
        if not actor.is_system:
            return []
        query = query.where(DocumentJob.requested_by_id.is_(None))
    else:
        query = query.where(DocumentJob.requested_by_id == actor.person_id)
    return list(session.execute(query).scalars())


def is_expired(job: DocumentJob, now: datetime | None = None) -> bool:
    """Whether a done job's file is past its keeping time."""
    return job.status == DONE and job.expires_at is not None and job.expires_at <= _now(now)


def job_file(session: Session, actor: Actor, job_id: int, now: datetime | None = None) -> DocumentFile:
    """The finished file; NotReady while queued or running (or failed), Expired once kept long enough."""
    job = get_job(session, actor, job_id)
    if job.status != DONE:
        reason = f": {job.error}" if job.status == FAILED and job.error else ""
        raise NotReady(f"document job {job_id} is {job.status}{reason}")
    content = session.execute(select(DocumentJob.content).where(DocumentJob.id == job_id)).scalar_one()
    if is_expired(job, now) or content is None:
        raise Expired(f"the file of document job {job_id} has expired: ask for the document again")
    return DocumentFile(job.filename, job.media_type, bytes(content))


def requester_actor(session: Session, job: DocumentJob) -> Actor:
    """The actor the job is built as: its requester with the roles they hold now (the system
    for a job the system asked for). PermissionDenied when that person is gone or merged."""
    if job.requested_by_id is None:
        return SYSTEM
    person = session.get(Person, job.requested_by_id, populate_existing=True)
    if person is None or person.merged_into_id is not None:
        raise PermissionDenied("the person who asked for this document no longer has an account")
    return person_actor(person)


# ------------------------------------------------------------------------------ the worker


def _require_system(actor: Actor) -> None:
    if not actor.is_system:
        raise PermissionDenied(f"{actor.label} may not run document jobs")


def _job(session: Session, job_id: int) -> DocumentJob:
    job = session.get(DocumentJob, job_id, populate_existing=True)
    if job is None:
        raise NotFound(f"no document job {job_id}")
    return job


def mark_running(session: Session, actor: Actor, job_id: int,
                 now: datetime | None = None) -> DocumentJob | None:
    """Start the job; None when it is already finished (a job delivered twice runs once)."""
    _require_system(actor)
    try:
        job = _job(session, job_id)
        if job.status not in LIVE_JOB_STATUSES:
            session.rollback()
            return None
        # Running already: a worker lost mid-job; the job is started again from scratch.
        job.status, job.progress, job.stage = RUNNING, 0, "started"
        job.started_at = _now(now)
        session.commit()
        return job
    except Exception:
        session.rollback()
        raise


def report_progress(session: Session, actor: Actor, job_id: int, percent: int, stage: str) -> None:
    """Record how far a running job got (percent clamped to 0-100) and commit."""
    _require_system(actor)
    try:
        session.execute(update(DocumentJob)
                        .where(DocumentJob.id == job_id, DocumentJob.status == RUNNING)
                        .values(progress=max(0, min(100, int(percent))),
                                stage=" ".join(stage.split())[:MAX_STAGE]))
        session.commit()
    except Exception:
        session.rollback()
        raise


def complete(session: Session, actor: Actor, job_id: int, content: bytes, retention_hours: int,
             now: datetime | None = None) -> DocumentJob:
    """Store the file: the job is done and its file kept `retention_hours` from now."""
    _require_system(actor)
    try:
        job = _job(session, job_id)
        if job.status != RUNNING:
            raise Conflict(f"document job {job_id} is {job.status}, not running")
        moment = _now(now)
        job.status, job.progress, job.stage = DONE, 100, "done"
        job.content, job.size_bytes = content, len(content)
        job.finished_at, job.expires_at = moment, moment + timedelta(hours=retention_hours)
        audit.record(session, actor, "document.completed", "document_job", job.id,
                     {"kind": job.kind, "size_bytes": len(content), "requested_by": job.requested_by_id})
        session.commit()
        return job
    except Exception:
        session.rollback()
        raise


def short_error(text: str) -> str:
    """An error as a reader sees it: one line, at most MAX_ERROR characters."""
    line = " ".join(str(text).split()) or "the document could not be built"
    return line if len(line) <= MAX_ERROR else line[:MAX_ERROR - 1] + "…"


def fail(session: Session, actor: Actor, job_id: int, error: str, retention_hours: int,
         now: datetime | None = None) -> DocumentJob:
    """The job failed with `error` (shown to the requester: no stack trace); the row is kept
    as long as a file would be, then purged."""
    _require_system(actor)
    try:
        job = _job(session, job_id)
        moment = _now(now)
        job.status, job.error = FAILED, short_error(error)
        job.content, job.size_bytes = None, 0
        job.finished_at, job.expires_at = moment, moment + timedelta(hours=retention_hours)
        audit.record(session, actor, "document.failed", "document_job", job.id,
                     {"kind": job.kind, "error": job.error, "requested_by": job.requested_by_id})
        session.commit()
        return job
    except Exception:
        session.rollback()
        raise


def purge_expired(session: Session, actor: Actor, now: datetime | None = None) -> int:
    """Delete the rows (and so the files) of finished jobs past `expires_at`; how many."""
    _require_system(actor)
    try:
        moment = _now(now)
        expired = (DocumentJob.status.in_((DONE, FAILED)), DocumentJob.expires_at <= moment)
        ids = list(session.execute(select(DocumentJob.id).where(*expired)).scalars())
        if ids:
            session.execute(delete(DocumentJob).where(DocumentJob.id.in_(ids)))
            audit.record(session, actor, "document.purged", "document_job", "expired",
                         {"count": len(ids), "first_id": min(ids), "last_id": max(ids)})
        session.commit()
        return len(ids)
    except Exception:
        session.rollback()
        raise
