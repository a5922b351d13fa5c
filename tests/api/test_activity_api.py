"""GET /api/v1/activity on both databases, with real tokens from the fake Keycloak: the figures
of the built scenario (the same as the page's) for a month and a year, both ends of the period
included, 422 in the one error shape naming the field, 401 without a token, 403 for those who
may not read it, and the operation's place in the OpenAPI document."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from bounty.models import utcnow
from tests import activity_factories as af
from tests.api.conftest import API, Callers

URL = f"{API}/activity"


@pytest.fixture
def scenario(session: Session) -> None:
    af.scenario(session)
    session.commit()  # end the test's transaction: on SQLite it holds the lock the app needs


def finance(callers: Callers) -> dict[str, str]:
    return callers.headers("fiona", ("contributor", "finance"))


def figures(body: dict[str, Any]) -> list[tuple[str | None, int, int, Decimal]]:
    return [(None if row["organisation_id"] is None else row["name"], row["active_contributors"],
             row["merged_merge_requests"], Decimal(row["approved_hours"])) for row in body["organisations"]]


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()["error"]
    assert body["status"] == status and body["code"] == code and body["message"]
    return body


def test_figures_of_a_month_and_a_year(client, callers, scenario):
    headers = finance(callers)
    month = client.get(URL, query_string={"start": "2025-03-01", "end": "2025-03-31"}, headers=headers)
    assert month.status_code == 200, month.get_data(as_text=True)
    body = month.get_json()
    assert (body["period_start"], body["period_end"]) == ("2025-03-01", "2025-03-31")
    assert figures(body) == af.EXPECTED_MARCH
    acme, beta, nobody = body["organisations"]
    assert (acme["jurisdiction"], acme["kind"]) == ("EU", "supplier")
    assert (beta["jurisdiction"], beta["kind"]) == ("UK", "agency")
    assert isinstance(acme["organisation_id"], int) and acme["approved_hours"] == "2.50"
    assert (nobody["organisation_id"], nobody["jurisdiction"], nobody["kind"]) == (None, None, None)
    assert body["totals"] == {"active_contributors": 4, "merged_merge_requests": 3, "approved_hours": "5.25"}

    year = client.get(URL, query_string={"year": 2025}, headers=headers).get_json()
    assert (year["period_start"], year["period_end"]) == ("2025-01-01", "2025-12-31")
    assert figures(year) == af.EXPECTED_2025
    assert year["totals"] == {"active_contributors": 5, "merged_merge_requests": 5, "approved_hours": "6.75"}

    this_year = client.get(URL, headers=headers).get_json()
    assert this_year["period_start"] == f"{utcnow().year}-01-01"


def test_both_ends_of_the_period_are_included(client, callers, scenario):
    headers = finance(callers)

    def day(text: str) -> list[tuple[str | None, int, int, Decimal]]:
        response = client.get(URL, query_string={"start": text, "end": text}, headers=headers)
        assert response.status_code == 200
        return figures(response.get_json())

    assert day("2025-03-01")[0] == (af.BETA, 1, 1, Decimal("0.00"))
    last = {name: rest for name, *rest in day("2025-03-31")}
    assert last[af.ACME] == [1, 1, Decimal("0.00")] and last[af.BETA] == [1, 0, Decimal("0.75")]
    assert day("2025-04-01")[:2] == [(af.BETA, 1, 1, Decimal("1.50")), (af.ACME, 0, 0, Decimal("0.00"))]
    assert sum(people for _name, people, _mrs, _hours in day("2025-02-28")) == 1  # Ann's second before March


@pytest.mark.parametrize(("query", "field"), [
    ({"year": "abc"}, "year"),
    ({"year": 1999}, "year"),
    ({"year": 9999}, "year"),
    ({"year": 2025, "start": "2025-03-01"}, "year"),
    ({"start": "2025-03-01"}, "end"),
    ({"end": "2025-03-01"}, "start"),
    ({"start": "2025-02-30", "end": "2025-03-01"}, "start"),
    ({"start": "2025-03-02", "end": "2025-03-01"}, "end"),
    ({"start": "1999-12-31", "end": "2025-03-01"}, "start"),
    ({"start": "2025-01-01", "end": "9999-12-31"}, "end"),
])
def test_bad_periods_are_422_naming_the_field(client, callers, scenario, query, field):
    body = error(client.get(URL, query_string=query, headers=finance(callers)), 422, "invalid_input")
    assert list(body["fields"]) == [field] and body["fields"][field][0]


def test_a_token_is_required_and_only_finance_readers_read(client, callers, scenario):
    response = client.get(URL, query_string={"year": 2025})
    error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error(client.get(URL, query_string={"year": 2025}, headers={"Authorization": "Bearer nonsense"}),
          401, "invalid_token")
    for username, roles in (("carla", ("contributor",)), ("rev", ("contributor", "reviewer")),
                            ("awd", ("contributor", "awards-committee"))):
        headers = callers.headers(username, roles)
        error(client.get(URL, query_string={"year": 2025}, headers=headers), 403, "forbidden")
        # Refused before the period is looked at.
        error(client.get(URL, query_string={"start": "2025-03-01"}, headers=headers), 403, "forbidden")
    for username, roles in (("fiona", ("contributor", "finance")), ("adm", ("contributor", "program-admin")),
                            ("otto", ("auditor",))):
        response = client.get(URL, query_string={"year": 2025}, headers=callers.headers(username, roles))
        assert response.status_code == 200 and figures(response.get_json()) == af.EXPECTED_2025, username


def test_documented_in_the_openapi_document(client):
    document = client.get(f"{API}/openapi.json").get_json()
    operation = document["paths"][URL]["get"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert {"200", "401", "403", "422"} <= set(operation["responses"])
    assert {parameter["name"] for parameter in operation["parameters"]} == {"year", "start", "end"}
    schemas = document["components"]["schemas"]
    assert schemas["OrganisationActivityOut"]["properties"]["approved_hours"]["type"] == "string"
    assert set(schemas["ActivityOut"]["required"]) == {"period_start", "period_end", "organisations",
                                                       "totals"}
