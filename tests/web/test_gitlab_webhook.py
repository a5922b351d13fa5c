"""POST /hooks/gitlab: the token, the size limit, the shape, and a merge brought in once.

The application runs in eager mode (no broker): the job runs inside the request, against
the fake GitLab on loopback, so after the answer the merge request is in the database.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from bounty.models import MergeRequest, MergeRequestCommit, WebhookDelivery
from tests.fakes.gitlab import (  # noqa: F401 - fixtures
    TOKEN,
    FakeGitLab,
    fake_gitlab_fixture,
    make_fake_gitlab_fixture,
    shared_datasets_fixture,
)

SECRET = "webhook-s3cret"
HELM = 88998736
CLEAN_MR = 31580      # 16 commits, merge commits among them, DCO ok
FAILING_MR = 32043    # one commit without a valid sign-off
PATH = "/hooks/gitlab"


def merge_event(iid: int = CLEAN_MR, action: str = "merge", state: str = "merged",
                project_id: int = HELM) -> dict[str, Any]:
    return {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": {"id": 1, "name": "Administrator", "username": "root"},
        "project": {"id": project_id, "path_with_namespace": "helm/helm",
                    "web_url": "https://gitlab.example.com/helm/helm"},
        "object_attributes": {"iid": iid, "target_project_id": project_id, "action": action,
                              "state": state, "title": "A change"},
    }


def post(client: FlaskClient, payload: Any = None, *, token: str | None = SECRET, key: str = "key-1",
         event: str = "Merge Request Hook", data: bytes | None = None,
         **headers: str) -> TestResponse:
    sent = {"X-Gitlab-Event": event, "X-Gitlab-Event-UUID": f"uuid-{key}", "Idempotency-Key": key,
            **headers}
    if token is not None:
        sent["X-Gitlab-Token"] = token
    raw = data if data is not None else json.dumps(payload if payload is not None else merge_event()).encode()
    return client.post(PATH, data=raw, headers=sent, content_type="application/json")


@pytest.fixture
def hook_app(make_app: Callable[..., Flask], fake_gitlab: FakeGitLab) -> Flask:
    return make_app(GITLAB_URL=fake_gitlab.url, GITLAB_TOKEN=TOKEN, GITLAB_WEBHOOK_SECRET=SECRET,
                    WEBHOOK_MAX_BYTES=64 * 1024)


@pytest.fixture
def hook_client(hook_app: Flask) -> FlaskClient:
    return hook_app.test_client()


# Reads end their transaction: on SQLite every transaction takes the write lock (BEGIN
# IMMEDIATE), which the application's next request would wait for.


def deliveries(session: Session) -> list[WebhookDelivery]:
    session.expire_all()
    found = list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
    session.commit()
    return found


def count(session: Session, model: type) -> int:
    found = session.scalar(select(func.count()).select_from(model)) or 0
    session.commit()
    return found


def assert_error(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert set(error) == {"status", "code", "message", "fields"}
    assert (error["status"], error["code"]) == (status, code)
    assert error["message"]
    assert response.headers["Cache-Control"] == "no-store"
    return error


# ------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize("token", ["wrong", "", SECRET.upper(), SECRET + " ", None])
def test_a_wrong_or_missing_token_gets_401(hook_client: FlaskClient, session: Session,
                                           fake_gitlab: FakeGitLab, token: str | None) -> None:
    assert_error(post(hook_client, token=token), 401, "unauthorized")
    assert deliveries(session) == []
    assert fake_gitlab.requests == 0


@pytest.mark.parametrize("token", ["", "anything", None])
def test_without_a_configured_secret_every_delivery_gets_401(
        make_app: Callable[..., Flask], session: Session, token: str | None) -> None:
    client = make_app(GITLAB_WEBHOOK_SECRET="").test_client()
    assert_error(post(client, token=token), 401, "unauthorized")
    assert deliveries(session) == []


def test_the_token_is_checked_before_the_body_is_read(hook_client: FlaskClient) -> None:
    # Oversized and malformed, but the sender is not GitLab: 401 says no more than that.
    assert_error(post(hook_client, token="wrong", data=b"{" * (200 * 1024)), 401, "unauthorized")


def test_an_oversized_body_gets_413(hook_client: FlaskClient, session: Session) -> None:
    padded = merge_event()
    padded["padding"] = "x" * (64 * 1024)
    assert_error(post(hook_client, padded), 413, "payload_too_large")
    assert deliveries(session) == []


def test_a_body_larger_than_it_says_gets_413(hook_client: FlaskClient, session: Session) -> None:
    """No Content-Length (a chunked body): the read itself stops one byte past the limit."""
    stream = io.BytesIO(b" " * (64 * 1024) + json.dumps(merge_event()).encode())
    response = hook_client.post(
        PATH, input_stream=stream, content_type="application/json",
        headers={"X-Gitlab-Token": SECRET, "X-Gitlab-Event": "Merge Request Hook", "Idempotency-Key": "k"},
        environ_overrides={"wsgi.input_terminated": True})
    assert_error(response, 413, "payload_too_large")
    assert stream.tell() <= 64 * 1024 + 1  # never read past one byte beyond the limit
    assert deliveries(session) == []


def test_a_body_of_exactly_the_limit_is_read(make_app: Callable[..., Flask], session: Session) -> None:
    raw = json.dumps({"object_kind": "push", "pad": ""}).encode()
    client = make_app(GITLAB_WEBHOOK_SECRET=SECRET, WEBHOOK_MAX_BYTES=len(raw)).test_client()
    assert post(client, data=raw, event="Push Hook").status_code == 200
    assert post(client, data=raw + b" ", event="Push Hook", key="k-2").status_code == 413


@pytest.mark.parametrize(("raw", "code"), [(b"{not json", "malformed_json"), (b"", "malformed_json"),
                                           (b"\xff\xfe", "malformed_json"), (b"[]", "bad_request"),
                                           (b"42", "bad_request")])
def test_a_malformed_body_gets_400(hook_client: FlaskClient, session: Session, raw: bytes, code: str) -> None:
    assert_error(post(hook_client, data=raw), 400, code)
    assert deliveries(session) == []


def test_a_merge_event_of_the_wrong_shape_gets_400_naming_the_field(hook_client: FlaskClient,
                                                                   session: Session) -> None:
    payload = merge_event()
    payload["object_attributes"]["iid"] = "31580"
    error = assert_error(post(hook_client, payload), 400, "bad_request")
    assert list(error["fields"]) == ["object_attributes.iid"]
    assert deliveries(session) == []


def test_get_is_not_allowed(hook_client: FlaskClient) -> None:
    assert hook_client.get(PATH).status_code == 405


# ------------------------------------------------------------------------------ ignoring


@pytest.mark.parametrize(("event", "payload"), [
    ("Push Hook", {"object_kind": "push", "ref": "refs/heads/main", "project": {"id": HELM}}),
    ("Note Hook", {"object_kind": "note", "object_attributes": {"note": "LGTM"}}),
    ("Merge Request Hook", merge_event(action="open", state="opened")),
    ("Merge Request Hook", merge_event(action="close", state="closed")),
    ("Merge Request Hook", merge_event(action="update", state="merged")),
])
def test_other_events_are_acknowledged_and_ignored(hook_client: FlaskClient, session: Session,
                                                   fake_gitlab: FakeGitLab, event: str,
                                                   payload: dict[str, Any]) -> None:
    response = post(hook_client, payload, event=event, key="ignored-1")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ignored", "delivery": "ignored-1"}
    [delivery] = deliveries(session)
    assert (delivery.status, delivery.delivery_key) == ("ignored", "ignored-1")
    assert fake_gitlab.requests == 0
    assert count(session, MergeRequest) == 0


# ------------------------------------------------------------------------------ merging


def test_a_merge_brings_the_merge_request_in(hook_client: FlaskClient, session: Session,
                                             fake_gitlab: FakeGitLab) -> None:
    response = post(hook_client, key="merge-1")
    assert response.status_code == 202
    answer = response.get_json()
    assert answer["status"] == "queued" and answer["delivery"] == "merge-1"
    assert answer["enqueued"] is True and answer["task"]

    session.expire_all()
    merge_request = session.scalars(select(MergeRequest)).one()
    assert (merge_request.gitlab_project_id, merge_request.iid) == (HELM, CLEAN_MR)
    assert merge_request.is_dco_ok is True
    assert merge_request.project_path == "helm/helm"
    assert count(session, MergeRequestCommit) == 16
    [delivery] = deliveries(session)
    assert delivery.status == "done"
    assert (delivery.gitlab_project_id, delivery.merge_request_iid) == (HELM, CLEAN_MR)
    assert delivery.finished_at is not None and "helm/helm!31580" in delivery.outcome


def test_a_failing_merge_request_is_brought_in_with_its_verdict(hook_client: FlaskClient,
                                                                session: Session) -> None:
    assert post(hook_client, merge_event(FAILING_MR), key="merge-2").status_code == 202
    merge_request = session.scalars(select(MergeRequest)).one()
    assert (merge_request.iid, merge_request.is_dco_ok) == (FAILING_MR, False)
    [commit] = merge_request.commits
    assert commit.is_dco_ok is False and commit.dco_reason
    assert "DCO failing" in deliveries(session)[0].outcome


def test_a_redelivery_has_no_second_effect(hook_client: FlaskClient, session: Session,
                                           fake_gitlab: FakeGitLab) -> None:
    assert post(hook_client, key="same").status_code == 202
    first_requests = fake_gitlab.requests
    assert first_requests > 0

    # GitLab's retry: the same Idempotency-Key, a new event UUID.
    again = post(hook_client, key="same", **{"X-Gitlab-Event-UUID": "another-uuid"})
    assert again.status_code == 200
    assert again.get_json() == {"status": "duplicate", "delivery": "same"}
    assert fake_gitlab.requests == first_requests          # nothing fetched again
    assert len(deliveries(session)) == 1
    assert count(session, MergeRequest) == 1

    # A different delivery of the same merge (a second hook, say) imports it again: an upsert.
    assert post(hook_client, key="other").status_code == 202
    assert count(session, MergeRequest) == 1
    assert count(session, MergeRequestCommit) == 16
    assert [d.status for d in deliveries(session)] == ["done", "done"]


def test_an_unknown_merge_request_fails_the_delivery_at_once(hook_client: FlaskClient, session: Session,
                                                             fake_gitlab: FakeGitLab) -> None:
    response = post(hook_client, merge_event(iid=999_999), key="unknown")
    assert response.status_code == 202
    [delivery] = deliveries(session)
    assert delivery.status == "failed" and delivery.outcome.startswith("GitLab: ")
    assert "404" in delivery.outcome
    assert fake_gitlab.counts["merge_request"] == 1   # a 404 is not tried again
    assert count(session, MergeRequest) == 0


def test_a_failing_gitlab_is_tried_again_then_the_delivery_fails(
        hook_client: FlaskClient, session: Session, fake_gitlab: FakeGitLab) -> None:
    fake_gitlab.fail_after(0)
    response = post(hook_client, key="down")
    assert response.status_code == 202
    [delivery] = deliveries(session)
    assert delivery.status == "failed" and "500" in delivery.outcome
    assert fake_gitlab.requests == 5                    # the first try and four retries
    assert count(session, MergeRequest) == 0


def test_a_broker_outage_keeps_the_delivery_queued(make_app: Callable[..., Flask], session: Session,
                                                   fake_gitlab: FakeGitLab) -> None:
    # Nothing listens on port 1: publishing fails at once.
    client = make_app(GITLAB_URL=fake_gitlab.url, GITLAB_TOKEN=TOKEN, GITLAB_WEBHOOK_SECRET=SECRET,
                      CELERY_BROKER_URL="redis://127.0.0.1:1/0").test_client()
    response = post(client, key="no-broker")
    assert response.status_code == 202
    assert response.get_json() == {"status": "queued", "delivery": "no-broker", "enqueued": False,
                                   "task": None}
    [delivery] = deliveries(session)
    assert delivery.status == "queued"
    assert post(client, key="no-broker").get_json()["status"] == "duplicate"
