"""The documents endpoints of `/api/v1`: ask for a document, follow it, download it.

Documents (XLSX exports, the awards report) are built on the job queue (docs/documents.md):
`POST /documents` answers 202 with the job and its `Location`; `GET /documents/{id}` gives its
status and progress; `GET /documents/{id}/file` the file once done (409 `not_ready` before,
410 `expired` after its keeping time). Asking again for the same document while a job for it
is live, or its file fresh, gives that job. A bearer token is always needed; somebody else's
job is a 404 (READ_EVERYTHING reads anyone's).
"""

from __future__ import annotations

import io
from typing import Any

from flask import send_file, url_for
from flask_smorest import Blueprint
from werkzeug.wrappers import Response

from bounty.api import errors
from bounty.api.auth import bearer_required
from bounty.api.documents_schemas import DocumentIn, DocumentListArgs, DocumentListOut, DocumentOut
from bounty.api.error_docs import error_docs
from bounty.api.schemas import MAX_ID
from bounty.extensions import db
from bounty.models import DocumentJob
from bounty.services import document_jobs
from bounty.services.actors import Actor
from bounty.services.document_kinds import KINDS
from bounty.tasks.documents import submit_document

blp = Blueprint("api_documents", __name__, description="Documents built on the job queue.")
errors.register_handlers(blp)

JOB_PATH = f"/documents/<int(min=1, max={MAX_ID}):job_id>"
DESCRIPTIONS = {
    401: "No bearer token, or one that is not valid",
    403: "The caller may not read this kind of document (a job of somebody else's is a 404, not a 403)",
    404: "No such document job, or not one of the caller's; or what the parameters name does not exist",
    409: "`not_ready`: the job is queued, running or failed (the message says which)",
    410: "`expired`: the file was kept until `expires_at`; ask for the document again",
    422: "Invalid input, by field (an unknown kind, a bad parameter, a journal too long for a sheet)",
}


_documented_errors = error_docs(blp, DESCRIPTIONS)


def document_out(job: DocumentJob) -> dict[str, Any]:
    """What DocumentOut dumps (also the finance API's answer for an XLSX export)."""
    kind = KINDS.get(job.kind)
    expired = document_jobs.is_expired(job)
    ready = job.status == document_jobs.DONE and not expired
    return {
        "id": job.id, "kind": job.kind, "title": kind.title(job.params) if kind else job.kind,
        "params": job.params, "status": job.status, "progress": job.progress, "stage": job.stage,
        "requested_at": job.created_at, "started_at": job.started_at, "finished_at": job.finished_at,
        "expires_at": job.expires_at, "expired": expired, "filename": job.filename,
        "media_type": job.media_type, "size_bytes": job.size_bytes, "error": job.error,
        "links": {"self": url_for("api_documents.get_document", job_id=job.id),
                  "file": url_for("api_documents.document_file", job_id=job.id) if ready else None},
    }


def accepted(job: DocumentJob) -> tuple[dict[str, Any], int, dict[str, str]]:
    """202 with the job and its address."""
    return document_out(job), 202, {"Location": url_for("api_documents.get_document", job_id=job.id)}


@blp.post("/documents")
@bearer_required()
@blp.arguments(DocumentIn)
@blp.response(202, DocumentOut, description="The job: new, or the caller's live one for the same document")
@_documented_errors(401, 403, 404, 422)
def request_document(data: dict[str, Any], *, actor: Actor) -> Any:
    """Ask for a document

    Queues a job building the document (or gives back the caller's job for the same document,
    while it is queued or running, or its file not yet expired). Follow `Location`.
    """
    return accepted(submit_document(db.session, actor, data["kind"], data["params"]))


@blp.get("/documents")
@bearer_required()
@blp.arguments(DocumentListArgs, location="query")
@blp.response(200, DocumentListOut)
@_documented_errors(401, 403, 422)
def list_documents(args: dict[str, Any], *, actor: Actor) -> Any:
    """List my documents

    The caller's document jobs, newest first (`all=true`: everyone's, for auditors).
    """
    jobs = document_jobs.list_jobs(db.session, actor, everyone=args["all"])
    return {"items": [document_out(job) for job in jobs]}


@blp.get(JOB_PATH)
@bearer_required()
@blp.response(200, DocumentOut)
@_documented_errors(401, 403, 404)
def get_document(job_id: int, *, actor: Actor) -> Any:
    """Read a document job

    Its status, progress (percent and stage), and once done the link to its file.
    """
    return document_out(document_jobs.get_job(db.session, actor, job_id))


@blp.get(f"{JOB_PATH}/file")
@bearer_required()
@blp.doc(responses={"200": {"description": "The file, as an attachment", "content": {
    media: {"schema": {"type": "string", "format": "binary"}}
    for media in sorted({kind.media_type for kind in KINDS.values()})}}})
@_documented_errors(401, 403, 404, 409, 410)
def document_file(job_id: int, *, actor: Actor) -> Any:
    """Download a document

    The finished file. 409 while the job is queued or running (or when it failed), 410 once
    the file has expired.
    """
    try:
        found = document_jobs.job_file(db.session, actor, job_id)
    except document_jobs.NotReady as exc:
        raise errors.ApiError(409, "not_ready", str(exc)) from None
    except document_jobs.Expired as exc:
        raise errors.ApiError(410, "expired", str(exc)) from None
    response: Response = send_file(io.BytesIO(found.content), mimetype=found.media_type, as_attachment=True,
                                   download_name=found.filename, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
