"""Contribution hours: professional development of civil servants, approved by reviewers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bounty.models.base import Base, CreatedMixin, IdMixin, UTCDateTime, one_of

ACTIVITIES = ("code", "review", "documentation", "mentoring", "community", "security")
HOURS_STATUSES = ("pending", "approved", "rejected")


class HoursEntry(IdMixin, CreatedMixin, Base):
    """Hours one person worked on one day, counted in quarter hours (1 to 96)."""

    __tablename__ = "hours_entries"
    __table_args__ = (
        one_of("activity", ACTIVITIES),
        one_of("status", HOURS_STATUSES),
        CheckConstraint("quarter_hours BETWEEN 1 AND 96", name="quarter_hours_range"),
        # Leaderboards sum approved hours per person over a period.
        Index("ix_hours_entries_approved_worked_on", "worked_on", "person_id", "quarter_hours",
              postgresql_where=text("status = 'approved'"), sqlite_where=text("status = 'approved'")),
    )

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    worked_on: Mapped[date]
    quarter_hours: Mapped[int]
    activity: Mapped[str] = mapped_column(String(16))
    working_group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    merge_request_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_comment: Mapped[str] = mapped_column(Text, default="")
