"""Jurisdictions and their shares by year, organisations, people and their identities."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bounty.models.base import Base, CreatedMixin, CurrencyCode, IdMixin, UTCDateTime, one_of

JURISDICTION_CODES = ("EU", "UK", "CA", "AU")
IDENTITY_KINDS = ("keycloak", "gitlab_user", "gitlab_username", "email")


class Jurisdiction(Base):
    """A member of the cooperative (EU, UK, CA, AU)."""

    __tablename__ = "jurisdictions"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    home_currency: Mapped[str] = mapped_column(CurrencyCode)

    shares: Mapped[list[JurisdictionShare]] = relationship(back_populates="jurisdiction")


class JurisdictionShare(IdMixin, CreatedMixin, Base):
    """A jurisdiction's share of the pooled fund from `year` on (until a later year's row).

    Shares are data: a change is a new row for its year and never rewrites history.
    """

    __tablename__ = "jurisdiction_shares"
    __table_args__ = (
        UniqueConstraint("jurisdiction_code", "year"),
        CheckConstraint("share >= 0 AND share <= 1", name="share_range"),
    )

    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"))
    year: Mapped[int]
    share: Mapped[Decimal] = mapped_column(Numeric(9, 8))

    jurisdiction: Mapped[Jurisdiction] = relationship(back_populates="shares")


class Organisation(IdMixin, CreatedMixin, Base):
    """A supplier, agency or company whose people contribute (fast-track procurement)."""

    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    jurisdiction_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdictions.code"))
    kind: Mapped[str] = mapped_column(String(20), default="supplier")
    __table_args__ = (one_of("kind", ("supplier", "agency", "company", "community")),)


class Person(IdMixin, CreatedMixin, Base):
    """Someone who signs in, contributes, reviews or is paid.

    `roles` mirror the Keycloak realm and client roles of the last sign-in. Consent to be
    named on public pages is `is_public_listing`, with the time it last changed.
    """

    __tablename__ = "people"

    keycloak_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    jurisdiction_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdictions.code"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_public_listing: Mapped[bool] = mapped_column(default=False)
    public_listing_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    jurisdiction: Mapped[Jurisdiction | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    identities: Mapped[list[Identity]] = relationship(
        back_populates="person", foreign_keys="Identity.person_id"
    )


class Identity(IdMixin, CreatedMixin, Base):
    """One way a person shows up: Keycloak account, GitLab user id or name, commit e-mail.

    An identity without a person waits in the unlinked queue. Values are stored
    normalised (e-mails lower-cased) so matching is exact.
    """

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "value"), one_of("kind", IDENTITY_KINDS))

    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(320))
    is_verified: Mapped[bool] = mapped_column(default=False)
    # The name this identity arrived under (commit author name, GitLab display name).
    label: Mapped[str] = mapped_column(String(255), default="")
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A contributor's claim that this unlinked identity is theirs, until an admin confirms.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person | None] = relationship(back_populates="identities", foreign_keys=[person_id])
    claimed_by: Mapped[Person | None] = relationship(foreign_keys=[claimed_by_id])


__all__ = ["IDENTITY_KINDS", "JURISDICTION_CODES", "Identity", "Jurisdiction",
           "JurisdictionShare", "Organisation", "Person"]
