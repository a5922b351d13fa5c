"""Background jobs on Celery: the application's Celery instance, its settings and schedule.

Follows the Flask documentation's pattern ("Background Tasks with Celery"): a Celery
instance per application whose task class runs every task inside that application's
context, kept in `app.extensions["celery"]`. A task reaches the database through
`bounty.extensions.db.session`, which belongs to the task's own application context and
is closed when that context ends, that is when the task ends.

With `CELERY_BROKER_URL` empty (the embedded default, `bounty demo`, most tests) jobs run
in-process and at once (eager mode). With a broker (Redis) they go to the queue and
`celery -A bounty.worker worker` runs them; `celery -A bounty.worker beat` sends the
periodic GitLab sync when projects or groups are configured, and the hourly purge of expired
documents (docs/documents.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from celery import Celery, Task
from flask import Flask

from bounty.tasks import documents as document_tasks
from bounty.tasks import gitlab as gitlab_tasks

EXTENSION_KEY = "celery"
# The in-process transport: eager mode never publishes, but Celery still wants a broker URL.
EAGER_BROKER = "memory://"
# Finished jobs' results (what `AsyncResult.get` reads) are kept one day.
RESULT_EXPIRES_SECONDS = 24 * 3600
# Retries of the connection to Redis when sending a job: about a second in all.
QUICK_RETRIES = {"max_retries": 2, "interval_start": 0, "interval_step": 0.25, "interval_max": 0.5}
# Expired documents are deleted this often (their files are kept DOCUMENT_RETENTION_HOURS).
PURGE_EVERY = timedelta(hours=1)


def init_app(app: Flask) -> Celery:
    """Bind a Celery instance to `app` (kept in app.extensions["celery"])."""
    return celery_init_app(app)


def celery_init_app(app: Flask) -> Celery:
    """A Celery instance whose tasks run in an application context of `app`."""

    class FlaskTask(Task):  # type: ignore[type-arg]
        def __call__(self, *args: object, **kwargs: object) -> object:
            # A context of its own even when called eagerly inside a request: the task gets
            # its own database session, closed by the context's teardown when the task ends.
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_settings(app.config))
    # The tasks are shared tasks (their module is imported above): register them with this
    # instance now rather than on first use.
    celery_app.finalize()
    celery_app.set_default()
    app.extensions[EXTENSION_KEY] = celery_app
    return celery_app


def celery_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Celery's settings from the application's (see docs/worker.md)."""
    broker = config["CELERY_BROKER_URL"]
    eager = not broker
    return {
        "broker_url": broker or EAGER_BROKER,
        "result_backend": (config["CELERY_RESULT_BACKEND"] or broker) or None,
        "task_always_eager": eager,
        # An eager job's error stays in its result (`.get()` raises it), as a queued job's
        # would: raising in the caller would also defeat the eager retries, which travel
        # as exceptions. Celery logs the error either way.
        "task_eager_propagates": False,
        "task_ignore_result": True,  # tasks whose result matters say ignore_result=False
        "result_expires": RESULT_EXPIRES_SECONDS,
        # A job is acknowledged once done, so a worker lost mid-job leaves it to another;
        # one job at a time per worker process, as jobs are long (GitLab round trips).
        "task_acks_late": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        "broker_connection_retry_on_startup": True,
        # Sending a job gives up after about a second when Redis is down (publishing, and
        # subscribing to the job's result): the webhook view must answer GitLab well
        # within its 10 s timeout. Celery's defaults would retry for some 20 seconds.
        "broker_connection_timeout": 2,
        "task_publish_retry_policy": QUICK_RETRIES,
        "result_backend_transport_options": {"retry_policy": QUICK_RETRIES},
        "beat_schedule": beat_schedule(config),
    }


def beat_schedule(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The periodic jobs: the purge of expired documents, and the incremental GitLab sync
    when there is something to sync."""
    schedule: dict[str, dict[str, Any]] = {
        "documents-purge": {
            "task": document_tasks.PURGE_TASK,
            "schedule": PURGE_EVERY,
            "options": {"expires": PURGE_EVERY.total_seconds()},
        },
    }
    if not (config["GITLAB_PROJECTS"] or config["GITLAB_GROUPS"]):
        return schedule
    every = timedelta(minutes=config["GITLAB_SYNC_INTERVAL_MINUTES"])
    schedule["gitlab-sync"] = {
        "task": gitlab_tasks.SYNC_TASK,
        "schedule": every,
        # A sync still waiting when the next one is due is dropped, not run twice.
        "options": {"expires": every.total_seconds()},
    }
    return schedule
