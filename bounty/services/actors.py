"""Who is acting: a person with roles, or the system itself (seeding, scheduled jobs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bounty.governance.permissions import Permission, can
from bounty.services.errors import PermissionDenied

if TYPE_CHECKING:
    from bounty.models import Person


@dataclass(frozen=True)
class Actor:
    """The acting party. `person_id` is None for the system."""

    label: str
    roles: frozenset[str] = field(default_factory=frozenset)
    person_id: int | None = None
    jurisdiction_code: str | None = None
    is_system: bool = False

    def can(self, permission: Permission) -> bool:
        return self.is_system or can(self.roles, permission)

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(f"{self.label} may not {permission.value.replace('_', ' ')}")


SYSTEM = Actor(label="system", is_system=True)


def person_actor(person: Person) -> Actor:
    """`person` acting with the roles their record holds now (jobs run for them, the demo's people)."""
    return Actor(label=f"person:{person.username}", roles=frozenset(person.roles or ()),
                 person_id=person.id, jurisdiction_code=person.jurisdiction_code)


def cli_actor(label: str = "cli") -> Actor:
    """The operator at the command line: acts as the system, labelled for the audit log."""
    return Actor(label=label, is_system=True)
