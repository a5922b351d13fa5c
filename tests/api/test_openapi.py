"""The OpenAPI document: generated from the schemas, valid OpenAPI 3.0, listing every route
of the API with its bearer security, and money only ever as strings."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask

from bounty import create_app
from bounty.api import register_api
from tests.api.conftest import API, SECRET

WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture
def doc_app(tmp_path: Path) -> Iterator[Flask]:
    """An application whose database is never touched: the document needs none."""
    app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path / 'doc.db'}",
                      "SECRET_KEY": SECRET})
    register_api(app)
    yield app
    app.extensions["bounty.db"].engine.dispose()


@pytest.fixture
def document(doc_app: Flask) -> dict[str, Any]:
    response = doc_app.test_client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_document_is_valid_openapi_3(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.0.3"
    assert document["info"]["title"] and document["info"]["version"] == "1"
    schemathesis.openapi.from_dict(document).validate()
    # The validator does reject a broken document, so the line above proves something.
    broken = copy.deepcopy(document)
    broken["paths"][f"{API}/bounties"]["get"]["responses"] = "none"
    with pytest.raises(Exception, match=r"responses|none"):
        schemathesis.openapi.from_dict(broken).validate()


def _openapi_path(rule: str) -> str:
    """"/api/v1/bounties/<int(min=1):bounty_id>" -> "/api/v1/bounties/{bounty_id}"."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_route_is_documented(doc_app: Flask, document: dict[str, Any]) -> None:
    routed = {
        (_openapi_path(rule.rule), method.lower())
        for rule in doc_app.url_map.iter_rules() if rule.endpoint.startswith("api_")
        for method in rule.methods or () if method not in ("HEAD", "OPTIONS")
    }
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    assert routed == documented
    expected = {
        ("/api/v1/bounties", "get"), ("/api/v1/bounties", "post"),
        ("/api/v1/bounties/{bounty_id}", "get"), ("/api/v1/bounties/{bounty_id}", "put"),
        ("/api/v1/bounties/{bounty_id}/publish", "post"), ("/api/v1/bounties/{bounty_id}/cancel", "post"),
        ("/api/v1/bounties/{bounty_id}/claim", "post"), ("/api/v1/bounties/{bounty_id}/submit", "post"),
        ("/api/v1/bounties/{bounty_id}/reviews", "post"),
    }
    assert expected <= documented


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_bearer_security_is_declared(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for path, method, operation in _operations(document):
        if method in WRITES:
            assert operation["security"] == [{"bearerAuth": []}], (path, method)
            assert "401" in operation["responses"] and "403" in operation["responses"], (path, method)
        elif operation["security"] == [{"bearerAuth": []}]:
            # Reads for some roles only (finance) need a token, and say so.
            assert "401" in operation["responses"] and "403" in operation["responses"], (path, method)
        else:
            # Other reads are public; a token, when sent, shows more.
            assert operation["security"] == [{}, {"bearerAuth": []}], (path, method)
        assert operation["summary"], (path, method)


def test_errors_are_documented_in_the_one_shape(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "Error" not in schemas  # flask-smorest's own error shape is not ours
    error = schemas["ErrorOut"]["properties"]["error"]
    detail = schemas[error["$ref"].rsplit("/", 1)[1]] if "$ref" in error else error
    assert set(detail["properties"]) == {"status", "code", "message", "fields"}
    for path, method, operation in _operations(document):
        default = operation["responses"]["default"]["$ref"].rsplit("/", 1)[1]
        content = document["components"]["responses"][default]["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/ErrorOut"}, (path, method)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_money_is_never_a_number(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert [node for node in _walk(schemas) if node.get("type") == "number"] == []
    assert schemas["BountyIn"]["properties"]["amount"]["type"] == "string"
    assert "pattern" in schemas["BountyIn"]["properties"]["amount"]
    assert schemas["MoneyOut"]["properties"] == {
        "amount": {"type": "string", "example": "1500.00"},
        "currency": {"type": "string", "example": "EUR"},
    }
    assert "EUR" in schemas["BountyIn"]["properties"]["currency"]["enum"]


def test_inputs_refuse_unknown_fields_in_the_document_too(document: dict[str, Any]) -> None:
    # The schemas load with marshmallow's RAISE, so the document must not invite extra keys.
    schemas = document["components"]["schemas"]
    for name in ("BountyIn", "CancelIn", "SubmitIn", "ReviewIn"):
        assert schemas[name].get("additionalProperties") is False, name


def test_register_api_keeps_settings_the_application_has(tmp_path: Path) -> None:
    # create_app registers the API; a title given in the configuration is kept.
    app = create_app({"ENV": "testing", "DATABASE_URL": f"sqlite:///{tmp_path / 'doc.db'}",
                      "SECRET_KEY": SECRET, "API_TITLE": "Our own title"})
    register_api(app)  # a second call changes nothing
    document = app.test_client().get(f"{API}/openapi.json").get_json()
    assert document["info"]["title"] == "Our own title"
    assert app.config["OPENAPI_VERSION"] == "3.0.3"
    app.extensions["bounty.db"].engine.dispose()
