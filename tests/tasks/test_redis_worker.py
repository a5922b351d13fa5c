"""A real queue: Redis as broker and result backend, a Celery worker started in this process.

The webhook only records and enqueues; the worker (a thread of this process, consuming
from Redis database 7, which the test empties before and after) fetches the merge request
from the fake GitLab. The test waits on the job's result with a timeout, never on a sleep.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.result import AsyncResult
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty import create_app
from bounty.models import MergeRequest, MergeRequestCommit, WebhookDelivery
from bounty.tasks.gitlab import SYNC_TASK
from tests.fakes.gitlab import (  # noqa: F401 - fixtures
    TOKEN,
    FakeGitLab,
    make_fake_gitlab_fixture,
    shared_dataset,
)

REDIS = "redis://127.0.0.1:6379/7"
SECRET = "worker-secret"
HELM = 88998736
CLEAN_MR = 31580
WAIT_SECONDS = 60

# celery's Redis result backend calls redis-py's deprecated setex; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning")


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    """Redis database 7, empty before and after the test."""
    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def queued_app(db_url: str, redis_db: redis.Redis,
               make_fake_gitlab: Callable[..., FakeGitLab]) -> Iterator[tuple[Flask, FakeGitLab]]:
    fake = make_fake_gitlab(shared_dataset("helm/helm"))
    app = create_app({"ENV": "testing", "DATABASE_URL": db_url, "SECRET_KEY": "x" * 40,
                      "CELERY_BROKER_URL": REDIS, "GITLAB_URL": fake.url, "GITLAB_TOKEN": TOKEN,
                      "GITLAB_WEBHOOK_SECRET": SECRET, "GITLAB_PROJECTS": ["helm/helm"]})
    yield app, fake
    app.extensions["bounty.db"].engine.dispose()


@pytest.fixture
def worker(queued_app: tuple[Flask, FakeGitLab]) -> Iterator[Celery]:
    celery: Celery = queued_app[0].extensions["celery"]
    with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield celery


def merge_event(iid: int) -> bytes:
    return json.dumps({
        "object_kind": "merge_request",
        "project": {"id": HELM, "path_with_namespace": "helm/helm"},
        "object_attributes": {"iid": iid, "action": "merge", "state": "merged"},
    }).encode()


def deliver(app: Flask, key: str, iid: int = CLEAN_MR) -> Any:
    response = app.test_client().post(
        "/hooks/gitlab", data=merge_event(iid), content_type="application/json",
        headers={"X-Gitlab-Token": SECRET, "X-Gitlab-Event": "Merge Request Hook", "Idempotency-Key": key})
    return response


def test_the_webhook_enqueues_and_the_worker_imports(queued_app: tuple[Flask, FakeGitLab], worker: Celery,
                                                     session: Session, redis_db: redis.Redis) -> None:
    app, fake = queued_app
    response = deliver(app, "redis-1")
    assert response.status_code == 202
    answer = response.get_json()
    assert answer["status"] == "queued" and answer["enqueued"] is True

    result = AsyncResult(answer["task"], app=worker).get(timeout=WAIT_SECONDS)
    assert result["status"] == "done" and "helm/helm!31580" in result["outcome"]
    merge_request = session.scalars(select(MergeRequest)).one()
    assert (merge_request.iid, merge_request.is_dco_ok) == (CLEAN_MR, True)
    assert session.scalar(select(func.count()).select_from(MergeRequestCommit)) == 16
    delivery = session.scalars(select(WebhookDelivery)).one()
    assert delivery.status == "done"
    session.commit()  # end the read: on SQLite every transaction holds the write lock

    # The redelivery is answered from the database: nothing queued, nothing fetched again.
    requests_before = fake.requests
    again = deliver(app, "redis-1")
    assert (again.status_code, again.get_json()["status"]) == (200, "duplicate")
    assert redis_db.llen("celery") == 0
    assert fake.requests == requests_before


def test_the_handler_only_enqueues(queued_app: tuple[Flask, FakeGitLab], session: Session,
                                   redis_db: redis.Redis) -> None:
    """No worker running: the job waits in Redis, the delivery is queued, GitLab untouched."""
    app, fake = queued_app
    response = deliver(app, "redis-2")
    assert response.status_code == 202 and response.get_json()["enqueued"] is True
    assert redis_db.llen("celery") == 1
    assert fake.requests == 0
    assert session.scalars(select(WebhookDelivery)).one().status == "queued"
    assert session.scalar(select(func.count()).select_from(MergeRequest)) == 0


def test_the_scheduled_sync_runs_on_the_worker(queued_app: tuple[Flask, FakeGitLab], worker: Celery,
                                               session: Session) -> None:
    summary = worker.tasks[SYNC_TASK].delay().get(timeout=WAIT_SECONDS * 2)
    assert summary["projects"] == 1 and summary["created"] == 400
    assert session.scalar(select(func.count()).select_from(MergeRequest)) == 400
    # The beat entry names this very task.
    assert worker.conf.beat_schedule["gitlab-sync"]["task"] == SYNC_TASK
