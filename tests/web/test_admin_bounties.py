"""The programme administrator's pages: create, edit, publish and cancel, and who may use them."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from bounty.models import AuditEvent, Bounty, Reservation
from bounty.services import bounties
from tests import workflow_factories as wf
from tests.web.conftest import csrf_token_of
from tests.web.test_bounty_board import demo_app, demo_person, sends_to_sign_in, settle, signed_in

__all__ = ["demo_app"]

VALID = {"title": "Government deployment guide", "description": "Write it **well**.",
         "category_code": "documentation", "amount": "2500", "currency": "GBP",
         "working_group_code": "WG1", "capability_slug": "cloudstack-core",
         "gitlab_project_path": "cloudstack/docs", "gitlab_issue_iid": "12", "claim_hours": "336"}


def admin_client(app: Flask, session: Session) -> FlaskClient:
    return signed_in(app, demo_person(session, "adam", ("contributor", "program-admin")))


def counts(session: Session) -> tuple[int, int]:
    found = (session.execute(select(func.count(Bounty.id))).scalar_one(),
             session.execute(select(func.count(AuditEvent.id))).scalar_one())
    settle(session)
    return found


def create(client: FlaskClient, **changes: str) -> TestResponse:
    token = csrf_token_of(client.get("/admin/bounties/new").get_data(as_text=True))
    return client.post("/admin/bounties/new", data={"csrf_token": token, **VALID, **changes})


def test_the_form_labels_every_field(demo_app: Flask, session: Session) -> None:
    html = admin_client(demo_app, session).get("/admin/bounties/new").get_data(as_text=True)

    for name in VALID:
        assert f'<label for="{name}">' in html, name
    assert '<option value="documentation">Documentation</option>' in html
    assert '<optgroup label="WG1 Platform Engineering">' in html
    assert '<option value="GBP">GBP</option>' in html


def test_create_saves_a_draft_and_shows_it(demo_app: Flask, session: Session) -> None:
    client = admin_client(demo_app, session)

    response = create(client)

    bounty = session.execute(select(Bounty)).scalar_one()
    settle(session)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/bounties/{bounty.id}"
    assert (bounty.status, bounty.amount_minor, bounty.currency, bounty.gitlab_issue_iid) == (
        "draft", 250000, "GBP", 12)
    page = client.get(f"/bounties/{bounty.id}").get_data(as_text=True)
    assert "The bounty is saved as a draft." in page
    assert '<span class="badge status-draft">Draft</span>' in page
    assert "Publish this bounty" in page


def test_an_amount_outside_the_band_is_shown_on_the_field_and_nothing_is_written(
        demo_app: Flask, session: Session) -> None:
    client = admin_client(demo_app, session)
    before = counts(session)

    response = create(client, amount="9000")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<a href="#amount">Amount: ' in html
    assert "outside the Documentation band" in html
    assert 'id="amount-error"' in html
    assert 'aria-describedby="amount-hint amount-error"' in html
    assert 'value="9000"' in html  # what was typed stays
    assert counts(session) == before


def test_form_errors_are_listed_and_linked(demo_app: Flask, session: Session) -> None:
    client = admin_client(demo_app, session)
    before = counts(session)

    response = create(client, title="", amount="", category_code="nonsense", claim_hours="0")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    for anchor in ("#title", "#amount", "#category_code", "#claim_hours"):
        assert f'<a href="{anchor}">' in html, anchor
    assert "Enter a title." in html
    assert counts(session) == before


def test_contributors_get_403_and_visitors_are_sent_to_sign_in(demo_app: Flask, session: Session) -> None:
    bounty = wf.draft_bounty(session)
    settle(session)
    contributor = signed_in(demo_app, demo_person(session, "dora"))
    token = csrf_token_of(contributor.get("/bounties").get_data(as_text=True))
    before = counts(session)

    for path in ("/admin/bounties/new", f"/admin/bounties/{bounty.id}/edit"):
        assert contributor.get(path).status_code == 403
        assert sends_to_sign_in(demo_app.test_client().get(path), path)
    for path in ("/admin/bounties/new", f"/admin/bounties/{bounty.id}/edit",
                 f"/admin/bounties/{bounty.id}/publish", f"/admin/bounties/{bounty.id}/cancel"):
        assert contributor.post(path, data={"csrf_token": token, **VALID, "reason": "x"}).status_code == 403
    assert counts(session) == before


def test_edit_a_draft_then_publish_it(demo_app: Flask, session: Session) -> None:
    bounty = wf.draft_bounty(session, title="Old title")
    settle(session)
    client = admin_client(demo_app, session)
    form = client.get(f"/admin/bounties/{bounty.id}/edit").get_data(as_text=True)
    assert 'value="Old title"' in form
    assert 'value="1000.00"' in form

    saved = client.post(f"/admin/bounties/{bounty.id}/edit",
                        data={"csrf_token": csrf_token_of(form), **VALID, "title": "New title"})
    assert saved.status_code == 302
    token = csrf_token_of(client.get(f"/bounties/{bounty.id}").get_data(as_text=True))
    published = client.post(f"/admin/bounties/{bounty.id}/publish", data={"csrf_token": token})

    assert published.status_code == 302
    page = client.get(f"/bounties/{bounty.id}").get_data(as_text=True)
    assert "<h1>New title</h1>" in page
    assert '<span class="badge status-open">Open</span>' in page
    assert "Edited" in page and "Published" in page
    held = session.execute(select(Reservation).where(Reservation.subject_id == bounty.id)).scalar_one()
    settle(session)
    assert held.status == "held" and held.currency == "EUR"


def test_an_open_bounty_keeps_its_money_fields(demo_app: Flask, session: Session) -> None:
    bounty = wf.open_bounty(session, title="Open one")
    settle(session)
    client = admin_client(demo_app, session)
    form = client.get(f"/admin/bounties/{bounty.id}/edit").get_data(as_text=True)
    assert 'disabled id="amount"' in form and '<select disabled id="currency"' in form
    assert "fixed once the bounty is published" in form

    # The browser does not send disabled fields; a forged amount is ignored in favour of the record.
    data = {k: v for k, v in VALID.items() if k not in ("category_code", "amount", "currency")}
    saved = client.post(f"/admin/bounties/{bounty.id}/edit",
                        data={"csrf_token": csrf_token_of(form), **data, "title": "Renamed"})

    assert saved.status_code == 302
    stored = session.get(Bounty, bounty.id, populate_existing=True)
    settle(session)
    assert (stored.title, stored.amount_minor, stored.currency) == ("Renamed", 100000, "EUR")


def test_publishing_beyond_the_pool_is_refused_with_the_message(demo_app: Flask, session: Session) -> None:
    big = {"category_code": "major_feature", "amount": "100000", "currency": "EUR"}
    for _ in range(5):
        wf.open_bounty(session, **big)
    last = wf.draft_bounty(session, title="One too many", **big)
    settle(session)
    client = admin_client(demo_app, session)
    token = csrf_token_of(client.get(f"/bounties/{last.id}").get_data(as_text=True))

    response = client.post(f"/admin/bounties/{last.id}/publish", data={"csrf_token": token})

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Refused: the pool cannot cover €100,000.00: only €0.00 is available." in html
    assert session.get(Bounty, last.id, populate_existing=True).status == "draft"
    settle(session)


def test_cancel_needs_a_reason_and_releases_the_reserve(demo_app: Flask, session: Session) -> None:
    bounty = wf.open_bounty(session)
    settle(session)
    client = admin_client(demo_app, session)
    token = csrf_token_of(client.get(f"/bounties/{bounty.id}").get_data(as_text=True))

    refused = client.post(f"/admin/bounties/{bounty.id}/cancel", data={"csrf_token": token, "reason": ""})
    assert refused.status_code == 400
    assert '<a href="#reason">Reason for cancelling: Give the reason for cancelling.</a>' in (
        refused.get_data(as_text=True))

    done = client.post(f"/admin/bounties/{bounty.id}/cancel",
                       data={"csrf_token": token, "reason": "Fixed upstream"})

    assert done.status_code == 302
    page = client.get(f"/bounties/{bounty.id}").get_data(as_text=True)
    assert '<span class="badge status-cancelled">Cancelled</span>' in page
    assert "Fixed upstream" in page  # the reason, on the timeline
    held = session.execute(select(Reservation).where(Reservation.subject_id == bounty.id)).scalar_one()
    settle(session)
    assert held.status == "released"


def test_a_published_bounty_cannot_be_edited_into_another_category(demo_app: Flask, session: Session) -> None:
    bounty = wf.open_bounty(session)
    bounties.cancel_bounty(session, wf.admin(session), bounty.id, "Gone")
    settle(session)
    client = admin_client(demo_app, session)

    assert client.get(f"/admin/bounties/{bounty.id}/edit").status_code == 403
    assert client.get("/admin/bounties/999999/edit").status_code == 404


def test_the_admin_form_in_french(demo_app: Flask, session: Session) -> None:
    html = admin_client(demo_app, session).get("/admin/bounties/new?lang=fr").get_data(as_text=True)

    assert '<html lang="fr">' in html
    assert "Nouvelle prime" in html
    assert "Montant" in html
