"""The application's Celery instance: eager or queued by the settings, its tasks, its schedule."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from celery import Celery
from celery.app.utils import find_app
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty import create_app
from bounty.models import MergeRequest
from bounty.tasks import beat_schedule, celery_settings
from bounty.tasks.gitlab import IMPORT_TASK, SYNC_TASK
from tests.fakes.gitlab import (  # noqa: F401 - fixtures
    TOKEN,
    FakeGitLab,
    make_fake_gitlab_fixture,
    shared_dataset,
)

REDIS = "redis://127.0.0.1:6379/7"


@pytest.fixture
def make_app(db_url: str) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def make(**extra: Any) -> Flask:
        app = create_app({"ENV": "testing", "DATABASE_URL": db_url, "SECRET_KEY": "x" * 40, **extra})
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["bounty.db"].engine.dispose()


def test_without_a_broker_jobs_run_eagerly(make_app: Callable[..., Flask]) -> None:
    celery = make_app().extensions["celery"]
    assert isinstance(celery, Celery)
    assert celery.conf.task_always_eager is True
    assert celery.conf.task_eager_propagates is False
    assert celery.conf.broker_url == "memory://"


def test_with_a_broker_jobs_are_queued(make_app: Callable[..., Flask]) -> None:
    celery = make_app(CELERY_BROKER_URL=REDIS).extensions["celery"]
    assert celery.conf.task_always_eager is False
    assert celery.conf.broker_url == REDIS
    assert celery.conf.result_backend == REDIS        # the broker's, unless told otherwise
    assert celery.conf.task_acks_late is True
    other = make_app(CELERY_BROKER_URL=REDIS, CELERY_RESULT_BACKEND="redis://127.0.0.1:6379/8")
    assert other.extensions["celery"].conf.result_backend == "redis://127.0.0.1:6379/8"


def test_the_tasks_have_their_names(make_app: Callable[..., Flask]) -> None:
    celery = make_app().extensions["celery"]
    assert {IMPORT_TASK, SYNC_TASK} <= set(celery.tasks)
    assert (IMPORT_TASK, SYNC_TASK) == ("bounty.gitlab.import_merge_request", "bounty.gitlab.sync")
    importer = celery.tasks[IMPORT_TASK]
    assert importer.max_retries == 4 and importer.acks_late is True and not importer.ignore_result


def test_no_sync_is_scheduled_without_projects_or_groups(make_app: Callable[..., Flask]) -> None:
    # The purge of expired documents always runs; the sync only when there is something to sync.
    assert set(make_app().extensions["celery"].conf.beat_schedule) == {"documents-purge"}


@pytest.mark.parametrize("watched", [{"GITLAB_PROJECTS": ["helm/helm", 42]},
                                     {"GITLAB_GROUPS": ["coop"]}])
def test_the_sync_is_scheduled_every_interval(make_app: Callable[..., Flask],
                                              watched: dict[str, Any]) -> None:
    celery = make_app(CELERY_BROKER_URL=REDIS, GITLAB_SYNC_INTERVAL_MINUTES=5, **watched).extensions["celery"]
    assert celery.conf.beat_schedule["gitlab-sync"] == {
        "task": "bounty.gitlab.sync", "schedule": timedelta(minutes=5), "options": {"expires": 300.0}}


def test_the_settings_functions_agree_with_the_instance() -> None:
    config = {"CELERY_BROKER_URL": "", "CELERY_RESULT_BACKEND": "", "GITLAB_PROJECTS": [],
              "GITLAB_GROUPS": ["g"], "GITLAB_SYNC_INTERVAL_MINUTES": 15}
    settings = celery_settings(config)
    assert settings["task_always_eager"] is True and settings["result_backend"] is None
    assert settings["beat_schedule"] == beat_schedule(config)
    assert beat_schedule(config)["gitlab-sync"]["schedule"] == timedelta(minutes=15)


def test_each_application_runs_its_tasks_with_its_own_settings(
        make_app: Callable[..., Flask], make_fake_gitlab: Callable[..., FakeGitLab],
        session: Session) -> None:
    """Celery's default instance is the last one made; a task still runs in its own application."""
    fake = make_fake_gitlab(shared_dataset("helm/helm"))
    watching = make_app(GITLAB_URL=fake.url, GITLAB_TOKEN=TOKEN, GITLAB_PROJECTS=["helm/helm"])
    make_app(GITLAB_URL="http://127.0.0.1:9", GITLAB_TOKEN="nothing")  # made later, the default now

    summary = watching.extensions["celery"].tasks[SYNC_TASK].delay().get()
    assert summary["projects"] == 1 and summary["created"] == 400
    assert session.scalar(select(func.count()).select_from(MergeRequest)) == 400
    # The task's session belonged to the task's application context: closed with it.
    assert watching.extensions["bounty.db"].engine.pool.checkedout() == 0


def test_the_worker_module_exposes_the_celery_instance(
        monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("BOUNTY_ENV", "testing")
    monkeypatch.setenv("BOUNTY_DATABASE_URL", db_url)
    monkeypatch.setenv("BOUNTY_CELERY_BROKER_URL", REDIS)
    monkeypatch.delitem(sys.modules, "bounty.worker", raising=False)
    worker = importlib.import_module("bounty.worker")
    try:
        found = find_app("bounty.worker")
        assert found is worker.app is worker.flask_app.extensions["celery"]
        assert found.conf.broker_url == REDIS and IMPORT_TASK in found.tasks
    finally:
        worker.flask_app.extensions["bounty.db"].engine.dispose()
        monkeypatch.delitem(sys.modules, "bounty.worker", raising=False)


def test_the_worker_module_refuses_to_start_without_a_broker(
        monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("BOUNTY_ENV", "testing")
    monkeypatch.setenv("BOUNTY_DATABASE_URL", db_url)
    monkeypatch.delenv("BOUNTY_CELERY_BROKER_URL", raising=False)
    monkeypatch.delitem(sys.modules, "bounty.worker", raising=False)
    with pytest.raises(SystemExit, match="BOUNTY_CELERY_BROKER_URL"):
        importlib.import_module("bounty.worker")
    monkeypatch.delitem(sys.modules, "bounty.worker", raising=False)
