"""Leaderboards: who contributed most in a period, overall or per jurisdiction, working group
or organisation, ranked by a weighted score (docs/leaderboards.md).

The counting rules are `contribution_metrics` (one SQL aggregate per metric). This module
parses periods and views and ranks in one SQL statement: people joined to each metric's
per-person aggregate, those with nothing counted and those merged into another left out,
the score computed exactly in integers, ordered by score (highest first), then `reached_at`
(earliest first), then username (code-point order, the same on both databases), with the
page cut and the total count in the same query.

Score: sum of weight x value, earnings in euros (minor units / 100), hours in hours
(quarter hours / 4). Weights are Numeric(12, 4), so every term is an integer number of
millionths: the statement computes score x 10^6 in integers (exact on both databases) and
the row's score is that divided by 10^6 as a Decimal.

Names: a person is named only while `is_public_listing` is true, unless the viewer may read
everything or manage awards (auditors, program admins, the system). Otherwise the row stays,
as an anonymous contributor: no name, username or organisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal_column, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from bounty.governance.permissions import Permission
from bounty.ledger import Money
from bounty.models import AwardRound, Jurisdiction, Organisation, Person, ScoreWeight, WorkingGroup
from bounty.models.base import UTCDateTime
from bounty.services import award_queries
from bounty.services.actors import Actor
from bounty.services.contribution_metrics import METRIC_COLUMNS, AwardWins, Scope, aggregates
from bounty.services.errors import InvalidInput, NotFound
from bounty.services.hours import hours_of

VIEWS = ("overall", "jurisdiction", "working_group", "organisation")
# The metrics a leaderboard scores, in the order pages show them.
SCORED = ("merged_mrs", "earnings_eur", "approved_hours", "reviews_given", "awards_won")
MAX_LIMIT = 1000
# Who sees the names of people who did not agree to be listed.
NAME_READERS = (Permission.READ_EVERYTHING, Permission.MANAGE_AWARDS)
# Weights have 4 decimals, earnings 2 (cents), hours 2 (quarters): 10^6 makes every term whole.
SCORE_SCALE = 6
_PERIOD = re.compile(r"^(?P<year>[0-9]{4})(?:-Q(?P<quarter>[1-4]))?$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC; both None for all time. `text` is how it is written: "all",
    "2026" or "2026-Q3"."""

    text: str
    start: datetime | None
    end: datetime | None
    year: int | None = None
    quarter: int | None = None

    @property
    def kind(self) -> str:
        """"all", "year" or "quarter"."""
        return "all" if self.year is None else "year" if self.quarter is None else "quarter"


@dataclass(frozen=True)
class LeaderboardRow:
    """One ranked person. `name`, `username` and `organisation_name` are None when the viewer
    may not see who this is (an anonymous contributor)."""

    rank: int
    person_id: int
    name: str | None
    username: str | None
    is_public: bool
    jurisdiction_code: str | None
    organisation_name: str | None
    merged_mrs: int
    earnings_eur: Money
    approved_hours: Decimal
    reviews_given: int
    awards_won: int
    score: Decimal
    reached_at: datetime | None

    @property
    def is_anonymous(self) -> bool:
        return self.name is None


@dataclass(frozen=True)
class Leaderboard:
    """A page of the ranking and how many people rank in all."""

    rows: list[LeaderboardRow]
    total: int
    period: Period | None = None
    view: str = "overall"
    key: str | None = None


def parse_period(text: str) -> Period:
    """"all", "2026" or "2026-Q3" as a Period; InvalidInput("period", ...) otherwise."""
    cleaned = (text or "").strip()
    if cleaned.lower() == "all":
        return Period("all", None, None)
    match = _PERIOD.match(cleaned)
    if match is None:
        raise InvalidInput("period",
                           f"{text!r} is not a period: write all, a year (2026) or a quarter (2026-Q3)")
    year = int(match["year"])
    if not 1970 <= year <= 9998:
        raise InvalidInput("period", f"{year} is out of range")
    if match["quarter"] is None:
        return Period(str(year), datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC), year)
    quarter = int(match["quarter"])
    start = datetime(year, 3 * quarter - 2, 1, tzinfo=UTC)
    end = (datetime(year + 1, 1, 1, tzinfo=UTC) if quarter == 4
           else datetime(year, 3 * quarter + 1, 1, tzinfo=UTC))
    return Period(f"{year}-Q{quarter}", start, end, year, quarter)


def year_period(year: int) -> Period:
    """The calendar year `year` as a Period."""
    return parse_period(str(year))


def weights(session: Session) -> dict[str, Decimal]:
    """The score weight of each leaderboard metric (ScoreWeight rows; 0 where none is stored)."""
    stored = dict(session.execute(
        select(ScoreWeight.metric, ScoreWeight.weight).where(ScoreWeight.metric.in_(SCORED))).all())
    return {metric: Decimal(stored.get(metric, 0)) for metric in SCORED}


def sees_every_name(viewer: Actor | None) -> bool:
    """Whether `viewer` sees the names of people who did not agree to be listed."""
    return viewer is not None and any(viewer.can(permission) for permission in NAME_READERS)


@dataclass(frozen=True)
class _View:
    name: str
    key: str | None
    people: list[Any]
    working_group_id: int | None = None


def _view(session: Session, view: str, key: str | int | None) -> _View:
    name = (view or "overall").strip().lower()
    if name not in VIEWS:
        raise InvalidInput("view", f"one of {', '.join(VIEWS)}")
    if name == "overall":
        return _View(name, None, [])
    text = str(key).strip() if key is not None else ""
    if not text:
        raise InvalidInput("key", f"name the {name.replace('_', ' ')}")
    if name == "jurisdiction":
        code = text.upper()
        if session.get(Jurisdiction, code) is None:
            raise NotFound(f"no jurisdiction {text!r}")
        return _View(name, code, [Person.jurisdiction_code == code])
    if name == "working_group":
        group_id = session.execute(select(WorkingGroup.id).where(WorkingGroup.code == text.upper())).scalar()
        if group_id is None:
            raise NotFound(f"no working group {text!r}")
        return _View(name, text.upper(), [], group_id)
    if not text.isdigit():
        raise InvalidInput("key", "an organisation is named by its number")
    if session.get(Organisation, int(text)) is None:
        raise NotFound(f"no organisation {text}")
    return _View(name, text, [Person.organisation_id == int(text)])


def _award_wins(session: Session, period: Period) -> list[AwardWins]:
    """Awards won by people in rounds whose year lies in the period (a quarter holds no whole
    year, so none), each dated by its round's vote closing."""
    if period.kind == "quarter":
        return []
    if period.year is not None:
        first = last = period.year
    else:
        bounds = session.execute(select(func.min(AwardRound.year), func.max(AwardRound.year))).one()
        if bounds[0] is None:
            return []
        first, last = int(bounds[0]), int(bounds[1])
    closes = dict(session.execute(select(AwardRound.year, AwardRound.voting_closes_at)
                                  .where(AwardRound.year.between(first, last))).all())
    wins: dict[int, tuple[int, datetime]] = {}
    for winner in award_queries.winners(session, first, last):
        if winner.person_id is None:
            continue
        decided = closes.get(winner.year) or datetime(winner.year + 1, 1, 1, tzinfo=UTC)
        count, latest = wins.get(winner.person_id, (0, decided))
        wins[winner.person_id] = (count + 1, max(latest, decided))
    return [AwardWins(person_id, count, at) for person_id, (count, at) in sorted(wins.items())]


def _scaled_weights(session: Session) -> dict[str, int]:
    """Each weight x 10^4 as an integer (exact: the column has 4 decimals)."""
    return {metric: int(weight.scaleb(4)) for metric, weight in weights(session).items()}


def _score(value: Any) -> Decimal:
    exact = Decimal(int(value)).scaleb(-SCORE_SCALE)
    return exact.quantize(Decimal(1)) if exact == exact.to_integral_value() else exact.normalize()


@dataclass(frozen=True)
class _Ranking:
    """The ranking statement's parts: the select (unordered, unlimited) and its order."""

    query: Any
    order: list[Any]


def _ranking(session: Session, period: Period, chosen: _View) -> _Ranking:
    dialect = session.get_bind().dialect.name
    # Awards are a person's, not a working group's: the group's board counts its own work only.
    wins = [] if chosen.name == "working_group" else _award_wins(session, period)
    tables = aggregates(Scope(period.start, period.end, chosen.working_group_id), dialect, wins)
    # People joined to each metric's aggregate (hash joins on PostgreSQL; no second aggregation).
    values = {METRIC_COLUMNS[name]: func.coalesce(table.c.value, 0) for name, table in tables.items()}
    for column in METRIC_COLUMNS.values():
        values.setdefault(column, literal_column("0"))
    reached = _latest(dialect, [table.c.at for table in tables.values()])
    w = _scaled_weights(session)
    # score x 10^6 = weight x 10^4 times value x 10^2 (earnings: minor units are euros x 10^2;
    # hours: quarter hours x 25 are hours x 10^2).
    scaled = (values["merged_mrs"] * (w["merged_mrs"] * 100) + values["earnings_minor"] * w["earnings_eur"]
              + values["quarter_hours"] * (w["approved_hours"] * 25)
              + values["reviews_given"] * (w["reviews_given"] * 100)
              + values["awards_won"] * (w["awards_won"] * 100)).label("scaled_score")
    username = Person.username.collate("C") if dialect == "postgresql" else Person.username
    org = aliased(Organisation)
    query = select(Person.id.label("person_id"), *(value.label(name) for name, value in values.items()),
                   reached.label("reached_at"), scaled, Person.display_name, Person.username,
                   Person.is_public_listing, Person.jurisdiction_code, org.name.label("organisation_name"))
    for table in tables.values():
        query = query.outerjoin(table, table.c.person_id == Person.id)
    query = query.outerjoin(org, org.id == Person.organisation_id).where(
        or_(*(table.c.person_id.is_not(None) for table in tables.values())),
        Person.merged_into_id.is_(None), *chosen.people)
    return _Ranking(query, [scaled.desc(), reached.asc(), username.asc()])


def _latest(dialect: str, moments: list[Any]) -> Any:
    """The latest of `moments`, ignoring NULLs (a metric the person has nothing in)."""
    if dialect == "postgresql":
        return type_coerce(func.greatest(*moments), UTCDateTime)
    # SQLite's max() of several values is NULL if any is; its timestamps are text, and '' sorts first.
    return type_coerce(func.max(*(func.coalesce(moment, "") for moment in moments)), UTCDateTime)


def _row(row: Any, rank: int, reveal: bool) -> LeaderboardRow:
    named = reveal or bool(row.is_public_listing)
    return LeaderboardRow(
        rank=rank, person_id=row.person_id, name=row.display_name if named else None,
        username=row.username if named else None, is_public=bool(row.is_public_listing),
        jurisdiction_code=row.jurisdiction_code, organisation_name=row.organisation_name if named else None,
        merged_mrs=int(row.merged_mrs), earnings_eur=Money(int(row.earnings_minor), "EUR"),
        approved_hours=hours_of(int(row.quarter_hours)), reviews_given=int(row.reviews_given),
        awards_won=int(row.awards_won), score=_score(row.scaled_score), reached_at=row.reached_at)


def leaderboard(session: Session, period: Period, *, view: str = "overall", key: str | int | None = None,
                limit: int = 100, offset: int = 0, viewer: Actor | None = None) -> Leaderboard:
    """The ranking for `period` in `view` (key: jurisdiction code, working group code or
    organisation id), rows offset+1 .. offset+limit, and how many people rank in all.

    Raises InvalidInput for an unknown view, a missing key or a bad page, NotFound for a key
    naming nothing. Reads only.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise InvalidInput("offset", "0 or more")
    chosen = _view(session, view, key)
    ranking = _ranking(session, period, chosen)
    # The ordering is total (usernames are unique), so a row's rank is its position.
    query = (ranking.query.add_columns(func.count().over().label("total"))
             .order_by(*ranking.order).limit(limit).offset(offset))
    reveal = sees_every_name(viewer)
    rows, total = [], 0
    for position, row in enumerate(session.execute(query), start=offset + 1):
        total = int(row.total)
        rows.append(_row(row, position, reveal))
    if not rows and offset:
        # Past the end: no row carries the count.
        total = int(session.execute(select(func.count()).select_from(ranking.query.subquery())).scalar_one())
    return Leaderboard(rows, total, period, chosen.name, chosen.key)


def ranking_statement(session: Session, period: Period, *, view: str = "overall",
                      key: str | int | None = None, limit: int = 100) -> Any:
    """The ranking's SQL statement as `leaderboard` runs it (first `limit` rows), to EXPLAIN it."""
    ranking = _ranking(session, period, _view(session, view, key))
    return ranking.query.order_by(*ranking.order).limit(limit)


@dataclass(frozen=True)
class Standing:
    """Where one person stands: their row (None when they do not rank) and how many rank."""

    row: LeaderboardRow | None
    total: int


def standing(session: Session, period: Period, person_id: int, *, view: str = "overall",
             key: str | int | None = None, viewer: Actor | None = None) -> Standing:
    """`person_id`'s row of the ranking (rank, metrics, score) without reading the rows ahead
    of it, and how many rank in all. Reads only."""
    chosen = _view(session, view, key)
    ranking = _ranking(session, period, chosen)
    ranked = ranking.query.add_columns(func.row_number().over(order_by=ranking.order).label("rank"),
                                       func.count().over().label("total")).subquery("ranked")
    found = session.execute(select(ranked).where(ranked.c.person_id == person_id)).one_or_none()
    if found is None:
        total = int(session.execute(select(func.count()).select_from(ranking.query.subquery())).scalar_one())
        return Standing(None, total)
    return Standing(_row(found, int(found.rank), sees_every_name(viewer)), int(found.total))


def top(session: Session, period: Period, n: int = 10, jurisdiction: str | None = None, *,
        viewer: Actor | None = None) -> list[LeaderboardRow]:
    """The first `n` rows, overall or of one jurisdiction."""
    if jurisdiction:
        board = leaderboard(session, period, view="jurisdiction", key=jurisdiction, limit=n, viewer=viewer)
        return board.rows
    return leaderboard(session, period, limit=n, viewer=viewer).rows
