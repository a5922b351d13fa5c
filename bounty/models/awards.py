"""Award categories, yearly rounds, nominations and Apache-style votes on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bounty.models.base import Base, CreatedMixin, IdMixin, UTCDateTime, one_of

DECISION_RULES = ("lazy_consensus", "lazy_majority", "lazy_two_thirds")
VOTE_VALUES = ("+1", "+0", "-0", "-1")
# Who may be nominated in a category, beyond activity in the round's year (docs/awards.md).
ELIGIBILITY_RULES = ("active", "security", "documentation", "newcomer", "mentor", "jurisdiction",
                     "organisation")
# Why a recorded vote does not bind: the voter is not on the awards committee, or is the
# nominee or the nominator (conflict of interest).
NON_BINDING_REASONS = ("not_committee", "conflict")


class AwardCategory(IdMixin, Base):
    """An award (contributor of the year, security champion, ...) and how it is decided."""

    __tablename__ = "award_categories"
    __table_args__ = (one_of("decision_rule", DECISION_RULES),
                      one_of("eligibility_rule", ELIGIBILITY_RULES))

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200), default="")
    eligibility: Mapped[str] = mapped_column(Text, default="")
    eligibility_fr: Mapped[str] = mapped_column(Text, default="")
    eligibility_rule: Mapped[str] = mapped_column(String(20), default="active")
    decision_rule: Mapped[str] = mapped_column(String(20))
    jurisdiction_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdictions.code"))
    is_for_organisations: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)


class AwardRound(IdMixin, CreatedMixin, Base):
    """A year's nomination and voting windows (votes stay open at least 72 hours)."""

    __tablename__ = "award_rounds"

    year: Mapped[int] = mapped_column(unique=True)
    nominations_open_at: Mapped[datetime] = mapped_column(UTCDateTime)
    nominations_close_at: Mapped[datetime] = mapped_column(UTCDateTime)
    voting_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class Nomination(IdMixin, CreatedMixin, Base):
    """A nomination of a person or organisation; one per nominator per category and round.

    A nominee is nominated once per category and round: others who would nominate them too
    support the nomination with a +1 (docs/awards.md).
    """

    __tablename__ = "nominations"
    __table_args__ = (
        UniqueConstraint("round_id", "category_id", "nominator_id"),
        UniqueConstraint("round_id", "category_id", "nominee_person_id",
                         name="uq_nominations_one_per_person_nominee"),
        UniqueConstraint("round_id", "category_id", "nominee_organisation_id",
                         name="uq_nominations_one_per_organisation_nominee"),
        CheckConstraint(
            "(nominee_person_id IS NULL) <> (nominee_organisation_id IS NULL)", name="one_nominee"
        ),
    )

    round_id: Mapped[int] = mapped_column(ForeignKey("award_rounds.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("award_categories.id"))
    nominee_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    nominee_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    nominator_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    citation: Mapped[str] = mapped_column(Text)


class Vote(IdMixin, Base):
    """A vote (+1, +0, -0, -1) on a nomination; binding when cast by the awards committee.

    A voter has one vote per nomination and may change it while the vote is open (`cast_at`
    is the latest change). A vote that does not bind says why in `non_binding_reason`.
    """

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("nomination_id", "voter_id"), one_of("value", VOTE_VALUES),
                      one_of("non_binding_reason", NON_BINDING_REASONS))

    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    value: Mapped[str] = mapped_column(String(2))
    is_binding: Mapped[bool]
    non_binding_reason: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime)
