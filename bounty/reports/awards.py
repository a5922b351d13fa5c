"""The annual awards report as a document: an A4 PDF (WeasyPrint), tagged for accessibility.

templates/reports/awards.html, rendered by Jinja in English or French (`lang`) and styled by
templates/reports/awards.css: a cover, the contents with page numbers, the year in figures,
the fund by jurisdiction, bounties, hours, the top tens, the awards and the recognised
contributors, with charts drawn inline as SVG by `bounty.reports.charts`. Its words live
here, in LABELS, so the document renders the same in a command, a job or a test, with or
without an application. Numbers, money and dates are formatted by Babel for the language.

The PDF is PDF/UA-1 (WeasyPrint's `pdf_variant="pdf/ua-1"`): a structure tree (headings,
tables with their header cells, lists, figures with the chart's title as alternative
text), the document's language, and its title shown by viewers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from weasyprint import CSS, HTML

from bounty.ledger import Money
from bounty.reports import charts
from bounty.services.annual_awards import Nominee
from bounty.services.annual_report import AnnualReport, BountyGroup

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "reports"
TEMPLATE = "awards.html"
LANGUAGES = ("en", "fr")
PDF_VARIANT = "pdf/ua-1"
DASH = "\u2013"

Progress = Callable[[int, str], None]

_JURISDICTIONS_FR = {"EU": "Union européenne", "UK": "Royaume-Uni", "CA": "Canada", "AU": "Australie"}

LABELS: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Annual awards report {year}",
        "subtitle": "Contributor incentive and bounty programme: the year {year}",
        "issuer": "Sovereign-cloud cooperative, contributor incentive and bounty ledger",
        "keywords": "annual report, awards, bounties, contributors, sovereign cloud",
        "generated": "Issued on {day}", "page": "Page", "of": "of", "colon": ": ", "semicolon": "; ",
        "contents": "Contents",
        "figures": "The year in figures", "fund": "The fund by jurisdiction",
        "bounties": "Bounties by category and working group",
        "hours_title": "Contribution hours by jurisdiction",
        "top": "Top contributors", "awards": "The awards", "recognised": "Recognised contributors",
        "merged_mrs": "Merged merge requests (DCO-signed)", "active": "Active contributors",
        "bounties_approved": "Bounties approved", "bounties_paid": "Bounties paid",
        "hours_approved": "Contribution hours approved", "tranches": "Grant tranches signed off",
        "awards_given": "Awards given", "count": "Number", "amount_eur": "Value (EUR)",
        "figures_table": "The year's figures",
        "fund_intro": ("The members fund each pool of the year by their shares. What is reserved "
                       "is set aside for open bounties and grants; what is spent was approved for "
                       "payment. Figures as at {day}; the parts of each column add up to its total."),
        "jurisdiction": "Jurisdiction", "share": "Share", "allocated": "Allocated", "reserved": "Reserved",
        "spent": "Spent", "available": "Available", "total": "Total",
        "pools": "The year's pools", "pool": "Pool", "planned": "Planned", "funded": "Funded",
        "pool_kinds": {"development_fund": "Sovereign Cloud Development Fund", "bounty_pool": "Bounty Pool",
                       "conference_sponsorship": "Conference Sponsorship"},
        "chart_fund": "Reserved and spent by jurisdiction, {year} (EUR)",
        "by_category": "By category", "by_group": "By working group", "category": "Category",
        "working_group": "Working group", "approved": "Approved", "paid": "Paid",
        "chart_categories": "Bounties by category (EUR)", "chart_groups": "Bounties by working group (EUR)",
        "table_categories": "Bounties by category", "table_groups": "Bounties by working group",
        "bounties_intro": ("Bounties approved in the year (a clawed-back payment never counts) and "
                           "bounties the bank confirmed paid in the year, at their value in EUR."),
        "no_group": "No working group", "no_jurisdiction": "No jurisdiction",
        "categories": {"critical_security_fix": "Critical security fix", "major_feature": "Major feature",
                       "documentation": "Documentation", "bug_fix": "Bug fix"},
        "hours": "Approved hours", "people": "People",
        "chart_hours": "Approved contribution hours by jurisdiction",
        "top_intro": ("Ranked by the programme's weighted score. Contributors who have not agreed "
                      "to be named appear as \u201cAnonymous contributor\u201d: ranks and totals stay true."),
        "top_overall": "Top ten overall", "top_in": "Top ten: {name}", "rank": "Rank", "name": "Name",
        "organisation": "Organisation", "score": "Score", "merges": "Merges", "earnings": "Earnings",
        "reviews": "Reviews", "anonymous": "Anonymous contributor", "nobody": "Nobody ranks in this period.",
        "awards_intro": ("Nominations and votes follow the programme's bylaws: only the awards "
                         "committee's votes bind; {rules}."),
        "rules_text": "lazy consensus needs three binding +1 and no veto, lazy majority three binding +1 "
                      "and more +1 than -1, lazy two-thirds majority three binding votes and twice as many "
                      "+1 as -1",
        "decision_rules": {"lazy_consensus": "Lazy consensus", "lazy_majority": "Lazy majority",
                           "lazy_two_thirds": "Lazy two-thirds majority"},
        "winner": "Winner", "citation": "Citation", "nominees": "Nominees and the vote",
        "nominee": "Nominee", "binding": "Binding votes", "non_binding": "Non-binding", "result": "Result",
        "passed": "Passed", "failed": "Not passed", "no_award": "No award this year.",
        "not_decided": "The vote has not closed yet.", "no_nominations": "No nominations.",
        "withheld": "Citation withheld: the nominee has not agreed to be named.",
        "vetoes": "{n} veto(es)", "void_vetoes": "{n} void veto(es)", "rule": "Decision rule",
        "no_awards": "No awards round was held this year.",
        "recognised_intro": ("Everyone active in the programme in {year} who agreed to be named, with "
                             "the badges they earned in the year. Others are thanked here too, without "
                             "their names."),
        "badges": "Badges earned", "nobody_listed": "No contributor has agreed to be named yet.",
        "no_data": "No data",
        "jurisdictions": {"EU": "European Union", "UK": "United Kingdom", "CA": "Canada", "AU": "Australia"},
    },
    "fr": {
        "title": "Rapport annuel des prix {year}",
        "subtitle": "Programme d'incitation et de primes aux contributeurs\u00a0: l'année {year}",
        "issuer": "Coopérative du cloud souverain, registre des primes et incitations aux contributeurs",
        "keywords": "rapport annuel, prix, primes, contributeurs, cloud souverain",
        "generated": "Établi le {day}", "page": "Page", "of": "sur",
        "colon": "\u00a0: ", "semicolon": "\u00a0; ",
        "contents": "Sommaire",
        "figures": "L'année en chiffres", "fund": "Le fonds par juridiction",
        "bounties": "Primes par catégorie et par groupe de travail",
        "hours_title": "Heures de contribution par juridiction",
        "top": "Meilleurs contributeurs", "awards": "Les prix", "recognised": "Contributeurs distingués",
        "merged_mrs": "Demandes de fusion fusionnées (signées DCO)", "active": "Contributeurs actifs",
        "bounties_approved": "Primes approuvées", "bounties_paid": "Primes payées",
        "hours_approved": "Heures de contribution approuvées", "tranches": "Tranches de subvention validées",
        "awards_given": "Prix décernés", "count": "Nombre", "amount_eur": "Montant (EUR)",
        "figures_table": "Les chiffres de l'année",
        "fund_intro": ("Les membres alimentent chaque fonds de l'année selon leur quote-part. Le montant "
                       "réservé est mis de côté pour les primes et subventions ouvertes\u00a0; le montant "
                       "dépensé a été approuvé pour paiement. Chiffres au {day}\u00a0; les parts de chaque "
                       "colonne s'additionnent à son total."),
        "jurisdiction": "Juridiction", "share": "Quote-part", "allocated": "Alloué", "reserved": "Réservé",
        "spent": "Dépensé", "available": "Disponible", "total": "Total",
        "pools": "Les fonds de l'année", "pool": "Fonds", "planned": "Prévu", "funded": "Versé",
        "pool_kinds": {"development_fund": "Fonds de développement du cloud souverain",
                       "bounty_pool": "Fonds des primes",
                       "conference_sponsorship": "Parrainage de conférences"},
        "chart_fund": "Réservé et dépensé par juridiction, {year} (EUR)",
        "by_category": "Par catégorie", "by_group": "Par groupe de travail", "category": "Catégorie",
        "working_group": "Groupe de travail", "approved": "Approuvées", "paid": "Payées",
        "chart_categories": "Primes par catégorie (EUR)",
        "chart_groups": "Primes par groupe de travail (EUR)",
        "table_categories": "Primes par catégorie", "table_groups": "Primes par groupe de travail",
        "bounties_intro": ("Primes approuvées dans l'année (un paiement récupéré ne compte jamais) et "
                           "primes dont la banque a confirmé le paiement dans l'année, en EUR."),
        "no_group": "Sans groupe de travail", "no_jurisdiction": "Sans juridiction",
        "categories": {"critical_security_fix": "Correctif de sécurité critique",
                       "major_feature": "Fonctionnalité majeure", "documentation": "Documentation",
                       "bug_fix": "Correction de bogue"},
        "hours": "Heures approuvées", "people": "Personnes",
        "chart_hours": "Heures de contribution approuvées par juridiction",
        "top_intro": ("Classement selon le score pondéré du programme. Les contributeurs qui n'ont pas "
                      "accepté d'être nommés apparaissent comme «\u00a0Contributeur anonyme\u00a0»\u00a0: "
                      "les rangs et les totaux restent exacts."),
        "top_overall": "Les dix premiers", "top_in": "Les dix premiers\u00a0: {name}", "rank": "Rang",
        "name": "Nom", "organisation": "Organisation", "score": "Score", "merges": "Fusions",
        "earnings": "Gains", "reviews": "Revues", "anonymous": "Contributeur anonyme",
        "nobody": "Personne n'est classé sur cette période.",
        "awards_intro": ("Les candidatures et les votes suivent les statuts du programme\u00a0: seuls les "
                         "votes du comité des prix sont décisifs\u00a0; {rules}."),
        "rules_text": ("le consensus tacite exige trois +1 décisifs et aucun veto, la majorité tacite "
                       "trois +1 décisifs et plus de +1 que de -1, la majorité tacite des deux tiers "
                       "trois votes décisifs et deux fois plus de +1 que de -1"),
        "decision_rules": {"lazy_consensus": "Consensus tacite", "lazy_majority": "Majorité tacite",
                           "lazy_two_thirds": "Majorité tacite des deux tiers"},
        "winner": "Lauréat", "citation": "Citation", "nominees": "Candidatures et vote",
        "nominee": "Candidat", "binding": "Votes décisifs", "non_binding": "Non décisifs",
        "result": "Résultat",
        "passed": "Adoptée", "failed": "Non adoptée", "no_award": "Pas de prix cette année.",
        "not_decided": "Le vote n'est pas encore clos.", "no_nominations": "Aucune candidature.",
        "withheld": "Citation non publiée\u00a0: la personne candidate n'a pas accepté d'être nommée.",
        "vetoes": "{n} veto(s)", "void_vetoes": "{n} veto(s) nul(s)", "rule": "Règle de décision",
        "no_awards": "Aucune édition des prix n'a eu lieu cette année.",
        "recognised_intro": ("Toutes les personnes actives dans le programme en {year} qui ont accepté "
                             "d'être nommées, avec les badges obtenus dans l'année. Les autres sont "
                             "remerciées ici aussi, sans leur nom."),
        "badges": "Badges obtenus", "nobody_listed": "Aucun contributeur n'a encore accepté d'être nommé.",
        "no_data": "Aucune donnée",
        "jurisdictions": _JURISDICTIONS_FR,
    },
}

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)


@dataclass(frozen=True)
class RenderedReport:
    """The PDF and how many pages it has."""

    pdf: bytes
    pages: int


def _language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: one of {', '.join(LANGUAGES)}")
    return lang


class _Format:
    """Babel formatting in one language, as the template calls it."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def number(self, value: int | Decimal) -> str:
        return format_decimal(value, format="#,##0", locale=self.lang)

    def hours(self, value: Decimal) -> str:
        return format_decimal(value, format="#,##0.00", locale=self.lang)

    def money(self, value: Money) -> str:
        return format_currency(value.to_decimal(), value.currency, locale=self.lang)

    def euros(self, value: Money | Decimal | int) -> str:
        """Whole euros (charts and big figures)."""
        amount = value.to_decimal() if isinstance(value, Money) else Decimal(value)
        return format_currency(amount, "EUR", format="¤#,##0" if self.lang == "en" else "#,##0\u00a0¤",
                               currency_digits=False, locale=self.lang)

    def share(self, value: Decimal) -> str:
        return format_percent(value, locale=self.lang, decimal_quantization=False)

    def day(self, value: Any) -> str:
        return format_date(value, "long", locale=self.lang)

    def score(self, value: Decimal) -> str:
        return format_decimal(value, format="#,##0.##", locale=self.lang)


def _whole_euros(value: Money) -> int:
    return value.minor // 100


def _charts(report: AnnualReport, t: dict[str, Any], fmt: _Format) -> dict[str, Markup]:
    """Every chart of the report, as inline SVG, titled and described in `lang`."""
    euros = fmt.euros
    codes = [row.jurisdiction_code or "" for row in report.fund]
    fund = charts.bar_chart(
        t["chart_fund"].format(year=report.year), codes,
        {t["reserved"]: [_whole_euros(row.reserved) for row in report.fund],
         t["spent"]: [_whole_euros(row.spent) for row in report.fund]},
        value_formatter=euros, no_data_text=t["no_data"])

    def bounty_chart(title: str, groups: list[BountyGroup], label: Callable[[BountyGroup], str]) -> str:
        # Horizontal bars are drawn from the bottom up: reversed, they read top-down like the table.
        groups = groups[::-1]
        return charts.bar_chart(
            title, [label(group) for group in groups],
            {t["approved"]: [_whole_euros(g.approved_eur) for g in groups],
             t["paid"]: [_whole_euros(g.paid_eur) for g in groups]},
            horizontal=True, value_formatter=euros, no_data_text=t["no_data"],
            height=max(300, 60 * len(groups) + 140))

    by_category = bounty_chart(t["chart_categories"], report.by_category,
                               lambda g: t["categories"].get(g.code or "", g.name))
    by_group = bounty_chart(t["chart_groups"], report.by_working_group,
                            lambda g: g.code or t["no_group"])
    hours = charts.bar_chart(
        t["chart_hours"], [row.jurisdiction_code or t["no_jurisdiction"] for row in report.hours],
        {t["hours"]: [row.hours for row in report.hours]}, value_formatter=fmt.hours,
        no_data_text=t["no_data"])
    drawn = {"fund": fund, "by_category": by_category, "by_group": by_group,
             "hours": hours}
    return {name: Markup(svg) for name, svg in drawn.items()}  # noqa: S704 (pygal's SVG, escaped by it)


def _nominee_name(nominee: Nominee, t: dict[str, Any]) -> str:
    return nominee.name if nominee.name is not None else t["anonymous"]


def render_html(report: AnnualReport, lang: str = "en") -> str:
    """The report as an HTML document in `lang` (en or fr), ready for WeasyPrint."""
    lang = _language(lang)
    t = LABELS[lang]
    fmt = _Format(lang)
    return _environment.get_template(TEMPLATE).render(
        r=report, t=t, lang=lang, f=fmt, dash=DASH, charts=_charts(report, t, fmt),
        title=t["title"].format(year=report.year),
        nominee_name=lambda nominee: _nominee_name(nominee, t),
        category_name=lambda award: award.name_fr if lang == "fr" and award.name_fr else award.name,
        jurisdiction_name=lambda code: t["jurisdictions"].get(code or "", code or t["no_jurisdiction"]),
        bounty_category=lambda group: t["categories"].get(group.code or "", group.name),
        badge_names=lambda contributor: ", ".join(
            fr if lang == "fr" else en for en, fr in contributor.badges) or DASH,
    )


def page_numbers_css(lang: str) -> CSS:
    """The page numbers in the document's language ("Page 3 of 12"): the one rule whose words
    change with the language, so it is made here rather than in awards.css (the templates
    hold no inline style)."""
    labels = LABELS[lang]
    return CSS(string=(
        f'@page {{ @bottom-right {{ content: "{labels["page"]} " counter(page) " {labels["of"]} " '
        'counter(pages); } } @page cover { @bottom-right { content: none; } }'))


def render(report: AnnualReport, lang: str = "en", progress: Progress | None = None) -> RenderedReport:
    """The report as an A4 PDF/UA-1 document in `lang`, with its page count. `progress`, when
    given, hears each stage (percent, stage) as the job queue shows it."""
    step = progress or (lambda _percent, _stage: None)
    step(30, "Rendering charts")
    html = render_html(report, lang)
    step(45, "Laying out pages")
    document = HTML(string=html, base_url=str(TEMPLATES)).render(
        pdf_variant=PDF_VARIANT, stylesheets=[page_numbers_css(lang)])
    step(85, "Writing the PDF")
    pdf = document.write_pdf(pdf_variant=PDF_VARIANT)
    return RenderedReport(pdf=pdf, pages=len(document.pages))


def render_pdf(report: AnnualReport, lang: str = "en", progress: Progress | None = None) -> bytes:
    """The report as an A4 PDF/UA-1 document in `lang` (en or fr)."""
    return render(report, lang, progress).pdf
