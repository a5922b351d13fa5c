"""GitLab webhooks: verify the token, record the delivery once, enqueue the work.

`POST /hooks/gitlab` is called by GitLab, not by a browser: no sign-in, no CSRF token, the
shared secret in `X-Gitlab-Token` instead. It answers in milliseconds (GitLab waits 10 s
and disables a hook that keeps failing): it never fetches anything from GitLab itself,
the worker does. Every answer is JSON; errors have the API's one shape,
`{"error": {"status", "code", "message", "fields"}}` (built here, as the web layer does
not import the API's).

- 401: the token is missing or wrong, or no secret is configured;
- 413: the body is larger than WEBHOOK_MAX_BYTES (by its Content-Length or as read);
- 400: the body is not JSON, or not shaped like a GitLab event;
- 503: the delivery could not be recorded (database down): GitLab will try again;
- 202 `{"status": "queued"}`: a merged merge request, recorded and enqueued. When the
  broker cannot take the job the delivery stays recorded as queued, the answer says
  `"enqueued": false`, and the periodic sync brings the merge request in;
- 200 `{"status": "duplicate"}`: a delivery already recorded, nothing done again;
- 200 `{"status": "ignored"}`: any other event, recorded and acknowledged.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from bounty.extensions import csrf, db
from bounty.gitlab.webhooks import WebhookError, parse_delivery, token_matches
from bounty.services import webhooks
from bounty.tasks.gitlab import enqueue_import

bp = Blueprint("hooks", __name__)

READ_CHUNK = 64 * 1024


@bp.post("/hooks/gitlab")
@csrf.exempt
def gitlab() -> Response:
    """Receive one GitLab webhook delivery (module docstring for the answers)."""
    if not token_matches(current_app.config["GITLAB_WEBHOOK_SECRET"], request.headers.get("X-Gitlab-Token")):
        return _error(401, "unauthorized", "The X-Gitlab-Token header does not match the webhook secret.",
                      headers={"WWW-Authenticate": 'X-Gitlab-Token realm="gitlab-webhook"'})
    limit = current_app.config["WEBHOOK_MAX_BYTES"]
    too_large = _error(413, "payload_too_large", f"The body is larger than {limit} bytes.")
    if request.content_length is not None and request.content_length > limit:
        return too_large
    body = _read_at_most(limit + 1)
    if len(body) > limit:
        return too_large

    try:
        event = parse_delivery(request.headers, body)
    except WebhookError as error:
        fields = {error.field: [error.reason]} if error.field else {}
        return _error(error.status, error.code, f"The delivery is refused: {error.reason}.", fields)

    try:
        delivery, is_new = webhooks.record_delivery(db.session, event)
    except SQLAlchemyError:
        current_app.logger.exception("webhook delivery %s could not be recorded", event.delivery_key)
        return _error(503, "unavailable", "The delivery could not be recorded; please try again later.")
    delivery_id, status = delivery.id, delivery.status
    if not is_new:
        return _answer(200, {"status": "duplicate", "delivery": event.delivery_key})
    if status != webhooks.QUEUED:
        return _answer(200, {"status": "ignored", "delivery": event.delivery_key})

    # Nothing of this request's session may hold the database while the job runs (eager
    # mode runs it here, in a session of its own).
    db.session.close()
    answer: dict[str, Any] = {"status": "queued", "delivery": event.delivery_key}
    try:
        answer.update(enqueued=True, task=enqueue_import(delivery_id).id)
    except Exception:
        # The delivery stays recorded as queued; the periodic sync brings the merge request in.
        current_app.logger.exception("webhook delivery %s recorded but not enqueued", event.delivery_key)
        answer.update(enqueued=False, task=None)
    return _answer(202, answer)


def _read_at_most(size: int) -> bytes:
    """The body, but never more than `size` bytes of it: one past the limit is enough to know.

    A stream may return less than asked before its end, so read until the end or `size`.
    """
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = request.stream.read(min(left, READ_CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _answer(status: int, payload: dict[str, Any]) -> Response:
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None,
           headers: dict[str, str] | None = None) -> Response:
    """An error in the application's one JSON shape (that of bounty.api.errors)."""
    response = _answer(status, {"error": {"status": status, "code": code, "message": message,
                                          "fields": fields or {}}})
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
