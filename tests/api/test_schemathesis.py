"""Schemathesis against the OpenAPI document, in-process on the WSGI application: for every
operation, valid and invalid requests generated from the document, as an anonymous caller
and as a programme administrator with a real token. No answer may be a 5xx, and every
answer must match what the document says (status, content type, body schema)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from bounty.models import Pool
from tests import workflow_factories as wf
from tests.api.conftest import API, Callers
from tests.fakes.keycloak import KeycloakFake

EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def _some_bounties(session: Session) -> list[int]:
    """A draft, an open bounty, a claimed one, a submitted one and an embargoed security fix:
    their ids are used as well as generated ones, so every state meets every operation."""
    ids = [wf.draft_bounty(session, title="A draft").id,
           wf.open_bounty(session, title="An open bounty").id,
           wf.claimed_bounty(session, title="A claimed bounty").bounty.id,
           wf.submitted_bounty(session, wf.contributor(session, "dora"), title="Submitted").bounty.id,
           wf.open_bounty(session, **wf.security_fix()).id]
    session.commit()
    return ids


def _fuzz(app: Flask, headers: dict[str, str], ids: list[int],
          seen: Counter[tuple[str, int]]) -> list[str]:
    """Run every operation in both generation modes, then with each known bounty id; the
    failures, one line each."""
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:
        rounds: list[tuple[str, Any]] = [
            (mode.value, operation.as_strategy(generation_mode=mode), EXAMPLES)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
        if "{bounty_id}" in operation.path:
            rounds += [(f"bounty {bounty_id}",
                        operation.as_strategy(path_parameters={"bounty_id": bounty_id}), EXAMPLES // 5)
                       for bounty_id in ids]
        for name, strategy, examples in rounds:
            try:
                _runner(strategy, examples, headers, seen)()
            except Exception as exc:
                failures.append(f"{operation.method.upper()} {operation.path} ({name}): "
                                f"{type(exc).__name__}: {str(exc)[:2000]}")
    return failures


def _runner(strategy: Any, examples: int, headers: dict[str, str],
            seen: Counter[tuple[str, int]]) -> Callable[[], None]:
    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        seen[(f"{case.operation.method.upper()} {case.operation.path}", response.status_code)] += 1
        case.validate_response(response, checks=CHECKS)

    return run


@pytest.mark.parametrize("who", ["anonymous", "program-admin"])
def test_no_server_errors_and_answers_as_documented(api_app: Flask, callers: Callers,
                                                     keycloak: KeycloakFake, session: Session,
                                                     pool: Pool, who: str) -> None:
    ids = _some_bounties(session)
    headers: dict[str, str] = {}
    if who == "program-admin":
        callers.token("admin", ("contributor", "program-admin"))
        # Long-lived, so that it outlasts the run.
        headers = {"Authorization": f"Bearer {keycloak.access_token('test-admin', lifetime=3600)}"}
    seen: Counter[tuple[str, int]] = Counter()
    failures = _fuzz(api_app, headers, ids, seen)
    assert failures == [], "\n\n".join(failures)
    # The run reached the views, not only the token check: real bounties were read (and,
    # for the administrator, changed) through generated requests.
    answered = {(operation, status // 100) for operation, status in seen}
    assert (f"GET {API}/bounties/{{bounty_id}}", 2) in answered
    assert (f"GET {API}/bounties", 4) in answered
    if who == "program-admin":
        assert any(operation.startswith("POST") and kind == 2 for operation, kind in answered), seen
