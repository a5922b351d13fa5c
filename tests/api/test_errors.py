"""Every error of the API has one JSON shape, whoever raises it: the parser, the router, the
token check or a service. The HTML pages keep their own error pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty import create_app
from bounty.api import register_api
from bounty.api.errors import flatten_messages
from bounty.models import Bounty, Pool
from tests.api.conftest import API, SECRET, Callers

BOUNTY = {"title": "Fix VPC load balancer health checks", "category_code": "bug_fix",
          "amount": "1500.00", "currency": "EUR"}


def _shape(response: Any, status: int, code: str) -> dict[str, Any]:
    """The error's body, after checking it has exactly the one shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "code", "message", "fields"}
    assert (error["status"], error["code"]) == (status, code)
    assert isinstance(error["message"], str) and error["message"]
    assert all(isinstance(reasons, list) and all(isinstance(r, str) for r in reasons)
               for reasons in error["fields"].values())
    return error


def _post(client: FlaskClient, callers: Callers, body: Any = None, *, data: str | None = None,
          content_type: str = "application/json") -> Any:
    if data is not None:
        return client.post(f"{API}/bounties", data=data, content_type=content_type, headers=callers.admin())
    return client.post(f"{API}/bounties", json=body, headers=callers.admin())


@pytest.mark.parametrize("data", ["{", '{"title": "x",}', "nul\x00", "\xff\xfe"])
def test_malformed_json_is_400(client: FlaskClient, callers: Callers, pool: Pool, data: str) -> None:
    error = _shape(_post(client, callers, data=data), 400, "malformed_json")
    assert error["fields"] == {}


def test_unknown_field_is_named(client: FlaskClient, callers: Callers, pool: Pool) -> None:
    error = _shape(_post(client, callers, {**BOUNTY, "colour": "red"}), 422, "invalid_input")
    assert error["fields"] == {"colour": ["Unknown field."]}
    assert "colour" in error["message"]


def test_wrong_types_are_named_field_by_field(client: FlaskClient, callers: Callers,
                                              session: Session, pool: Pool) -> None:
    error = _shape(_post(client, callers, {**BOUNTY, "title": 5, "claim_hours": "ten",
                                           "gitlab_issue_iid": True, "amount": 12.5,
                                           "currency": "EURO"}), 422, "invalid_input")
    assert set(error["fields"]) == {"title", "claim_hours", "gitlab_issue_iid", "amount", "currency"}
    missing = _shape(_post(client, callers, {}), 422, "invalid_input")
    assert set(missing["fields"]) == {"title", "category_code", "amount", "currency"}
    assert session.execute(select(Bounty)).first() is None


def test_a_body_that_is_not_an_object(client: FlaskClient, callers: Callers, pool: Pool) -> None:
    for body in ([BOUNTY], "a string", 42, None):
        error = _shape(_post(client, callers, data=json.dumps(body)), 422, "invalid_input")
        assert error["fields"], body


def test_text_a_database_cannot_store_is_refused(client: FlaskClient, callers: Callers,
                                                 pool: Pool) -> None:
    error = _shape(_post(client, callers, {**BOUNTY, "title": "nul \u0000 byte"}), 422, "invalid_input")
    assert list(error["fields"]) == ["title"]
    error = _shape(_post(client, callers, data='{"title": "half \\ud800 a pair", "category_code": "bug_fix", '
                                            '"amount": "1500", "currency": "EUR"}'), 422, "invalid_input")
    assert list(error["fields"]) == ["title"]
    too_long = _shape(_post(client, callers, {**BOUNTY, "title": "x" * 201}), 422, "invalid_input")
    assert list(too_long["fields"]) == ["title"]


def test_nested_errors_are_flattened(client: FlaskClient, callers: Callers, pool: Pool) -> None:
    response = client.post(f"{API}/bounties/1/submit", headers=callers.contributor(),
                           json={"merge_request_urls": ["https://gitlab.example.org/a/-/merge_requests/1",
                                                        "not a url"]})
    error = _shape(response, 422, "invalid_input")
    assert list(error["fields"]) == ["merge_request_urls.1"]
    assert flatten_messages({"a": {"0": ["x"], "_schema": ["y"]}, "_schema": ["z"]}) == {
        "a.0": ["x"], "a": ["y"], "_body": ["z"]}


def test_bad_query_arguments_are_422(client: FlaskClient, pool: Pool) -> None:
    for query, field in (({"per_page": 0}, "per_page"), ({"page": "two"}, "page"),
                         ({"per_page": 101}, "per_page"), ({"sort": "random"}, "sort"),
                         ({"status": "lost"}, "status"), ({"q": "a\x00b"}, "q")):
        error = _shape(client.get(f"{API}/bounties", query_string=query), 422, "invalid_input")
        assert list(error["fields"]) == [field], query


def test_router_errors_under_the_api_are_json(client: FlaskClient) -> None:
    _shape(client.get(f"{API}/nothing-here"), 404, "not_found")
    _shape(client.get(f"{API}/bounties/0"), 404, "not_found")
    _shape(client.get(f"{API}/bounties/99999999999999999999"), 404, "not_found")
    _shape(client.get(f"{API}/bounties/-1"), 404, "not_found")
    response = client.delete(f"{API}/bounties")
    _shape(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    _shape(client.get(f"{API}/bounties/1/claim"), 405, "method_not_allowed")


def test_html_pages_keep_their_error_pages(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_unexpected_failures_are_json_too(tmp_path: Path) -> None:
    # A database without the schema fails every query, as an outage would; propagation of
    # exceptions is off, as in production, so the application's own answer shows.
    app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
                      "SECRET_KEY": SECRET, "PROPAGATE_EXCEPTIONS": False})
    register_api(app)
    try:
        error = _shape(app.test_client().get(f"{API}/bounties"), 500, "internal_error")
        assert "Traceback" not in error["message"] and "sqlite" not in error["message"].lower()
    finally:
        app.extensions["bounty.db"].engine.dispose()


def test_api_is_csrf_exempt_but_pages_are_not(api_app: Flask, client: FlaskClient, callers: Callers,
                                              pool: Pool) -> None:
    assert api_app.config.get("WTF_CSRF_ENABLED", True) is True
    # No CSRF token, and still created: the bearer token is what authenticates.
    assert client.post(f"{API}/bounties", json=BOUNTY, headers=callers.admin()).status_code == 201
    # A page's form posted without a CSRF token is refused: the exemption is the API's alone.
    page = client.post("/admin/bounties/new", data=BOUNTY, headers=callers.admin())
    assert page.status_code == 400
    assert "security token" in page.get_data(as_text=True)
