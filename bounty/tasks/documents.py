"""Document jobs: build a document someone asked for, and purge the expired ones.

`submit_document` is what the pages and the API call: it asks for the document
(`bounty.services.document_jobs`, which commits the job) and, when the job is new, sends it
to the queue; in eager mode (no broker) the job runs right there, before the answer.

`bounty.documents.build`(job_id) marks the job running, rebuilds the requester's actor from
their person row (the roles they hold now: someone who lost the permission since gets a failed
job saying so), runs the kind's builder with a progress callback that commits, and stores the
bytes. Any refusal or fault fails the job with a readable message (a fault's traceback goes to
the log, never to the reader). A job delivered twice runs once: a finished job is left alone.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.result import AsyncResult
from flask import current_app
from sqlalchemy.orm import Session

from bounty.extensions import db
from bounty.ledger import LedgerError
from bounty.models import DocumentJob
from bounty.services import document_jobs
from bounty.services.actors import SYSTEM, Actor
from bounty.services.document_kinds import Builder, kind_of
from bounty.services.errors import ServiceError
from bounty.tasks import award_documents, finance_documents

BUILD_TASK = "bounty.documents.build"
PURGE_TASK = "bounty.documents.purge"
INTERNAL_ERROR = ("the document could not be built because of an internal error "
                  "(logged for the administrators)")
QUEUE_DOWN = "the job queue could not take the job: try again in a moment"

BUILDERS: dict[str, Builder] = {**finance_documents.BUILDERS, **award_documents.BUILDERS}

logger = logging.getLogger(__name__)


def retention_hours() -> int:
    """How long a finished job's file is kept (setting DOCUMENT_RETENTION_HOURS)."""
    return int(current_app.config["DOCUMENT_RETENTION_HOURS"])


def enqueue_document(job_id: int) -> AsyncResult[Any]:
    """Send job `job_id` (already committed) to this application's queue; eager: run it now.

    Raises whatever the broker raises when it cannot take the job.
    """
    celery = current_app.extensions["celery"]
    return celery.tasks[BUILD_TASK].apply_async(args=(job_id,))


def submit_document(session: Session, actor: Actor, kind: str, params: dict[str, Any]) -> DocumentJob:
    """Ask for a document and queue a new job; the job as it stands after sending it.

    Refusals (InvalidInput, PermissionDenied, NotFound) are raised before anything is queued.
    A broker that cannot take the job fails it at once, saying so (asking again makes a new one).
    """
    asked = document_jobs.ask_for_document(session, actor, kind, params)
    job_id = asked.job.id
    if asked.is_new:
        try:
            enqueue_document(job_id)
        except Exception:
            logger.exception("document job %s: the queue could not take it", job_id)
            document_jobs.fail(session, SYSTEM, job_id, QUEUE_DOWN, retention_hours())
    return document_jobs.get_job(session, actor, job_id)


def _failed(session: Session, job_id: int, reason: str) -> dict[str, Any]:
    job = document_jobs.fail(session, SYSTEM, job_id, reason, retention_hours())
    logger.warning("document job %s (%s) failed: %s", job_id, job.kind, job.error)
    return {"job": job_id, "status": job.status, "error": job.error}


@shared_task(name=BUILD_TASK, ignore_result=False, acks_late=True)
def build_document(job_id: int) -> dict[str, Any]:
    """Build the document of job `job_id` and store it, or fail the job with the reason."""
    session = db.session
    job = document_jobs.mark_running(session, SYSTEM, job_id)
    if job is None:
        return {"job": job_id, "status": "finished already"}
    kind, params = job.kind, dict(job.params)
    try:
        actor = document_jobs.requester_actor(session, job)
        kind_of(kind).authorise(actor)
        builder = BUILDERS.get(kind)
        if builder is None:
            return _failed(session, job_id, f"documents of kind {kind} cannot be built yet")

        def progress(percent: int, stage: str) -> None:
            document_jobs.report_progress(session, SYSTEM, job_id, percent, stage)

        content = builder(session, actor, params, progress)
    except (ServiceError, LedgerError) as refusal:
        session.rollback()
        return _failed(session, job_id, f"refused: {refusal}")
    except Exception:
        session.rollback()
        logger.exception("document job %s (%s): the builder failed", job_id, kind)
        return _failed(session, job_id, INTERNAL_ERROR)
    try:
        done = document_jobs.complete(session, SYSTEM, job_id, content, retention_hours())
    except Exception:
        logger.exception("document job %s (%s): the file could not be stored", job_id, kind)
        return _failed(session, job_id, INTERNAL_ERROR)
    return {"job": job_id, "status": done.status, "size_bytes": done.size_bytes}


@shared_task(name=PURGE_TASK, ignore_result=False)
def purge_documents() -> dict[str, Any]:
    """Delete the expired document jobs, their files with them."""
    purged = document_jobs.purge_expired(db.session, SYSTEM)
    if purged:
        logger.info("purged %d expired document job(s)", purged)
    return {"purged": purged}
