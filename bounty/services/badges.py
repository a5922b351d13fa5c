"""Badges: each badge's metric per person computed from the facts, the badge awarded once
when the metric reaches its threshold, and a person's badges for their profile.

A metric is a stream of dated facts per person (docs/badges.md):
- merged_mrs: DCO-clean merged merge requests credited to the person, at `merged_at`;
- bounties_approved / security_fixes / documentation_bounties: the person's approved bounty
  claims (all, those of a security-fix category, those of the documentation category), at
  the approval; a claim whose payout was clawed back never counts;
- earnings_eur: the EUR reserved for each of those approved bounties, in whole euros;
- approved_hours / documentation_hours / mentoring_hours: approved hours (all, documentation,
  mentoring), counted from quarter hours, at the approval;
- reviews_given: bounty reviews cast, hours entries reviewed and grant tranches signed off;
- awards_won: awards won (bounty.services.award_queries), at the close of the year's vote.

A badge is earned when the running total reaches its threshold; `earned_at` is the moment
of the fact that reached it (the 10th merge's `merged_at` for "10 merges"). A badge, once
awarded, stays with its date. Awarding is idempotent: a person holds a badge at most once
(unique person + badge). Concurrent awarders queue on the audit chain's head, re-read what
is held once they have it, and insert with ON CONFLICT DO NOTHING, so none of them fails
and each award is recorded once, with one `badge.award` audit event.

`award_badges_now` is for the services that change the facts (the GitLab sync and import,
claim approval, hours review, tranche sign-off): it flushes inside their transaction.
`award_badges` re-evaluates people on its own (`bounty badges award`) and commits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, func, literal, or_, select, union_all
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.models import (
    AwardRound,
    Badge,
    Bounty,
    BountyCategory,
    Claim,
    HoursEntry,
    MergeRequest,
    PayoutItem,
    Person,
    PersonBadge,
    Reservation,
    Review,
    Tranche,
    utcnow,
)
from bounty.models.engine import is_postgres
from bounty.services import audit
from bounty.services.actors import SYSTEM, Actor

# How a threshold in the metric's unit compares with the amounts the facts carry.
UNIT_SCALE = {"approved_hours": 4, "documentation_hours": 4, "mentoring_hours": 4, "earnings_eur": 100}
DOCUMENTATION_CATEGORY = "documentation"
HOURS_ACTIVITY = {"documentation_hours": "documentation", "mentoring_hours": "mentoring"}
# The metrics each kind of fact moves: a service re-evaluates only the badges its fact can earn.
MERGE_METRICS = ("merged_mrs",)
REVIEW_METRICS = ("reviews_given",)
CLAIM_METRICS = ("bounties_approved", "security_fixes", "documentation_bounties", "earnings_eur",
                 *REVIEW_METRICS)
HOURS_METRICS = ("approved_hours", "documentation_hours", "mentoring_hours", *REVIEW_METRICS)


@dataclass(frozen=True)
class EarnedBadge:
    """A badge a person holds, as the profile shows it."""

    code: str
    name: str
    name_fr: str
    description: str
    description_fr: str
    metric: str
    threshold: int
    earned_at: datetime

    def name_in(self, lang: str) -> str:
        return self.name_fr if lang == "fr" and self.name_fr else self.name

    def description_in(self, lang: str) -> str:
        return self.description_fr if lang == "fr" and self.description_fr else self.description


# --- the facts --------------------------------------------------------------------------------

def _people(column: ColumnElement[int | None], person_ids: Collection[int] | None
            ) -> list[ColumnElement[bool]]:
    """The condition that `column` names one of the people (anyone when None)."""
    return [column.isnot(None)] if person_ids is None else [column.in_(list(person_ids))]


def _not_clawed_back() -> ColumnElement[bool]:
    return ~exists().where(PayoutItem.kind == "bounty", PayoutItem.subject_id == Claim.id,
                           PayoutItem.status == "clawed_back")


def _approved_claims(metric: str, person_ids: Collection[int] | None) -> Select:
    """The approved claims counting for `metric`: (person_id, at, amount, seq)."""
    amount: ColumnElement[int] = literal(1)
    query = select(Claim.person_id.label("person_id"), Claim.decided_at.label("at"), Claim.id.label("seq"))
    if metric == "earnings_eur":
        amount = Reservation.amount_minor
        query = query.join(Bounty, Bounty.id == Claim.bounty_id).join(
            Reservation, (Reservation.purpose == "bounty") & (Reservation.subject_id == Bounty.id)
            & (Reservation.status == "consumed"))
    elif metric in ("security_fixes", "documentation_bounties"):
        query = query.join(Bounty, Bounty.id == Claim.bounty_id).join(
            BountyCategory, BountyCategory.id == Bounty.category_id)
        query = query.where(
            or_(BountyCategory.is_embargoed.is_(True), BountyCategory.remediation_hours.isnot(None))
            if metric == "security_fixes" else BountyCategory.code == DOCUMENTATION_CATEGORY)
    return query.add_columns(amount.label("amount")).where(
        Claim.status == "approved", Claim.decided_at.isnot(None), _not_clawed_back(),
        *_people(Claim.person_id, person_ids))


def _hours(metric: str, person_ids: Collection[int] | None) -> Select:
    query = select(
        HoursEntry.person_id.label("person_id"),
        func.coalesce(HoursEntry.reviewed_at, HoursEntry.created_at).label("at"),
        HoursEntry.id.label("seq"), HoursEntry.quarter_hours.label("amount"),
    ).where(HoursEntry.status == "approved", *_people(HoursEntry.person_id, person_ids))
    if metric in HOURS_ACTIVITY:
        query = query.where(HoursEntry.activity == HOURS_ACTIVITY[metric])
    return query


def _reviews(person_ids: Collection[int] | None) -> Select:
    # seq keeps the three sources apart when two facts share a moment.
    bounty_reviews = select(Review.reviewer_id.label("person_id"), Review.created_at.label("at"),
                            (Review.id * 3).label("seq"), literal(1).label("amount")
                            ).where(*_people(Review.reviewer_id, person_ids))
    hours_reviews = select(HoursEntry.reviewer_id, HoursEntry.reviewed_at, HoursEntry.id * 3 + 1, literal(1)
                           ).where(HoursEntry.status.in_(("approved", "rejected")),
                                   HoursEntry.reviewed_at.isnot(None),
                                   *_people(HoursEntry.reviewer_id, person_ids))
    sign_offs = select(Tranche.signed_off_by_id, Tranche.signed_off_at, Tranche.id * 3 + 2, literal(1)
                       ).where(Tranche.signed_off_at.isnot(None),
                               *_people(Tranche.signed_off_by_id, person_ids))
    union = union_all(bounty_reviews, hours_reviews, sign_offs).subquery()
    return select(union.c.person_id, union.c.at, union.c.seq, union.c.amount)


def _facts(metric: str, person_ids: Collection[int] | None) -> Select:
    """The dated facts of `metric`: rows of (person_id, at, seq, amount)."""
    if metric == "merged_mrs":
        return select(MergeRequest.person_id.label("person_id"), MergeRequest.merged_at.label("at"),
                      MergeRequest.id.label("seq"), literal(1).label("amount")).where(
            MergeRequest.is_dco_ok.is_(True), MergeRequest.merged_at.isnot(None),
            *_people(MergeRequest.person_id, person_ids))
    if metric in ("bounties_approved", "security_fixes", "documentation_bounties", "earnings_eur"):
        return _approved_claims(metric, person_ids)
    if metric in ("approved_hours", "documentation_hours", "mentoring_hours"):
        return _hours(metric, person_ids)
    if metric == "reviews_given":
        return _reviews(person_ids)
    raise ValueError(f"no facts for metric {metric!r}")


def _reached(session: Session, badge: Badge, person_ids: Collection[int] | None,
             until: datetime | None) -> dict[int, datetime]:
    """When each of the people reached the badge's threshold (those who did by `until`)."""
    needed = badge.threshold * UNIT_SCALE.get(badge.metric, 1)
    if badge.metric == "awards_won":
        return _awards_reached(session, needed, person_ids, until)
    facts = _facts(badge.metric, person_ids).subquery()
    running = select(
        facts.c.person_id, facts.c.at,
        func.sum(facts.c.amount).over(partition_by=facts.c.person_id,
                                      order_by=(facts.c.at, facts.c.seq)).label("total"),
    ).subquery()
    # A running total counts only earlier facts, so cutting at `until` afterwards is exact.
    reached = select(running.c.person_id, func.min(running.c.at)).where(running.c.total >= needed)
    if until is not None:
        reached = reached.where(running.c.at <= until)
    rows = session.execute(reached.group_by(running.c.person_id))
    return {person_id: at for person_id, at in rows}


def _awards_reached(session: Session, needed: int, person_ids: Collection[int] | None,
                    until: datetime | None) -> dict[int, datetime]:
    # Imported here, not at the top: only a badge of awards won needs the awards' results.
    from bounty.services import award_queries

    closes = dict(session.execute(select(AwardRound.year, AwardRound.voting_closes_at)).all())
    won: dict[int, list[datetime]] = {}
    for winner in award_queries.winners(session, 1, 9999):
        if winner.person_id is None or (person_ids is not None and winner.person_id not in person_ids):
            continue
        closed = closes.get(winner.year)
        if closed is not None and (until is None or closed <= until):
            won.setdefault(winner.person_id, []).append(closed)
    return {person_id: sorted(times)[needed - 1] for person_id, times in won.items() if len(times) >= needed}


# --- awarding ---------------------------------------------------------------------------------

def _held(session: Session, person_ids: Collection[int] | None) -> set[tuple[int, int]]:
    return {(person_id, badge_id) for person_id, badge_id in session.execute(
        select(PersonBadge.person_id, PersonBadge.badge_id).where(*_people(PersonBadge.person_id, person_ids))
    )}


def _lock_audit_chain(session: Session) -> None:
    """The audit chain's head, locked until the transaction ends: awarders queue here before
    they write (every writer takes this lock when it records an event), so two of them never
    wait on each other's new badge rows while holding it."""
    audit.lock_chain(session)


def award_badges_now(session: Session, person_ids: Iterable[int] | None,
                     metrics: Iterable[str] | None = None, *, until: datetime | None = None
                     ) -> list[PersonBadge]:
    """Award the badges the facts have earned the people `person_ids` (None: everyone), in the
    caller's transaction (flushes, never commits); the new awards.

    `metrics` limits the evaluation to badges of those metrics (a sync only changes merged
    work); `until` leaves out facts dated after it. People merged into another person earn
    nothing (their facts moved with them).
    """
    ids: set[int] | None = None if person_ids is None else {int(p) for p in person_ids}
    if ids is not None and not ids:
        return []
    query = select(Badge).order_by(Badge.position, Badge.id)
    if metrics is not None:
        query = query.where(Badge.metric.in_(list(metrics)))
    badges = list(session.execute(query).scalars())
    if not badges:
        return []
    gone = set(session.execute(
        select(Person.id).where(Person.merged_into_id.isnot(None), *_people(Person.id, ids))).scalars())
    held = _held(session, ids)
    wanted: dict[tuple[int, int], datetime] = {}
    for badge in badges:
        missing = None if ids is None else [p for p in ids if (p, badge.id) not in held]
        if missing is not None and not missing:
            continue
        for person_id, at in _reached(session, badge, missing, until).items():
            if (person_id, badge.id) not in held and person_id not in gone:
                wanted[(person_id, badge.id)] = at
    if not wanted:
        return []
    _lock_audit_chain(session)
    held = _held(session, {person_id for person_id, _ in wanted})
    return _insert(session, {key: at for key, at in wanted.items() if key not in held},
                   {badge.id: badge for badge in badges})


def _insert(session: Session, wanted: dict[tuple[int, int], datetime], badges: dict[int, Badge]
            ) -> list[PersonBadge]:
    dialect_insert = postgresql_insert if is_postgres(session) else sqlite_insert
    awarded: list[PersonBadge] = []
    now = utcnow()
    for (person_id, badge_id), at in sorted(wanted.items()):
        new_id = session.execute(
            dialect_insert(PersonBadge)
            .values(person_id=person_id, badge_id=badge_id, earned_at=at, created_at=now)
            .on_conflict_do_nothing(index_elements=["person_id", "badge_id"])
            .returning(PersonBadge.id)
        ).scalar_one_or_none()
        if new_id is None:
            continue  # awarded meanwhile by another transaction
        row = session.get(PersonBadge, new_id)
        assert row is not None
        badge = badges[badge_id]
        audit.record(session, SYSTEM, "badge.award", "person", person_id,
                     {"badge": badge.code, "metric": badge.metric, "threshold": badge.threshold,
                      "earned_at": at.isoformat()})
        awarded.append(row)
    return awarded


def redate_badges_now(session: Session, person_ids: Iterable[int]) -> int:
    """Set the date of the badges the people hold to the moment their facts now show the
    threshold was reached (flushes); how many moved.

    Badges keep the date they were awarded with: facts normally arrive in the order they
    happened. A loader that writes older facts after newer ones (the demo seed) calls this
    once everything is in. Each change is recorded (`badge.redate`).
    """
    ids = {int(p) for p in person_ids}
    if not ids:
        return 0
    rows = list(session.execute(
        select(PersonBadge, Badge).join(Badge, Badge.id == PersonBadge.badge_id)
        .where(PersonBadge.person_id.in_(list(ids))).order_by(PersonBadge.person_id, Badge.position)
    ).all())
    reached: dict[int, dict[int, datetime]] = {}
    moved = 0
    for held_badge, badge in rows:
        if badge.id not in reached:
            reached[badge.id] = _reached(session, badge, ids, None)
        at = reached[badge.id].get(held_badge.person_id)
        if at is None or at == held_badge.earned_at:
            continue
        if moved == 0:
            _lock_audit_chain(session)
        audit.record(session, SYSTEM, "badge.redate", "person", held_badge.person_id,
                     {"badge": badge.code, "from": held_badge.earned_at.isoformat(), "to": at.isoformat()})
        held_badge.earned_at = at
        moved += 1
    session.flush()
    return moved


def award_badges(session: Session, actor: Actor, person_ids: Iterable[int] | None = None,
                 now: datetime | None = None) -> list[PersonBadge]:
    """Re-evaluate the people `person_ids` (None: everyone) and award what they have earned
    (commits); the new awards, none when run again.

    `now` (default: the current time) is when the evaluation runs: facts dated later (a
    demo's or a test's future) do not count yet. A badge's date is the moment of the fact
    that earned it, never `now`."""
    actor.require(Permission.MANAGE_AWARDS)
    try:
        awarded = award_badges_now(session, person_ids, until=now or utcnow())
        session.commit()
        return awarded
    except BaseException:
        session.rollback()
        raise


def badges_of(session: Session, person_id: int) -> list[EarnedBadge]:
    """The badges a person holds, in the badges' order, each with the date it was earned."""
    rows = session.execute(
        select(Badge, PersonBadge.earned_at).join(PersonBadge, PersonBadge.badge_id == Badge.id)
        .where(PersonBadge.person_id == person_id).order_by(Badge.position, PersonBadge.earned_at, Badge.id)
    ).all()
    return [EarnedBadge(badge.code, badge.name, badge.name_fr, badge.description, badge.description_fr,
                        badge.metric, badge.threshold, earned_at) for badge, earned_at in rows]
