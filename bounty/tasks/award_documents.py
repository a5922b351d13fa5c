"""The builders of the awards documents on the job queue: the annual awards report as PDF
(kind "awards_report", parameters {"year": int, "lang": "en" | "fr"}, see
`bounty.services.document_kinds` and docs/awards-report.md).

A builder is `Builder` of `bounty.services.document_kinds`: it reads as the requester, calls
`progress(percent, stage)` between reads (the call commits), and returns the file's bytes.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bounty.reports import awards
from bounty.services.actors import Actor
from bounty.services.annual_report import annual_report
from bounty.services.document_kinds import Builder, Params, Progress


def build_awards_report(session: Session, actor: Actor, params: Params, progress: Progress) -> bytes:
    """The annual awards report of `params["year"]` in `params["lang"]`, as a PDF/UA-1 file.

    Stages: gathering figures (the reads, as the requester), then rendering charts, laying out
    pages and writing the PDF (`bounty.reports.awards.render`, which reads nothing more).
    """
    progress(5, "Gathering figures")
    report = annual_report(session, actor, params["year"])
    return awards.render_pdf(report, params["lang"], progress)


BUILDERS: dict[str, Builder] = {"awards_report": build_awards_report}
