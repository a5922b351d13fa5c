"""Document jobs on both databases: asking twice gives the same job, each kind's permission and
parameters, the worker's progress, done and failed jobs, expiry and the purge, and nobody
else's job is visible."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.models import AuditEvent, DocumentJob, Person, utcnow
from bounty.services import document_jobs, document_kinds, journal_export, payouts
from bounty.services.actors import SYSTEM, Actor
from bounty.services.document_jobs import Expired, NotReady
from bounty.services.errors import InvalidInput, NotFound, PermissionDenied
from tests import payout_factories as pf
from tests import workflow_factories as wf

YEAR = utcnow().year
STATEMENT = {"jurisdiction": "EU", "year": YEAR}
RETENTION = 168


@pytest.fixture
def people(session: Session) -> dict[str, Actor]:
    wf.reference(session)
    return {"fiona": pf.finance(session), "frank": pf.finance(session, "frank"),
            "otto": pf.auditor(session, "otto"), "carla": wf.contributor(session),
            "adam": wf.actor_of(wf.person(session, "adam", ("contributor", "program-admin")))}


def events(session: Session, action: str) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def run(session: Session, job_id: int, content: bytes = b"PK-file", now=None) -> DocumentJob:
    assert document_jobs.mark_running(session, SYSTEM, job_id, now=now) is not None
    return document_jobs.complete(session, SYSTEM, job_id, content, RETENTION, now=now)


def test_asking_again_gives_the_same_job_until_it_fails_or_expires(session, people):
    fiona, frank = people["fiona"], people["frank"]
    first = document_jobs.ask_for_document(session, fiona, "statement_xlsx", STATEMENT)
    assert first.is_new and first.job.status == "queued"
    assert first.job.params == {"jurisdiction": "EU", "start": f"{YEAR}-01-01", "end": f"{YEAR}-12-31"}
    assert first.job.filename == f"statement-EU-{YEAR}.xlsx"
    assert first.job.media_type.endswith("spreadsheetml.sheet")
    # The same document in other words (dates, lower case): the same job.
    again = document_jobs.ask_for_document(session, fiona, "statement_xlsx", {
        "jurisdiction": "eu", "start": f"{YEAR}-01-01", "end": f"{YEAR}-12-31"})
    assert (again.job.id, again.is_new) == (first.job.id, False)
    # Someone else asking gets a job of their own.
    theirs = document_jobs.request_document(session, frank, "statement_xlsx", STATEMENT)
    assert theirs.id != first.job.id
    assert events(session, "document.requested") == 2

    # Done and fresh: still the same job; failed: a new one.
    run(session, first.job.id)
    assert document_jobs.request_document(session, fiona, "statement_xlsx", STATEMENT).id == first.job.id
    document_jobs.mark_running(session, SYSTEM, theirs.id)
    document_jobs.fail(session, SYSTEM, theirs.id, "refused: no", RETENTION)
    retried = document_jobs.request_document(session, frank, "statement_xlsx", STATEMENT)
    assert retried.id not in (theirs.id, first.job.id) and retried.status == "queued"
    # Expired: a new job as well.
    later = utcnow() + timedelta(hours=RETENTION + 1)
    fresh = document_jobs.ask_for_document(session, fiona, "statement_xlsx", STATEMENT, now=later)
    assert fresh.is_new and fresh.job.id != first.job.id


def test_who_may_ask_for_each_kind(session, people):
    carla, otto, adam, fiona = people["carla"], people["otto"], people["adam"], people["fiona"]
    with pytest.raises(PermissionDenied):
        document_jobs.request_document(session, carla, "statement_xlsx", STATEMENT)
    with pytest.raises(PermissionDenied):
        document_jobs.request_document(session, carla, "trial_balance_xlsx", {})
    with pytest.raises(PermissionDenied):
        document_jobs.request_document(session, adam, "payout_batch_xlsx", {"batch_id": 1})
    with pytest.raises(PermissionDenied):
        document_jobs.request_document(session, fiona, "awards_report", {"year": YEAR, "lang": "en"})
    assert session.scalar(select(func.count()).select_from(DocumentJob)) == 0
    # Statements: finance, program admins and auditors; the awards report: admins and auditors.
    assert document_jobs.request_document(session, otto, "journal_xlsx", {}).filename == "journal.xlsx"
    assert document_jobs.request_document(session, adam, "trial_balance_xlsx", {"as_of": "2026-06-30"}) \
        .filename == "trial-balance-2026-06-30.xlsx"
    report = document_jobs.request_document(session, adam, "awards_report", {"year": "2026", "lang": "fr"})
    assert (report.filename, report.media_type, report.params) == (
        "awards-2026-fr.pdf", "application/pdf", {"year": 2026, "lang": "fr"})
    assert document_jobs.request_document(session, otto, "awards_report", {"year": 2026, "lang": "en"}).id


@pytest.mark.parametrize(("kind", "params", "field"), [
    ("nonsense", {}, "kind"),
    ("statement_xlsx", {"jurisdiction": "EU", "year": 1999}, "year"),
    ("statement_xlsx", {"jurisdiction": "EUR", "year": YEAR}, "jurisdiction"),
    ("statement_xlsx", {"jurisdiction": "EU", "start": "2026-13-01", "end": "2026-12-31"}, "start"),
    ("statement_xlsx", {"jurisdiction": "EU", "start": "2026-01-01"}, "end"),
    ("statement_xlsx", {"jurisdiction": "EU", "start": "2026-06-01", "end": "2026-01-01"}, "end"),
    ("statement_xlsx", {"jurisdiction": "EU", "year": 2026, "start": "2026-01-01"}, "period"),
    ("journal_xlsx", {"start": "2026-06-01", "end": "2026-01-01"}, "end"),
    ("journal_xlsx", {"from": "2026-06-01"}, "from"),
    ("trial_balance_xlsx", {"as_of": "yesterday"}, "as_of"),
    ("payout_batch_xlsx", {"batch_id": True}, "batch_id"),
    ("payout_batch_xlsx", {"batch_id": 2**31}, "batch_id"),
    ("awards_report", {"year": 1999, "lang": "en"}, "year"),
    ("awards_report", {"year": 2026, "lang": "de"}, "lang"),
])
def test_bad_parameters_are_refused_naming_the_field(session, people, kind, params, field):
    with pytest.raises(InvalidInput) as refused:
        document_jobs.request_document(session, people["otto"] if kind != "awards_report" else people["adam"],
                                       kind, params)
    assert refused.value.field == field


def test_what_is_asked_for_must_exist_and_fit(session, people, monkeypatch):
    with pytest.raises(NotFound):
        document_jobs.request_document(session, people["fiona"], "payout_batch_xlsx", {"batch_id": 999})
    with pytest.raises(NotFound):
        document_jobs.request_document(session, people["fiona"], "statement_xlsx",
                                       {"jurisdiction": "ZZ", "year": YEAR})
    # A journal too long for one sheet is refused when asked for (the limit lowered to the
    # reference ledger's size here; the real one is 1,048,575 lines).
    lines = journal_export.journal_line_count(session, SYSTEM)
    assert lines > 2
    monkeypatch.setattr(document_kinds, "XLSX_MAX_DATA_ROWS", lines - 1)
    with pytest.raises(InvalidInput, match="more than an XLSX sheet can hold") as refused:
        document_jobs.request_document(session, people["fiona"], "journal_xlsx", {})
    assert refused.value.field == "period"
    assert session.scalar(select(func.count()).select_from(DocumentJob)) == 0


def test_progress_then_the_file(session, people):
    fiona = people["fiona"]
    job = document_jobs.request_document(session, fiona, "trial_balance_xlsx", {})
    with pytest.raises(NotReady):
        document_jobs.job_file(session, fiona, job.id)
    with pytest.raises(PermissionDenied):
        document_jobs.mark_running(session, fiona, job.id)
    running = document_jobs.mark_running(session, SYSTEM, job.id)
    assert running is not None and running.status == "running" and running.started_at
    document_jobs.report_progress(session, SYSTEM, job.id, 40, "  reading\nthe ledger ")
    seen = document_jobs.get_job(session, fiona, job.id)
    assert (seen.progress, seen.stage) == (40, "reading the ledger")
    document_jobs.report_progress(session, SYSTEM, job.id, 250, "almost")
    assert document_jobs.get_job(session, fiona, job.id).progress == 100
    with pytest.raises(NotReady, match="running"):
        document_jobs.job_file(session, fiona, job.id)

    moment = utcnow()
    done = document_jobs.complete(session, SYSTEM, job.id, b"PK\x03\x04data", RETENTION, now=moment)
    assert (done.status, done.progress, done.size_bytes) == ("done", 100, 8)
    assert done.expires_at == moment + timedelta(hours=RETENTION)
    assert document_jobs.job_file(session, fiona, job.id) == ("trial-balance.xlsx", done.media_type,
                                                            b"PK\x03\x04data")
    assert events(session, "document.completed") == 1
    # A job delivered again once finished is not run again.
    assert document_jobs.mark_running(session, SYSTEM, job.id) is None


def test_a_failed_job_keeps_a_short_reason(session, people):
    fiona = people["fiona"]
    job = document_jobs.request_document(session, fiona, "journal_xlsx", {"start": "2026-01-01"})
    document_jobs.mark_running(session, SYSTEM, job.id)
    reason = "refused: the period\nis wrong " + "x" * 900
    failed = document_jobs.fail(session, SYSTEM, job.id, reason, RETENTION)
    assert failed.status == "failed" and "\n" not in failed.error and len(failed.error) == 500
    assert failed.error.startswith("refused: the period is wrong")
    with pytest.raises(NotReady, match="failed: refused"):
        document_jobs.job_file(session, fiona, job.id)
    assert events(session, "document.failed") == 1


def test_expired_files_are_gone_and_purged(session, people):
    fiona = people["fiona"]
    old = document_jobs.request_document(session, fiona, "trial_balance_xlsx", {"as_of": "2026-01-31"})
    long_ago = utcnow() - timedelta(hours=RETENTION + 2)
    run(session, old.id, now=long_ago)
    kept = document_jobs.request_document(session, fiona, "trial_balance_xlsx", {})
    run(session, kept.id)
    live = document_jobs.request_document(session, fiona, "journal_xlsx", {})
    with pytest.raises(Expired):
        document_jobs.job_file(session, fiona, old.id)
    with pytest.raises(PermissionDenied):
        document_jobs.purge_expired(session, fiona)

    assert document_jobs.purge_expired(session, SYSTEM) == 1
    assert session.get(DocumentJob, old.id, populate_existing=True) is None
    assert {j.id for j in document_jobs.list_jobs(session, fiona)} == {kept.id, live.id}
    assert events(session, "document.purged") == 1
    assert document_jobs.purge_expired(session, SYSTEM) == 0


def test_nobody_else_sees_a_job(session, people):
    fiona, frank, otto, carla = people["fiona"], people["frank"], people["otto"], people["carla"]
    job = document_jobs.request_document(session, fiona, "trial_balance_xlsx", {})
    run(session, job.id)
    for other in (frank, carla, wf.ANONYMOUS):
        with pytest.raises(NotFound):
            document_jobs.get_job(session, other, job.id)
        with pytest.raises(NotFound):
            document_jobs.job_file(session, other, job.id)
    assert document_jobs.job_file(session, otto, job.id).filename == "trial-balance.xlsx"
    assert document_jobs.list_jobs(session, frank) == []
    assert [j.id for j in document_jobs.list_jobs(session, otto, everyone=True)] == [job.id]
    with pytest.raises(PermissionDenied):
        document_jobs.list_jobs(session, frank, everyone=True)
    with pytest.raises(NotFound):
        document_jobs.get_job(session, fiona, 424242)


def test_the_requester_is_rebuilt_with_the_roles_held_now(session, people):
    fiona = people["fiona"]
    job = document_jobs.request_document(session, fiona, "trial_balance_xlsx", {})
    person = session.get(Person, fiona.person_id)
    person.roles = ["contributor"]
    session.commit()
    actor = document_jobs.requester_actor(session, job)
    assert actor.person_id == fiona.person_id and actor.roles == frozenset({"contributor"})
    with pytest.raises(PermissionDenied):
        document_kinds.KINDS[job.kind].authorise(actor)


def test_a_batch_document_names_the_batch(session):
    world = pf.world(session, grants_too=False)
    batch = payouts.create_batch(session, world.finance)
    job = document_jobs.request_document(session, world.finance, "payout_batch_xlsx",
                                         {"batch_id": str(batch.id)})
    assert (job.params, job.filename) == ({"batch_id": batch.id}, f"payout-batch-{batch.id}.xlsx")
    assert document_kinds.KINDS[job.kind].title(job.params) == f"Payout batch {batch.id} (XLSX)"
