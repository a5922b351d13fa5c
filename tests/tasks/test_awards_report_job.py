"""The annual awards report on the job queue, on both databases: an eager run builds the PDF
as the requester, reporting each stage; who may not read the report cannot ask for it."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader

from bounty import create_app
from bounty.extensions import db
from bounty.models import DocumentJob
from bounty.services import document_jobs
from bounty.services.errors import PermissionDenied
from bounty.tasks import award_documents
from bounty.tasks.documents import BUILDERS, submit_document
from tests import payout_factories as pf
from tests import report_factories as rp
from tests import workflow_factories as wf


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


def test_the_report_kind_has_its_builder():
    assert BUILDERS["awards_report"] is award_documents.build_awards_report


def test_an_eager_run_builds_the_report(make_app, session):
    people = rp.year(session)
    admin = wf.admin(session)
    app = make_app()
    session.close()  # on SQLite an open transaction holds the file lock
    with app.app_context():
        job_id = submit_document(db.session, admin, "awards_report", {"year": "2026", "lang": "fr"}).id
    done = session.get(DocumentJob, job_id)
    assert (done.status, done.progress, done.error) == ("done", 100, "")
    found = document_jobs.job_file(session, admin, job_id)
    session.commit()
    assert (found.filename, found.media_type) == ("awards-2026-fr.pdf", "application/pdf")
    reader = PdfReader(io.BytesIO(found.content))
    assert reader.metadata.title == "Rapport annuel des prix 2026"
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert people.alice.display_name in text and "Contributeur anonyme" in text
    assert people.oscar.display_name not in text


def test_the_builder_reports_each_stage_in_order(session):
    rp.year(session)
    heard: list[tuple[int, str]] = []
    content = award_documents.build_awards_report(
        session, pf.auditor(session), {"year": 2026, "lang": "en"}, lambda percent, stage: heard.append(
            (percent, stage)))
    assert content.startswith(b"%PDF-")
    assert heard == [(5, "Gathering figures"), (30, "Rendering charts"), (45, "Laying out pages"),
                     (85, "Writing the PDF")]


def test_who_may_not_read_the_report_cannot_ask_for_it(session):
    rp.year(session)
    for stranger in (wf.contributor(session, "dora"), pf.finance(session)):
        with pytest.raises(PermissionDenied):
            document_jobs.request_document(session, stranger, "awards_report", {"year": 2026, "lang": "en"})
    with pytest.raises(PermissionDenied):
        award_documents.build_awards_report(session, pf.finance(session), {"year": 2026, "lang": "en"},
                                            lambda percent, stage: None)
