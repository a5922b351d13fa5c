"""Who may be named to whom: the rule every read that shows people follows.

A person is named on public pages (read by visitors who are not signed in, and in the API's
anonymous answers) only while they agree to it (`Person.is_public_listing`). Signed-in
members of the programme, and the system, see names: claims, reviews and payouts are the
programme's own business. Where a name is withheld the reader sees "Anonymous contributor";
the row itself stays, so counts and ranks stay true.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.models import Person
from bounty.services.actors import Actor


def sees_every_name(viewer: Actor) -> bool:
    """Whether `viewer` is a signed-in member (or the system), who sees everyone's name."""
    return viewer.is_system or viewer.person_id is not None


def hidden_among(session: Session, viewer: Actor, person_ids: Iterable[int | None]) -> frozenset[int]:
    """Those of `person_ids` whose name `viewer` must not see."""
    ids = {person_id for person_id in person_ids if person_id is not None}
    if not ids or sees_every_name(viewer):
        return frozenset()
    public = set(session.execute(
        select(Person.id).where(Person.id.in_(ids), Person.is_public_listing.is_(True))).scalars())
    return frozenset(ids - public)
