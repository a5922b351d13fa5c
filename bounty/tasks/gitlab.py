"""GitLab jobs: bring in the merge request of one webhook delivery, and the periodic sync.

Both build their GitLab client and DCO checker from the application's settings and act
as the system. The import is idempotent (merged_work upserts), so the late
acknowledgement that makes a crashed worker's job run again is safe.

Retries: a GitLab that cannot be reached, is rate limiting (429) or fails (5xx) is tried
again with exponential backoff (Celery's autoretry) up to `RETRIES` times before the
delivery is marked failed; an answer that retrying cannot change (401, 403, 404, ...)
fails the delivery at once. Either way the periodic sync brings the merge request in
later, once GitLab answers.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from celery import Task, shared_task
from celery.result import AsyncResult
from flask import current_app
from sqlalchemy.orm import Session

from bounty.dco.rules import DcoChecker
from bounty.extensions import db
from bounty.gitlab.client import GitLabClient, GitLabError
from bounty.services import merged_work, webhooks
from bounty.services.actors import SYSTEM
from bounty.services.errors import ServiceError

IMPORT_TASK = "bounty.gitlab.import_merge_request"
SYNC_TASK = "bounty.gitlab.sync"
# Tries after the first: with a 10 s base the waits are about 10, 20, 40 and 80 seconds.
RETRIES = 4
RETRY_BACKOFF_SECONDS = 10
RETRY_BACKOFF_MAX_SECONDS = 600

logger = logging.getLogger(__name__)


def gitlab_client() -> GitLabClient:
    """A client of the configured GitLab."""
    config = current_app.config
    return GitLabClient(url=config["GITLAB_URL"], token=config["GITLAB_TOKEN"],
                        per_page=config["GITLAB_PER_PAGE"])


def dco_checker() -> DcoChecker:
    """The DCO checker with the configured bot patterns."""
    return DcoChecker(current_app.config["DCO_BOT_PATTERNS"])


def enqueue_import(delivery_id: int) -> AsyncResult[Any]:
    """Queue the import of delivery `delivery_id` on this application's Celery.

    In eager mode the job runs here and now. Raises whatever the broker raises when it
    cannot take the job (the caller decides what an outage means).
    """
    celery = current_app.extensions["celery"]
    return celery.tasks[IMPORT_TASK].apply_async(args=(delivery_id,))


def is_transient(error: GitLabError) -> bool:
    """Whether trying again later may succeed: unreachable, rate limited, or a server error."""
    return error.status is None or error.status == 429 or error.status >= 500


@shared_task(name=IMPORT_TASK, bind=True, ignore_result=False, acks_late=True,
             autoretry_for=(GitLabError,), max_retries=RETRIES, retry_backoff=RETRY_BACKOFF_SECONDS,
             retry_backoff_max=RETRY_BACKOFF_MAX_SECONDS, retry_jitter=True)
def import_merge_request(self: Task[Any, Any], delivery_id: int) -> dict[str, Any]:
    """Bring in the merge request of webhook delivery `delivery_id`; mark the delivery done or failed."""
    session = db.session
    delivery = webhooks.get_delivery(session, delivery_id)
    key = delivery.delivery_key
    if delivery.status != webhooks.QUEUED:
        # Already finished (a job run twice after a worker was lost): nothing more to do.
        return {"delivery": key, "status": delivery.status, "outcome": delivery.outcome}
    project_id, iid = delivery.gitlab_project_id, delivery.merge_request_iid
    if project_id is None or iid is None:
        return _finish(session, delivery_id, key, webhooks.FAILED, "the delivery names no merge request")

    config = current_app.config
    try:
        merge_request = merged_work.import_merge_request(
            session, SYSTEM, gitlab_client(), project_id, iid, checker=dco_checker(),
            write_back=config["GITLAB_WRITE_BACK_STATUS"])
    except GitLabError as exc:
        session.rollback()
        if is_transient(exc) and self.request.retries < RETRIES:
            logger.warning("delivery %s: %s; trying again (retry %d of %d)",
                           key, exc, self.request.retries + 1, RETRIES)
            raise  # autoretry_for schedules the next try with backoff
        return _finish(session, delivery_id, key, webhooks.FAILED, f"GitLab: {exc}")
    except ServiceError as exc:
        session.rollback()
        return _finish(session, delivery_id, key, webhooks.FAILED, str(exc))
    except Exception as exc:
        # A fault of ours: record it on the delivery if the database lets us, then let
        # Celery record the traceback too.
        session.rollback()
        try:
            _finish(session, delivery_id, key, webhooks.FAILED, f"internal error: {type(exc).__name__}")
        except Exception:
            logger.exception("delivery %s: could not record the failure", key)
        raise

    if merge_request is None:
        return _finish(session, delivery_id, key, webhooks.DONE,
                       f"merge request !{iid} of project {project_id} is not merged on GitLab")
    verdict = "DCO ok" if merge_request.is_dco_ok else "DCO failing"
    return _finish(session, delivery_id, key, webhooks.DONE,
                   f"imported {merge_request.project_path}!{merge_request.iid} ({verdict})")


@shared_task(name=SYNC_TASK, ignore_result=False)
def sync_gitlab(full: bool = False) -> dict[str, Any]:
    """Sync the merged merge requests of the configured projects and groups (incremental)."""
    config = current_app.config
    summary = merged_work.sync_projects(
        db.session, SYSTEM, gitlab_client(), list(config["GITLAB_PROJECTS"]),
        list(config["GITLAB_GROUPS"]), checker=dco_checker(), full=full,
        write_back=config["GITLAB_WRITE_BACK_STATUS"])
    result = asdict(summary)
    logger.info("GitLab sync: %s", result)
    return result


def _finish(session: Session, delivery_id: int, key: str, status: str, outcome: str) -> dict[str, Any]:
    webhooks.finish_delivery(session, delivery_id, status, outcome)
    if status == webhooks.FAILED:
        logger.warning("delivery %s failed: %s", key, outcome)
    return {"delivery": key, "status": status, "outcome": outcome}
