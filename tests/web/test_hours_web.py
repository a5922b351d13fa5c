"""The hours pages: logging (refusals on the form), my hours of a year, the reviewers' queue,
and the statement downloads (PDF and CSV) for the person and for program admins."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import HoursEntry, Person, WorkingGroup, WorkingGroupMember, utcnow
from bounty.services import hours
from bounty.services.actors import Actor
from tests import workflow_factories as wf
from tests.web.conftest import csrf_token_of
from tests.web.test_bounty_board import demo_app, demo_person, sends_to_sign_in, settle, signed_in

__all__ = ["demo_app"]

TODAY = utcnow().date()
YEAR = TODAY.year


def member(session: Session, person: Person, group_code: str = "WG4", role: str = "reviewer") -> None:
    group = session.execute(select(WorkingGroup).where(WorkingGroup.code == group_code)).scalar_one()
    session.add(WorkingGroupMember(working_group_id=group.id, person_id=person.id, role=role))
    session.commit()


def logged(session: Session, actor: Actor, amount: str, activity: str, description: str) -> HoursEntry:
    """An entry of `amount` hours today in WG4, logged through the service."""
    return hours.log_hours(session, actor, hours.HoursInput(TODAY, amount, activity, "WG4", description),
                           backdate_days=90)


def log_form(**overrides: str) -> dict[str, str]:
    values = {"worked_on": TODAY.isoformat(), "hours": "2.5", "activity": "code",
              "working_group_code": "WG4", "description": "Health checks on custom ports",
              "merge_request_url": ""}
    values.update(overrides)
    return values


def log(client: FlaskClient, **overrides: str) -> tuple[int, str, str]:
    token = csrf_token_of(client.get("/hours/new").get_data(as_text=True))
    response = client.post("/hours/new", data={"csrf_token": token, **log_form(**overrides)})
    return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)


def entries(session: Session) -> list[HoursEntry]:
    found = list(session.execute(select(HoursEntry).order_by(HoursEntry.id)
                                 .execution_options(populate_existing=True)).scalars())
    settle(session)
    return found


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<small id="{re.escape(field)}-error" class="field-error">(.*?)</small>', html, re.S)
    assert match, f"no error on {field}"
    return re.sub(r"<[^>]+>", "", match.group(1))


def test_a_person_logs_hours_and_sees_them_pending(demo_app: Flask, session: Session) -> None:
    carla = demo_person(session, "carla")
    client = signed_in(demo_app, carla)
    page = client.get("/hours/new").get_data(as_text=True)
    assert '<label for="worked_on">' in page and '<label for="working_group_code">' in page
    assert 'aria-current="page">My hours' not in page

    code, location, _ = log(client, hours="1,25", activity="documentation",
                            merge_request_url=f"{wf.GITLAB}/cloudstack/cloudstack/-/merge_requests/7")
    assert code == 302 and location.endswith(f"/hours?year={YEAR}")
    [entry] = entries(session)
    assert (entry.quarter_hours, entry.activity, entry.status) == (5, "documentation", "pending")

    mine = client.get(location).get_data(as_text=True)
    assert "Your hours are logged" in mine
    assert "Health checks on custom ports" in mine and "1.25" in mine
    assert '<span class="badge status-pending">Pending</span>' in mine
    assert '<a href="/hours" aria-current="page">My hours</a>' in mine
    assert '<th scope="col">' in mine and '<th scope="row">' in mine


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"worked_on": (TODAY + timedelta(days=1)).isoformat()}, "worked_on", "in the future"),
    ({"worked_on": (TODAY - timedelta(days=91)).isoformat()}, "worked_on", "more than 90 days ago"),
    ({"hours": "1.1"}, "hours", "quarter-hour steps"),
    ({"hours": "25"}, "hours", "at most 24 hours"),
    ({"hours": "abc"}, "hours", "not a number"),
    ({"merge_request_url": "https://github.com/x/y/pull/1"}, "merge_request_url", ""),
    ({"activity": "sleeping"}, "activity", "Choose an activity"),
    ({"working_group_code": "WG99"}, "working_group_code", "Choose a working group"),
    ({"description": "  "}, "description", ""),
    ({"worked_on": "yesterday"}, "worked_on", ""),
])
def test_refusals_are_shown_on_the_form_and_nothing_is_stored(
        demo_app: Flask, session: Session, overrides: dict[str, str], field: str, words: str) -> None:
    client = signed_in(demo_app, demo_person(session, "carla"))
    code, _, html = log(client, **overrides)
    assert code == 400
    assert words in field_error(html, field)
    assert 'class="error-summary" role="alert"' in html
    assert f'href="#{field}"' in html
    # What was typed stays in the form.
    assert (overrides.get("description") or "Health checks on custom ports") in html or field == "description"
    assert entries(session) == []


def test_a_day_holds_at_most_24_hours(demo_app: Flask, session: Session) -> None:
    client = signed_in(demo_app, demo_person(session, "carla"))
    assert log(client, hours="20")[0] == 302
    code, _, html = log(client, hours="5")
    assert code == 400 and "at most 4.00 more" in field_error(html, "hours")
    assert len(entries(session)) == 1


def test_the_backdating_window_comes_from_the_settings(make_app: Callable[..., Flask],
                                                       session: Session) -> None:
    wf.reference(session)
    carla = demo_person(session, "carla")
    app = make_app(DEMO_LOGIN=True, HOURS_BACKDATE_DAYS=5)
    client = signed_in(app, carla)
    code, _, html = log(client, worked_on=(TODAY - timedelta(days=6)).isoformat())
    assert code == 400 and "more than 5 days ago" in field_error(html, "worked_on")
    assert "from the last 5 days" in client.get("/hours/new").get_data(as_text=True)
    assert log(client, worked_on=(TODAY - timedelta(days=5)).isoformat())[0] == 302


def test_the_form_needs_its_csrf_token(demo_app: Flask, session: Session) -> None:
    client = signed_in(demo_app, demo_person(session, "carla"))
    assert client.post("/hours/new", data=log_form()).status_code == 400
    assert entries(session) == []


def test_who_reaches_the_pages(demo_app: Flask, session: Session) -> None:
    carla = demo_person(session, "carla")
    auditor = demo_person(session, "aude", ("auditor",))
    anonymous = demo_app.test_client()
    assert sends_to_sign_in(anonymous.get("/hours"), "/hours")
    assert sends_to_sign_in(anonymous.get("/hours/new"), "/hours/new")
    assert sends_to_sign_in(anonymous.get("/hours/review"), "/hours/review")
    # The auditor reads everything and logs nothing.
    assert signed_in(demo_app, auditor).get("/hours").status_code == 403
    assert signed_in(demo_app, carla).get("/hours/review").status_code == 403
    html = signed_in(demo_app, carla).get("/bounties").get_data(as_text=True)
    assert 'href="/hours"' in html and 'href="/hours/review"' not in html


def test_my_hours_of_a_year_with_totals(demo_app: Flask, session: Session) -> None:
    carla = demo_person(session, "carla")
    rev = demo_person(session, "rev.uk", ("contributor", "reviewer"), "UK")
    member(session, rev)
    actor, reviewer = wf.actor_of(carla), wf.actor_of(rev)
    first = logged(session, actor, "3", "code", "A")
    second = logged(session, actor, "1.5", "review", "B")
    logged(session, actor, "0.25", "community", "C")
    hours.review_hours(session, reviewer, first.id, "approve")
    hours.review_hours(session, reviewer, second.id, "reject", "Not in WG4's scope")
    settle(session)
    client = signed_in(demo_app, carla)

    html = client.get(f"/hours?year={YEAR}").get_data(as_text=True)
    totals = re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html)
    assert totals == [("Approved", "3.00"), ("Waiting for review", "0.25"), ("Rejected", "1.50")]
    assert "Rev Uk" in html and "Not in WG4&#39;s scope" in html
    assert "Code review" in html
    assert f"No hours logged in {YEAR - 1}." in client.get(f"/hours?year={YEAR - 1}").get_data(as_text=True)
    bad = client.get("/hours?year=nonsense")
    assert bad.status_code == 400 and "is not a year" in bad.get_data(as_text=True)
    french = client.get(f"/hours?year={YEAR}&lang=fr").get_data(as_text=True)
    assert f"Mes heures en {YEAR}" in french and "3,00" in french


def test_reviewers_of_the_group_approve_or_reject(demo_app: Flask, session: Session) -> None:
    carla = demo_person(session, "carla")
    rev = demo_person(session, "rev.uk", ("contributor", "reviewer"), "UK")
    outsider = demo_person(session, "rev.wg5", ("contributor", "reviewer"), "UK")
    member(session, rev)
    member(session, outsider, "WG5")
    actor = wf.actor_of(carla)
    one = logged(session, actor, "2", "code", "First")
    two = logged(session, actor, "1", "code", "Second")
    own = logged(session, wf.actor_of(rev), "1", "code", "Mine")
    settle(session)
    client = signed_in(demo_app, rev)
    queue = client.get("/hours/review").get_data(as_text=True)
    assert "First" in queue and "Second" in queue and ">Mine<" not in queue
    assert f'<input id="entry-{one.id}-verdict-0"' in queue
    assert 'aria-current="page">Hours to review' in queue
    token = csrf_token_of(queue)

    # A rejection needs a comment: the form comes back with the error on that entry.
    response = client.post(f"/hours/{two.id}/review", data={"csrf_token": token,
                                                            f"entry-{two.id}-verdict": "reject"})
    assert response.status_code == 400
    assert "Say why you reject these hours." in field_error(response.get_data(as_text=True),
                                                            f"entry-{two.id}-comment")

    response = client.post(f"/hours/{one.id}/review", data={"csrf_token": token,
                                                            f"entry-{one.id}-verdict": "approve"})
    assert response.status_code == 302
    assert "The hours are approved." in client.get(response.headers["Location"]).get_data(as_text=True)
    response = client.post(f"/hours/{two.id}/review", data={
        "csrf_token": token, f"entry-{two.id}-verdict": "reject", f"entry-{two.id}-comment": "Too vague"})
    assert response.status_code == 302
    assert [(e.status, e.review_comment) for e in entries(session)][:2] == [("approved", ""),
                                                                            ("rejected", "Too vague")]
    # Once decided, a second decision is a clash shown on the page; own hours and other groups 403.
    again = client.post(f"/hours/{one.id}/review", data={"csrf_token": token,
                                                         f"entry-{one.id}-verdict": "reject",
                                                         f"entry-{one.id}-comment": "Changed my mind"})
    assert again.status_code == 409 and "already approved" in again.get_data(as_text=True)
    mine = client.post(f"/hours/{own.id}/review",
                       data={"csrf_token": token, f"entry-{own.id}-verdict": "approve"})
    assert mine.status_code == 403
    other = signed_in(demo_app, outsider)
    assert "No hours are waiting for your review." in other.get("/hours/review").get_data(as_text=True)
    other_token = csrf_token_of(other.get("/hours/review").get_data(as_text=True))
    elsewhere = other.post(f"/hours/{own.id}/review",
                           data={"csrf_token": other_token, f"entry-{own.id}-verdict": "approve"})
    assert elsewhere.status_code == 403
    assert client.post("/hours/999999/review", data={"csrf_token": token,
                                                      "entry-999999-verdict": "approve"}).status_code == 404
    assert entries(session)[2].status == "pending"


@pytest.fixture
def approved(session: Session) -> tuple[Person, Person]:
    """Carla with 2.5 approved hours of this year (and a pending entry), signed off by rev.uk."""
    carla = demo_person(session, "carla")
    rev = demo_person(session, "rev.uk", ("contributor", "reviewer"), "UK")
    member(session, rev)
    actor = wf.actor_of(carla)
    entry = logged(session, actor, "2.5", "security", "=HYPERLINK(\"x\")")
    logged(session, actor, "1", "code", "Pending")
    hours.review_hours(session, wf.actor_of(rev), entry.id, "approve")
    settle(session)
    return carla, rev


def test_the_person_downloads_their_statement(demo_app: Flask, session: Session,
                                              approved: tuple[Person, Person]) -> None:
    carla, _ = approved
    client = signed_in(demo_app, carla)
    page = client.get(f"/hours?year={YEAR}").get_data(as_text=True)
    assert f'href="/hours/statement?year={YEAR}&amp;format=csv"' in page

    response = client.get(f"/hours/statement?year={YEAR}&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="hours-statement-carla-{YEAR}.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["username"], r["hours"], r["activity"], r["signed_off_by"]) for r in rows] == [
        ("carla", "2.50", "security", "rev.uk")]
    assert rows[0]["description"].startswith("'=")

    pdf = client.get(f"/hours/statement?year={YEAR}&format=pdf&lang=fr")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert client.get(f"/hours/statement?year={YEAR}").data.startswith(b"%PDF")  # PDF by default

    assert client.get(f"/hours/statement?year={YEAR}&format=docx").status_code == 400
    assert client.get("/hours/statement?year=1999&format=csv").status_code == 400
    assert sends_to_sign_in(demo_app.test_client().get("/hours/statement?format=csv"),
                            "/hours/statement?format=csv")


def test_program_admins_download_anyones_statement_others_are_refused(
        demo_app: Flask, session: Session, approved: tuple[Person, Person]) -> None:
    _, rev = approved
    admin = demo_person(session, "tess", ("contributor", "program-admin"))
    auditor = demo_person(session, "aude", ("auditor",))
    query = f"/hours/statements?username=carla&year={YEAR}&format=csv"

    for reader in (admin, auditor):
        response = signed_in(demo_app, reader).get(query)
        assert response.status_code == 200, reader.username
        assert "carla,Carla" in response.get_data(as_text=True)
    # A reviewer, even the one who signed the hours off, is refused: the statement is personal.
    assert signed_in(demo_app, rev).get(query).status_code == 403
    assert signed_in(demo_app, rev).get("/hours/statements").status_code == 403

    client = signed_in(demo_app, admin)
    form = client.get("/hours/statements?lang=fr").get_data(as_text=True)
    assert '<label for="username">' in form and f'value="{YEAR}"' in form
    assert "Attestations d\u2019heures" in form
    blank = client.get(f"/hours/statements?username=&year={YEAR}&lang=en")
    assert blank.status_code == 400
    assert "Enter the username" in field_error(blank.get_data(as_text=True), "username")
    unknown = client.get(f"/hours/statements?username=nobody&year={YEAR}&format=csv")
    assert unknown.status_code == 404
    assert "no person" in field_error(unknown.get_data(as_text=True), "username")
    bad_year = client.get("/hours/statements?username=carla&year=20x6&format=csv")
    assert bad_year.status_code == 400
    assert "is not a year" in field_error(bad_year.get_data(as_text=True), "year")
    assert client.get(f"/hours/statements?username=carla&year={YEAR}&format=pdf").data.startswith(b"%PDF")
