"""The identity pages: the admin's unlinked queue (link, confirm, decline) and a contributor's
own identities (claim, withdraw), with refusals for everyone else, in English and French."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import AuditEvent, Identity, MergeRequest
from bounty.services import identity_links
from tests import workflow_factories as wf
from tests.service.test_identities import merge_request
from tests.web.conftest import csrf_token_of
from tests.web.test_bounty_board import demo_app, demo_person, sends_to_sign_in, settle, signed_in

__all__ = ["demo_app"]


def identity(session: Session, kind: str, value: str) -> Identity:
    found = session.execute(select(Identity).where(Identity.kind == kind, Identity.value == value)
                            .execution_options(populate_existing=True)).scalar_one()
    settle(session)  # on SQLite the read's transaction would hold the lock the pages need
    return found


def post(client: FlaskClient, page: str, path: str, **data: str) -> tuple[int, str, str]:
    """Post a form of `page` (with its CSRF token): status, Location, and the body."""
    token = csrf_token_of(client.get(page).get_data(as_text=True))
    response = client.post(path, data={"csrf_token": token, **data})
    return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)


def test_the_queue_is_for_admins_and_the_auditor(demo_app: Flask, session: Session) -> None:
    admin = demo_person(session, "tess", ("contributor", "program-admin"))
    auditor = demo_person(session, "aude", ("auditor",))
    carla = demo_person(session, "carla")
    merge_request(session, 1, commits=[("Ada Lovelace", "ada@example.org")])
    merge_request(session, 2)
    settle(session)

    assert sends_to_sign_in(demo_app.test_client().get("/admin/identities"), "/admin/identities")
    assert signed_in(demo_app, carla).get("/admin/identities").status_code == 403
    html = signed_in(demo_app, admin).get("/admin/identities").get_data(as_text=True)
    assert "<code>ada@example.org</code>" in html
    row = html[html.index("<code>ada@example.org</code>"):]
    assert re.search(r'<td class="num">2</td>', row[:600])
    assert 'name="username"' in html
    read_only = signed_in(demo_app, auditor).get("/admin/identities").get_data(as_text=True)
    assert "<code>ada@example.org</code>" in read_only and 'name="username"' not in read_only
    assert signed_in(demo_app, auditor).post("/admin/identities/1/link").status_code in (400, 403)


def test_an_admin_links_an_identity_and_its_work_is_credited(demo_app: Flask, session: Session) -> None:
    admin = demo_person(session, "tess", ("contributor", "program-admin"))
    ada = demo_person(session, "ada")
    mr = merge_request(session, 1, commits=[("Ada Lovelace", "ada@example.org")])
    email_id = identity(session, "email", "ada@example.org").id
    settle(session)
    browser = signed_in(demo_app, admin)

    code, _, html = post(browser, "/admin/identities", f"/admin/identities/{email_id}/link", username="")
    assert code == 400 and "Enter the username of the person." in html
    code, _, html = post(browser, "/admin/identities", f"/admin/identities/{email_id}/link",
                         username="nobody")
    assert code == 400
    assert f'id="username-{email_id}-error"' in html and "No person has this username." in html
    assert 'value="nobody"' in html and 'aria-invalid="true"' in html
    code, where, _ = post(browser, "/admin/identities", f"/admin/identities/{email_id}/link", username="ada")

    assert (code, where) == (302, "/admin/identities")
    assert identity(session, "email", "ada@example.org").person_id == ada.id
    assert session.get(MergeRequest, mr.id, populate_existing=True).person_id == ada.id
    settle(session)
    assert "linked to ada" in browser.get("/admin/identities").get_data(as_text=True)
    assert post(browser, "/admin/identities", "/admin/identities/999999/link", username="ada")[0] == 404


def test_a_contributor_claims_and_the_admin_confirms_or_declines(demo_app: Flask, session: Session) -> None:
    admin = demo_person(session, "tess", ("contributor", "program-admin"))
    carla = demo_person(session, "carla")
    merge_request(session, 1, username="carla", gitlab_id=None, commits=[("Carla", "carla@home.example"),
                                                                        ("Zed", "zed@example.org")])
    settle(session)
    mine = signed_in(demo_app, carla)

    page = mine.get("/me/identities").get_data(as_text=True)
    assert "<code>carla</code>" in page  # suggested: her username
    claimed = post(mine, "/me/identities", "/me/identities/claim", kind="gitlab_username", value="carla")
    assert claimed[:2] == (302, "/me/identities")
    assert post(mine, "/me/identities", "/me/identities/claim", kind="email",
                value="ZED@example.org")[0] == 302
    code, _, html = post(mine, "/me/identities", "/me/identities/claim", kind="email", value="no@example.org")
    assert code == 400 and "No unlinked identity has this value." in html
    code, _, html = post(mine, "/me/identities", "/me/identities/claim", kind="keycloak", value="x")
    assert code == 400 and "Not a valid choice" in html
    claims = mine.get("/me/identities").get_data(as_text=True)
    assert "Withdraw the claim on zed@example.org" in claims
    # Someone else cannot claim what Carla claimed.
    dan = signed_in(demo_app, demo_person(session, "dan"))
    code, _, html = post(dan, "/me/identities", "/me/identities/claim", kind="email", value="zed@example.org")
    assert code == 409 and "Someone else has claimed this identity" in html

    username_id = identity(session, "gitlab_username", "carla").id
    zed_id = identity(session, "email", "zed@example.org").id
    desk = signed_in(demo_app, admin)
    queue = desk.get("/admin/identities").get_data(as_text=True)
    assert "Claims waiting for a decision" in queue and "Confirm the claim of Carla on carla" in queue
    assert post(desk, "/admin/identities", f"/admin/identities/{username_id}/confirm")[:2] == (
        302, "/admin/identities")
    assert post(desk, "/admin/identities", f"/admin/identities/{zed_id}/decline",
                reason="Not hers.")[0] == 302

    assert identity(session, "gitlab_username", "carla").person_id == carla.id
    zed = identity(session, "email", "zed@example.org")
    assert (zed.person_id, zed.claimed_by_id) == (None, None)
    code, _, html = post(desk, "/admin/identities", f"/admin/identities/{zed_id}/confirm")
    assert code == 409 and "Nobody has claimed this identity." in html
    declined = session.execute(select(AuditEvent).where(AuditEvent.action == "identity.decline")).scalar_one()
    assert declined.summary["reason"] == "Not hers."
    settle(session)
    linked = mine.get("/me/identities").get_data(as_text=True)
    section = linked[linked.index('id="linked"'):linked.index('id="my-claims"')]
    assert "<code>carla</code>" in section


def test_withdrawing_is_for_the_claimant_only(demo_app: Flask, session: Session) -> None:
    carla = demo_person(session, "carla")
    dan = demo_person(session, "dan")
    merge_request(session, 1)
    claimed = identity_links.claim_identity(session, wf.actor_of(carla), "email", "ada@example.org")
    settle(session)

    assert post(signed_in(demo_app, dan), "/me/identities", f"/me/identities/{claimed.id}/withdraw")[0] == 403
    assert post(signed_in(demo_app, carla), "/me/identities",
                f"/me/identities/{claimed.id}/withdraw")[:2] == (302, "/me/identities")
    assert identity(session, "email", "ada@example.org").claimed_by_id is None


def test_refusals_for_those_without_the_permission(demo_app: Flask, session: Session) -> None:
    carla = demo_person(session, "carla")
    auditor = demo_person(session, "aude", ("auditor",))
    merge_request(session, 1)
    email_id = identity(session, "email", "ada@example.org").id
    settle(session)
    anonymous = demo_app.test_client()

    assert sends_to_sign_in(anonymous.get("/me/identities"), "/me/identities")
    token = csrf_token_of(anonymous.get("/dev/login").get_data(as_text=True))
    assert sends_to_sign_in(anonymous.post("/me/identities/claim", data={
        "csrf_token": token, "kind": "email", "value": "ada@example.org"}), None)
    browser = signed_in(demo_app, carla)
    assert post(browser, "/me/identities", f"/admin/identities/{email_id}/link", username="carla")[0] == 403
    assert post(browser, "/me/identities", f"/admin/identities/{email_id}/confirm")[0] == 403
    reader = signed_in(demo_app, auditor)
    page = reader.get("/me/identities").get_data(as_text=True)
    assert reader.get("/me/identities").status_code == 200 and 'name="value"' not in page
    assert post(reader, "/me/identities", "/me/identities/claim", kind="email",
                value="ada@example.org")[0] == 403
    # Without the form's token nothing happens.
    assert browser.post("/me/identities/claim", data={"kind": "email", "value": "ada@example.org"}
                        ).status_code == 400
    assert identity(session, "email", "ada@example.org").claimed_by_id is None


def test_the_pages_in_french(demo_app: Flask, session: Session) -> None:
    admin = demo_person(session, "tess", ("contributor", "program-admin"))
    carla = demo_person(session, "carla")
    merge_request(session, 1)
    email_id = identity(session, "email", "ada@example.org").id
    settle(session)

    queue = signed_in(demo_app, admin)
    html = queue.get("/admin/identities?lang=fr").get_data(as_text=True)
    assert '<html lang="fr">' in html and "Identités non liées" in html
    code, _, html = post(queue, "/admin/identities?lang=fr", f"/admin/identities/{email_id}/link",
                         username="personne")
    assert code == 400 and "Aucune personne n\u2019a ce nom d\u2019utilisateur." in html
    mine = signed_in(demo_app, carla).get("/me/identities?lang=fr").get_data(as_text=True)
    assert "Mes identités" in mine and "Revendiquer une identité" in mine
