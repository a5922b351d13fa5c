"""Recognition: badges and who earned them, the leaderboard's score weights, consent to be
named on public pages (its history), and which GitLab projects belong to which working group."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bounty.models.base import Base, CreatedMixin, IdMixin, UTCDateTime, one_of

# The facts a badge or a score can be earned by (docs/recognition.md says how each is counted).
METRICS = ("merged_mrs", "earnings_eur", "approved_hours", "reviews_given", "awards_won",
           "bounties_approved", "security_fixes", "documentation_hours", "mentoring_hours",
           "documentation_bounties")
CONSENT_SOURCES = ("web", "api", "cli", "admin")


class Badge(IdMixin, Base):
    """A badge (first DCO-signed merge, 100 hours, ...): earned when `metric` reaches `threshold`."""

    __tablename__ = "badges"
    __table_args__ = (one_of("metric", METRICS),)

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_fr: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    description_fr: Mapped[str] = mapped_column(Text, default="")
    metric: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)


class PersonBadge(IdMixin, CreatedMixin, Base):
    """A badge a person earned, once: `earned_at` is when the fact that earned it happened."""

    __tablename__ = "person_badges"
    __table_args__ = (UniqueConstraint("person_id", "badge_id"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id"))
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime)

    badge: Mapped[Badge] = relationship()


class ScoreWeight(IdMixin, Base):
    """The leaderboard's weight of one metric (seed/scoring.toml): score = sum(weight x value)."""

    __tablename__ = "score_weights"
    __table_args__ = (one_of("metric", METRICS),)

    metric: Mapped[str] = mapped_column(String(32), unique=True)
    weight: Mapped[Decimal] = mapped_column(Numeric(12, 4))


class ListingConsent(IdMixin, Base):
    """One change of a person's consent to be named on public pages, kept for the record.

    The consent in force is `Person.is_public_listing`; these rows say when it changed and how.
    """

    __tablename__ = "listing_consents"
    __table_args__ = (one_of("source", CONSENT_SOURCES),)

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    is_public: Mapped[bool]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(8), default="web")


class WorkingGroupProject(IdMixin, Base):
    """A GitLab project whose merged work counts for a working group (per-group leaderboards)."""

    __tablename__ = "working_group_projects"

    working_group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id"), index=True)
    project_path: Mapped[str] = mapped_column(String(255), unique=True)
