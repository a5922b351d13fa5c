"""GitLab webhook deliveries: the secret-token check and the parsing of one delivery.

No web framework here: the view hands over the headers and the raw body, and gets a
`WebhookEvent` back or a `WebhookError` carrying the status to answer with.

Which header identifies a delivery (see docs/worker.md):
- `Idempotency-Key` (GitLab 17.4 and later) "remains consistent across webhook retries",
  manual and automatic, so it is the key whenever GitLab sends it;
- `X-Gitlab-Event-UUID` otherwise (GitLab before 17.4): it names the event, but a manual
  resend may carry a new one; the import is an upsert, so such a resend changes nothing;
- neither (a hand-made call): the SHA-256 of the body, so posting the same body twice
  still has one effect.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The delivery key column holds 200 characters; a longer header value is no GitLab value.
MAX_KEY_LENGTH = 200
# The event kind column holds 80 characters.
MAX_KIND_LENGTH = 80

MERGE_REQUEST = "merge_request"


class WebhookError(Exception):
    """A delivery refused before it is recorded: `status` is the HTTP answer, `reason` says why."""

    def __init__(self, status: int, reason: str, *, code: str = "bad_request",
                 field: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.code = code
        self.field = field


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """What the application needs of one delivery."""

    delivery_key: str
    # `object_kind` of the payload ("merge_request", "push", "note", ...), else the header's.
    event_kind: str
    # The X-Gitlab-Event header as sent ("Merge Request Hook", "System Hook", ...).
    gitlab_event: str
    project_id: int | None = None
    project_path: str | None = None
    merge_request_iid: int | None = None
    action: str | None = None
    state: str | None = None

    @property
    def is_merge(self) -> bool:
        """A merge request was merged: the one event that brings work in."""
        return self.event_kind == MERGE_REQUEST and self.action == "merge" and self.state == "merged"


def token_matches(expected: str, given: str | None) -> bool:
    """Whether `given` (X-Gitlab-Token) is the configured secret, compared in constant time.

    An empty configured secret matches nothing: a webhook without a secret is refused.
    """
    if not expected or given is None:
        return False
    # compare_digest refuses non-ASCII str; bytes compare any header value.
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "surrogateescape"))


def parse_delivery(headers: Mapping[str, str], body: bytes) -> WebhookEvent:
    """The event of one delivery; `WebhookError(400, ...)` for a malformed or misshapen one."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookError(400, f"the body is not valid JSON ({exc})", code="malformed_json") from exc
    if not isinstance(payload, dict):
        raise WebhookError(400, "the body must be a JSON object", field="_body")

    gitlab_event = lowered.get("x-gitlab-event", "").strip()
    object_kind = _optional_str(payload, "object_kind")
    kind = object_kind or _kind_of_header(gitlab_event)
    if not kind:
        raise WebhookError(400, "neither X-Gitlab-Event nor object_kind says what the event is",
                           field="object_kind")
    if len(kind) > MAX_KIND_LENGTH:
        raise WebhookError(400, f"object_kind is longer than {MAX_KIND_LENGTH} characters",
                           field="object_kind")

    event = WebhookEvent(delivery_key=_delivery_key(lowered, body), event_kind=kind,
                         gitlab_event=gitlab_event)
    if kind != MERGE_REQUEST:
        return event
    return _merge_request_event(event, payload)


def _merge_request_event(event: WebhookEvent, payload: dict[str, Any]) -> WebhookEvent:
    """`event` completed from a merge request payload, whose project and iid are required."""
    project = payload.get("project")
    attributes = payload.get("object_attributes")
    if not isinstance(project, dict):
        raise WebhookError(400, "a merge request event needs a project object", field="project")
    if not isinstance(attributes, dict):
        raise WebhookError(400, "a merge request event needs an object_attributes object",
                           field="object_attributes")
    # Older payloads name the project only in object_attributes.target_project_id.
    project_id = project.get("id", attributes.get("target_project_id"))
    iid = attributes.get("iid")
    if not _is_id(project_id):
        raise WebhookError(400, "project.id must be a positive integer", field="project.id")
    if not _is_id(iid):
        raise WebhookError(400, "object_attributes.iid must be a positive integer",
                           field="object_attributes.iid")
    return WebhookEvent(
        delivery_key=event.delivery_key,
        event_kind=event.event_kind,
        gitlab_event=event.gitlab_event,
        project_id=project_id,
        project_path=_optional_str(project, "path_with_namespace"),
        merge_request_iid=iid,
        action=_optional_str(attributes, "action"),
        state=_optional_str(attributes, "state"),
    )


def _delivery_key(headers: Mapping[str, str], body: bytes) -> str:
    """The stable identity of a delivery (module docstring): Idempotency-Key, event UUID, body hash."""
    for name in ("idempotency-key", "x-gitlab-event-uuid"):
        value = headers.get(name, "").strip()
        if not value:
            continue
        if len(value) > MAX_KEY_LENGTH or not value.isprintable():
            raise WebhookError(400, f"the {name} header is not a delivery id", field=name)
        return value
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _kind_of_header(gitlab_event: str) -> str:
    """"Merge Request Hook" -> "merge_request" (for payloads without object_kind)."""
    words = gitlab_event.lower().removesuffix(" hook").split()
    return "_".join(words)


def _optional_str(mapping: Mapping[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise WebhookError(400, f"{key} must be a string", field=key)
    return value


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
