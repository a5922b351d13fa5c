"""What counts as a contribution, as SQL: one aggregate per person for each leaderboard metric
over a period [start, end), optionally limited to one working group's work.

Each metric is a SELECT of (person_id, value, at) grouped by person (`aggregates` gives them
all as subqueries, which the leaderboard joins to people); `at` is the time of the person's
latest fact of that metric in the period. The rules (docs/leaderboards.md):

- merged_mrs: merged merge requests credited to the person (`person_id` set) and DCO-clean
  (`is_dco_ok` true), `merged_at` in the period; at `merged_at`.
- earnings_minor: the EUR (minor units) set aside for each bounty whose claim by the person
  was approved (`Claim.decided_at`) in the period: the reservation the approval consumed
  (pools are kept in EUR). A payable whose ledger transaction was reversed (a claw-back)
  never counts. At `decided_at`.
- quarter_hours: approved hours entries with `worked_on` in the period; at 00:00 UTC of
  `worked_on` (the day they count for, inside the period).
- reviews_given: bounty reviews cast (`Review.created_at`), hours entries approved or
  rejected (`reviewed_at`) and grant tranches signed off (`signed_off_at`), in the period.
- awards_won: not counted here (awards are decided by vote, see `leaderboards`), passed in
  as (person_id, count, decided_at) rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    DateTime,
    Integer,
    Select,
    String,
    and_,
    cast,
    exists,
    func,
    literal,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.sql.selectable import Subquery

from bounty.models import (
    Bounty,
    Claim,
    Grant,
    HoursEntry,
    LedgerTransaction,
    MergeRequest,
    Reservation,
    Review,
    Tranche,
    WorkingGroupProject,
)
from bounty.models.base import UTCDateTime

# What each metric's aggregate holds in its `value` column.
METRIC_COLUMNS = {"merged_mrs": "merged_mrs", "earnings": "earnings_minor", "hours": "quarter_hours",
                  "reviews": "reviews_given", "awards": "awards_won"}


@dataclass(frozen=True)
class Scope:
    """The facts to count: a period [start, end) (None: unbounded) and, for a working
    group's board, the group (its projects' merge requests, its hours, bounties and grants)."""

    start: datetime | None = None
    end: datetime | None = None
    working_group_id: int | None = None


@dataclass(frozen=True)
class AwardWins:
    """A person's awards in the period and when the last was decided."""

    person_id: int
    count: int
    decided_at: datetime


def _in_period(column: Any, scope: Scope) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [column.is_not(None)]
    if scope.start is not None:
        clauses.append(column >= scope.start)
    if scope.end is not None:
        clauses.append(column < scope.end)
    return clauses


def _columns(person: Any, value: Any, at: Any) -> list[Any]:
    return [person.label("person_id"), value.label("value"), type_coerce(at, UTCDateTime).label("at")]


def merged_mrs(scope: Scope) -> Select[Any]:
    """DCO-clean merged MRs per credited person."""
    # `WHERE is_dco_ok` (not `IS TRUE`) lets PostgreSQL use an index partial on is_dco_ok.
    query = select(*_columns(MergeRequest.person_id, func.count(), func.max(MergeRequest.merged_at))).where(
        MergeRequest.is_dco_ok, MergeRequest.person_id.is_not(None),
        *_in_period(MergeRequest.merged_at, scope))
    if scope.working_group_id is not None:
        query = query.where(MergeRequest.project_path.in_(
            select(WorkingGroupProject.project_path)
            .where(WorkingGroupProject.working_group_id == scope.working_group_id)))
    return query.group_by(MergeRequest.person_id)


def earnings(scope: Scope) -> Select[Any]:
    """EUR minor units of approved bounties per claimant, claw-backs excluded."""
    clawed_back = exists().where(LedgerTransaction.reverses_id == Reservation.close_transaction_id)
    query = (
        select(*_columns(Claim.person_id, func.sum(Reservation.amount_minor), func.max(Claim.decided_at)))
        .join(Reservation, and_(Reservation.purpose == "bounty", Reservation.subject_id == Claim.bounty_id,
                                Reservation.status == "consumed"))
        .where(Claim.status == "approved", ~clawed_back, *_in_period(Claim.decided_at, scope))
    )
    if scope.working_group_id is not None:
        query = query.join(Bounty, Bounty.id == Claim.bounty_id).where(
            Bounty.working_group_id == scope.working_group_id)
    return query.group_by(Claim.person_id)


def _start_of_day(day: Any, dialect: str) -> Any:
    """A DATE column as the UTC timestamp of its midnight, stored the way timestamps are."""
    if dialect == "postgresql":
        return func.timezone("UTC", cast(day, DateTime()))
    # SQLite keeps UTC timestamps as text "YYYY-MM-DD HH:MM:SS.ffffff": the same form compares right.
    return cast(day, String) + literal(" 00:00:00.000000")


def approved_hours(scope: Scope, dialect: str) -> Select[Any]:
    """Approved quarter hours per person, by the day worked."""
    query = select(*_columns(HoursEntry.person_id, func.sum(HoursEntry.quarter_hours),
                             func.max(_start_of_day(HoursEntry.worked_on, dialect)))).where(
        HoursEntry.status == "approved")
    if scope.start is not None:
        query = query.where(HoursEntry.worked_on >= scope.start.date())
    if scope.end is not None:
        query = query.where(HoursEntry.worked_on < scope.end.date())
    if scope.working_group_id is not None:
        query = query.where(HoursEntry.working_group_id == scope.working_group_id)
    return query.group_by(HoursEntry.person_id)


def reviews_given(scope: Scope) -> Select[Any]:
    """Bounty reviews, hours reviews and tranche sign-offs per reviewer."""
    bounty_reviews = select(Review.reviewer_id.label("person_id"), Review.created_at.label("at")).where(
        *_in_period(Review.created_at, scope))
    hours_reviews = select(HoursEntry.reviewer_id, HoursEntry.reviewed_at).where(
        HoursEntry.status.in_(("approved", "rejected")), HoursEntry.reviewer_id.is_not(None),
        *_in_period(HoursEntry.reviewed_at, scope))
    sign_offs = select(Tranche.signed_off_by_id, Tranche.signed_off_at).where(
        Tranche.signed_off_by_id.is_not(None), *_in_period(Tranche.signed_off_at, scope))
    if scope.working_group_id is not None:
        group = scope.working_group_id
        bounty_reviews = (bounty_reviews.join(Claim, Claim.id == Review.claim_id)
                          .join(Bounty, Bounty.id == Claim.bounty_id).where(Bounty.working_group_id == group))
        hours_reviews = hours_reviews.where(HoursEntry.working_group_id == group)
        sign_offs = sign_offs.join(Grant, Grant.id == Tranche.grant_id).where(Grant.working_group_id == group)
    acts = union_all(bounty_reviews, hours_reviews, sign_offs).subquery("review_acts")
    return select(*_columns(acts.c.person_id, func.count(), func.max(acts.c.at))).group_by(acts.c.person_id)


def awards(wins: Sequence[AwardWins]) -> Select[Any] | CompoundSelect[Any] | None:
    """Awards won as literal rows (a handful a year), one per person; None when there are none."""
    rows = [select(*_columns(literal(win.person_id, Integer), literal(win.count, Integer),
                             literal(win.decided_at, UTCDateTime))) for win in wins]
    if not rows:
        return None
    return rows[0] if len(rows) == 1 else union_all(*rows)


def aggregates(scope: Scope, dialect: str, wins: Sequence[AwardWins] = ()) -> dict[str, Subquery]:
    """Each metric's per-person aggregate (person_id, value, at), keyed as METRIC_COLUMNS; at
    most one row per person in each, to be joined to people."""
    tables = {"merged_mrs": merged_mrs(scope).subquery("mrs"),
              "earnings": earnings(scope).subquery("earnings"),
              "hours": approved_hours(scope, dialect).subquery("hours"),
              "reviews": reviews_given(scope).subquery("reviews")}
    won = awards(wins)
    if won is not None:
        tables["awards"] = won.subquery("awards")
    return tables
