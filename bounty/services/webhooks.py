"""Webhook deliveries: recorded once by their key, then finished by the worker.

A delivery is inserted with `ON CONFLICT (delivery_key) DO NOTHING` on both databases, so
a redelivery, even one racing the first on another connection, finds the first row and
has no second effect. The deliveries table is itself the record of what GitLab sent, so
no audit event is written per delivery; the imports they cause are audited by
`merged_work`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bounty.gitlab.webhooks import WebhookEvent
from bounty.models import WebhookDelivery, utcnow
from bounty.models.engine import is_postgres
from bounty.services.errors import InvalidInput, NotFound

QUEUED = "queued"
IGNORED = "ignored"
DONE = "done"
FAILED = "failed"
# The statuses the worker ends a delivery with.
FINISHED = (DONE, FAILED, IGNORED)
# The outcome column holds 500 characters.
MAX_OUTCOME = 500


def record_delivery(session: Session, event: WebhookEvent) -> tuple[WebhookDelivery, bool]:
    """Record `event` once: (the new delivery, True), or (the one already recorded, False).

    A merged merge request is recorded "queued" (the worker brings it in); every other
    event "ignored". Commits; rolls back on any failure.
    """
    status = QUEUED if event.is_merge else IGNORED
    values = {
        "delivery_key": event.delivery_key,
        "event_kind": event.event_kind,
        "status": status,
        "gitlab_project_id": event.project_id,
        "merge_request_iid": event.merge_request_iid,
        "received_at": utcnow(),
        "finished_at": None if status == QUEUED else utcnow(),
        "outcome": "" if status == QUEUED else _ignored_because(event),
    }
    insert = postgresql_insert if is_postgres(session) else sqlite_insert
    statement = (insert(WebhookDelivery).values(**values)
                 .on_conflict_do_nothing(index_elements=["delivery_key"])
                 .returning(WebhookDelivery.id))
    try:
        new_id = session.execute(statement).scalar_one_or_none()
        delivery = session.execute(
            select(WebhookDelivery).where(WebhookDelivery.delivery_key == event.delivery_key)
        ).scalar_one()
        session.commit()
    except Exception:
        session.rollback()
        raise
    return delivery, new_id is not None


def get_delivery(session: Session, delivery_id: int) -> WebhookDelivery:
    """The delivery `delivery_id`; NotFound when there is none."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no webhook delivery {delivery_id}")
    return delivery


def finish_delivery(session: Session, delivery_id: int, status: str, outcome: str) -> WebhookDelivery:
    """End delivery `delivery_id` with `status` (done, failed or ignored) and `outcome`. Commits."""
    if status not in FINISHED:
        raise InvalidInput("status", f"must be one of {', '.join(FINISHED)}")
    try:
        delivery = get_delivery(session, delivery_id)
        delivery.status = status
        delivery.outcome = _clip(outcome)
        delivery.finished_at = utcnow()
        session.commit()
    except Exception:
        session.rollback()
        raise
    return delivery


def _ignored_because(event: WebhookEvent) -> str:
    if event.event_kind == "merge_request":
        return f"merge request event with action {event.action or 'none'}, not a merge"
    return f"{event.event_kind} events are not used"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_OUTCOME else text[: MAX_OUTCOME - 1] + "…"
