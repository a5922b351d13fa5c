"""The flask-login side of signing in: loading the signed-in person, and turning them into
the `Actor` that services receive.

The session cookie holds only the person's id. Each request reloads the person, so roles
changed since the last sign-in (or a person merged into another) take effect at once.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask_login import AnonymousUserMixin, UserMixin, current_user, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.extensions import db, login_manager
from bounty.models import Person
from bounty.services.actors import Actor

# People seeded for demonstrations carry a Keycloak subject with this prefix; only they can
# be picked on the development sign-in page.
DEMO_SUBJECT_PREFIX = "demo-"


@dataclass(frozen=True, eq=False)
class CurrentUser(UserMixin):
    """The signed-in person, detached from any database session."""

    id: int
    username: str
    display_name: str
    roles: frozenset[str]
    jurisdiction_code: str | None

    @classmethod
    def from_person(cls, person: Person) -> CurrentUser:
        return cls(id=person.id, username=person.username, display_name=person.display_name,
                   roles=frozenset(person.roles or ()), jurisdiction_code=person.jurisdiction_code)

    @property
    def actor(self) -> Actor:
        """The acting party services check permissions of and record in the audit log."""
        return Actor(label=f"person:{self.username}", roles=self.roles, person_id=self.id,
                     jurisdiction_code=self.jurisdiction_code)


class AnonymousVisitor(AnonymousUserMixin):
    """A visitor who is not signed in: no roles, so services grant only what is public."""

    display_name = ""
    roles: frozenset[str] = frozenset()

    @property
    def actor(self) -> Actor:
        return Actor(label="anonymous")


login_manager.anonymous_user = AnonymousVisitor


@login_manager.user_loader
def _load_user(user_id: str) -> CurrentUser | None:
    try:
        person = db.session.get(Person, int(user_id))
    except ValueError:
        return None
    if person is None or person.merged_into_id is not None:
        return None
    return CurrentUser.from_person(person)


def current_actor() -> Actor:
    """The `Actor` of the current request: the signed-in person, or an anonymous visitor."""
    return current_user.actor


def sign_in(person: Person) -> CurrentUser:
    """Start a signed-in session for `person` in this browser."""
    user = CurrentUser.from_person(person)
    login_user(user)
    return user


def sign_out() -> None:
    logout_user()


def demo_personas(session: Session) -> list[Person]:
    """The demonstration people offered on the development sign-in page, by name."""
    personas = session.execute(
        select(Person)
        .where(Person.keycloak_subject.startswith(DEMO_SUBJECT_PREFIX, autoescape=True),
               Person.merged_into_id.is_(None))
    ).scalars()
    return sorted(personas, key=lambda person: (_sort_key(person.display_name), person.id))


def _sort_key(name: str) -> str:
    # "Émile" sorts with the E's, not after "Z" as a byte-wise ORDER BY would put it.
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def find_demo_persona(session: Session, person_id: int) -> Person | None:
    """The demonstration person with `person_id`, or None when there is no such persona."""
    person = session.get(Person, person_id)
    if (person is None or person.merged_into_id is not None
            or not (person.keycloak_subject or "").startswith(DEMO_SUBJECT_PREFIX)):
        return None
    return person
