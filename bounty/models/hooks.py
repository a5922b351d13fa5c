"""Webhook deliveries received from GitLab, kept so a redelivery has no second effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bounty.models.base import Base, IdMixin, UTCDateTime, one_of

DELIVERY_STATUSES = ("queued", "ignored", "done", "failed")


class WebhookDelivery(IdMixin, Base):
    """One delivery of a GitLab webhook, identified by its event UUID (or idempotency key).

    The handler records the delivery and enqueues the work; the worker sets the outcome.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (one_of("status", DELIVERY_STATUSES),)

    delivery_key: Mapped[str] = mapped_column(String(200), unique=True)
    event_kind: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    gitlab_project_id: Mapped[int | None]
    merge_request_iid: Mapped[int | None]
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(500), default="")
