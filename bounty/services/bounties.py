"""The bounty lifecycle a program admin drives: create and edit drafts, publish, cancel.

Rules chosen here (DOMAIN.md, "Bounties"):
- The amount is typed in the bounty's own currency and must lie inside its category's band
  once both are expressed in EUR at the rate in force that day; the check runs on create,
  on edit and again on publish.
- A draft holds no money and may be changed freely. Publishing reserves the amount,
  converted to EUR at the rate in force (rate id, date and source kept on the reservation),
  in the bounty pool of the year it is published; a pool that cannot cover it refuses with
  InsufficientFunds and nothing is written. An open bounty keeps its category, amount and
  currency (the reserve was made for them): cancel it and create another to change those.
- Cancelling is possible until the work is approved. It releases the reserve; a live claim
  (active or submitted) is withdrawn with it (claim status "withdrawn"), and its reviews stay
  on record. Every step writes an audit event on the bounty's timeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.ledger import Conversion, LedgerError, Money
from bounty.models import Bounty, BountyCategory, Capability, Claim, WorkingGroup, utcnow
from bounty.models.bounties import LIVE_CLAIM_STATUSES
from bounty.services import audit, funds, fx, reservations
from bounty.services.actors import Actor
from bounty.services.errors import Conflict, InvalidInput, NotFound

BOUNTY_POOL = "bounty_pool"
DEFAULT_CLAIM_HOURS = 14 * 24
MAX_CLAIM_HOURS = 90 * 24
MAX_DESCRIPTION = 50_000
CANCELLABLE = ("draft", "open", "claimed", "submitted")
# Fixed once the bounty is published: the reserve was made for them.
LOCKED_WHEN_OPEN = ("category_code", "amount", "currency")
_PROJECT_PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")


@dataclass(frozen=True)
class BountyInput:
    """What a program admin types to create or edit a bounty; `amount` is the decimal string."""

    title: str
    description: str
    category_code: str
    amount: str
    currency: str
    working_group_code: str | None = None
    capability_slug: str | None = None
    gitlab_project_path: str | None = None
    gitlab_issue_iid: int | None = None
    claim_hours: int = DEFAULT_CLAIM_HOURS


@dataclass(frozen=True)
class _Checked:
    title: str
    description: str
    category: BountyCategory
    money: Money
    conversion: Conversion
    group: WorkingGroup | None
    capability: Capability | None
    project_path: str | None
    issue_iid: int | None
    claim_hours: int


def band_of(session: Session, category: BountyCategory, on: date) -> tuple[Money, Money, Money, Money]:
    """The category's band in its own currency and in EUR on `on`: (low, high, low_eur, high_eur)."""
    low = Money(category.min_minor, category.band_currency)
    high = Money(category.max_minor, category.band_currency)
    return low, high, fx.to_eur(session, low, on).target, fx.to_eur(session, high, on).target


def _money(session: Session, data: BountyInput, category: BountyCategory,
           on: date) -> tuple[Money, Conversion]:
    currency = (data.currency or "").strip().upper()
    try:
        Money.zero(currency)
    except LedgerError:
        raise InvalidInput("currency", f"unknown currency {data.currency!r}") from None
    try:
        money = Money.parse(str(data.amount), currency)
    except LedgerError as exc:
        raise InvalidInput("amount", str(exc)) from None
    if money.minor <= 0:
        raise InvalidInput("amount", "must be a positive amount")
    try:
        conversion = fx.to_eur(session, money, on)
        low, high, low_eur, high_eur = band_of(session, category, on)
    except LedgerError as exc:
        raise InvalidInput("currency", f"{exc}: no exchange rate to check the band with") from None
    if not low_eur <= conversion.target <= high_eur:
        shown = str(money) if money.currency == "EUR" else f"{money} ({conversion.target} on {on})"
        raise InvalidInput("amount", f"{shown} is outside the {category.name} band of {low} to {high} "
                                     f"({low_eur} to {high_eur})")
    return money, conversion


def _check(session: Session, data: BountyInput, on: date) -> _Checked:
    """Validate every field of `data`, naming the first that is wrong."""
    title = " ".join((data.title or "").split())
    if not title or len(title) > 200:
        raise InvalidInput("title", "give a title of 1 to 200 characters")
    description = (data.description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput("description", f"at most {MAX_DESCRIPTION} characters")
    category = session.execute(
        select(BountyCategory).where(BountyCategory.code == (data.category_code or "").strip())
    ).scalar_one_or_none()
    if category is None:
        raise InvalidInput("category_code", f"unknown category {data.category_code!r}")
    money, conversion = _money(session, data, category, on)
    group = capability = None
    if data.working_group_code:
        group = session.execute(
            select(WorkingGroup).where(WorkingGroup.code == data.working_group_code.strip().upper())
        ).scalar_one_or_none()
        if group is None:
            raise InvalidInput("working_group_code", f"unknown working group {data.working_group_code!r}")
    if data.capability_slug:
        capability = session.execute(
            select(Capability).where(Capability.slug == data.capability_slug.strip())
        ).scalar_one_or_none()
        if capability is None:
            raise InvalidInput("capability_slug", f"unknown capability {data.capability_slug!r}")
        if group is None:
            group = session.get(WorkingGroup, capability.working_group_id)
        elif capability.working_group_id != group.id:
            raise InvalidInput("capability_slug",
                               f"{capability.name} belongs to another working group than {group.code}")
    path = (data.gitlab_project_path or "").strip().strip("/") or None
    if path is not None and (len(path) > 255 or not _PROJECT_PATH.match(path)):
        raise InvalidInput("gitlab_project_path", "give a GitLab project path such as group/project")
    iid = data.gitlab_issue_iid
    if iid is not None and (isinstance(iid, bool) or not isinstance(iid, int) or iid < 1):
        raise InvalidInput("gitlab_issue_iid", "an issue number is a whole number of at least 1")
    if iid is not None and path is None:
        raise InvalidInput("gitlab_project_path", "an issue number needs the project it belongs to")
    hours = data.claim_hours
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_CLAIM_HOURS:
        raise InvalidInput("claim_hours", f"a whole number of hours from 1 to {MAX_CLAIM_HOURS} "
                                          f"({MAX_CLAIM_HOURS // 24} days)")
    return _Checked(title, description, category, money, conversion, group, capability, path, iid, hours)


def _pool_of_year(session: Session, year: int) -> Any:
    try:
        return funds.get_pool(session, year, BOUNTY_POOL)
    except NotFound:
        raise Conflict(f"there is no bounty pool for {year}: one must be set up first") from None


def _apply(bounty: Bounty, checked: _Checked) -> dict[str, list[Any]]:
    """Copy `checked` onto `bounty`; the fields that changed, as [before, after]."""
    values = {
        "title": checked.title, "description": checked.description, "category_id": checked.category.id,
        "amount_minor": checked.money.minor, "currency": checked.money.currency,
        "working_group_id": checked.group.id if checked.group else None,
        "capability_id": checked.capability.id if checked.capability else None,
        "gitlab_project_path": checked.project_path, "gitlab_issue_iid": checked.issue_iid,
        "claim_hours": checked.claim_hours,
    }
    changed = {}
    for name, value in values.items():
        before = getattr(bounty, name, None)
        if before != value:
            changed[name] = [before, value]
            setattr(bounty, name, value)
    return changed


def lock_bounty(session: Session, bounty_id: int) -> Bounty:
    """The bounty, its row locked until the caller's transaction ends (NotFound if none)."""
    bounty = session.execute(
        select(Bounty).where(Bounty.id == bounty_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if bounty is None:
        raise NotFound(f"no bounty {bounty_id}")
    return bounty


def create_bounty(session: Session, actor: Actor, data: BountyInput) -> Bounty:
    """A new draft bounty (commits)."""
    actor.require(Permission.MANAGE_BOUNTIES)
    try:
        now = utcnow()
        checked = _check(session, data, now.date())
        bounty = Bounty(status="draft", pool_id=_pool_of_year(session, now.year).id,
                        created_by_id=actor.person_id)
        _apply(bounty, checked)
        session.add(bounty)
        session.flush()
        audit.record(session, actor, "bounty.create", "bounty", bounty.id,
                     {"title": bounty.title, "amount": str(checked.money),
                      "category": checked.category.code, "status": bounty.status})
        session.commit()
        return bounty
    except BaseException:
        session.rollback()
        raise


def update_bounty(session: Session, actor: Actor, bounty_id: int, data: BountyInput) -> Bounty:
    """Edit a draft (anything) or an open bounty (all but category, amount, currency) (commits)."""
    actor.require(Permission.MANAGE_BOUNTIES)
    try:
        bounty = lock_bounty(session, bounty_id)
        if bounty.status not in ("draft", "open"):
            raise Conflict(f"a {bounty.status} bounty can no longer be edited")
        if bounty.status == "open":
            _refuse_locked_changes(session, bounty, data)
        checked = _check(session, data, utcnow().date())
        changed = _apply(bounty, checked)
        if changed:
            session.flush()
            audit.record(session, actor, "bounty.update", "bounty", bounty.id, {"changed": changed})
        session.commit()
        return bounty
    except BaseException:
        session.rollback()
        raise


def _refuse_locked_changes(session: Session, bounty: Bounty, data: BountyInput) -> None:
    """An open bounty keeps the category, amount and currency its reserve was made for."""
    category = session.get(BountyCategory, bounty.category_id)
    assert category is not None
    current = Money(bounty.amount_minor, bounty.currency)
    try:
        same_amount = Money.parse(str(data.amount), bounty.currency).minor == current.minor
    except LedgerError:
        same_amount = False
    unchanged = {"category_code": (data.category_code or "").strip() == category.code,
                 "amount": same_amount,
                 "currency": (data.currency or "").strip().upper() == bounty.currency}
    for field in LOCKED_WHEN_OPEN:
        if not unchanged[field]:
            raise InvalidInput(field, "cannot change once the bounty is published: "
                                      "cancel it and create a new one")


def publish_bounty(session: Session, actor: Actor, bounty_id: int) -> Bounty:
    """Open a draft and reserve its amount in EUR in this year's bounty pool (commits).

    Raises InsufficientFunds when the pool cannot cover it; nothing is written then.
    """
    actor.require(Permission.MANAGE_BOUNTIES)
    try:
        bounty = lock_bounty(session, bounty_id)
        if bounty.status != "draft":
            raise Conflict(f"only a draft can be published; this bounty is {bounty.status}")
        now = utcnow()
        category = session.get(BountyCategory, bounty.category_id)
        assert category is not None
        money = Money(bounty.amount_minor, bounty.currency)
        _, conversion = _money(session, BountyInput(
            bounty.title, "", category.code, money.amount_str(), money.currency,
        ), category, now.date())
        pool = _pool_of_year(session, now.year)
        bounty.pool_id, bounty.status, bounty.published_at = pool.id, "open", now
        session.flush()
        audit.record(session, actor, "bounty.publish", "bounty", bounty.id,
                     {"amount": str(money), "eur": str(conversion.target), "pool": pool.id})
        # A EUR amount is reserved as it is; any other keeps its conversion on the record.
        reservations.hold(session, actor, pool, "bounty", bounty.id, conversion.target,
                          conversion if conversion.rate_id is not None else None)
        session.commit()
        return bounty
    except BaseException:
        session.rollback()
        raise


def cancel_bounty(session: Session, actor: Actor, bounty_id: int, reason: str) -> Bounty:
    """Cancel a bounty not yet approved: release its reserve, withdraw a live claim (commits)."""
    actor.require(Permission.MANAGE_BOUNTIES)
    try:
        reason = " ".join((reason or "").split())
        if not reason:
            raise InvalidInput("reason", "say why the bounty is cancelled")
        bounty = lock_bounty(session, bounty_id)
        if bounty.status not in CANCELLABLE:
            raise Conflict(f"a {bounty.status} bounty cannot be cancelled")
        now = utcnow()
        live = session.execute(
            select(Claim).where(Claim.bounty_id == bounty.id, Claim.status.in_(LIVE_CLAIM_STATUSES))
        ).scalar_one_or_none()
        if live is not None:
            live.status, live.decided_at = "withdrawn", now
            session.flush()
            audit.record(session, actor, "claim.withdraw", "bounty", bounty.id,
                         {"claim": live.id, "person": live.person_id, "reason": "bounty cancelled"})
        held = reservations.held_for(session, "bounty", bounty.id)
        if held is not None:
            reservations.give_back(session, actor, held, reason)
        before = bounty.status
        bounty.status, bounty.closed_at = "cancelled", now
        session.flush()
        audit.record(session, actor, "bounty.cancel", "bounty", bounty.id,
                     {"reason": reason, "from": before})
        session.commit()
        return bounty
    except BaseException:
        session.rollback()
        raise
