"""Grants to a person or an organisation, paid in tranches against milestones a reviewer signs off.

Rules chosen here (DOMAIN.md "Other incentives"; the reasons are in docs/grants.md):
- A program admin (MANAGE_FUNDS) creates a grant: one grantee (a person or an organisation),
  a total in a currency, and its tranches (milestone, due date, amount) in the order of their
  due dates, none due before the day of creation; the tranche amounts sum exactly to the total.
- A grant is active from creation: creating it reserves its money in the development fund of
  the year, one reservation per tranche (purpose "grant", subject the tranche), each tranche
  converted to EUR at the rate in force that day (rate, date and source kept on the
  reservation). The grant's EUR reserve is the sum of its tranches'. A fund that cannot cover
  the whole refuses with InsufficientFunds and nothing is written. There is no draft stage.
- A reviewer (REVIEW_WORK) signs off a pending tranche of an active grant, in any order;
  never the grantee, nor a member of the grantee organisation. The tranche's reservation is
  consumed into a payable to the grantee in the grant's currency, its EUR cost split across
  the jurisdictions by share (`reservations.consume`, docs/ledger.md "Payouts"). The grant is
  completed when no tranche is left pending. A tranche is signed off once: a repeat is a
  Conflict; concurrent sign-offs queue on the grant's row lock and one wins.
- Cancelling (MANAGE_FUNDS) an active grant releases the reservations of its pending tranches,
  which become cancelled; signed-off tranches stay payable.
- Who sees grants: program admins, finance, reviewers and auditors see all; a grantee sees
  its own (a person, or the members of the grantee organisation); to anyone else a grant
  does not exist. A tranche is overdue while pending with a due date before today.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.ledger import Conversion, InsufficientFunds, LedgerError, Money
from bounty.models import Grant, Organisation, Person, Pool, Tranche, WorkingGroup, utcnow
from bounty.services import audit, badges, funds, fx, reservations
from bounty.services.actors import Actor
from bounty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied

DEVELOPMENT_FUND = "development_fund"
PURPOSE = "grant"
MAX_TRANCHES = 24
MAX_DESCRIPTION = 50_000
MAX_MILESTONE = 300
@dataclass(frozen=True)
class TrancheInput:
    """One tranche as typed: the milestone, its due date (a date or YYYY-MM-DD) and the amount."""

    milestone: str
    due_on: date | str
    amount: str


@dataclass(frozen=True)
class GrantInput:
    """What a program admin types to create a grant; exactly one grantee id is given."""

    title: str
    total: str
    currency: str
    tranches: Sequence[TrancheInput]
    grantee_person_id: int | None = None
    grantee_organisation_id: int | None = None
    description: str = ""
    working_group_code: str | None = None


def _text(value: str | None, field: str, limit: int) -> str:
    cleaned = " ".join((value or "").split())
    if not cleaned or len(cleaned) > limit:
        raise InvalidInput(field, f"give 1 to {limit} characters")
    return cleaned


def _amount(text: str, currency: str, field: str) -> Money:
    try:
        money = Money.parse(str(text).strip(), currency)
    except LedgerError as exc:
        raise InvalidInput(field, str(exc)) from None
    if money.minor <= 0:
        raise InvalidInput(field, "must be a positive amount")
    return money


def _due(value: date | str, field: str, today: date) -> date:
    if isinstance(value, datetime):
        raise InvalidInput(field, "give a date such as 2026-12-31, not a moment")
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip())
        except ValueError:
            raise InvalidInput(field, f"give a date such as 2026-12-31, got {value!r}") from None
    if value < today:
        raise InvalidInput(field, f"{value.isoformat()} is before today ({today.isoformat()})")
    return value


def _grantee(session: Session, data: GrantInput) -> tuple[Person | None, Organisation | None]:
    if (data.grantee_person_id is None) == (data.grantee_organisation_id is None):
        raise InvalidInput("grantee", "name exactly one grantee: a person or an organisation")
    if data.grantee_person_id is not None:
        person = session.get(Person, data.grantee_person_id)
        if person is None or person.merged_into_id is not None:
            raise InvalidInput("grantee_person_id", f"no person {data.grantee_person_id}")
        return person, None
    organisation = session.get(Organisation, data.grantee_organisation_id)
    if organisation is None:
        raise InvalidInput("grantee_organisation_id", f"no organisation {data.grantee_organisation_id}")
    return None, organisation


def _tranches(data: GrantInput, total: Money, today: date) -> list[tuple[str, date, Money]]:
    if not data.tranches:
        raise InvalidInput("tranches", "a grant is paid in at least one tranche")
    if len(data.tranches) > MAX_TRANCHES:
        raise InvalidInput("tranches", f"at most {MAX_TRANCHES} tranches")
    checked: list[tuple[str, date, Money]] = []
    for position, tranche in enumerate(data.tranches, start=1):
        where = f"tranches[{position}]"
        milestone = _text(tranche.milestone, f"{where}.milestone", MAX_MILESTONE)
        due_on = _due(tranche.due_on, f"{where}.due_on", today)
        if checked and due_on < checked[-1][1]:
            raise InvalidInput(f"{where}.due_on", "list the tranches in the order of their due dates")
        checked.append((milestone, due_on, _amount(tranche.amount, total.currency, f"{where}.amount")))
    summed = Money(sum(m.minor for _, _, m in checked), total.currency)
    if summed != total:
        difference = Money(abs(total.minor - summed.minor), total.currency)
        side = "short of" if summed < total else "over"
        raise InvalidInput("tranches", f"the tranche amounts sum to {summed}, {difference} {side} "
                                       f"the total of {total}")
    return checked


def _pool(session: Session, year: int) -> Pool:
    try:
        return funds.get_pool(session, year, DEVELOPMENT_FUND)
    except NotFound:
        raise Conflict(f"there is no development fund for {year}: one must be set up first") from None


def _lock_grant(session: Session, grant_id: int) -> Grant:
    grant = session.execute(
        select(Grant).where(Grant.id == grant_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if grant is None:
        raise NotFound(f"no grant {grant_id}")
    # Re-read the tranches: a concurrent sign-off may have committed while this waited.
    session.refresh(grant, ["tranches"])
    return grant


@dataclass(frozen=True)
class _Checked:
    title: str
    description: str
    total: Money
    person: Person | None
    organisation: Organisation | None
    group: WorkingGroup | None
    tranches: list[tuple[str, date, Money]]
    conversions: list[Conversion]


def _check(session: Session, data: GrantInput, today: date) -> _Checked:
    """Validate every field of `data`, naming the first that is wrong; convert each tranche."""
    title = _text(data.title, "title", 200)
    description = (data.description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput("description", f"at most {MAX_DESCRIPTION} characters")
    currency = (data.currency or "").strip().upper()
    try:
        Money.zero(currency)
    except LedgerError:
        raise InvalidInput("currency", f"unknown currency {data.currency!r}") from None
    total = _amount(data.total, currency, "total")
    person, organisation = _grantee(session, data)
    group = None
    if data.working_group_code:
        group = session.execute(select(WorkingGroup).where(
            WorkingGroup.code == data.working_group_code.strip().upper())).scalar_one_or_none()
        if group is None:
            raise InvalidInput("working_group_code", f"unknown working group {data.working_group_code!r}")
    tranches = _tranches(data, total, today)
    try:
        conversions = [fx.to_eur(session, amount, today) for _, _, amount in tranches]
    except LedgerError as exc:
        raise InvalidInput("currency", str(exc)) from None
    return _Checked(title, description, total, person, organisation, group, tranches, conversions)


def create_grant(session: Session, actor: Actor, data: GrantInput, *, now: datetime | None = None) -> Grant:
    """A new active grant whose tranches are reserved in this year's development fund (commits).

    Raises InvalidInput naming the field, InsufficientFunds when the fund cannot cover the
    whole; nothing is written then.
    """
    actor.require(Permission.MANAGE_FUNDS)
    now = now or utcnow()
    try:
        checked = _check(session, data, now.date())
        total, person, organisation = checked.total, checked.person, checked.organisation
        total_eur = Money(sum(c.target.minor for c in checked.conversions), "EUR")
        pool = _pool(session, now.year)
        grant = Grant(title=checked.title, description=checked.description, currency=total.currency,
                      total_minor=total.minor, grantee_person_id=person.id if person else None,
                      grantee_organisation_id=organisation.id if organisation else None,
                      working_group_id=checked.group.id if checked.group else None, pool_id=pool.id,
                      status="active", created_by_id=actor.person_id)
        grant.tranches = [Tranche(position=position, milestone=milestone, due_on=due_on,
                                  amount_minor=amount.minor, status="pending")
                          for position, (milestone, due_on, amount) in enumerate(checked.tranches, start=1)]
        session.add(grant)
        session.flush()
        grantee = (f"person {person.id} ({person.username})" if person else
                   f"organisation {organisation.id} ({organisation.name})" if organisation else "")
        # The audit chain before the pool's accounts: the order every service locks them in.
        audit.record(session, actor, "grant.create", "grant", grant.id, {
            "title": grant.title, "total": str(total), "eur": str(total_eur), "pool": pool.id,
            "grantee": grantee, "status": grant.status,
            "tranches": [{"position": t.position, "milestone": t.milestone, "due_on": t.due_on.isoformat(),
                          "amount": str(Money(t.amount_minor, total.currency))} for t in grant.tranches]})
        # Checked as a whole under the lock, so the refusal names the grant's total.
        available = reservations.available_locked(session, pool)
        if available < total_eur:
            shown = str(total_eur) if total.currency == "EUR" else f"{total_eur} ({total})"
            raise InsufficientFunds(f"{pool.name} {pool.year}", shown, str(available))
        for tranche, conversion in zip(grant.tranches, checked.conversions, strict=True):
            # A EUR amount is reserved as it is; any other keeps its conversion on the record.
            reservations.hold(session, actor, pool, PURPOSE, tranche.id, conversion.target,
                              conversion if conversion.rate_id is not None else None,
                              audit_object=("grant", grant.id))
        session.commit()
        return grant
    except BaseException:
        session.rollback()
        raise


def sign_off_tranche(session: Session, actor: Actor, grant_id: int, position: int, *,
                     now: datetime | None = None) -> Tranche:
    """A reviewer signs off the milestone of tranche `position`: it becomes payable (commits).

    Raises PermissionDenied for the grantee (or a member of the grantee organisation),
    Conflict when the tranche is not pending or the grant not active, NotFound when there is
    no such grant or tranche.
    """
    actor.require(Permission.REVIEW_WORK)
    if actor.person_id is None:
        raise PermissionDenied("a sign-off is a reviewer's: sign in first")
    now = now or utcnow()
    try:
        grant = _lock_grant(session, grant_id)
        tranche = next((t for t in grant.tranches if t.position == position), None)
        if tranche is None:
            raise NotFound(f"grant {grant_id} has no tranche {position}")
        reviewer = session.get(Person, actor.person_id)
        if reviewer is None:
            raise PermissionDenied("a reviewer needs a person record")
        if grant.grantee_person_id is not None and grant.grantee_person_id == reviewer.id:
            raise PermissionDenied("nobody signs off a milestone of their own grant")
        if reviewer.organisation_id is not None and reviewer.organisation_id == grant.grantee_organisation_id:
            raise PermissionDenied("members of the grantee organisation do not sign off its milestones")
        if tranche.status == "signed_off" or tranche.status == "paid":
            by = session.get(Person, tranche.signed_off_by_id) if tranche.signed_off_by_id else None
            when = tranche.signed_off_at.date().isoformat() if tranche.signed_off_at else "?"
            raise Conflict(f"tranche {position} of grant {grant_id} was already signed off"
                           f"{f' by {by.username}' if by else ''} on {when}")
        if grant.status != "active":
            raise Conflict(f"grant {grant_id} is {grant.status}: its tranches can no longer be signed off")
        if tranche.status != "pending":
            raise Conflict(f"tranche {position} of grant {grant_id} is {tranche.status}")
        held = reservations.held_for(session, PURPOSE, tranche.id)
        if held is None:
            raise Conflict(f"tranche {position} of grant {grant_id} holds no reservation to pay from")
        tranche.status, tranche.signed_off_by_id, tranche.signed_off_at = "signed_off", reviewer.id, now
        session.flush()
        amount = Money(tranche.amount_minor, grant.currency)
        audit.record(session, actor, "tranche.sign_off", "grant", grant.id,
                     {"tranche": tranche.id, "position": position, "milestone": tranche.milestone,
                      "amount": str(amount), "reviewer": reviewer.username})
        reservations.consume(
            session, actor, held, grant.grantee_person_id, amount, f"signoff:tranche:{tranche.id}",
            f"grant {grant.id} tranche {position} signed off: {tranche.milestone}"[:500],
            payee_organisation_id=grant.grantee_organisation_id, audit_object=("grant", grant.id),
        )
        if all(t.status != "pending" for t in grant.tranches):
            grant.status = "completed"
            session.flush()
            audit.record(session, actor, "grant.complete", "grant", grant.id,
                         {"total": str(Money(grant.total_minor, grant.currency))})
        badges.award_badges_now(session, {reviewer.id}, badges.REVIEW_METRICS)
        session.commit()
        return tranche
    except BaseException:
        session.rollback()
        raise


def cancel_grant(session: Session, actor: Actor, grant_id: int, reason: str) -> Grant:
    """Cancel an active grant: release its pending tranches' reserve (commits).

    Signed-off tranches stay payable. Raises Conflict when the grant is not active.
    """
    actor.require(Permission.MANAGE_FUNDS)
    try:
        reason = " ".join((reason or "").split())
        if not reason:
            raise InvalidInput("reason", "say why the grant is cancelled")
        grant = _lock_grant(session, grant_id)
        if grant.status != "active":
            raise Conflict(f"a {grant.status} grant cannot be cancelled")
        pending = [(t, reservations.held_for(session, PURPOSE, t.id))
                   for t in grant.tranches if t.status == "pending"]
        released = Money(sum(held.amount_minor for _, held in pending if held is not None), "EUR")
        grant.status = "cancelled"
        session.flush()
        audit.record(session, actor, "grant.cancel", "grant", grant.id,
                     {"reason": reason, "tranches_cancelled": [t.position for t, _ in pending],
                      "released": str(released)})
        for tranche, held in pending:
            if held is not None:
                reservations.give_back(session, actor, held, f"grant {grant.id} cancelled: {reason}",
                                       audit_object=("grant", grant.id))
            tranche.status = "cancelled"
        session.flush()
        session.commit()
        return grant
    except BaseException:
        session.rollback()
        raise
