"""The annual awards report's award outcomes: each award category's result for the year
(`award_queries.results`) as the public sees it.

Privacy (the rule of docs/awards-report.md): a nominee is named only when they agreed to be
(organisations always are); anyone else is anonymous (name None) and their citation is
withheld, since it may name them. Read only; `bounty.services.annual_report` assembles the
outcomes into the report and owns who may read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bounty.services import award_queries
from bounty.services.errors import NotFound


@dataclass(frozen=True)
class Nominee:
    """A nomination and its tally. `name` is None for an anonymous contributor, whose
    `citation` is then None too (withheld: it may name them)."""

    name: str | None
    is_organisation: bool
    citation: str | None
    passed: bool
    binding: dict[str, int]        # vote value -> count
    non_binding: dict[str, int]
    vetoes: int
    void_vetoes: int


@dataclass(frozen=True)
class AwardOutcome:
    """A category's result: its winner (None: no award that year) among its nominees."""

    code: str
    name: str
    name_fr: str
    decision_rule: str
    decided: bool
    winner: Nominee | None
    nominees: list[Nominee]


def award_outcomes(session: Session, year: int) -> list[AwardOutcome]:
    """Each category's result as the public sees it (no viewer: names and citations only of
    people who agreed to be named; organisations are always named)."""
    try:
        results = award_queries.results(session, None, year)
    except NotFound:
        return []
    outcomes = []
    for result in results.categories:
        nominees = {view.id: _nominee(view) for view in result.nominations}
        category = result.category
        outcomes.append(AwardOutcome(
            code=category.code, name=category.name, name_fr=category.name_fr or category.name,
            decision_rule=category.decision_rule, decided=result.decided,
            winner=nominees[result.winner.id] if result.winner is not None else None,
            nominees=list(nominees.values())))
    return outcomes


def _nominee(view: award_queries.NominationView) -> Nominee:
    named = view.nominee_organisation_id is not None or view.nominee_is_public
    return Nominee(
        name=view.nominee_name if named else None, is_organisation=view.nominee_organisation_id is not None,
        citation=view.citation if named else None, passed=view.tally.passed,
        binding=dict(view.tally.binding), non_binding=dict(view.tally.non_binding),
        vetoes=len(view.tally.vetoes), void_vetoes=len(view.tally.void_vetoes))
