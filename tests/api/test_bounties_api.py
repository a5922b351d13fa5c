"""The bounty endpoints end to end: real tokens from the fake Keycloak, real services, both
databases. Reads and filters, the embargo, and the lifecycle create -> publish -> claim ->
submit -> review, with the refusals each step can give."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import Account, Bounty, LedgerLine, Pool
from tests import workflow_factories as wf
from tests.api.conftest import API, Callers

BOUNTY = {"title": "Fix VPC load balancer health checks", "description": "Custom ports.",
          "category_code": "bug_fix", "amount": "1500.00", "currency": "EUR",
          "working_group_code": "WG4"}


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == status
    assert error["code"] == code
    assert error["message"]
    return error


def _create(client: FlaskClient, callers: Callers, **overrides: Any) -> dict[str, Any]:
    response = client.post(f"{API}/bounties", json={**BOUNTY, **overrides}, headers=callers.admin())
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _open(client: FlaskClient, callers: Callers, **overrides: Any) -> dict[str, Any]:
    created = _create(client, callers, **overrides)
    response = client.post(f"{API}/bounties/{created['id']}/publish", headers=callers.admin())
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# ------------------------------------------------------------------------------------ reads


def test_anonymous_list_shows_open_bounties_only(client: FlaskClient, callers: Callers,
                                                  pool: Pool) -> None:
    opened = _open(client, callers, title="Open one")
    _create(client, callers, title="Still a draft")
    response = client.get(f"{API}/bounties")
    assert response.status_code == 200
    body = response.get_json()
    assert [item["title"] for item in body["items"]] == ["Open one"]
    assert body["total"] == 1 and body["page"] == 1 and body["per_page"] == 25
    item = body["items"][0]
    assert item["id"] == opened["id"]
    assert item["amount"] == {"amount": "1500.00", "currency": "EUR"}
    assert item["eur_amount"] == {"amount": "1500.00", "currency": "EUR"}
    assert item["status"] == "open" and item["is_embargoed"] is False


def test_filters_sort_and_pages(client: FlaskClient, callers: Callers, pool: Pool) -> None:
    _open(client, callers, title="Alpha networking fix", amount="600", working_group_code="WG4")
    _open(client, callers, title="Beta storage fix", amount="2000", working_group_code="WG3")
    _open(client, callers, title="Gamma storage guide", amount="3000", category_code="documentation",
          working_group_code="WG3")
    _open(client, callers, title="Delta pound fix", amount="1000", currency="GBP",
          working_group_code="WG3")

    def titles(**query: Any) -> tuple[list[str], int]:
        response = client.get(f"{API}/bounties", query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        return [item["title"] for item in body["items"]], body["total"]

    assert titles(working_group="WG3", sort="title") == (
        ["Beta storage fix", "Delta pound fix", "Gamma storage guide"], 3)
    assert titles(category="documentation") == (["Gamma storage guide"], 1)
    assert titles(currency="GBP") == (["Delta pound fix"], 1)
    assert titles(q="STORAGE", sort="title") == (["Beta storage fix", "Gamma storage guide"], 2)
    assert titles(status="claimed") == ([], 0)
    assert titles(sort="amount_asc", currency="EUR") == (
        ["Alpha networking fix", "Beta storage fix", "Gamma storage guide"], 3)
    first, total = titles(sort="title", per_page=3, page=1)
    second, _ = titles(sort="title", per_page=3, page=2)
    assert total == 4
    assert first == ["Alpha networking fix", "Beta storage fix", "Delta pound fix"]
    assert second == ["Gamma storage guide"]
    assert titles(page=3, per_page=3) == ([], 4)


def test_detail_of_a_bounty_and_of_none(client: FlaskClient, callers: Callers, pool: Pool) -> None:
    opened = _open(client, callers)
    response = client.get(f"{API}/bounties/{opened['id']}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["title"] == BOUNTY["title"] and body["status"] == "open"
    assert body["category_name"] == "Bug fix"
    assert body["actions"] == []  # nothing an anonymous reader may do
    assert [event["action"] for event in body["timeline"]][:2] == ["bounty.create", "bounty.publish"]
    signed_in = client.get(f"{API}/bounties/{opened['id']}", headers=callers.contributor())
    assert signed_in.get_json()["actions"] == ["claim"]
    _error(client.get(f"{API}/bounties/{opened['id'] + 1000}"), 404, "not_found")


def test_embargoed_bounty_is_hidden_from_contributors_everywhere(
        client: FlaskClient, callers: Callers, session: Session, pool: Pool) -> None:
    public = _open(client, callers)
    secret = _open(client, callers, title="CVE-2026-0001 remediation", category_code="critical_security_fix",
                   amount="10000", currency="GBP", working_group_code="WG5")
    assert secret["is_embargoed"] is True

    for headers in ({}, callers.contributor()):
        listed = client.get(f"{API}/bounties", headers=headers).get_json()
        assert [item["id"] for item in listed["items"]] == [public["id"]]
        assert listed["total"] == 1
        searched = client.get(f"{API}/bounties", query_string={"q": "CVE"}, headers=headers).get_json()
        assert searched == {"items": [], "total": 0, "page": 1, "per_page": 25}
        hidden = _error(client.get(f"{API}/bounties/{secret['id']}", headers=headers), 404, "not_found")
        missing = _error(client.get(f"{API}/bounties/999999", headers=headers), 404, "not_found")
        # Existence never shows: the answer differs only by the number asked for.
        assert hidden["message"].replace(str(secret["id"]), "N") == missing["message"].replace("999999", "N")
    _error(client.post(f"{API}/bounties/{secret['id']}/claim", headers=callers.contributor()),
           404, "not_found")

    council = callers.reviewer("sam.council", "UK", council=True)
    listed = client.get(f"{API}/bounties", headers=council).get_json()
    assert {item["id"] for item in listed["items"]} == {public["id"], secret["id"]}
    assert listed["total"] == 2
    claimed = client.post(f"{API}/bounties/{secret['id']}/claim", headers=council)
    assert claimed.status_code == 201
    # The 48-hour remediation clock runs from the claim.
    assert claimed.get_json()["remediation_due_at"] is not None
    assert client.get(f"{API}/bounties/{secret['id']}", headers=council).status_code == 200
    assert client.get(f"{API}/bounties", headers=callers.contributor()).get_json()["total"] == 1


# ----------------------------------------------------------------------------------- create


def test_create_answers_the_draft_with_its_location(client: FlaskClient, callers: Callers,
                                                    session: Session, pool: Pool) -> None:
    response = client.post(f"{API}/bounties", headers=callers.admin(),
                           json={**BOUNTY, "amount": "2500.5", "gitlab_project_path": "cloudstack/cloudstack",
                                 "gitlab_issue_iid": 4242, "claim_hours": 72})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert response.headers["Location"] == f"{API}/bounties/{body['id']}"
    assert "Set-Cookie" not in response.headers  # a token-authenticated call starts no session
    assert body["status"] == "draft"
    assert body["amount"] == {"amount": "2500.50", "currency": "EUR"}
    assert body["actions"] == ["cancel", "edit", "publish"]
    stored = session.get(Bounty, body["id"])
    assert stored is not None
    assert (stored.amount_minor, stored.currency, stored.gitlab_issue_iid, stored.claim_hours) == (
        250050, "EUR", 4242, 72)


def test_create_refuses_bad_amounts_naming_the_field(client: FlaskClient, callers: Callers,
                                                     session: Session, pool: Pool) -> None:
    for amount in ("abc", "12.345", "-5", "0", 1500, 1500.5, "1e3"):
        error = _error(client.post(f"{API}/bounties", json={**BOUNTY, "amount": amount},
                                   headers=callers.admin()), 422, "invalid_input")
        assert list(error["fields"]) == ["amount"], (amount, error)
    # JPY has no minor unit: one decimal is one too many.
    error = _error(client.post(f"{API}/bounties", json={**BOUNTY, "amount": "100000.5", "currency": "JPY"},
                               headers=callers.admin()), 422, "invalid_input")
    assert list(error["fields"]) == ["amount"]
    # Outside the category's band (bug fixes: GBP 500 to 5000): the service names the band.
    error = _error(client.post(f"{API}/bounties", json={**BOUNTY, "amount": "90000"},
                               headers=callers.admin()), 422, "invalid_input")
    assert list(error["fields"]) == ["amount"]
    assert session.execute(select(Bounty)).first() is None


def test_create_refuses_unknown_category_and_working_group(client: FlaskClient, callers: Callers,
                                                          pool: Pool) -> None:
    error = _error(client.post(f"{API}/bounties", json={**BOUNTY, "category_code": "nope"},
                               headers=callers.admin()), 422, "invalid_input")
    assert "category_code" in error["fields"]
    error = _error(client.post(f"{API}/bounties", json={**BOUNTY, "working_group_code": "WG99"},
                               headers=callers.admin()), 422, "invalid_input")
    assert "working_group_code" in error["fields"]


def test_writes_need_a_token(client: FlaskClient, callers: Callers, pool: Pool) -> None:
    opened = _open(client, callers)
    for path, body in ((f"{API}/bounties", BOUNTY),
                       (f"{API}/bounties/{opened['id']}/claim", None),
                       (f"{API}/bounties/{opened['id']}/publish", None),
                       (f"{API}/bounties/{opened['id']}/cancel", {"reason": "x"}),
                       (f"{API}/bounties/{opened['id']}/submit", {"merge_request_urls": [wf.MERGE_REQUEST]}),
                       (f"{API}/bounties/{opened['id']}/reviews", {"verdict": "approve"})):
        response = client.post(path, json=body)
        _error(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # Authentication comes before validation: an anonymous bad body is still 401.
    _error(client.post(f"{API}/bounties", json={"amount": 5}), 401, "unauthenticated")


def test_bad_tokens_are_refused_even_on_public_reads(client: FlaskClient, callers: Callers,
                                                     keycloak: Any, pool: Pool) -> None:
    callers.token("carla")
    sub = "test-carla"
    bad = {
        "garbage": "not-a-jwt",
        "expired": keycloak.access_token(sub, lifetime=-600),
        "other client": keycloak.access_token(sub, azp="someone-else", aud="account"),
        "other issuer": keycloak.access_token(sub, iss="http://evil.example.org/realms/bounty"),
    }
    for name, token in bad.items():
        for response in (client.get(f"{API}/bounties", headers={"Authorization": f"Bearer {token}"}),
                         client.post(f"{API}/bounties", json=BOUNTY,
                                     headers={"Authorization": f"Bearer {token}"})):
            error = _error(response, 401, "invalid_token")
            assert 'error="invalid_token"' in response.headers["WWW-Authenticate"], name
            assert error["fields"] == {}
    _error(client.get(f"{API}/bounties", headers={"Authorization": "Basic YWRtaW46YWRtaW4="}),
           401, "invalid_token")


def test_the_session_cookie_does_not_authenticate(client: FlaskClient, callers: Callers,
                                                  session: Session, pool: Pool) -> None:
    admin = wf.person(session, "admin", ("contributor", "program-admin"))
    session.commit()
    with client.session_transaction() as cookie_session:
        cookie_session["_user_id"] = str(admin.id)
        cookie_session["_fresh"] = True
    _error(client.post(f"{API}/bounties", json=BOUNTY), 401, "unauthenticated")


def test_contributor_may_not_create_or_manage(client: FlaskClient, callers: Callers,
                                              session: Session, pool: Pool) -> None:
    opened = _open(client, callers)
    _error(client.post(f"{API}/bounties", json=BOUNTY, headers=callers.contributor()), 403, "forbidden")
    # Permission comes before validation too: the contributor learns nothing about the schema.
    _error(client.post(f"{API}/bounties", json={"amount": 5}, headers=callers.contributor()),
           403, "forbidden")
    _error(client.post(f"{API}/bounties/{opened['id']}/cancel", json={"reason": "mine"},
                       headers=callers.contributor()), 403, "forbidden")
    _error(client.put(f"{API}/bounties/{opened['id']}", json=BOUNTY, headers=callers.contributor()),
           403, "forbidden")
    assert session.execute(select(Bounty.status)).scalars().all() == ["open"]


# -------------------------------------------------------------------------------- lifecycle


def test_edit_publish_and_cancel(client: FlaskClient, callers: Callers, session: Session,
                                 pool: Pool) -> None:
    draft = _create(client, callers)
    edited = client.put(f"{API}/bounties/{draft['id']}", json={**BOUNTY, "title": "Renamed",
                                                                "amount": "1800"},
                        headers=callers.admin())
    assert edited.status_code == 200, edited.get_data(as_text=True)
    assert edited.get_json()["title"] == "Renamed"
    assert edited.get_json()["amount"]["amount"] == "1800.00"

    published = client.post(f"{API}/bounties/{draft['id']}/publish", headers=callers.admin())
    assert published.status_code == 200
    assert published.get_json()["status"] == "open"
    assert published.get_json()["published_at"] is not None
    _error(client.post(f"{API}/bounties/{draft['id']}/publish", headers=callers.admin()), 409, "conflict")
    locked = _error(client.put(f"{API}/bounties/{draft['id']}", json={**BOUNTY, "amount": "1900"},
                               headers=callers.admin()), 422, "invalid_input")
    assert list(locked["fields"]) == ["amount"]

    _error(client.post(f"{API}/bounties/{draft['id']}/cancel", json={"reason": "  "},
                       headers=callers.admin()), 422, "invalid_input")
    cancelled = client.post(f"{API}/bounties/{draft['id']}/cancel", json={"reason": "Fixed upstream"},
                            headers=callers.admin())
    assert cancelled.status_code == 200
    body = cancelled.get_json()
    assert body["status"] == "cancelled"
    assert body["timeline"][-1]["action"] == "bounty.cancel"
    assert body["timeline"][-1]["summary"]["reason"] == "Fixed upstream"
    _error(client.post(f"{API}/bounties/{draft['id']}/cancel", json={"reason": "again"},
                       headers=callers.admin()), 409, "conflict")
    _error(client.post(f"{API}/bounties/424242/publish", headers=callers.admin()), 404, "not_found")


def test_publish_beyond_the_pool_is_refused(client: FlaskClient, callers: Callers, session: Session,
                                            pool: Pool) -> None:
    # Fill the pool with large bounties until one more cannot be covered.
    refused = None
    for n in range(40):
        created = _create(client, callers, title=f"Feature {n}", category_code="major_feature",
                          amount="100000", currency="GBP", working_group_code="WG1")
        response = client.post(f"{API}/bounties/{created['id']}/publish", headers=callers.admin())
        if response.status_code != 200:
            refused = (created, response)
            break
    assert refused is not None, "the pool never ran out"
    created, response = refused
    error = _error(response, 409, "insufficient_funds")
    assert "cannot cover" in error["message"]
    detail = client.get(f"{API}/bounties/{created['id']}", headers=callers.admin()).get_json()
    assert detail["status"] == "draft"


def test_claim_twice_is_409_already_claimed(client: FlaskClient, callers: Callers, pool: Pool) -> None:
    opened = _open(client, callers)
    first = client.post(f"{API}/bounties/{opened['id']}/claim", headers=callers.contributor("carla"))
    assert first.status_code == 201, first.get_data(as_text=True)
    claim = first.get_json()
    assert claim["status"] == "active" and claim["bounty_id"] == opened["id"]
    assert claim["claimant_name"] == "Carla"
    for who in ("dora", "carla"):
        error = _error(client.post(f"{API}/bounties/{opened['id']}/claim", headers=callers.contributor(who)),
                       409, "already_claimed")
        assert error["message"] == "already claimed"
    detail = client.get(f"{API}/bounties/{opened['id']}", headers=callers.contributor("carla")).get_json()
    assert detail["status"] == "claimed"
    assert detail["claim"]["id"] == claim["id"]
    assert detail["actions"] == ["submit"]
    # An auditor reads everything and may claim nothing.
    _error(client.post(f"{API}/bounties/{opened['id']}/claim", headers=callers.headers("aude", ["auditor"])),
           403, "forbidden")


def test_submit_and_two_jurisdictions_approve(client: FlaskClient, callers: Callers, session: Session,
                                              pool: Pool) -> None:
    opened = _open(client, callers, currency="GBP", amount="1000")
    bounty_id = opened["id"]
    assert client.post(f"{API}/bounties/{bounty_id}/claim", headers=callers.contributor()).status_code == 201

    _error(client.post(f"{API}/bounties/{bounty_id}/submit", json={"merge_request_urls": [wf.MERGE_REQUEST]},
                       headers=callers.contributor("dora")), 403, "forbidden")
    elsewhere = _error(client.post(f"{API}/bounties/{bounty_id}/submit",
                                   json={"merge_request_urls": ["https://github.com/apache/cloudstack/pull/1"]},
                                   headers=callers.contributor()), 422, "invalid_input")
    assert list(elsewhere["fields"]) == ["merge_request_urls"]
    submitted = client.post(f"{API}/bounties/{bounty_id}/submit",
                            json={"merge_request_urls": [wf.MERGE_REQUEST]}, headers=callers.contributor())
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    claim = submitted.get_json()
    assert claim["status"] == "submitted"
    assert claim["links"] == [{"url": wf.MERGE_REQUEST, "dco_status": "not yet checked",
                               "merge_request": None, "title": None, "merged_at": None, "synced": False,
                               "approvable": False, "failing_commits": []}]

    _error(client.post(f"{API}/bounties/{bounty_id}/reviews", json={"verdict": "approve"},
                       headers=callers.contributor()), 403, "forbidden")
    no_reason = _error(client.post(f"{API}/bounties/{bounty_id}/reviews", json={"verdict": "reject"},
                                   headers=callers.reviewer("rev.eu", "EU")), 422, "invalid_input")
    assert list(no_reason["fields"]) == ["comment"]
    # Approval needs the merge request synced from GitLab, merged and DCO-clean.
    unsynced = _error(client.post(f"{API}/bounties/{bounty_id}/reviews", json={"verdict": "approve"},
                                  headers=callers.reviewer("rev.eu", "EU")), 409, "conflict")
    assert unsynced["message"] == f"merge request {wf.MERGE_REQUEST} is not yet synced from GitLab"
    merge_request = wf.merged_work(session, wf.MERGE_REQUEST)
    detail = client.get(f"{API}/bounties/{bounty_id}", headers=callers.contributor()).get_json()
    [link] = detail["claim"]["links"]
    assert link["dco_status"] == "signed" and link["merge_request"] == "cloudstack/cloudstack!101"
    assert link["synced"] is True and link["approvable"] is True and link["failing_commits"] == []
    assert link["title"] == merge_request.title and link["merged_at"] is not None
    first = client.post(f"{API}/bounties/{bounty_id}/reviews",
                        json={"verdict": "approve", "comment": "Good."},
                        headers=callers.reviewer("rev.eu", "EU"))
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.get_json()["jurisdiction"] == "EU" and first.get_json()["verdict"] == "approve"
    _error(client.post(f"{API}/bounties/{bounty_id}/reviews", json={"verdict": "approve"},
                       headers=callers.reviewer("rev.eu", "EU")), 409, "conflict")
    # A second approval from the same jurisdiction does not approve.
    client.post(f"{API}/bounties/{bounty_id}/reviews", json={"verdict": "approve"},
                headers=callers.reviewer("rev.eu2", "EU"))
    assert client.get(f"{API}/bounties/{bounty_id}").status_code == 404  # no longer open: anonymous
    pending = client.get(f"{API}/bounties/{bounty_id}", headers=callers.contributor()).get_json()
    assert pending["status"] == "submitted"
    second = client.post(f"{API}/bounties/{bounty_id}/reviews", json={"verdict": "approve"},
                         headers=callers.reviewer("rev.uk", "UK"))
    assert second.status_code == 201

    detail = client.get(f"{API}/bounties/{bounty_id}", headers=callers.contributor()).get_json()
    assert detail["status"] == "approved"
    assert detail["claim"]["status"] == "approved"
    assert sorted(review["jurisdiction"] for review in detail["reviews"]) == ["EU", "EU", "UK"]
    # The payable to the contributor, in the bounty's currency.
    payable = session.execute(
        select(LedgerLine.amount_minor, LedgerLine.currency)
        .join(Account, Account.id == LedgerLine.account_id)
        .where(Account.code.startswith("payable:person:"))
    ).all()
    assert payable == [(-100000, "GBP")]


def test_a_failing_merge_request_shows_its_commits_and_refuses_approval(
        client: FlaskClient, callers: Callers, session: Session, pool: Pool) -> None:
    url = f"{wf.GITLAB}/cloudstack/cloudstack/-/merge_requests/202"
    merge_request = wf.merged_work(session, url, dco_ok=False)
    [failing] = [commit.sha for commit in merge_request.commits if not commit.is_dco_ok]
    work = wf.submitted_bounty(session, urls=[url])
    session.commit()

    detail = client.get(f"{API}/bounties/{work.bounty.id}", headers=callers.contributor()).get_json()

    [link] = detail["claim"]["links"]
    assert link["dco_status"] == "unsigned" and link["approvable"] is False
    assert link["failing_commits"] == [{"sha": failing, "reason": "The sign-off is missing."}]
    refused = _error(client.post(f"{API}/bounties/{work.bounty.id}/reviews", json={"verdict": "approve"},
                                 headers=callers.reviewer("rev.eu", "EU")), 409, "conflict")
    assert refused["message"] == ("merge request cloudstack/cloudstack!202 fails the DCO check: "
                                  f"commit {failing[:8]}: The sign-off is missing.")
