"""The document jobs on both databases: every finance kind has its builder; an eager run builds a
real statement workbook whose figures are the statement's; someone who lost the permission gets a
failed job saying so; a broker that cannot take the job fails it at once; the purge runs as a
task and on beat's schedule; and one job goes through a real Celery worker on Redis."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import openpyxl
import pytest
import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker
from flask import Flask
from sqlalchemy.orm import Session

from bounty import create_app
from bounty.cli import documents as documents_cli
from bounty.extensions import db
from bounty.ledger import Money
from bounty.models import DocumentJob, Person, utcnow
from bounty.services import document_jobs, funds, statements
from bounty.services.actors import SYSTEM, Actor
from bounty.services.document_kinds import KINDS
from bounty.tasks import beat_schedule
from bounty.tasks.documents import (
    BUILD_TASK,
    BUILDERS,
    PURGE_TASK,
    QUEUE_DOWN,
    enqueue_document,
    submit_document,
)
from tests import payout_factories as pf
from tests import workflow_factories as wf

YEAR = utcnow().year
# Not the database the GitLab worker test uses: both may run at once.
REDIS = "redis://127.0.0.1:6379/11"
WAIT_SECONDS = 60

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning")


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


@pytest.fixture
def finance(session: Session) -> Actor:
    wf.reference(session)
    funds.record_member_payment(session, SYSTEM, "UK", Money.parse("2500.00", "EUR"),
                                paid_on=date(YEAR, 3, 31), reference="BANK-UK-1")
    actor = pf.finance(session)
    session.commit()
    return actor


def submit(app: Flask, actor: Actor, kind: str, params: dict[str, Any]) -> int:
    with app.app_context():
        return submit_document(db.session, actor, kind, params).id


def job(session: Session, job_id: int) -> DocumentJob:
    found = session.get(DocumentJob, job_id, populate_existing=True)
    session.commit()  # end the read: on SQLite it holds the lock
    return found


def test_every_finance_kind_has_its_builder_and_names_its_task(make_app) -> None:
    finance_kinds = {"payout_batch_xlsx", "statement_xlsx", "trial_balance_xlsx", "journal_xlsx"}
    assert finance_kinds <= set(BUILDERS) <= set(KINDS)
    # The awards report's builder comes with the report itself.
    assert set(KINDS) == set(BUILDERS)
    celery = make_app().extensions["celery"]
    assert {BUILD_TASK, PURGE_TASK} <= set(celery.tasks)
    assert celery.tasks[BUILD_TASK].acks_late is True


def test_an_eager_run_builds_the_statement_workbook(make_app, session, finance) -> None:
    app = make_app()
    job_id = submit(app, finance, "statement_xlsx", {"jurisdiction": "UK", "year": YEAR})
    done = job(session, job_id)
    assert (done.status, done.progress, done.error) == ("done", 100, "")
    assert done.expires_at == done.finished_at + timedelta(hours=app.config["DOCUMENT_RETENTION_HOURS"])

    found = document_jobs.job_file(session, finance, job_id)
    statement = statements.jurisdiction_statement(session, finance, "UK", statements.period(YEAR))
    session.commit()
    book = openpyxl.load_workbook(io.BytesIO(found.content))
    assert book.sheetnames == ["Summary", "Pools", "Payouts", "Paid in"]
    summary = dict(book["Summary"].iter_rows(values_only=True))
    for label, amount in (("owed", statement.owed), ("paid in", statement.paid_in),
                          ("outstanding", statement.outstanding), ("balance", statement.balance)):
        assert summary[label] == amount.to_decimal(), label
    assert statement.paid_in == Money.parse("2500.00", "EUR") and statement.owed.minor > 0
    pools = list(book["Pools"].iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[5]) for row in pools] == [(p.year, p.owed.to_decimal()) for p in statement.pools]
    paid = list(book["Paid in"].iter_rows(min_row=2, values_only=True))
    assert [(row[2], row[4]) for row in paid] == [(p.idempotency_key, p.amount.to_decimal())
                                                  for p in statement.payments]


def test_each_finance_kind_builds_eagerly(make_app, session, finance) -> None:
    app = make_app()
    for kind, params, sheet in (("trial_balance_xlsx", {}, "Totals"),
                                ("journal_xlsx", {"start": f"{YEAR}-01-01"}, "Journal")):
        job_id = submit(app, finance, kind, params)
        assert job(session, job_id).status == "done", job(session, job_id).error
        book = openpyxl.load_workbook(io.BytesIO(document_jobs.job_file(session, finance, job_id).content))
        session.commit()
        assert sheet in book.sheetnames
    again = submit(app, finance, "journal_xlsx", {"start": f"{YEAR}-01-01"})
    assert again == job_id  # the same document again: the same job


def test_someone_who_lost_the_permission_gets_a_failed_job(make_app, session, finance) -> None:
    asked = document_jobs.request_document(session, finance, "trial_balance_xlsx", {})
    person = session.get(Person, finance.person_id)
    person.roles = ["contributor"]
    session.commit()
    app = make_app()
    with app.app_context():
        enqueue_document(asked.id)
    failed = job(session, asked.id)
    assert failed.status == "failed" and failed.content is None
    assert failed.error == "refused: person:fiona may not read finance statements"


def test_a_broker_that_cannot_take_the_job_fails_it(make_app, session, finance) -> None:
    app = make_app(CELERY_BROKER_URL="redis://127.0.0.1:9/0")
    job_id = submit(app, finance, "trial_balance_xlsx", {})
    failed = job(session, job_id)
    assert (failed.status, failed.error) == ("failed", QUEUE_DOWN)
    # Asking again makes a new attempt.
    assert submit(make_app(), finance, "trial_balance_xlsx", {}) != job_id


def test_the_purge_is_a_task_and_on_the_schedule(make_app, session, finance) -> None:
    old = document_jobs.request_document(session, finance, "trial_balance_xlsx", {})
    document_jobs.mark_running(session, SYSTEM, old.id)
    document_jobs.complete(session, SYSTEM, old.id, b"x", 1, now=utcnow() - timedelta(hours=2))
    celery = make_app().extensions["celery"]
    assert celery.tasks[PURGE_TASK].delay().get() == {"purged": 1}
    assert session.get(DocumentJob, old.id, populate_existing=True) is None
    session.commit()
    schedule = beat_schedule({"GITLAB_PROJECTS": [], "GITLAB_GROUPS": [], "GITLAB_SYNC_INTERVAL_MINUTES": 15})
    assert schedule["documents-purge"]["task"] == PURGE_TASK
    assert schedule["documents-purge"]["schedule"] == timedelta(hours=1)


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def test_a_job_runs_on_a_real_worker(make_app, session, finance, redis_db) -> None:
    app = make_app(CELERY_BROKER_URL=REDIS)
    asked = document_jobs.request_document(session, finance, "statement_xlsx",
                                           {"jurisdiction": "EU", "start": f"{YEAR}-01-01",
                                            "end": f"{YEAR}-06-30"})
    celery: Celery = app.extensions["celery"]
    with app.app_context():
        result = enqueue_document(asked.id)
    assert job(session, asked.id).status == "queued"  # nothing runs it yet
    with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        outcome = result.get(timeout=WAIT_SECONDS)
    assert outcome["status"] == "done" and outcome["size_bytes"] > 0
    done = job(session, asked.id)
    assert done.status == "done" and done.stage == "done"
    found = document_jobs.job_file(session, finance, asked.id)
    session.commit()
    summary = dict(openpyxl.load_workbook(io.BytesIO(found.content))["Summary"].iter_rows(values_only=True))
    assert summary["period end"].date() == date(YEAR, 6, 30)


def test_the_commands_list_and_purge(make_app, session, finance) -> None:
    """`bounty documents list` and `purge` (the purge the beat runs hourly, by hand)."""
    old = document_jobs.request_document(session, finance, "trial_balance_xlsx", {})
    document_jobs.mark_running(session, SYSTEM, old.id)
    document_jobs.complete(session, SYSTEM, old.id, b"12345", 1, now=utcnow() - timedelta(hours=2))
    live = document_jobs.request_document(session, finance, "journal_xlsx", {})
    session.close()  # on SQLite an open transaction holds the file lock
    runner = make_app().test_cli_runner()

    listed = runner.invoke(documents_cli.group, ["list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(live.id), str(old.id)]
    assert "\tfiona\tjournal_xlsx\tqueued" in lines[0]
    assert "done (expired)\ttrial-balance.xlsx 5 bytes" in lines[1]
    queued = runner.invoke(documents_cli.group, ["list", "--status", "queued"])
    assert queued.output.splitlines() == lines[:1]
    for bad, message in ((["list", "--status", "lost"], "error: --status: 'lost' is not one of"),
                         (["list", "--limit", "0"], "error: --limit: give a whole number from 1 to 1000")):
        refused = runner.invoke(documents_cli.group, bad)
        assert refused.exit_code == 2 and refused.output.startswith(message)
        assert refused.output.count("\n") == 1

    purged = runner.invoke(documents_cli.group, ["purge"])
    assert (purged.exit_code, purged.output) == (0, "purged 1 expired document job(s)\n")
    assert runner.invoke(documents_cli.group, ["list"]).output.splitlines() == lines[:1]
