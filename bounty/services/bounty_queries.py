"""Reading bounties: the board, one bounty's page and the review queue (a person's own
claims and earnings, "my work", are read in `bounty.services.my_work`).

Read only: nothing here writes or commits. Two rules apply to every read:
- Visibility. Program admins and auditors (and the system) see every bounty, drafts
  included. Signed-in people see published bounties; a bounty of an embargoed category
  (critical security fixes), until disclosed, only when they may view embargoed work (the
  security council) or have claimed it. Anonymous visitors see open, non-embargoed
  bounties only. What a viewer may not see does not exist for them: absent from lists and
  counts, NotFound on its page.
- Lapsed claims. An active claim past `expires_at` is read as lapsed and its bounty as
  open, even before `bounty claims expire` (or the next claim) records it.
- Names. Claimants, reviewers and the people of a timeline are named to visitors who are
  not signed in only when they agreed to be (`bounty.services.public_names`); otherwise the
  name is withheld and the row says so (`claimant_hidden`, `reviewer_hidden`, `hidden_people`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal, not_, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from bounty.governance.permissions import Permission
from bounty.governance.reviews import ReviewOutcome, ReviewVote, review_outcome
from bounty.ledger import Money
from bounty.models import (
    AuditEvent,
    Bounty,
    BountyCategory,
    Capability,
    Claim,
    Person,
    Reservation,
    Review,
    WorkingGroup,
    utcnow,
)
from bounty.models.bounties import BOUNTY_STATUSES, LIVE_CLAIM_STATUSES
from bounty.services import audit, public_names
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput, NotFound

SORTS = ("newest", "amount_desc", "amount_asc", "title")
MAX_PER_PAGE = 100


@dataclass
class BountyFilter:
    """What the board is narrowed to; None means any."""

    working_group: str | None = None
    category: str | None = None
    status: str | None = None
    currency: str | None = None
    text: str | None = None
    sort: str = "newest"


@dataclass(frozen=True)
class BountyRow:
    id: int
    title: str
    status: str
    category_code: str
    category_name: str
    working_group_code: str | None
    amount: Money
    eur_amount: Money | None
    is_embargoed: bool
    claimant_name: str | None
    published_at: datetime | None
    claimant_hidden: bool = False


@dataclass(frozen=True)
class Page:
    items: list[BountyRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class ClaimView:
    id: int
    person_id: int
    claimant_name: str
    status: str
    claimed_at: datetime
    expires_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    remediation_due_at: datetime | None
    remediation_breached_at: datetime | None
    claimant_hidden: bool = False


@dataclass(frozen=True)
class LinkView:
    """A merge request linked to a claim; `submissions.linked_work` adds what GitLab says of it."""

    url: str


@dataclass(frozen=True)
class ReviewView:
    reviewer_id: int
    reviewer_name: str
    jurisdiction: str
    verdict: str
    comment: str
    is_security_council: bool
    created_at: datetime
    reviewer_hidden: bool = False


@dataclass(frozen=True)
class BountyDetail:
    bounty: Bounty
    row: BountyRow
    category: BountyCategory
    working_group: WorkingGroup | None
    capability: Capability | None
    claim: ClaimView | None
    links: list[LinkView]
    reviews: list[ReviewView]
    review_status: ReviewOutcome | None
    actions: set[str]
    timeline: list[AuditEvent]
    # People of the timeline the viewer may not see named.
    hidden_people: frozenset[int] = frozenset()


def is_security_fix(category: BountyCategory) -> bool:
    """Security fixes need a security-council approval; their category runs a clock or embargo."""
    return category.is_embargoed or category.remediation_hours is not None


def effective_claim_status(claim: Claim, now: datetime) -> str:
    """The claim's status as of `now`: an active claim past its limit has lapsed."""
    return "lapsed" if claim.status == "active" and claim.expires_at <= now else claim.status


_LIVE = aliased(Claim, name="live_claim")
_CLAIMANT = aliased(Person, name="claimant")


def _effective_status(now: datetime) -> Any:
    """The status as read at `now`, for display: needs the outer join to `_LIVE`."""
    lapsed = and_(Bounty.status == "claimed", _LIVE.status == "active", _LIVE.expires_at <= now)
    return case((lapsed, literal("open")), else_=Bounty.status)


def _effective_status_is(status: str, now: datetime) -> Any:
    """WHERE clause: the bounty reads as `status` at `now`. Written on `bounties.status` with
    an EXISTS for the lapsed claim rather than over a join, so the database can use the
    bounty indexes and never joins the claims of bounties that are not claimed."""
    lapsed = exists().where(Claim.bounty_id == Bounty.id, Claim.status == "active",
                            Claim.expires_at <= now)
    if status == "open":
        return or_(Bounty.status == "open", and_(Bounty.status == "claimed", lapsed))
    if status == "claimed":
        return and_(Bounty.status == "claimed", not_(lapsed))
    return Bounty.status == status


def _visible(viewer: Actor, now: datetime) -> list[Any]:
    """WHERE clauses keeping what `viewer` may see (see the module docstring)."""
    if viewer.can(Permission.READ_EVERYTHING) or viewer.can(Permission.MANAGE_BOUNTIES):
        return []
    clauses: list[Any] = [Bounty.status != "draft"]
    # A handful of categories: a subquery instead of a join keeps the board's queries on
    # `bounties` alone.
    embargoed_category = select(BountyCategory.id).where(BountyCategory.is_embargoed.is_(True))
    embargoed = and_(Bounty.category_id.in_(embargoed_category), Bounty.disclosed_at.is_(None))
    if not viewer.can(Permission.VIEW_EMBARGOED):
        if viewer.person_id is not None:
            theirs = exists().where(Claim.bounty_id == Bounty.id, Claim.person_id == viewer.person_id)
            clauses.append(or_(not_(embargoed), theirs))
        else:
            clauses.append(not_(embargoed))
    if viewer.person_id is None:
        clauses.append(_effective_status_is("open", now))
    return clauses


# The EUR amount set aside for each bounty, for sorting by amount: one pass over the
# reservations (a bounty is reserved once, when published; a cancelled one keeps its
# released reservation).
_RESERVED = (
    select(Reservation.subject_id.label("bounty_id"), func.max(Reservation.amount_minor).label("eur"))
    .where(Reservation.purpose == "bounty").group_by(Reservation.subject_id)
    .subquery("reserved")
)
_LIVE_JOIN = and_(_LIVE.bounty_id == Bounty.id, _LIVE.status.in_(LIVE_CLAIM_STATUSES))


def _ids_query(viewer: Actor, now: datetime, filters: BountyFilter) -> Select[Any]:
    """The ids of the bounties `viewer` may see that pass `filters`, joining only what the
    filters need: the board reads ids first and the details of one page only."""
    query = select(Bounty.id).where(*_visible(viewer, now))
    if filters.status:
        if filters.status not in BOUNTY_STATUSES:
            raise InvalidInput("status", f"must be one of {', '.join(BOUNTY_STATUSES)}")
        query = query.where(_effective_status_is(filters.status, now))
    if filters.working_group:
        query = query.join(WorkingGroup, WorkingGroup.id == Bounty.working_group_id).where(
            WorkingGroup.code == filters.working_group.strip().upper())
    if filters.category:
        query = query.join(BountyCategory, BountyCategory.id == Bounty.category_id).where(
            BountyCategory.code == filters.category.strip())
    if filters.currency:
        query = query.where(Bounty.currency == filters.currency.strip().upper())
    text = " ".join((filters.text or "").split()).lower()
    if text:
        query = query.where(or_(func.lower(Bounty.title).contains(text, autoescape=True),
                                func.lower(Bounty.description).contains(text, autoescape=True)))
    return query


def _ordered(query: Select[Any], sort: str, limit: int, offset: int) -> Select[Any]:
    """One page of `query`'s ids in the order `sort` names."""
    if sort not in SORTS:
        raise InvalidInput("sort", f"must be one of {', '.join(SORTS)}")
    if sort == "title":
        query = query.order_by(func.lower(Bounty.title), Bounty.id)
    elif sort in ("amount_desc", "amount_asc"):
        eur = func.coalesce(_RESERVED.c.eur, case((Bounty.currency == "EUR", Bounty.amount_minor)))
        key = eur.desc() if sort == "amount_desc" else eur.asc()
        query = query.outerjoin(_RESERVED, _RESERVED.c.bounty_id == Bounty.id)
        query = query.order_by(key.nulls_last(), Bounty.id.desc())
    else:
        return _newest(query, limit, offset)
    return query.limit(limit).offset(offset)


def _newest(query: Select[Any], limit: int, offset: int) -> Select[Any]:
    """Newest first: by publication, or creation for what was never published, then id.

    Ordering by `coalesce(published_at, created_at)` would sort every visible bounty for
    each page. Instead the published ones come from the `(published_at, id)` index in
    order, the few never published (drafts) are sorted apart, and the page is taken from
    the first `offset + limit` of each: the same rows in the same order.
    """
    wanted = offset + limit
    published = (query.add_columns(Bounty.published_at.label("newest"))
                 .where(Bounty.published_at.is_not(None))
                 .order_by(Bounty.published_at.desc(), Bounty.id.desc()).limit(wanted).subquery())
    unpublished = (query.add_columns(Bounty.created_at.label("newest"))
                   .where(Bounty.published_at.is_(None))
                   .order_by(Bounty.created_at.desc(), Bounty.id.desc()).limit(wanted).subquery())
    both = union_all(select(published.c.id, published.c.newest),
                     select(unpublished.c.id, unpublished.c.newest)).subquery()
    return (select(both.c.id).order_by(both.c.newest.desc(), both.c.id.desc())
            .limit(limit).offset(offset))


def can_view(session: Session, viewer: Actor, bounty_id: int, *, now: datetime | None = None) -> bool:
    """Whether `viewer` may see bounty `bounty_id` (the rule of the module docstring)."""
    query = _ids_query(viewer, now or utcnow(), BountyFilter()).where(Bounty.id == bounty_id)
    return session.execute(select(query.exists())).scalar_one()


def _rows(session: Session, ids: list[int], now: datetime, viewer: Actor) -> list[BountyRow]:
    """The board rows of `ids` (already checked visible to `viewer`), in that order."""
    if not ids:
        return []
    status = _effective_status(now)
    claimant = case((status == "open", None), else_=_CLAIMANT.display_name)
    found = {values[0]: values for values in session.execute(
        select(Bounty.id, Bounty.title, status, BountyCategory.code, BountyCategory.name, WorkingGroup.code,
               Bounty.amount_minor, Bounty.currency,
               and_(BountyCategory.is_embargoed, Bounty.disclosed_at.is_(None)), claimant,
               Bounty.published_at, _CLAIMANT.id, _CLAIMANT.is_public_listing)
        .join(BountyCategory, BountyCategory.id == Bounty.category_id)
        .outerjoin(WorkingGroup, WorkingGroup.id == Bounty.working_group_id)
        .outerjoin(_LIVE, _LIVE_JOIN)
        .outerjoin(_CLAIMANT, _CLAIMANT.id == _LIVE.person_id)
        .where(Bounty.id.in_(ids))
    )}
    reserved: dict[int, int] = {}
    for subject_id, minor in session.execute(
        select(Reservation.subject_id, Reservation.amount_minor)
        .where(Reservation.purpose == "bounty", Reservation.subject_id.in_(ids)).order_by(Reservation.id)
    ):
        reserved[subject_id] = int(minor)
    rows = []
    reveal = public_names.sees_every_name(viewer)
    for id_ in ids:
        (_, title, state, code, name, group, minor, currency, embargoed, name_of_claimant,
         published_at, _claimant_id, claimant_is_public) = found[id_]
        eur = reserved.get(id_, int(minor) if currency == "EUR" else None)
        hidden = name_of_claimant is not None and not reveal and not claimant_is_public
        rows.append(BountyRow(id_, title, state, code, name, group, Money(int(minor), currency),
                              Money(eur, "EUR") if eur is not None else None, bool(embargoed),
                              None if hidden else name_of_claimant, published_at, hidden))
    return rows


def list_bounties(session: Session, viewer: Actor, filters: BountyFilter, page: int = 1,
                  per_page: int = 25, *, now: datetime | None = None) -> Page:
    """One page of the bounties `viewer` may see, filtered and sorted, with the total count."""
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise InvalidInput("page", "a page number is a whole number of at least 1")
    if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput("per_page", f"from 1 to {MAX_PER_PAGE} per page")
    now = now or utcnow()
    query = _ids_query(viewer, now, filters)
    ordered = _ordered(query, filters.sort or "newest", per_page, (page - 1) * per_page)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    ids = list(session.execute(ordered).scalars())
    return Page(_rows(session, ids, now, viewer), int(total), page, per_page)


def _claim_view(session: Session, claim: Claim, now: datetime, hidden: frozenset[int]) -> ClaimView:
    person = session.get(Person, claim.person_id)
    withheld = claim.person_id in hidden
    name = "" if withheld else (person.display_name if person else "?")
    return ClaimView(claim.id, claim.person_id, name,
                     effective_claim_status(claim, now), claim.claimed_at, claim.expires_at,
                     claim.submitted_at, claim.decided_at, claim.remediation_due_at,
                     claim.remediation_breached_at, withheld)


def _reviews(session: Session, claim: Claim, hidden: frozenset[int]) -> list[ReviewView]:
    rows = session.execute(
        select(Review, Person.display_name).join(Person, Person.id == Review.reviewer_id)
        .where(Review.claim_id == claim.id).order_by(Review.id)
    ).all()
    return [ReviewView(r.reviewer_id, "" if r.reviewer_id in hidden else name, r.reviewer_jurisdiction_code,
                       r.verdict, r.comment, r.is_security_council, r.created_at, r.reviewer_id in hidden)
            for r, name in rows]


def _actions(viewer: Actor, row: BountyRow, claim: ClaimView | None, reviews: list[ReviewView]) -> set[str]:
    actions: set[str] = set()
    if viewer.can(Permission.MANAGE_BOUNTIES):
        actions |= {"edit"} if row.status in ("draft", "open") else set()
        actions |= {"publish"} if row.status == "draft" else set()
        actions |= {"cancel"} if row.status in ("draft", "open", "claimed", "submitted") else set()
    if viewer.person_id is None:
        return actions
    if row.status == "open" and viewer.can(Permission.CLAIM_BOUNTY):
        actions.add("claim")
    if claim is not None and claim.person_id == viewer.person_id and claim.status == "active":
        actions.add("submit")
    if (claim is not None and claim.status == "submitted" and viewer.can(Permission.REVIEW_WORK)
            and claim.person_id != viewer.person_id
            and all(r.reviewer_id != viewer.person_id for r in reviews)):
        actions.add("review")
    return actions


def get_bounty(session: Session, viewer: Actor, bounty_id: int, *,
               now: datetime | None = None) -> BountyDetail:
    """One bounty as `viewer` may see it; NotFound when they may not (existence never shows)."""
    now = now or utcnow()
    if not can_view(session, viewer, bounty_id, now=now):
        raise NotFound(f"no bounty {bounty_id}")
    [row] = _rows(session, [bounty_id], now, viewer)
    bounty = session.get(Bounty, bounty_id)
    assert bounty is not None
    category = session.get(BountyCategory, bounty.category_id)
    assert category is not None
    live = session.execute(
        select(Claim).where(Claim.bounty_id == bounty.id, Claim.status.in_(LIVE_CLAIM_STATUSES))
    ).scalar_one_or_none()
    timeline = audit.events_for(session, "bounty", bounty.id)
    people = {event.actor_id for event in timeline}
    if live is not None:
        people |= {live.person_id, *(review.reviewer_id for review in live.reviews)}
    hidden = public_names.hidden_among(session, viewer, people)
    claim = _claim_view(session, live, now, hidden) if live is not None else None
    if claim is not None and claim.status == "lapsed":
        claim = None
    reviews = _reviews(session, live, hidden) if claim is not None and live is not None else []
    links = [LinkView(link.url) for link in live.links] if claim is not None and live else []
    review_status = None
    if claim is not None and claim.status in ("submitted", "approved"):
        votes = [ReviewVote(r.reviewer_id, r.jurisdiction, r.verdict, r.is_security_council) for r in reviews]
        review_status = review_outcome(votes, claim.person_id, is_security_fix(category))
    return BountyDetail(
        bounty=bounty, row=row, category=category,
        working_group=session.get(WorkingGroup, bounty.working_group_id) if bounty.working_group_id else None,
        capability=session.get(Capability, bounty.capability_id) if bounty.capability_id else None,
        claim=claim, links=links, reviews=reviews, review_status=review_status,
        actions=_actions(viewer, row, claim, reviews),
        timeline=timeline, hidden_people=hidden,
    )


def review_queue(session: Session, viewer: Actor, *, now: datetime | None = None) -> list[BountyRow]:
    """Submitted claims `viewer` may review: visible, not their own, not yet reviewed by them."""
    viewer.require(Permission.REVIEW_WORK)
    if viewer.person_id is None:
        return []
    now = now or utcnow()
    reviewed = exists().where(Review.claim_id == _LIVE.id, Review.reviewer_id == viewer.person_id)
    ids = session.execute(
        _ids_query(viewer, now, BountyFilter()).join(_LIVE, _LIVE_JOIN)
        .where(_LIVE.status == "submitted", _LIVE.person_id != viewer.person_id, not_(reviewed))
        .order_by(_LIVE.submitted_at, Bounty.id)
    ).scalars()
    return _rows(session, list(ids), now, viewer)
