"""The professional-development statement as a document: PDF (WeasyPrint).

The PDF is templates/reports/hours_statement.html rendered by Jinja in English or French
(`lang`), styled by templates/reports/print.css (A4, page numbers), with the PDF's title,
author and language set from the HTML. Its words live here, in LABELS, so the document
renders the same in a web request, a command or a job, with or without an application.

The CSV of the same statement is `bounty.exports.hours_statement`; `format_of` tells from a
file name which of the two is wanted.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from babel.dates import format_date, get_month_names
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint import HTML

from bounty.services.hours_statement import HoursStatement

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "reports"
TEMPLATE = "hours_statement.html"
LANGUAGES = ("en", "fr")
FORMATS = ("pdf", "csv")
DASH = "\u2013"  # an en dash stands for "none" in tables
# What a spreadsheet may run as a formula when a cell starts with it.

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Professional development statement",
        "subtitle": "Contribution hours {year}",
        "issuer": "Sovereign-cloud cooperative, contributor incentive and bounty ledger",
        "keywords": "contribution hours, professional development, continuing education",
        "person": "Person", "username": "User name", "jurisdiction": "Jurisdiction",
        "organisation": "Organisation", "period": "Period", "issued": "Issued on",
        "intro": ("This statement lists the contribution hours {name} logged in {year} that a "
                  "reviewer of the working group concerned approved. Hours awaiting review and "
                  "rejected hours are not included."),
        "by_month": "Approved hours by month and activity", "month": "Month", "total": "Total",
        "entries": "Approved entries", "date": "Date", "activity": "Activity",
        "working_group": "Working group", "hours": "Hours", "description": "Description",
        "signed_off_by": "Signed off by", "signed_off_on": "Signed off on",
        "total_hours": "Total approved hours", "reviewers": "Signed off by",
        "none": "No approved hours in {year}.", "colon": ": ",
        "code": "Code", "review": "Code review", "documentation": "Documentation",
        "mentoring": "Mentoring", "community": "Community", "security": "Security",
    },
    "fr": {
        "title": "Attestation de développement professionnel",
        "subtitle": "Heures de contribution {year}",
        "issuer": "Coopérative du cloud souverain, registre des primes et incitations aux contributeurs",
        "keywords": "heures de contribution, développement professionnel, formation continue",
        "person": "Personne", "username": "Identifiant", "jurisdiction": "Juridiction",
        "organisation": "Organisation", "period": "Période", "issued": "Établie le",
        "intro": ("La présente attestation récapitule les heures de contribution déclarées par {name} "
                  "en {year} et approuvées par un relecteur du groupe de travail concerné. Les heures "
                  "en attente de validation et les heures refusées n'y figurent pas."),
        "by_month": "Heures approuvées par mois et par activité", "month": "Mois", "total": "Total",
        "entries": "Entrées approuvées", "date": "Date", "activity": "Activité",
        "working_group": "Groupe de travail", "hours": "Heures", "description": "Description",
        "signed_off_by": "Validé par", "signed_off_on": "Validé le",
        "total_hours": "Total des heures approuvées", "reviewers": "Validé par",
        "none": "Aucune heure approuvée en {year}.", "colon": "\u00a0: ",
        "code": "Code", "review": "Revue de code", "documentation": "Documentation",
        "mentoring": "Mentorat", "community": "Communauté", "security": "Sécurité",
    },
}

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)


class UnsupportedFormat(ValueError):
    """An output the statement is not written in (the file name's extension)."""


def format_of(filename: str) -> str:
    """"pdf" or "csv", from the file name's extension (UnsupportedFormat otherwise)."""
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UnsupportedFormat(f"{filename!r}: write the statement to a .pdf or .csv file")
    return suffix


def _language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: one of {', '.join(LANGUAGES)}")
    return lang


def render_html(statement: HoursStatement, lang: str = "en") -> str:
    """The statement as an HTML document in `lang` (en or fr), ready for WeasyPrint."""
    lang = _language(lang)
    labels = LABELS[lang]
    months = get_month_names("wide", locale=lang)

    def hours(value: Decimal, blank_zero: bool = False) -> str:
        if blank_zero and not value:
            return DASH
        return format_decimal(value, format="#,##0.00", locale=lang)

    def day(value: date) -> str:
        return format_date(value, "medium", locale=lang)

    def signed_on(value: datetime | None) -> str:
        return day(value.date()) if value else DASH

    return _environment.get_template(TEMPLATE).render(
        s=statement, t=labels, lang=lang, hours=hours, day=day, signed_on=signed_on,
        month_name=lambda number: months[number].capitalize(),
        subtitle=labels["subtitle"].format(year=statement.year),
        intro=labels["intro"].format(name=statement.display_name, year=statement.year),
        nothing=labels["none"].format(year=statement.year),
        first_day=date(statement.year, 1, 1), last_day=date(statement.year, 12, 31),
    )


def render_pdf(statement: HoursStatement, lang: str = "en") -> bytes:
    """The statement as an A4 PDF in `lang` (en or fr)."""
    return HTML(string=render_html(statement, lang), base_url=str(TEMPLATES)).write_pdf()
