"""Reading grants: who sees which grant, and each grant with its tranches as pages show it.

The rules of visibility are those of `bounty.services.grants` (its docstring): program
admins, finance, reviewers and auditors see every grant; a grantee sees its own; to anyone
else a grant does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from bounty.governance.permissions import Permission
from bounty.ledger import Money
from bounty.models import Grant, Organisation, Person, Pool, Reservation, Tranche, WorkingGroup, utcnow
from bounty.models.grants import GRANT_STATUSES
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput, NotFound
from bounty.services.grants import PURPOSE

# Who sees every grant: those who fund, pay, sign off or audit them.
SEE_ALL = (Permission.MANAGE_FUNDS, Permission.MANAGE_PAYOUTS, Permission.REVIEW_WORK,
           Permission.READ_EVERYTHING)


@dataclass(frozen=True)
class TrancheView:
    """A tranche as every reader shows it."""

    id: int
    position: int
    milestone: str
    due_on: date
    amount: Money
    amount_eur: Money | None
    status: str
    overdue: bool
    signed_off_by: str | None
    signed_off_at: datetime | None
    # The payable posted at sign-off (the consumed reservation's closing transaction).
    payable_transaction_id: int | None


@dataclass(frozen=True)
class GrantView:
    """A grant with its tranches; amounts in the grant's currency, the reserve also in EUR."""

    id: int
    title: str
    description: str
    status: str
    grantee_kind: str
    grantee_id: int
    grantee_name: str
    working_group_code: str | None
    pool_year: int
    total: Money
    total_eur: Money
    signed_off: Money
    pending: Money
    created_at: datetime
    tranches: tuple[TrancheView, ...]

    @property
    def overdue(self) -> bool:
        return any(t.overdue for t in self.tranches)


def _sees_all(viewer: Actor) -> bool:
    return any(viewer.can(permission) for permission in SEE_ALL)


def _visible(session: Session, viewer: Actor) -> Any:
    """The grants `viewer` may see, as a query."""
    query = select(Grant)
    if _sees_all(viewer):
        return query
    if viewer.person_id is None:
        return query.where(Grant.id.is_(None))
    person = session.get(Person, viewer.person_id)
    mine = [Grant.grantee_person_id == viewer.person_id]
    if person is not None and person.organisation_id is not None:
        mine.append(Grant.grantee_organisation_id == person.organisation_id)
    return query.where(or_(*mine))


def list_grants(session: Session, viewer: Actor, *, overdue_only: bool = False, status: str | None = None,
                today: date | None = None) -> list[GrantView]:
    """The grants `viewer` may see, newest first; with `overdue_only`, those with an overdue
    tranche (pending, due before `today`, default the current UTC date)."""
    today = today or utcnow().date()
    query = _visible(session, viewer).options(selectinload(Grant.tranches)).order_by(Grant.id.desc())
    if status is not None:
        if status not in GRANT_STATUSES:
            raise InvalidInput("status", f"must be one of {', '.join(GRANT_STATUSES)}")
        query = query.where(Grant.status == status)
    if overdue_only:
        query = query.where(Grant.id.in_(
            select(Tranche.grant_id).where(Tranche.status == "pending", Tranche.due_on < today)))
    return _views(session, list(session.execute(query).scalars()), today)


def get_grant(session: Session, viewer: Actor, grant_id: int, *, today: date | None = None) -> GrantView:
    """One grant with its tranches; NotFound when it does not exist or `viewer` may not see it."""
    grant = session.execute(
        _visible(session, viewer).where(Grant.id == grant_id).options(selectinload(Grant.tranches))
    ).scalar_one_or_none()
    if grant is None:
        raise NotFound(f"no grant {grant_id}")
    return _views(session, [grant], today or utcnow().date())[0]


def _views(session: Session, grants: list[Grant], today: date) -> list[GrantView]:
    """Build the views with one query per related table, whatever the number of grants."""
    tranche_ids = [t.id for g in grants for t in g.tranches]
    reserved: dict[int, Reservation] = {}
    if tranche_ids:
        # One reservation per tranche: held while pending, then consumed or released.
        for row in session.execute(select(Reservation).where(
                Reservation.purpose == PURPOSE, Reservation.subject_id.in_(tranche_ids))
                .order_by(Reservation.id)).scalars():
            reserved[row.subject_id] = row
    person_ids = {g.grantee_person_id for g in grants}
    person_ids |= {t.signed_off_by_id for g in grants for t in g.tranches}
    people = {p.id: p for p in session.execute(
        select(Person).where(Person.id.in_([i for i in person_ids if i is not None]))).scalars()}
    organisations = {o.id: o for o in session.execute(select(Organisation).where(
        Organisation.id.in_([g.grantee_organisation_id for g in grants if g.grantee_organisation_id])))
        .scalars()}
    groups = dict(session.execute(select(WorkingGroup.id, WorkingGroup.code)).all()) if grants else {}
    years = dict(session.execute(select(Pool.id, Pool.year)).all()) if grants else {}
    return [_view(g, reserved, people, organisations, groups, years, today) for g in grants]


def _view(grant: Grant, reserved: dict[int, Reservation], people: dict[int, Person],
          organisations: dict[int, Organisation], groups: dict[int, str], years: dict[int, int],
          today: date) -> GrantView:
    tranches = []
    for t in grant.tranches:
        res = reserved.get(t.id)
        signer = people.get(t.signed_off_by_id) if t.signed_off_by_id else None
        tranches.append(TrancheView(
            t.id, t.position, t.milestone, t.due_on, Money(t.amount_minor, grant.currency),
            Money(res.amount_minor, res.currency) if res else None, t.status,
            t.status == "pending" and t.due_on < today, signer.username if signer else None,
            t.signed_off_at, res.close_transaction_id if res and res.status == "consumed" else None))
    if grant.grantee_person_id is not None:
        kind, grantee_id = "person", grant.grantee_person_id
        name = people[grantee_id].display_name if grantee_id in people else str(grantee_id)
    else:
        kind, grantee_id = "organisation", grant.grantee_organisation_id or 0
        name = organisations[grantee_id].name if grantee_id in organisations else str(grantee_id)

    def total(statuses: tuple[str, ...]) -> Money:
        return Money(sum(t.amount.minor for t in tranches if t.status in statuses), grant.currency)

    return GrantView(
        grant.id, grant.title, grant.description, grant.status, kind, grantee_id, name,
        groups.get(grant.working_group_id) if grant.working_group_id else None, years.get(grant.pool_id, 0),
        Money(grant.total_minor, grant.currency),
        Money(sum(t.amount_eur.minor for t in tranches if t.amount_eur), "EUR"),
        total(("signed_off", "paid")), total(("pending",)), grant.created_at, tuple(tranches))
