"""The awards pages: the rounds, a round with its categories and nominations, nominating
(refusals on their fields), voting (binding for the committee, non-binding for others and on
one's own nomination), the results (winner or no award, tallies, void vetoes, names per the
privacy rule), the program admin's forms and the report button; on both databases.

Rounds are built through the services with windows placed around the real clock, since the
pages act now: nominations open now, a vote open now, or a vote closed an hour ago.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from bounty.models import AwardRound, DocumentJob, Nomination, Person, Vote, utcnow
from bounty.services import awards
from bounty.services.actors import Actor
from tests import award_factories as af
from tests import workflow_factories as wf
from tests.web.conftest import csrf_token_of
from tests.web.test_bounty_board import demo_app, demo_person, sends_to_sign_in, settle, signed_in

__all__ = ["demo_app"]

NOW = utcnow()
# Every window lies within the last nine days, so the round's year is the year of its start.
YEAR = (NOW - timedelta(hours=200)).year
CITATION = af.CITATION
BEST = "contributor_of_the_year"          # lazy 2/3, anyone active
SECURITY = "security_champion"            # lazy consensus: a binding -1 is a veto
EU = "jurisdiction_eu"                    # lazy majority, active and of the EU


@dataclass
class Cast:
    """The people of a scenario (demo personas, so the pages can sign them in)."""

    admin: Person
    judges: list[Person]
    carla: Person
    nina: Person
    pia: Person
    olga: Person
    auditor: Person


def cast(session: Session, make: Callable[..., Person] = demo_person) -> Cast:
    """A program admin, four committee members, a contributor, nominees: Nina (active, not
    listed), Pia (security work, listed publicly), Olga (active, EU); an auditor. `make`
    makes a person from (session, username, roles, jurisdiction): demo personas for the
    pages, `workflow_factories.person` for bearer tokens."""
    judges = [make(session, f"judge{i}", ("contributor", "awards-committee"), "EU") for i in range(1, 5)]
    contributor = ("contributor",)
    people = Cast(admin=make(session, "tess", ("contributor", "program-admin"), "EU"), judges=judges,
                  carla=make(session, "carla", contributor, "EU"),
                  nina=make(session, "nina", contributor, "UK"), pia=make(session, "pia", contributor, "EU"),
                  olga=make(session, "olga", contributor, "EU"),
                  auditor=make(session, "aude", ("auditor",), "EU"))
    people.pia.is_public_listing = True
    session.commit()
    for person in (people.nina, people.olga, people.carla, *judges):
        af.hours(session, person, date(YEAR, 6, 15))
    af.hours(session, people.pia, date(YEAR, 6, 15), "security")
    settle(session)
    return people


def actor(person: Person) -> Actor:
    return wf.actor_of(person)


def nominating_round(session: Session, people: Cast) -> AwardRound:
    """Nominations open now, for a week."""
    return awards.open_round(session, actor(people.admin), NOW.year, NOW + timedelta(days=7),
                             now=NOW - timedelta(hours=1))


def nominate(session: Session, by: Person, nominee: Person, category: str, *, hours_ago: int) -> Nomination:
    return awards.nominate(session, actor(by), YEAR, category, CITATION, nominee_person_id=nominee.id,
                           now=NOW - timedelta(hours=hours_ago))


def voting_round(session: Session, people: Cast) -> tuple[Nomination, Nomination]:
    """Nominations closed 90 hours ago; the vote opened 80 hours ago and is open for 100 more.
    Nina nominated for contributor of the year by judge1; Pia for security champion by Carla."""
    awards.open_round(session, actor(people.admin), YEAR, NOW - timedelta(hours=90),
                      now=NOW - timedelta(hours=100))
    best = nominate(session, people.judges[0], people.nina, BEST, hours_ago=95)
    security = nominate(session, people.carla, people.pia, SECURITY, hours_ago=94)
    awards.open_vote(session, actor(people.admin), YEAR, NOW + timedelta(hours=100),
                     now=NOW - timedelta(hours=80))
    settle(session)
    return best, security


def closed_round(session: Session, people: Cast) -> None:
    """A round whose vote closed an hour ago: Nina wins contributor of the year (three binding
    +1); Pia wins security champion despite a -1 without a reason (a void veto); Olga's EU
    nomination has one binding +1 and fails (no award)."""
    awards.open_round(session, actor(people.admin), YEAR, NOW - timedelta(hours=180),
                      now=NOW - timedelta(hours=190))
    best = nominate(session, people.carla, people.nina, BEST, hours_ago=185)
    security = nominate(session, people.carla, people.pia, SECURITY, hours_ago=184)
    eu = nominate(session, people.carla, people.olga, EU, hours_ago=183)
    awards.open_vote(session, actor(people.admin), YEAR, NOW - timedelta(hours=1),
                     now=NOW - timedelta(hours=170))
    then = NOW - timedelta(hours=100)
    one, two, three, four = (actor(judge) for judge in people.judges)
    af.vote_all(session, best.id, [(one, "+1", ""), (two, "+1", ""), (three, "+1", "")], now=then)
    af.vote_all(session, security.id, [(one, "+1", ""), (two, "+1", ""), (three, "+1", ""), (four, "-1", "")],
                now=then)
    af.vote_all(session, eu.id, [(one, "+1", ""), (actor(people.carla), "+1", "")], now=then)
    settle(session)


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<small id="{re.escape(field)}-error" class="field-error">(.*?)</small>', html, re.S)
    assert match, f"no error on {field}"
    return re.sub(r"<[^>]+>", "", match.group(1))


def section(html: str, code: str) -> str:
    """The part of a page about one category."""
    match = re.search(rf'<section aria-labelledby="category-{code}">(.*?)</section>', html, re.S)
    assert match, f"no section for {code}"
    return match.group(1)


def article(html: str, nomination_id: int) -> str:
    match = re.search(rf'<article id="nomination-{nomination_id}">(.*?)</article>', html, re.S)
    assert match, f"no nomination {nomination_id}"
    return match.group(1)


def main(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def nomination_data(client: FlaskClient, **overrides: str) -> dict[str, str]:
    token = csrf_token_of(client.get(f"/awards/{NOW.year}").get_data(as_text=True))
    return {"csrf_token": token, "category_code": BEST, "nominee_username": "nina",
            "nominee_organisation": "", "citation": CITATION} | overrides


def anonymous_post(app: Flask, path: str, **data: str) -> TestResponse:
    """A form posted by a visitor who is not signed in (with a valid CSRF token of their own)."""
    client = app.test_client()
    token = csrf_token_of(client.get("/dev/login").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def count(session: Session, model: type) -> int:
    found = session.execute(select(func.count()).select_from(model)).scalar_one()
    settle(session)
    return found


# ------------------------------------------------------------------------------ nominating


def test_the_round_shows_categories_and_the_nomination_form(demo_app: Flask, session: Session) -> None:
    people = cast(session)
    nominating_round(session, people)
    settle(session)
    carla = signed_in(demo_app, people.carla)
    html = carla.get(f"/awards/{NOW.year}").get_data(as_text=True)
    assert f"<h1>Awards {NOW.year}</h1>" in html and "Nominations open" in html
    best = section(html, BEST)
    assert "Contributor of the year" in best and "Who may be nominated:" in best
    assert "Anyone active in the year" in best
    assert f'<option value="{BEST}">Contributor of the year</option>' in html
    assert '<label for="citation">Citation' in html and 'name="nominee_username"' in html
    french = carla.get(f"/awards/{NOW.year}?lang=fr").get_data(as_text=True)
    assert "Contributeur ou contributrice de l&#39;année" in section(french, BEST)
    # Beside the form, the year's leaderboard kept to the eligible: named only if listed.
    shortlist = html.split('<aside aria-labelledby="shortlist">', 1)[1].split("</aside>", 1)[0]
    assert 'Pia <span class="muted">(pia)</span>' in shortlist and "Anonymous contributor" in shortlist
    assert "(nina)" not in shortlist
    security = carla.get(f"/awards/{NOW.year}?suggest={SECURITY}").get_data(as_text=True)
    shortlist = security.split('<aside aria-labelledby="shortlist">', 1)[1].split("</aside>", 1)[0]
    assert re.findall(r"<li>(.*?)<", shortlist) == ["Pia "]
    assert f'<option selected value="{SECURITY}">' in shortlist
    admin = signed_in(demo_app, people.admin).get(f"/awards/{NOW.year}").get_data(as_text=True)
    assert 'Nina <span class="muted">(nina)</span>' in admin
    # Anonymous visitors read the round but get no form.
    anonymous = demo_app.test_client().get(f"/awards/{NOW.year}").get_data(as_text=True)
    assert "Contributor of the year" in anonymous and 'name="citation"' not in anonymous
    assert demo_app.test_client().get("/awards/1999").status_code == 404
    assert demo_app.test_client().get(f"/awards/{NOW.year - 1}").status_code == 404


def test_nomination_refusals_show_on_their_fields(demo_app: Flask, session: Session) -> None:
    people = cast(session)
    nominating_round(session, people)
    idle = demo_person(session, "ivan")
    settle(session)
    client = signed_in(demo_app, people.carla)
    path = f"/awards/{NOW.year}/nominations"

    def refused(code: int, **overrides: str) -> str:
        response = client.post(path, data=nomination_data(client, **overrides))
        assert response.status_code == code, response.status_code
        return response.get_data(as_text=True)

    html = refused(400, citation="Too short.")
    assert "at least 50 characters" in field_error(html, "citation")
    assert "Too short." in html  # what was typed stays
    assert "yourself" in field_error(refused(400, nominee_username="carla"), "nominee_username")
    assert "No person has this username." in field_error(refused(400, nominee_username="nobody"),
                                                         "nominee_username")
    assert "not eligible" in field_error(refused(400, nominee_username="ivan"), "nominee_username")
    assert "exactly one nominee" in field_error(refused(400, nominee_username=""), "nominee_username")
    assert "Choose a category." in field_error(refused(400, category_code="nonsense"), "category_code")
    assert "Write the citation." in field_error(refused(400, citation=""), "citation")
    assert count(session, Nomination) == 0
    assert idle.id

    response = client.post(path, data=nomination_data(client))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/awards/{NOW.year}")
    html = client.get(f"/awards/{NOW.year}").get_data(as_text=True)
    assert "Your nomination is recorded." in html
    # Nina has not opted in to public listing: a contributor reads neither her name nor the
    # citation about her; a program admin reads both.
    assert "Anonymous contributor" in section(html, BEST) and "storage drivers" not in html
    admin = signed_in(demo_app, people.admin).get(f"/awards/{NOW.year}").get_data(as_text=True)
    assert "<h3>Nina</h3>" in section(admin, BEST) and "storage drivers" in section(admin, BEST)
    # One nomination per nominator per category; a nominee once per category.
    html = refused(409, nominee_username="olga")
    assert "one per category" in html
    judge = signed_in(demo_app, people.judges[0])
    response = judge.post(path, data=nomination_data(judge))
    assert response.status_code == 409
    assert "already nominated: support the nomination with a +1" in field_error(
        response.get_data(as_text=True), "nominee_username")
    assert count(session, Nomination) == 1


def test_who_may_nominate(demo_app: Flask, session: Session) -> None:
    people = cast(session)
    nominating_round(session, people)
    settle(session)
    path = f"/awards/{NOW.year}/nominations"
    assert sends_to_sign_in(anonymous_post(demo_app, path), None)
    auditor = signed_in(demo_app, people.auditor)
    html = auditor.get(f"/awards/{NOW.year}").get_data(as_text=True)
    assert 'name="citation"' not in html
    assert auditor.post(path, data=nomination_data(auditor)).status_code == 403
    carla = signed_in(demo_app, people.carla)
    assert carla.post(f"/awards/{NOW.year + 1}/nominations", data=nomination_data(carla)).status_code == 404
    assert count(session, Nomination) == 0


# --------------------------------------------------------------------------------- voting


def vote(client: FlaskClient, nomination: Nomination, value: str, reason: str = "",
         year: int = YEAR) -> TestResponse:
    token = csrf_token_of(client.get(f"/awards/{YEAR}").get_data(as_text=True))
    prefix = f"n{nomination.id}"
    return client.post(f"/awards/{year}/nominations/{nomination.id}/vote",
                       data={"csrf_token": token, f"{prefix}-value": value, f"{prefix}-reason": reason})


def test_committee_votes_bind_others_do_not(demo_app: Flask, session: Session) -> None:
    people = cast(session)
    best, security = voting_round(session, people)
    judge2 = signed_in(demo_app, people.judges[1])
    html = judge2.get(f"/awards/{YEAR}").get_data(as_text=True)
    assert "Vote open" in html and f'name="n{best.id}-value"' in html

    response = vote(judge2, best, "+1")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/awards/{YEAR}#nomination-{best.id}")
    html = judge2.get(f"/awards/{YEAR}").get_data(as_text=True)
    assert "Your vote is recorded; it is binding." in html
    row = re.search(r'<th scope="row">Judge2</th>(.*?)</tr>', article(html, best.id), re.S)
    assert row and "<td>+1</td>" in row.group(1) and "<td>Binding</td>" in row.group(1)
    assert "Your vote: +1." in article(html, best.id)

    carla = signed_in(demo_app, people.carla)
    assert vote(carla, best, "+1").status_code == 302
    html = carla.get(f"/awards/{YEAR}").get_data(as_text=True)
    assert "Your vote is recorded as non-binding: not on the awards committee." in html

    # Judge1 nominated Nina: on that nomination their vote cannot bind.
    judge1 = signed_in(demo_app, people.judges[0])
    assert vote(judge1, best, "+1").status_code == 302
    html = judge1.get(f"/awards/{YEAR}").get_data(as_text=True)
    assert "Your vote is recorded as non-binding: conflict of interest." in html
    votes = article(html, best.id)
    assert re.search(r"Judge1</th>.*?Non-binding: conflict of interest", votes, re.S)
    assert re.search(r"Carla</th>.*?Non-binding: not on the awards committee", votes, re.S)
    assert "Binding votes: +1 (1), +0 (0)" in votes and "Non-binding votes: +1 (2), +0 (0)" in votes

    # A binding -1 without a reason in a lazy-consensus category is a void veto.
    judge3 = signed_in(demo_app, people.judges[2])
    assert vote(judge3, security, "-1").status_code == 302
    html = judge3.get(f"/awards/{YEAR}").get_data(as_text=True)
    assert "Void veto: a -1 without a reason, not counted" in article(html, security.id)
    # Changed, with a reason, it is a veto.
    assert vote(judge3, security, "-1", "The fix was reverted upstream.").status_code == 302
    html = judge3.get(f"/awards/{YEAR}").get_data(as_text=True)
    part = article(html, security.id)
    assert "Void veto" not in part and ">Veto<" in part and "The fix was reverted upstream." in part
    assert "Change my vote" in part

    stored = session.execute(select(Vote.value, Vote.is_binding, Vote.non_binding_reason)
                             .where(Vote.nomination_id == best.id).order_by(Vote.id)).all()
    settle(session)
    assert [tuple(row) for row in stored] == [("+1", True, None), ("+1", False, "not_committee"),
                                              ("+1", False, "conflict")]


def test_vote_refusals(demo_app: Flask, session: Session) -> None:
    people = cast(session)
    best, _security = voting_round(session, people)
    judge = signed_in(demo_app, people.judges[1])
    response = vote(judge, best, "+2")
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), f"n{best.id}-value")
    response = vote(judge, best, "")
    assert "Choose +1, +0, -0 or -1." in field_error(response.get_data(as_text=True), f"n{best.id}-value")
    assert vote(judge, best, "+1", year=YEAR + 1).status_code == 404
    assert sends_to_sign_in(anonymous_post(demo_app, f"/awards/{YEAR}/nominations/{best.id}/vote"), None)
    auditor = signed_in(demo_app, people.auditor)
    assert 'name="n' not in auditor.get(f"/awards/{YEAR}").get_data(as_text=True)
    assert vote(auditor, best, "+1").status_code == 403
    assert count(session, Vote) == 0


# -------------------------------------------------------------------------------- results


def test_results_show_winners_tallies_and_void_vetoes(demo_app: Flask, session: Session) -> None:
    people = cast(session)
    closed_round(session, people)
    client = demo_app.test_client()
    html = client.get(f"/awards/{YEAR}/results").get_data(as_text=True)
    assert "these results stand" in html

    best = section(html, BEST)
    assert 'Winner: <strong class="winner">Anonymous contributor</strong>' in best
    assert "Nina" not in main(html)
    security = section(html, SECURITY)
    assert 'Winner: <strong class="winner">Pia</strong>' in security
    cells = re.findall(r'<td class="num">(\d+)</td>', security)
    # binding +1, +0, -0, -1 (the void veto is not counted), non-binding, vetoes, void vetoes
    assert cells == ["3", "0", "0", "0", "0", "0", "1"]
    eu = section(html, EU)
    assert "No award this year: no nomination passed." in eu and "Did not pass" in eu
    assert re.findall(r'<td class="num">(\d+)</td>', eu) == ["1", "0", "0", "0", "1", "0", "0"]
    assert "Prepare the report" not in html

    # Program admins see every name.
    admin = signed_in(demo_app, people.admin).get(f"/awards/{YEAR}/results").get_data(as_text=True)
    assert 'Winner: <strong class="winner">Nina</strong>' in section(admin, BEST)
    assert "Prepare the report" in admin
    # The round page marks the void veto as such.
    round_html = client.get(f"/awards/{YEAR}").get_data(as_text=True)
    assert "Void veto: a -1 without a reason, not counted" in section(round_html, SECURITY)
    assert "Closed" in round_html
    assert client.get(f"/awards/{YEAR + 1}/results").status_code == 404


def test_the_rounds_list_and_results_before_the_vote_closes(demo_app: Flask, session: Session) -> None:
    people = cast(session)
    voting_round(session, people)
    html = demo_app.test_client().get("/awards").get_data(as_text=True)
    assert f'<a href="/awards/{YEAR}">Awards {YEAR}</a>' in html and "Vote open" in html
    assert f'href="/awards/{YEAR}/results"' in html and "Open a round" not in html
    results = demo_app.test_client().get(f"/awards/{YEAR}/results").get_data(as_text=True)
    assert "no award is decided" in results and "Not decided yet." in section(results, BEST)
    assert "Winner:" not in results


# ----------------------------------------------------------------------------- admin forms


def test_program_admins_open_a_round_and_its_vote(demo_app: Flask, session: Session) -> None:
    people = cast(session)
    admin = signed_in(demo_app, people.admin)
    html = admin.get("/awards").get_data(as_text=True)
    assert "No awards round has been opened yet." in html and "Open the nominations" in html
    token = csrf_token_of(html)

    past = (NOW - timedelta(days=1)).date().isoformat()
    response = admin.post("/awards", data={"csrf_token": token, "year": str(NOW.year),
                                           "nominations_close": past})
    assert response.status_code == 400
    assert "must be after now" in field_error(response.get_data(as_text=True), "nominations_close")
    response = admin.post("/awards", data={"csrf_token": token, "year": "abc", "nominations_close": past})
    assert response.status_code == 400 and field_error(response.get_data(as_text=True), "year")

    close = (NOW + timedelta(days=10)).date()
    response = admin.post("/awards", data={"csrf_token": token, "year": str(NOW.year),
                                           "nominations_close": close.isoformat()})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/awards/{NOW.year}")
    html = admin.get(f"/awards/{NOW.year}").get_data(as_text=True)
    assert f"The {NOW.year} awards round is open for nominations." in html
    award_round = session.execute(select(AwardRound)).scalar_one()
    settle(session)
    assert award_round.nominations_close_at.date() == close
    assert (award_round.nominations_close_at.hour, award_round.nominations_close_at.minute) == (0, 0)

    again = admin.post("/awards", data={"csrf_token": token, "year": str(NOW.year),
                                        "nominations_close": close.isoformat()})
    assert again.status_code == 409 and "already open" in again.get_data(as_text=True)
    # Nominations are open: the vote cannot open yet.
    closes = (NOW + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    early = admin.post(f"/awards/{NOW.year}/vote", data={"csrf_token": token, "closes_at": closes})
    assert early.status_code == 409 and "still open" in early.get_data(as_text=True)

    contributor = signed_in(demo_app, people.carla)
    html = contributor.get("/awards").get_data(as_text=True)
    assert "Open a round" not in html
    token = csrf_token_of(html)
    assert contributor.post("/awards", data={"csrf_token": token, "year": "2026"}).status_code == 403
    assert contributor.post(f"/awards/{NOW.year}/vote", data={"csrf_token": token}).status_code == 403


def test_the_vote_lasts_at_least_72_hours(demo_app: Flask, session: Session) -> None:
    people = cast(session)
    awards.open_round(session, actor(people.admin), YEAR, NOW - timedelta(hours=1),
                      now=NOW - timedelta(hours=30))
    settle(session)
    admin = signed_in(demo_app, people.admin)
    html = admin.get(f"/awards/{YEAR}").get_data(as_text=True)
    assert "Nominations closed, vote not yet open" in html and "Open the vote" in html
    token = csrf_token_of(html)
    short = (NOW + timedelta(hours=48)).strftime("%Y-%m-%dT%H:%M")
    response = admin.post(f"/awards/{YEAR}/vote", data={"csrf_token": token, "closes_at": short})
    assert response.status_code == 400
    assert "a vote stays open at least 72 hours" in field_error(response.get_data(as_text=True), "closes_at")
    response = admin.post(f"/awards/{YEAR}/vote", data={"csrf_token": token, "closes_at": "tomorrow"})
    assert response.status_code == 400 and field_error(response.get_data(as_text=True), "closes_at")
    assert session.execute(select(AwardRound.voting_opens_at)).scalar_one() is None
    settle(session)

    long = (NOW + timedelta(hours=96)).strftime("%Y-%m-%dT%H:%M")
    response = admin.post(f"/awards/{YEAR}/vote", data={"csrf_token": token, "closes_at": long})
    assert response.status_code == 302
    html = admin.get(f"/awards/{YEAR}").get_data(as_text=True)
    assert f"The vote of {YEAR} is open." in html and "Vote open" in html and "Open the vote" not in html
    award_round = session.execute(select(AwardRound)).scalar_one()
    settle(session)
    assert award_round.voting_closes_at is not None
    assert award_round.voting_closes_at.strftime("%Y-%m-%dT%H:%M") == long


# --------------------------------------------------------------------------------- report


def test_the_report_button_leads_to_the_document_progress_page(demo_app: Flask, session: Session) -> None:
    people = cast(session)
    closed_round(session, people)
    path = f"/awards/{YEAR}/report"
    for person in (people.admin, people.auditor):
        client = signed_in(demo_app, person)
        token = csrf_token_of(client.get(f"/awards/{YEAR}/results").get_data(as_text=True))
        response = client.post(path, data={"csrf_token": token, "lang": "fr"})
        assert response.status_code in (302, 303), person.username
        assert re.search(r"/documents/\d+$", response.headers["Location"])
    jobs = session.execute(select(DocumentJob.kind, DocumentJob.params, DocumentJob.requested_by_id)
                           .order_by(DocumentJob.id)).all()
    settle(session)
    wanted = ("awards_report", {"year": YEAR, "lang": "fr"})
    assert [(kind, params) for kind, params, _by in jobs] == [wanted, wanted]
    assert [by for *_rest, by in jobs] == [people.admin.id, people.auditor.id]

    admin = signed_in(demo_app, people.admin)
    token = csrf_token_of(admin.get(f"/awards/{YEAR}/results").get_data(as_text=True))
    bad = admin.post(path, data={"csrf_token": token, "lang": "de"})
    assert bad.status_code == 400 and field_error(bad.get_data(as_text=True), "lang")
    missing = admin.post(f"/awards/{YEAR + 1}/report", data={"csrf_token": token, "lang": "en"})
    assert missing.status_code == 404
    carla = signed_in(demo_app, people.carla)
    html = carla.get(f"/awards/{YEAR}/results").get_data(as_text=True)
    assert "Prepare the report" not in html
    token = csrf_token_of(html)
    assert carla.post(path, data={"csrf_token": token, "lang": "en"}).status_code == 403
    assert sends_to_sign_in(anonymous_post(demo_app, path, lang="en"), None)
    assert count(session, DocumentJob) == 2
