"""Bounties, the exclusive claims on them, the merge requests a claim links, and reviews."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bounty.models.base import Base, CreatedMixin, CurrencyCode, IdMixin, MinorUnits, UTCDateTime, one_of

BOUNTY_STATUSES = ("draft", "open", "claimed", "submitted", "approved", "paid", "cancelled", "expired")
CLAIM_STATUSES = ("active", "submitted", "approved", "rejected", "lapsed", "withdrawn")
LIVE_CLAIM_STATUSES = ("active", "submitted", "approved")
REVIEW_VERDICTS = ("approve", "reject")


class Bounty(IdMixin, CreatedMixin, Base):
    """A reward for a piece of work, in its own currency, reserved in EUR in a pool."""

    __tablename__ = "bounties"
    __table_args__ = (
        one_of("status", BOUNTY_STATUSES),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("claim_hours > 0", name="claim_hours_positive"),
        # The board's newest-first order reads published bounties from this index.
        Index("ix_bounties_published_at_id", "published_at", "id"),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("bounty_categories.id"), index=True)
    working_group_id: Mapped[int | None] = mapped_column(ForeignKey("working_groups.id"), index=True)
    capability_id: Mapped[int | None] = mapped_column(ForeignKey("capabilities.id"))
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(CurrencyCode)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    gitlab_project_path: Mapped[str | None] = mapped_column(String(255))
    gitlab_issue_iid: Mapped[int | None]
    # How long a claim may run without a submission before it lapses.
    claim_hours: Mapped[int] = mapped_column(default=14 * 24)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disclosed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    claims: Mapped[list[Claim]] = relationship(back_populates="bounty", order_by="Claim.id")


class Claim(IdMixin, Base):
    """A contributor's exclusive claim on a bounty.

    At most one live claim (active, submitted or approved) per bounty, enforced by a partial
    unique index on both databases. For security fixes `remediation_due_at` is the 48-hour
    clock from the claim, and `remediation_breached_at` records a breach.
    """

    __tablename__ = "claims"
    __table_args__ = (
        one_of("status", CLAIM_STATUSES),
        Index(
            "uq_claims_one_live_per_bounty",
            "bounty_id",
            unique=True,
            sqlite_where=text("status IN ('active', 'submitted', 'approved')"),
            postgresql_where=text("status IN ('active', 'submitted', 'approved')"),
        ),
        # Leaderboards count earnings by the day a claim was approved.
        Index("ix_claims_approved_decided_at", "decided_at",
              postgresql_where=text("status = 'approved'"), sqlite_where=text("status = 'approved'")),
    )

    bounty_id: Mapped[int] = mapped_column(ForeignKey("bounties.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remediation_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remediation_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    bounty: Mapped[Bounty] = relationship(back_populates="claims")
    links: Mapped[list[ClaimLink]] = relationship(back_populates="claim", order_by="ClaimLink.id")
    reviews: Mapped[list[Review]] = relationship(back_populates="claim", order_by="Review.id")


class ClaimLink(IdMixin, CreatedMixin, Base):
    """A merge request submitted for a claim; resolved to synced merged work when known."""

    __tablename__ = "claim_links"
    __table_args__ = (UniqueConstraint("claim_id", "url"),)

    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    url: Mapped[str] = mapped_column(String(500))
    merge_request_id: Mapped[int | None] = mapped_column(ForeignKey("merge_requests.id"))

    claim: Mapped[Claim] = relationship(back_populates="links")


class Review(IdMixin, CreatedMixin, Base):
    """A reviewer's verdict on a claim. The reviewer's jurisdiction and council membership
    are copied at review time, so a later change of either does not rewrite the decision."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("claim_id", "reviewer_id"), one_of("verdict", REVIEW_VERDICTS))

    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer_jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"))
    is_security_council: Mapped[bool] = mapped_column(default=False)

    claim: Mapped[Claim] = relationship(back_populates="reviews")
