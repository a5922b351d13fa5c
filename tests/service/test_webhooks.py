"""Webhook deliveries: the token check, parsing a delivery, recording it once, finishing it."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.gitlab.webhooks import WebhookError, WebhookEvent, parse_delivery, token_matches
from bounty.models import WebhookDelivery
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import webhooks
from bounty.services.errors import InvalidInput, NotFound


def merge_payload(action: str = "merge", state: str = "merged", project_id: int = 88998736,
                  iid: int = 32562) -> dict[str, Any]:
    """A merge request event as GitLab sends it (the fields the application reads, and some more)."""
    return {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": {"id": 1, "name": "Administrator", "username": "root"},
        "project": {"id": project_id, "name": "helm", "path_with_namespace": "helm/helm",
                    "web_url": "https://gitlab.example.com/helm/helm"},
        "object_attributes": {"id": 1, "iid": iid, "target_project_id": project_id,
                              "title": "Bump testify", "state": state, "action": action,
                              "merge_status": "can_be_merged"},
        "labels": [],
        "changes": {},
    }


def headers(event: str = "Merge Request Hook", **extra: str) -> dict[str, str]:
    return {"X-Gitlab-Event": event, "X-Gitlab-Event-UUID": "b6a8d2b6-0d1c-4c1a-9d64-6c0b1d3e0001",
            **extra}


def body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


# ------------------------------------------------------------------------- token check


@pytest.mark.parametrize(("expected", "given", "matches"), [
    ("s3cret", "s3cret", True),
    ("s3cret", "s3cret ", False),
    ("s3cret", "S3CRET", False),
    ("s3cret", "", False),
    ("s3cret", None, False),
    ("", "", False),       # no secret configured: nothing matches, not even nothing
    ("", None, False),
    ("", "anything", False),
    ("sécret", "sécret", True),   # non-ASCII secrets compare as bytes
    ("sécret", "secret", False),
])
def test_token_matches_only_the_configured_secret(expected: str, given: str | None, matches: bool) -> None:
    assert token_matches(expected, given) is matches


# ----------------------------------------------------------------------------- parsing


def test_a_merge_event_is_parsed() -> None:
    event = parse_delivery(headers(), body(merge_payload()))
    assert event == WebhookEvent(
        delivery_key="b6a8d2b6-0d1c-4c1a-9d64-6c0b1d3e0001", event_kind="merge_request",
        gitlab_event="Merge Request Hook", project_id=88998736, project_path="helm/helm",
        merge_request_iid=32562, action="merge", state="merged")
    assert event.is_merge


@pytest.mark.parametrize(("action", "state"), [("open", "opened"), ("update", "opened"),
                                               ("close", "closed"), ("approved", "opened"),
                                               ("merge", "opened")])
def test_other_merge_request_actions_are_no_merge(action: str, state: str) -> None:
    event = parse_delivery(headers(), body(merge_payload(action=action, state=state)))
    assert event.event_kind == "merge_request"
    assert not event.is_merge


def test_the_idempotency_key_wins_over_the_event_uuid() -> None:
    """GitLab 17.4+ sends both; only the Idempotency-Key stays the same across retries."""
    event = parse_delivery(headers(**{"Idempotency-Key": "f00d-0001"}), body(merge_payload()))
    assert event.delivery_key == "f00d-0001"


def test_header_names_are_case_insensitive_in_a_plain_mapping() -> None:
    lowered = {"x-gitlab-event": "Merge Request Hook", "idempotency-key": "k-1"}
    event = parse_delivery(lowered, body(merge_payload()))
    assert (event.delivery_key, event.gitlab_event) == ("k-1", "Merge Request Hook")


def test_without_any_delivery_header_the_body_is_the_key() -> None:
    first = parse_delivery({"X-Gitlab-Event": "Merge Request Hook"}, body(merge_payload()))
    again = parse_delivery({"X-Gitlab-Event": "Merge Request Hook"}, body(merge_payload()))
    other = parse_delivery({"X-Gitlab-Event": "Merge Request Hook"}, body(merge_payload(iid=7)))
    assert first.delivery_key == again.delivery_key != other.delivery_key
    assert first.delivery_key.startswith("sha256:")


def test_other_events_are_parsed_leniently() -> None:
    push = parse_delivery(headers("Push Hook"), body({"object_kind": "push", "ref": "refs/heads/main"}))
    assert (push.event_kind, push.is_merge, push.project_id) == ("push", False, None)
    # Without object_kind the header names the kind.
    pipeline = parse_delivery(headers("Pipeline Hook"), body({"builds": []}))
    assert pipeline.event_kind == "pipeline"
    # A system hook carries the merge request too, and is read the same way.
    system = parse_delivery(headers("System Hook"), body(merge_payload()))
    assert system.is_merge and system.gitlab_event == "System Hook"


@pytest.mark.parametrize(("raw", "code"), [
    (b"{not json", "malformed_json"),
    (b"", "malformed_json"),
    (b"\xff\xfe\x00", "malformed_json"),
    (b"[1, 2]", "bad_request"),
    (b'"merge"', "bad_request"),
    (b"null", "bad_request"),
])
def test_malformed_bodies_are_refused_with_400(raw: bytes, code: str) -> None:
    with pytest.raises(WebhookError) as refused:
        parse_delivery(headers(), raw)
    assert (refused.value.status, refused.value.code) == (400, code)


def _without(payload: dict[str, Any], *path: str) -> dict[str, Any]:
    node = payload
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return payload


def _with(payload: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    node = payload
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return payload


@pytest.mark.parametrize(("payload", "field"), [
    (_without(merge_payload(), "project"), "project"),
    (_with(merge_payload(), "helm", "project"), "project"),
    (_without(merge_payload(), "object_attributes"), "object_attributes"),
    (_with(_with(merge_payload(), "88998736", "project", "id"), "x", "object_attributes",
           "target_project_id"), "project.id"),
    (_with(merge_payload(), True, "object_attributes", "iid"), "object_attributes.iid"),
    (_with(merge_payload(), -3, "object_attributes", "iid"), "object_attributes.iid"),
    (_without(merge_payload(), "object_attributes", "iid"), "object_attributes.iid"),
    (_with(merge_payload(), ["merge"], "object_attributes", "action"), "action"),
    (_with(merge_payload(), 5, "object_kind"), "object_kind"),
    (_with(merge_payload(), "x" * 81, "object_kind"), "object_kind"),
])
def test_misshapen_merge_events_are_refused_with_400_naming_the_field(payload: dict[str, Any],
                                                                      field: str) -> None:
    with pytest.raises(WebhookError) as refused:
        parse_delivery(headers(), body(payload))
    assert (refused.value.status, refused.value.field) == (400, field)


def test_an_event_of_no_kind_is_refused() -> None:
    with pytest.raises(WebhookError) as refused:
        parse_delivery({"X-Gitlab-Event-UUID": "u-1"}, body({"ref": "main"}))
    assert refused.value.field == "object_kind"


@pytest.mark.parametrize("value", ["k" * 201, "bad\x00key"])
def test_a_delivery_header_that_is_no_id_is_refused(value: str) -> None:
    with pytest.raises(WebhookError) as refused:
        parse_delivery(headers(**{"Idempotency-Key": value}), body(merge_payload()))
    assert refused.value.field == "idempotency-key"


def test_an_older_payload_names_its_project_in_the_attributes() -> None:
    payload = merge_payload()
    del payload["project"]["id"]
    assert parse_delivery(headers(), body(payload)).project_id == 88998736


# --------------------------------------------------------------------------- recording


def event_of(key: str, payload: Mapping[str, Any] | None = None,
             kind: str = "Merge Request Hook") -> WebhookEvent:
    return parse_delivery({"X-Gitlab-Event": kind, "Idempotency-Key": key},
                          body(payload if payload is not None else merge_payload()))


def deliveries(session: Session) -> list[WebhookDelivery]:
    return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_a_merge_is_recorded_queued_once(session: Session) -> None:
    delivery, is_new = webhooks.record_delivery(session, event_of("k-1"))
    assert is_new
    assert (delivery.delivery_key, delivery.event_kind, delivery.status) == ("k-1", "merge_request", "queued")
    assert (delivery.gitlab_project_id, delivery.merge_request_iid) == (88998736, 32562)
    assert delivery.finished_at is None and delivery.received_at.tzinfo is not None

    again, is_new_again = webhooks.record_delivery(session, event_of("k-1"))
    assert (again.id, is_new_again) == (delivery.id, False)
    assert len(deliveries(session)) == 1


def test_other_events_are_recorded_ignored_and_finished(session: Session) -> None:
    opened, _ = webhooks.record_delivery(session, event_of("k-2", merge_payload("open", "opened")))
    push, _ = webhooks.record_delivery(session, event_of("k-3", {"object_kind": "push"}, "Push Hook"))
    assert (opened.status, push.status) == ("ignored", "ignored")
    assert opened.finished_at is not None and "open" in opened.outcome
    assert push.outcome == "push events are not used"
    assert [d.delivery_key for d in deliveries(session)] == ["k-2", "k-3"]


def test_a_redelivery_keeps_the_first_record_even_when_finished(session: Session) -> None:
    first, _ = webhooks.record_delivery(session, event_of("k-4"))
    webhooks.finish_delivery(session, first.id, "done", "imported helm/helm!32562")
    again, is_new = webhooks.record_delivery(session, event_of("k-4"))
    assert not is_new
    assert (again.id, again.status, again.outcome) == (first.id, "done", "imported helm/helm!32562")


def test_finish_delivery_sets_status_outcome_and_time(session: Session) -> None:
    delivery, _ = webhooks.record_delivery(session, event_of("k-5"))
    finished = webhooks.finish_delivery(session, delivery.id, "failed", "GitLab: " + "x" * 600)
    session.expire_all()
    stored = session.get(WebhookDelivery, delivery.id)
    assert stored is not None and finished.id == stored.id
    assert stored.status == "failed" and stored.finished_at is not None
    assert len(stored.outcome) == 500 and stored.outcome.startswith("GitLab: x")


def test_finish_delivery_refuses_unknown_statuses_and_deliveries(session: Session) -> None:
    delivery, _ = webhooks.record_delivery(session, event_of("k-6"))
    with pytest.raises(InvalidInput):
        webhooks.finish_delivery(session, delivery.id, "queued", "")
    with pytest.raises(NotFound):
        webhooks.finish_delivery(session, delivery.id + 100, "done", "")
    with pytest.raises(NotFound):
        webhooks.get_delivery(session, delivery.id + 100)
    assert webhooks.get_delivery(session, delivery.id).status == "queued"


def test_concurrent_redeliveries_record_one_row(pg_url: str) -> None:
    """GitLab retrying while the first delivery is still being recorded: one row, one winner."""
    engine = make_engine(pg_url, pool_size=10)
    sessions = make_sessionmaker(engine)
    racers = 8
    barrier = threading.Barrier(racers)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def deliver() -> None:
        with sessions() as session:
            try:
                barrier.wait(timeout=10)
                delivery, is_new = webhooks.record_delivery(session, event_of("same-key"))
                with lock:
                    results.append((delivery.id, is_new))
            except BaseException as exc:  # reported below
                with lock:
                    errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        assert errors == []
        assert len(results) == racers
        assert sum(is_new for _, is_new in results) == 1
        assert len({delivery_id for delivery_id, _ in results}) == 1
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
    finally:
        engine.dispose()
