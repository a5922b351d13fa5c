"""Documents built on the job queue: my documents, a document's progress page, its download,
and `request_and_redirect` for the pages that ask for one (docs/documents.md).

Signed-in people only. Everyone sees their own documents; READ_EVERYTHING sees anyone's by its
address. Anybody else's document is a 404, never a 403: nobody learns which exist. The
progress page reloads itself every few seconds while the job is queued or running (the HTTP
`Refresh` header, no script), with a link to stop the reloading; once done it offers the download.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from bounty.auth import current_actor
from bounty.auth.decorators import login_required
from bounty.extensions import db
from bounty.models import DocumentJob
from bounty.models.documents import LIVE_JOB_STATUSES
from bounty.services import document_jobs
from bounty.services.document_kinds import KINDS
from bounty.services.errors import InvalidInput, NotFound, PermissionDenied, ServiceError
from bounty.services.statements import Period
from bounty.tasks.documents import submit_document

bp = Blueprint("documents", __name__, url_prefix="/documents")

ID = "int(min=1, max=2147483647)"
REFRESH_SECONDS = 3
STATUS_LABELS = {
    "queued": _l("Waiting in the queue"),
    "running": _l("Being built"),
    "done": _l("Ready"),
    "failed": _l("Failed"),
}


# What the builders say they are doing (bounty/tasks/*_documents.py, bounty/reports/awards.py),
# in the reader's language; a stage not listed here shows as the builder wrote it.
STAGE_LABELS = {
    "reading the batch": _l("reading the batch"),
    "reading the ledger": _l("reading the ledger"),
    "counting the journal lines": _l("counting the journal lines"),
    "writing the journal lines": _l("writing the journal lines"),
    "writing the workbook": _l("writing the workbook"),
    "storing the file": _l("storing the file"),
    "Gathering figures": _l("gathering the figures"),
    "Rendering charts": _l("drawing the charts"),
    "Laying out pages": _l("laying out the pages"),
    "Writing the PDF": _l("writing the PDF"),
}


def document_status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def stage_label(stage: str) -> str:
    return str(STAGE_LABELS.get(stage, stage))


def _period(params: Mapping[str, Any]) -> str:
    return Period(date.fromisoformat(params["start"]), date.fromisoformat(params["end"])).label()


def _journal_title(params: Mapping[str, Any]) -> str:
    start, end = params.get("start"), params.get("end")
    if start and end:
        return _("Journal from %(start)s to %(end)s (XLSX)", start=start, end=end)
    if start:
        return _("Journal from %(start)s (XLSX)", start=start)
    if end:
        return _("Journal up to %(end)s (XLSX)", end=end)
    return _("Full journal (XLSX)")


_TITLES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "payout_batch_xlsx": lambda p: _("Payout batch %(id)s (XLSX)", id=p["batch_id"]),
    "statement_xlsx": lambda p: _("Statement of %(code)s for %(period)s (XLSX)", code=p["jurisdiction"],
                                  period=_period(p)),
    "trial_balance_xlsx": lambda p: (_("Trial balance as of %(day)s (XLSX)", day=p["as_of"]) if p.get("as_of")
                                     else _("Trial balance (XLSX)")),
    "journal_xlsx": _journal_title,
    "awards_report": lambda p: _("Awards report %(year)s (%(lang)s, PDF)", year=p["year"],
                                 lang=p["lang"].upper()),
}


def document_title(job: DocumentJob) -> str:
    """The job's document as the pages name it, in the reader's language."""
    title = _TITLES.get(job.kind)
    if title is not None:
        return title(job.params)
    kind = KINDS.get(job.kind)
    return kind.title(job.params) if kind is not None else job.kind


def file_size(size: int) -> str:
    """A file's size in kilobytes or megabytes, as the reader writes numbers."""
    if size >= 1024 * 1024:
        return _("%(size)s MB", size=format_decimal(round(size / (1024 * 1024), 1)))
    return _("%(size)s KB", size=format_decimal(max(1, round(size / 1024))))


bp.add_app_template_global(document_title)
bp.add_app_template_global(document_status_label)
bp.add_app_template_global(stage_label)
bp.add_app_template_global(file_size)


def _refused(refusal: ServiceError) -> Response:
    """Bad input as a 400 page with the reason, any other refusal as 409."""
    reason = refusal.reason if isinstance(refusal, InvalidInput) else str(refusal)
    code = 400 if isinstance(refusal, InvalidInput) else 409
    return make_response(render_template("errors/400.html", reason=reason), code)


def request_and_redirect(kind: str, params: dict[str, Any], *,
                         refused: Callable[[ServiceError], ResponseReturnValue] | None = None) -> Response:
    """Ask for the document `kind` with `params` as the signed-in person and go to its progress
    page (their live job for the same document, or a new one). For other blueprints' POST views.

    A refusal is 403 or 404 as usual (the application's error handlers); any other is
    `refused(error)` when given (the calling page shown again with the message), else a 400
    or 409 page with the reason.
    """
    try:
        job = submit_document(db.session, current_actor(), kind, params)
    except (PermissionDenied, NotFound):
        raise  # the application's error handlers answer these
    except ServiceError as refusal:
        if refused is not None:
            return make_response(refused(refusal))
        return _refused(refusal)
    return redirect(url_for("documents.show", job_id=job.id))


def _job(job_id: int) -> DocumentJob:
    return document_jobs.get_job(db.session, current_actor(), job_id)


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    jobs = document_jobs.list_jobs(db.session, current_actor())
    return render_template("documents/index.html", jobs=jobs, is_expired=document_jobs.is_expired)


def _show(job: DocumentJob, code: int = 200, problem: str | None = None) -> ResponseReturnValue:
    live = job.status in LIVE_JOB_STATUSES
    refreshing = live and request.args.get("refresh") != "off"
    response = make_response(render_template(
        "documents/show.html", job=job, live=live, refreshing=refreshing, refresh_seconds=REFRESH_SECONDS,
        expired=document_jobs.is_expired(job), problem=problem), code)
    response.headers["Cache-Control"] = "no-store"
    if refreshing:
        # The HTTP header rather than a <meta> refresh: the page says it reloads and offers
        # a link that stops it (WCAG 2.2.1, timing adjustable).
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


@bp.get(f"/<{ID}:job_id>")
@login_required
def show(job_id: int) -> ResponseReturnValue:
    return _show(_job(job_id))


@bp.get(f"/<{ID}:job_id>/file")
@login_required
def file(job_id: int) -> ResponseReturnValue:
    try:
        found = document_jobs.job_file(db.session, current_actor(), job_id)
    except document_jobs.Expired:
        return _show(_job(job_id), 410, _("The file has expired. Ask for the document again."))
    except document_jobs.NotReady:
        return _show(_job(job_id), 409, _("The file is not ready."))
    response = send_file(io.BytesIO(found.content), mimetype=found.media_type, as_attachment=True,
                         download_name=found.filename, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
