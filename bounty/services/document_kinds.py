"""The closed registry of documents built on the job queue (docs/documents.md).

Each kind says who may ask for it (the rule of the read service underneath, so a job never
gives anyone more than the page or the API would), how its parameters are checked and put in
one canonical form (the form a request's dedupe key is made of), its file's name and media
type, and a title for lists. The builders themselves live with the jobs
(`bounty.tasks.finance_documents`, `bounty.tasks.award_documents`): they turn a kind's
canonical parameters into bytes, reading through the services as the requester.

Parameters arrive from forms (strings), from JSON (numbers, strings, null) and from code
(ints, dates); the canonical form is JSON: ints, ISO date strings, or None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.models import Jurisdiction
from bounty.services import journal_export, payout_queries, statements
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput, NotFound, PermissionDenied

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
# An XLSX sheet holds 1,048,576 rows; the first is the header.
XLSX_MAX_DATA_ROWS = 1_048_575
MAX_ID = 2**31 - 1
LANGUAGES = ("en", "fr")

Params = dict[str, Any]
# A builder reports how far it got: percent (0-100) and a short stage text. The call commits
# the job's progress on the builder's own session, so a builder calls it between reads,
# never while it iterates an open result.
Progress = Callable[[int, str], None]
Builder = Callable[[Session, Actor, Params, Progress], bytes]


@dataclass(frozen=True)
class DocumentKind:
    """What one kind of document is: who may ask, its parameters, its file."""

    code: str
    media_type: str
    authorise: Callable[[Actor], None]
    normalise: Callable[[Mapping[str, Any]], Params]
    filename: Callable[[Params], str]
    title: Callable[[Params], str]
    # Checks against the database when the document is asked for (the batch exists, the
    # journal fits in a sheet): refused at once rather than as a failed job.
    check: Callable[[Session, Actor, Params], None] | None = None


# --------------------------------------------------------------------------- parameters


def _only(params: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    if not isinstance(params, Mapping):
        raise InvalidInput("params", "give the parameters as an object")
    for name in params:
        if name not in allowed:
            raise InvalidInput(str(name)[:40],
                               f"not a parameter of this document (expected: {', '.join(allowed)})")


def _integer(params: Mapping[str, Any], name: str, low: int, high: int) -> int:
    value = params.get(name)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(name, f"give a whole number from {low} to {high}")
    if not low <= value <= high:
        raise InvalidInput(name, f"give a whole number from {low} to {high}")
    return value


def _day(params: Mapping[str, Any], name: str) -> date | None:
    """An optional date: a `date`, an ISO text, or empty."""
    value = params.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput(name, f"{str(value)[:20]!r} is not a date such as 2026-12-31")


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _span(params: Params) -> statements.Period:
    return statements.Period(date.fromisoformat(params["start"]), date.fromisoformat(params["end"]))


# ----------------------------------------------------------------------------- who asks


def _finance_reader(actor: Actor) -> None:
    statements.require_reader(actor)


def _batch_reader(actor: Actor) -> None:
    payout_queries.require_reader(actor)


def _awards_reader(actor: Actor) -> None:
    if not (actor.can(Permission.MANAGE_AWARDS) or actor.can(Permission.READ_EVERYTHING)):
        raise PermissionDenied(f"{actor.label} may not read the awards report")


# -------------------------------------------------------------------------------- kinds


def _batch_params(params: Mapping[str, Any]) -> Params:
    _only(params, ("batch_id",))
    return {"batch_id": _integer(params, "batch_id", 1, MAX_ID)}


def _batch_exists(session: Session, actor: Actor, params: Params) -> None:
    payout_queries.get_batch(session, actor, params["batch_id"])


def _statement_params(params: Mapping[str, Any]) -> Params:
    _only(params, ("jurisdiction", "year", "start", "end"))
    code = params.get("jurisdiction")
    if not isinstance(code, str) or len(code.strip()) != 2 or not code.strip().isalpha():
        raise InvalidInput("jurisdiction", "give a jurisdiction code of two letters, such as EU")
    if params.get("year") not in (None, ""):
        if _day(params, "start") is not None or _day(params, "end") is not None:
            raise InvalidInput("period", "give a year or start and end dates, not both")
        span = statements.period(_integer(params, "year", 2000, 9998))
    else:
        start, end = _day(params, "start"), _day(params, "end")
        if start is None:
            raise InvalidInput("start", "give the first day of the period, such as 2026-01-01")
        if end is None:
            raise InvalidInput("end", "give the last day of the period, such as 2026-06-30")
        if end < start:
            raise InvalidInput("end", f"{end.isoformat()} is before {start.isoformat()}")
        span = statements.Period(start, end)
    return {"jurisdiction": code.strip().upper(), "start": span.start.isoformat(),
            "end": span.end.isoformat()}


def _jurisdiction_exists(session: Session, actor: Actor, params: Params) -> None:
    if session.get(Jurisdiction, params["jurisdiction"]) is None:
        raise NotFound(f"no jurisdiction {params['jurisdiction']!r}")


def _statement_filename(params: Params) -> str:
    return f"statement-{params['jurisdiction']}-{_span(params).label().replace(' ', '_')}.xlsx"


def _trial_balance_params(params: Mapping[str, Any]) -> Params:
    _only(params, ("as_of",))
    return {"as_of": _iso(_day(params, "as_of"))}


def _journal_params(params: Mapping[str, Any]) -> Params:
    _only(params, ("start", "end"))
    start, end = _day(params, "start"), _day(params, "end")
    if start is not None and end is not None and end < start:
        raise InvalidInput("end", f"{end.isoformat()} is before {start.isoformat()}")
    return {"start": _iso(start), "end": _iso(end)}


def journal_bounds(params: Params) -> tuple[date | None, date | None]:
    """The journal kind's days (either may be open)."""
    start, end = params["start"], params["end"]
    return (date.fromisoformat(start) if start else None, date.fromisoformat(end) if end else None)


def journal_fits(session: Session, actor: Actor, params: Params) -> None:
    """Refuse a journal XLSX whose period holds more lines than a sheet can hold."""
    start, end = journal_bounds(params)
    lines = journal_export.journal_line_count(session, actor, start, end)
    if lines > XLSX_MAX_DATA_ROWS:
        raise InvalidInput("period", f"the period holds {lines:,} journal lines, more than an XLSX sheet "
                                     f"can hold ({XLSX_MAX_DATA_ROWS:,}): download the journal as CSV, "
                                     "or choose a shorter period")


def _journal_name(params: Params) -> str:
    span = "-".join(day for day in (params["start"], params["end"]) if day)
    return f"journal{'-' + span if span else ''}.xlsx"


def _journal_title(params: Params) -> str:
    start, end = params["start"], params["end"]
    if start and end:
        return f"Journal from {start} to {end} (XLSX)"
    if start:
        return f"Journal from {start} (XLSX)"
    if end:
        return f"Journal up to {end} (XLSX)"
    return "Full journal (XLSX)"


def _awards_params(params: Mapping[str, Any]) -> Params:
    _only(params, ("year", "lang"))
    lang = params.get("lang")
    if lang not in LANGUAGES:
        raise InvalidInput("lang", "give en or fr")
    return {"year": _integer(params, "year", 2000, 2100), "lang": lang}


KINDS: dict[str, DocumentKind] = {kind.code: kind for kind in (
    DocumentKind(
        "payout_batch_xlsx", XLSX, _batch_reader, _batch_params,
        filename=lambda p: f"payout-batch-{p['batch_id']}.xlsx",
        title=lambda p: f"Payout batch {p['batch_id']} (XLSX)", check=_batch_exists),
    DocumentKind(
        "statement_xlsx", XLSX, _finance_reader, _statement_params, filename=_statement_filename,
        title=lambda p: f"Statement of {p['jurisdiction']} for {_span(p).label()} (XLSX)",
        check=_jurisdiction_exists),
    DocumentKind(
        "trial_balance_xlsx", XLSX, _finance_reader, _trial_balance_params,
        filename=lambda p: f"trial-balance{'-' + p['as_of'] if p['as_of'] else ''}.xlsx",
        title=lambda p: f"Trial balance as of {p['as_of']} (XLSX)" if p["as_of"] else "Trial balance (XLSX)"),
    DocumentKind(
        "journal_xlsx", XLSX, _finance_reader, _journal_params, filename=_journal_name,
        title=_journal_title, check=journal_fits),
    DocumentKind(
        "awards_report", PDF, _awards_reader, _awards_params,
        filename=lambda p: f"awards-{p['year']}-{p['lang']}.pdf",
        title=lambda p: f"Awards report {p['year']} ({p['lang']}, PDF)"),
)}


def kind_of(code: object) -> DocumentKind:
    """The kind named `code`; InvalidInput("kind") for any other."""
    found = KINDS.get(code) if isinstance(code, str) else None
    if found is None:
        raise InvalidInput("kind", f"not a kind of document (one of: {', '.join(sorted(KINDS))})")
    return found
