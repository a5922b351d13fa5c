"""A person's consent to be named on public pages: giving it, withdrawing it, its history.

Rules (docs/leaderboards.md, "Privacy"):
- Each person decides for themself only (SET_OWN_LISTING): there is no argument naming
  someone else. The consent in force is `Person.is_public_listing`; each change is also kept
  as a `ListingConsent` row (value, time, where it was made: web, api, cli, admin).
- A change takes effect at once: the same transaction updates the person and records an
  audit event, which is what the public page cache keys on, so the next public page anyone
  loads is rendered afresh with or without the name.
- Asking for the consent already in force records nothing (no row, no event) and says so
  (`ConsentChange.changed` is False).
- The history is readable by the person themself and by those who read everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.models import ListingConsent, Person, utcnow
from bounty.models.recognition import CONSENT_SOURCES
from bounty.services import audit
from bounty.services.actors import Actor
from bounty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied


@dataclass(frozen=True)
class ConsentChange:
    """The outcome of asking: the person as they now are, and whether anything changed."""

    person: Person
    changed: bool
    recorded_at: datetime | None

    @property
    def message(self) -> str:
        if not self.changed:
            return ("you were already listed by name: nothing changed" if self.person.is_public_listing
                    else "you were already listed as an anonymous contributor: nothing changed")
        return ("you are now listed by name on public pages" if self.person.is_public_listing
                else "you are now listed as an anonymous contributor on public pages")


@dataclass(frozen=True)
class ConsentEntry:
    """One recorded change of consent."""

    is_public: bool
    recorded_at: datetime
    source: str


def record_public_listing(session: Session, actor: Actor, is_public: bool, source: str = "web",
                          now: datetime | None = None) -> ConsentChange:
    """Give (`is_public` True) or withdraw the acting person's consent to be named (commits).

    Raises PermissionDenied without SET_OWN_LISTING or a signed-in person, InvalidInput for an
    unknown source, Conflict for a person merged into another.
    """
    actor.require(Permission.SET_OWN_LISTING)
    if actor.person_id is None:
        raise PermissionDenied("sign in to choose how you are listed")
    if source not in CONSENT_SOURCES:
        raise InvalidInput("source", f"one of {', '.join(CONSENT_SOURCES)}")
    if not isinstance(is_public, bool):
        raise InvalidInput("is_public", "true or false")
    now = now or utcnow()
    try:
        # Locked, so two simultaneous changes are recorded one after the other.
        person = session.execute(
            select(Person).where(Person.id == actor.person_id).with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if person is None:
            raise NotFound(f"no person {actor.person_id}")
        if person.merged_into_id is not None:
            raise Conflict("this account was merged into another: choose from that one")
        if person.is_public_listing == is_public:
            session.commit()
            return ConsentChange(person, False, None)
        person.is_public_listing, person.public_listing_changed_at = is_public, now
        session.add(ListingConsent(person_id=person.id, is_public=is_public, recorded_at=now, source=source))
        session.flush()
        audit.record(session, actor, "person.listing_consent", "person", person.id,
                     {"is_public": is_public, "source": source, "recorded_at": now.isoformat()})
        session.commit()
        return ConsentChange(person, True, now)
    except BaseException:
        session.rollback()
        raise


def set_public_listing(session: Session, actor: Actor, is_public: bool, source: str = "web",
                       now: datetime | None = None) -> Person:
    """`record_public_listing`, returning the person (commits)."""
    return record_public_listing(session, actor, is_public, source, now).person


def consent_history(session: Session, actor: Actor, person_id: int) -> list[ConsentEntry]:
    """Every recorded change of `person_id`'s consent, oldest first: for the person themself
    or a reader of everything (PermissionDenied otherwise; NotFound for no such person)."""
    if actor.person_id != person_id and not actor.can(Permission.READ_EVERYTHING):
        raise PermissionDenied(f"{actor.label} may not read another person's consent history")
    if session.get(Person, person_id) is None:
        raise NotFound(f"no person {person_id}")
    return [ConsentEntry(row.is_public, row.recorded_at, row.source) for row in session.execute(
        select(ListingConsent).where(ListingConsent.person_id == person_id)
        .order_by(ListingConsent.recorded_at, ListingConsent.id)).scalars()]
