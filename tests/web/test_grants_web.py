"""The grant pages: the list with its filters, a grant with its tranches (overdue marked), the
program admin's form (refusals on their fields), sign-off by a reviewer, cancel with a reason,
and who sees what."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import Grant, Organisation, Person, Tranche, utcnow
from bounty.services import grants
from bounty.services.grants import GrantInput, TrancheInput
from tests import workflow_factories as wf
from tests.web.conftest import csrf_token_of
from tests.web.test_bounty_board import demo_app, demo_person, sends_to_sign_in, settle, signed_in

__all__ = ["demo_app"]

TODAY = utcnow().date()


def due(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


def grant_form(grantee: str = "gina", total: str = "60000", rows: list[tuple[str, str, str]] | None = None,
               **overrides: str) -> dict[str, str]:
    if rows is None:
        rows = [("Milestone 1", due(30), "20000"), ("Milestone 2", due(60), "20000"),
                ("Milestone 3", due(90), "20000")]
    data = {"title": "Maintain the KVM agent", "description": "Two releases.", "grantee_username": grantee,
            "grantee_organisation": "", "total": total, "currency": "EUR", "working_group_code": "WG4"}
    for index, (milestone, due_on, amount) in enumerate(rows):
        data |= {f"tranches-{index}-milestone": milestone, f"tranches-{index}-due_on": due_on,
                 f"tranches-{index}-amount": amount}
    return data | overrides


def create(client: FlaskClient, **kwargs: object) -> tuple[int, str, str]:
    token = csrf_token_of(client.get("/grants/new").get_data(as_text=True))
    response = client.post("/grants/new", data={"csrf_token": token, **grant_form(**kwargs)})  # type: ignore[arg-type]
    return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)


def all_grants(session: Session) -> list[Grant]:
    found = list(session.execute(select(Grant).order_by(Grant.id).execution_options(populate_existing=True))
                 .scalars())
    settle(session)
    return found


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<small id="{re.escape(field)}-error" class="field-error">(.*?)</small>', html, re.S)
    assert match, f"no error on {field}"
    return re.sub(r"<[^>]+>", "", match.group(1))


def people(session: Session) -> dict[str, Person]:
    return {
        "admin": demo_person(session, "tess", ("contributor", "program-admin")),
        "gina": demo_person(session, "gina", ("contributor", "reviewer"), "UK"),
        "rev": demo_person(session, "rev.uk", ("contributor", "reviewer"), "UK"),
        "carla": demo_person(session, "carla"),
    }


def test_an_admin_creates_a_grant_and_sees_its_tranches(demo_app: Flask, session: Session) -> None:
    who = people(session)
    client = signed_in(demo_app, who["admin"])
    form = client.get("/grants/new").get_data(as_text=True)
    assert '<label for="tranches-5-milestone">' in form and "<legend>Tranche 6</legend>" in form
    # Empty rows between filled ones are ignored.
    code, location, _ = create(client, rows=[("Milestone 1", due(30), "20000"), ("", "", ""),
                                             ("Milestone 2", due(60), "40000")])
    assert code == 302
    [grant] = all_grants(session)
    assert location.endswith(f"/grants/{grant.id}")
    assert (grant.status, grant.total_minor, grant.grantee_person_id) == ("active", 6_000_000, who["gina"].id)

    html = client.get(location).get_data(as_text=True)
    assert "The grant is created" in html
    assert "<h1>Maintain the KVM agent</h1>" in html
    assert "€60,000.00" in html and "€40,000.00" in html
    assert '<th scope="row">2. Milestone 2</th>' in html
    assert "Cancel this grant" in html
    french = client.get(f"{location}?lang=fr").get_data(as_text=True)
    assert "60\u202f000,00\u00a0€" in french or "60 000,00 €" in french


def test_refusals_land_on_their_fields(demo_app: Flask, session: Session) -> None:
    client = signed_in(demo_app, people(session)["admin"])

    code, _, html = create(client, total="60000", rows=[("M1", due(30), "20000"), ("M2", due(60), "39900")])
    assert code == 400 and "EUR 100.00 short of the total" in html
    assert "Maintain the KVM agent" in html  # what was typed stays

    # The second filled row is the fourth on the form: its error is shown there.
    code, _, html = create(client, total="40000", rows=[("M1", due(30), "20000"), ("", "", ""), ("", "", ""),
                                                        ("M2", "2020-01-01", "20000")])
    assert code == 400 and "is before today" in field_error(html, "tranches-3-due_on")
    assert 'href="#tranches-3-due_on">Tranche 4, Due on:' in html

    code, _, html = create(client, grantee="nobody")
    assert code == 400 and "No person has this username." in field_error(html, "grantee_username")
    code, _, html = create(client, grantee="")
    assert code == 400 and "exactly one grantee" in field_error(html, "grantee_username")
    code, _, html = create(client, grantee_organisation="No Such GmbH")
    assert code == 400 and "No organisation" in field_error(html, "grantee_organisation")
    code, _, html = create(client, total="abc")
    assert code == 400 and field_error(html, "total")
    code, _, html = create(client, title="")
    assert code == 400 and "Enter a title." in field_error(html, "title")
    code, _, html = create(client, total="20000000", rows=[("M1", due(30), "20000000")])
    assert code == 409 and "cannot cover" in html
    assert all_grants(session) == []


def test_a_grant_to_an_organisation(demo_app: Flask, session: Session) -> None:
    session.add(Organisation(name="Acme Cloud GmbH", jurisdiction_code="EU", kind="supplier"))
    settle(session)
    client = signed_in(demo_app, people(session)["admin"])
    code, location, _ = create(client, grantee="", grantee_organisation="Acme Cloud GmbH")
    assert code == 302
    assert "Acme Cloud GmbH" in client.get(location).get_data(as_text=True)


def test_only_program_admins_create(demo_app: Flask, session: Session) -> None:
    who = people(session)
    assert sends_to_sign_in(demo_app.test_client().get("/grants/new"), "/grants/new")
    client = signed_in(demo_app, who["rev"])
    assert client.get("/grants/new").status_code == 403
    token = csrf_token_of(client.get("/hours/new").get_data(as_text=True))
    assert client.post("/grants/new", data={"csrf_token": token, **grant_form()}).status_code == 403
    assert all_grants(session) == []


def make_grant(session: Session, grantee: Person, *, overdue: bool = False, title: str = "A grant") -> Grant:
    """A EUR 30000 grant in two tranches; `overdue`: created 60 days ago, its first due 30 days ago."""
    admin = wf.admin(session)
    now = utcnow()
    if overdue:
        now = datetime.combine(TODAY - timedelta(days=60), time(9), tzinfo=UTC)
    start = now.date()
    data = GrantInput(title=title, total="30000", currency="EUR", grantee_person_id=grantee.id,
                      tranches=[TrancheInput("First", start + timedelta(days=30), "10000"),
                                TrancheInput("Second", start + timedelta(days=400), "20000")])
    grant = grants.create_grant(session, admin, data, now=now)
    settle(session)
    return grant


def test_a_reviewer_signs_off_a_milestone_never_the_grantee(demo_app: Flask, session: Session) -> None:
    who = people(session)
    grant = make_grant(session, who["gina"])
    path = f"/grants/{grant.id}"

    grantee = signed_in(demo_app, who["gina"])
    html = grantee.get(path).get_data(as_text=True)
    assert "A grant" in html and "Sign off" not in html and "Cancel this grant" not in html
    token = csrf_token_of(grantee.get("/hours/new").get_data(as_text=True))
    assert grantee.post(f"{path}/tranches/1/sign-off", data={"csrf_token": token}).status_code == 403

    reviewer = signed_in(demo_app, who["rev"])
    html = reviewer.get(path).get_data(as_text=True)
    assert 'aria-label="Sign off milestone 1: First"' in html
    token = csrf_token_of(html)
    response = reviewer.post(f"{path}/tranches/1/sign-off", data={"csrf_token": token})
    assert response.status_code == 302
    html = reviewer.get(path).get_data(as_text=True)
    assert "Milestone 1 is signed off" in html and "Signed off</span>" in html and "rev.uk" in html
    again = reviewer.post(f"{path}/tranches/1/sign-off", data={"csrf_token": token})
    assert again.status_code == 409 and "already signed off by rev.uk" in again.get_data(as_text=True)
    assert reviewer.post(f"{path}/tranches/9/sign-off", data={"csrf_token": token}).status_code == 404
    assert reviewer.post(f"{path}/tranches/2/sign-off", data={}).status_code == 400
    tranche = session.execute(select(Tranche).where(Tranche.grant_id == grant.id, Tranche.position == 1)
                              .execution_options(populate_existing=True)).scalar_one()
    assert (tranche.status, tranche.signed_off_by_id) == ("signed_off", who["rev"].id)
    settle(session)
    # Contributors cannot sign off at all.
    carla = signed_in(demo_app, who["carla"])
    token = csrf_token_of(carla.get("/hours/new").get_data(as_text=True))
    assert carla.post(f"{path}/tranches/2/sign-off", data={"csrf_token": token}).status_code == 403


def test_an_admin_cancels_with_a_reason(demo_app: Flask, session: Session) -> None:
    who = people(session)
    grant = make_grant(session, who["gina"])
    client = signed_in(demo_app, who["admin"])
    path = f"/grants/{grant.id}"
    token = csrf_token_of(client.get(path).get_data(as_text=True))

    empty = client.post(f"{path}/cancel", data={"csrf_token": token, "reason": ""})
    assert empty.status_code == 400
    assert "Give the reason for cancelling." in field_error(empty.get_data(as_text=True), "reason")
    response = client.post(f"{path}/cancel", data={"csrf_token": token, "reason": "Maintainer left"})
    assert response.status_code == 302
    html = client.get(path).get_data(as_text=True)
    assert "The grant is cancelled" in html and "Cancel this grant" not in html
    assert all_grants(session)[0].status == "cancelled"
    again = client.post(f"{path}/cancel", data={"csrf_token": token, "reason": "Again"})
    assert again.status_code == 409 and "cancelled grant cannot be cancelled" in again.get_data(as_text=True)
    reviewer = signed_in(demo_app, who["rev"])
    token = csrf_token_of(reviewer.get(path).get_data(as_text=True))
    assert reviewer.post(f"{path}/cancel", data={"csrf_token": token, "reason": "x"}).status_code == 403


def test_the_list_filters_and_marks_overdue_milestones(demo_app: Flask, session: Session) -> None:
    who = people(session)
    late = make_grant(session, who["gina"], overdue=True, title="Late grant")
    make_grant(session, who["gina"], title="On-time grant")
    client = signed_in(demo_app, who["admin"])

    html = client.get("/grants").get_data(as_text=True)
    assert "Late grant" in html and "On-time grant" in html and "New grant" in html
    assert 'aria-current="page">Grants</a>' in html
    overdue = client.get("/grants?overdue=y").get_data(as_text=True)
    assert "Late grant" in overdue and "On-time grant" not in overdue
    assert '<span class="badge clock-breached overdue">Overdue</span>' in overdue
    assert "Late grant" not in client.get("/grants?status=cancelled").get_data(as_text=True)
    bad = client.get("/grants?status=nonsense")
    assert bad.status_code == 400 and "Choose one of the listed values." in field_error(
        bad.get_data(as_text=True), "status")
    detail = client.get(f"/grants/{late.id}").get_data(as_text=True)
    assert '<tr class="overdue">' in detail
    assert "En retard" in client.get(f"/grants/{late.id}?lang=fr").get_data(as_text=True)


def test_a_grant_exists_only_for_those_who_may_see_it(demo_app: Flask, session: Session) -> None:
    who = people(session)
    grant = make_grant(session, who["gina"], title="Gina's grant")
    auditor = demo_person(session, "aude", ("auditor",))
    assert sends_to_sign_in(demo_app.test_client().get(f"/grants/{grant.id}"), f"/grants/{grant.id}")
    carla = signed_in(demo_app, who["carla"])
    assert carla.get(f"/grants/{grant.id}").status_code == 404
    assert "Gina" not in carla.get("/grants").get_data(as_text=True).split("<main", 1)[1].split("</main>")[0]
    for person in (who["gina"], who["rev"], auditor):
        assert signed_in(demo_app, person).get(f"/grants/{grant.id}").status_code == 200, person.username
    assert signed_in(demo_app, who["admin"]).get("/grants/999999").status_code == 404
