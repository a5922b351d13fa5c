"""The finance endpoints of `/api/v1`: what is payable, payout batches (create, list, read,
export as CSV/XLSX/SEPA, record as sent, import the bank's confirmation, cancel), claw-back
of a paid item, a jurisdiction's statement (a calendar year or any period), and the exchange
rates. An XLSX export is built on the job queue: the answer is 202 with the document job
(`bounty.api.documents`); CSV and SEPA files are answered at once.

Reads need a bearer token too (401 without one), except the rates, which are public; who
may read or act is the services' call (finance acts; auditors read batches; program admins
and auditors read statements), refused with 403. A refused confirmation file answers 422
`confirmation_rejected` with every problem under `fields.lines`, nothing applied. Exports
are files (text/csv, XLSX, application/xml), everything else JSON in the one error shape.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from flask import current_app, request, send_file, url_for
from flask_smorest import Blueprint
from sqlalchemy import select
from werkzeug.wrappers import Response

from bounty.api import errors
from bounty.api.auth import bearer_optional, bearer_required
from bounty.api.documents import accepted
from bounty.api.documents_schemas import DocumentOut
from bounty.api.finance_schemas import (
    BatchIn,
    BatchListArgs,
    BatchListOut,
    BatchOut,
    ConfirmationOut,
    ExportArgs,
    ItemOut,
    PayableListOut,
    RatesArgs,
    RatesOut,
    ReasonIn,
    SelectionArgs,
    StatementArgs,
    StatementOut,
    decimal_text,
)
from bounty.api.schemas import MAX_ID, ErrorOut
from bounty.exports.batch_files import batch_file
from bounty.exports.payouts import InconsistentBatch
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.ledger import Money
from bounty.models import PayoutBatch, PayoutItem
from bounty.services import fx, payouts, statements
from bounty.services.actors import Actor
from bounty.services.payout_queries import check_filters
from bounty.services.payouts import BatchItemView, BatchView, ConfirmationRejected, ConfirmationResult
from bounty.tasks.documents import submit_document

blp = Blueprint("api_finance", __name__,
                description="Finance: payout batches, exports, bank confirmations, statements.")
errors.register_handlers(blp)

BATCH_PATH = f"/payouts/batches/<int(min=1, max={MAX_ID}):batch_id>"
ITEM_PATH = f"/payouts/items/<int(min=1, max={MAX_ID}):item_id>"
MAX_UPLOAD = 5 * 1024 * 1024
CSV_TYPES = ("text/csv", "text/plain", "application/csv")
FILE_TYPES = {"csv": "text/csv", "sepa": "application/xml"}
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "sepa": "xml"}
# The bank's CSV as the body itself, or as the part `file` of a form.
CONFIRMATION_BODY = {"required": True, "description": "The bank's CSV: end_to_end_id,amount,date",
                     "content": {
    "text/csv": {"schema": {"type": "string"},
                 "example": "end_to_end_id,amount,date\nBTY-B-1-1,1000.00,2026-11-20\n"},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}}}}}}
_DESCRIPTIONS = {
    401: "No bearer token, or one that is not valid",
    403: "The caller may not do this",
    404: "No such batch, item or jurisdiction",
    409: "The batch's state does not allow this (cancelled, paid, nothing payable, ...)",
    415: "The body is neither text/csv nor multipart/form-data",
    422: "Invalid input, by field; a refused confirmation lists its problems under `lines`",
}


def _errors(*statuses: int) -> Any:
    """Document the error answers an operation gives, all in the one error shape."""

    def decorator(view: Any) -> Any:
        for status in statuses:
            view = blp.alt_response(status, schema=ErrorOut, description=_DESCRIPTIONS[status])(view)
        return view

    return decorator



# ------------------------------------------------------------------------------ presenting


def _item_out(batch_id: int, item: BatchItemView) -> dict[str, Any]:
    return {"id": item.id, "batch_id": batch_id, "kind": item.kind, "subject_id": item.subject_id,
            "description": item.description, "payee_kind": item.payee_kind, "payee_id": item.payee_id,
            "payee_name": item.payee_name, "end_to_end_id": item.end_to_end_id, "status": item.status,
            "amount": item.amount, "eur_amount": item.eur, "rate": decimal_text(item.rate),
            "rate_date": item.rate_date, "shares": item.shares, "payable_since": item.created_at,
            "paid_on": item.paid_on, "is_live": item.is_live}


def _batch_out(view: BatchView, *, items: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": view.id, "status": view.status, "selection_key": view.selection_key, "currency": view.currency,
        "jurisdiction": view.jurisdiction_code, "created_at": view.created_at,
        "exported_at": view.exported_at, "paid_at": view.paid_at, "item_count": len(view.live_items),
        "totals": list(view.totals.values()), "eur_total": view.eur_total}
    if items:
        out["items"] = [_item_out(view.id, item) for item in view.items]
    return out


def _batch(actor: Actor, batch_id: int) -> dict[str, Any]:
    return _batch_out(payouts.get_batch(db.session, actor, batch_id))


def _confirmation_out(result: ConfirmationResult) -> dict[str, Any]:
    return {"batch_id": result.batch_id, "digest": result.digest, "lines": result.lines,
            "paid": [{"item_id": p.item_id, "end_to_end_id": p.end_to_end_id, "amount": p.amount,
                      "paid_on": p.paid_on, "transaction_id": p.transaction_id} for p in result.paid],
            "unchanged": result.unchanged, "batch_status": result.batch_status,
            "already_imported": result.already_imported, "message": result.summary()}


# ------------------------------------------------------------------------------- payouts


@blp.get("/payouts/payable")
@bearer_required()
@blp.arguments(SelectionArgs, location="query")
@blp.response(200, PayableListOut)
@_errors(401, 403, 422)
def list_payable(args: dict[str, Any], *, actor: Actor) -> Any:
    """List what is payable

    Approved bounties and signed-off grant tranches in no live batch, oldest first,
    optionally of one currency or one jurisdiction. Finance and auditors.
    """
    rows = payouts.payable_items(db.session, actor, currency=args.get("currency"),
                                 jurisdiction=args.get("jurisdiction"))
    totals: dict[str, Money] = {}
    for row in rows:
        currency = row.amount.currency
        totals[currency] = totals.get(currency, Money.zero(currency)) + row.amount
    return {"items": [{"kind": r.kind, "subject_id": r.subject_id, "description": r.description,
                       "payee_kind": r.payee_kind, "payee_id": r.payee_id, "payee_name": r.payee_name,
                       "payee_jurisdiction": r.payee_jurisdiction, "amount": r.amount, "eur_amount": r.eur,
                       "rate": decimal_text(r.rate), "rate_date": r.rate_date, "shares": r.shares,
                       "payable_since": r.created_at} for r in rows],
            "totals": [totals[c] for c in sorted(totals)]}


@blp.post("/payouts/batches")
@bearer_required(Permission.MANAGE_PAYOUTS)
@blp.arguments(BatchIn)
@blp.response(201, BatchOut)
@blp.alt_response(200, schema=BatchOut, description="The open batch of this selection, unchanged")
@_errors(401, 403, 409, 422)
def create_batch(data: dict[str, Any], *, actor: Actor) -> Any:
    """Create a payout batch

    Everything payable in the selection; the same selection while its batch is open gives
    that batch (200). 409 when nothing is payable.
    """
    currency, code = check_filters(db.session, data.get("currency"), data.get("jurisdiction"))
    earlier = db.session.execute(select(PayoutBatch.id).where(
        PayoutBatch.selection_key == payouts.selection_key(currency, code),
        PayoutBatch.status == "open")).scalar()
    db.session.rollback()  # end the read: batch creation takes its own lock
    batch = payouts.create_batch(db.session, actor, currency=currency, jurisdiction=code)
    location = {"Location": url_for("api_finance.get_batch", batch_id=batch.id)}
    return _batch(actor, batch.id), 200 if batch.id == earlier else 201, location


@blp.get("/payouts/batches")
@bearer_required()
@blp.arguments(BatchListArgs, location="query")
@blp.response(200, BatchListOut)
@_errors(401, 403, 422)
def list_batches(args: dict[str, Any], *, actor: Actor) -> Any:
    """List payout batches

    Every batch, newest first, with its totals (finance and auditors).
    """
    views = payouts.list_batches(db.session, actor, status=args.get("status"))
    return {"items": [_batch_out(view, items=False) for view in views]}


@blp.get(BATCH_PATH)
@bearer_required()
@blp.response(200, BatchOut)
@_errors(401, 403, 404)
def get_batch(batch_id: int, *, actor: Actor) -> Any:
    """Read a payout batch

    The batch with every item: reference, status, amount, EUR equivalent, each
    jurisdiction's part.
    """
    return _batch(actor, batch_id)


@blp.get(f"{BATCH_PATH}/export")
@bearer_required()
@blp.arguments(ExportArgs, location="query")
@blp.doc(responses={"200": {"description": "The file, as an attachment", "content": {
    media: {"schema": {"type": "string", "format": "binary"}} for media in FILE_TYPES.values()}}})
@blp.alt_response(202, schema=DocumentOut, description="format=xlsx: the document job building the "
                  "workbook; follow `Location`, then its `links.file`")
@_errors(401, 403, 404, 409, 422)
def export_batch(args: dict[str, Any], batch_id: int, *, actor: Actor) -> Any:
    """Export a payout batch

    CSV (every item; finance and auditors) or a SEPA pain.001 credit transfer of the pending
    EUR items (finance), answered at once. XLSX is built on the job queue: 202 with the
    document job (`/documents/{id}`), whose file is downloaded once done. Changes nothing:
    record the batch as sent with `/exported`.
    """
    fmt = args["format"]
    if fmt == "xlsx":
        return accepted(submit_document(db.session, actor, "payout_batch_xlsx", {"batch_id": batch_id}))
    view = payouts.get_batch(db.session, actor, batch_id)
    try:
        data = batch_file(db.session, actor, view, fmt, current_app.config,
                          execution_date=args.get("execution_date"), skip_non_eur=args["skip_non_eur"])
    except InconsistentBatch as exc:
        raise errors.ApiError(409, "inconsistent_batch", str(exc)) from None
    response: Response = send_file(io.BytesIO(data), mimetype=FILE_TYPES[fmt], as_attachment=True,
                                   download_name=f"payout-batch-{batch_id}.{EXTENSIONS[fmt]}", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.post(f"{BATCH_PATH}/exported")
@bearer_required(Permission.MANAGE_PAYOUTS)
@blp.response(200, BatchOut)
@_errors(401, 403, 404, 409)
def mark_exported(batch_id: int, *, actor: Actor) -> Any:
    """Record a batch as sent to the bank

    An open batch becomes exported (the same selection then starts a new batch); again:
    unchanged. A cancelled batch is refused.
    """
    payouts.mark_exported(db.session, actor, batch_id)
    return _batch(actor, batch_id)


def _confirmation_body() -> bytes:
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise errors.ApiError(422, "invalid_input", "file: send the confirmation as the part `file`.",
                                  {"file": ["Missing data for required field."]})
        data = upload.stream.read(MAX_UPLOAD + 1)
    elif request.mimetype in CSV_TYPES:
        if (request.content_length or 0) > MAX_UPLOAD:
            data = b"x" * (MAX_UPLOAD + 1)
        else:
            data = request.get_data(cache=False)
    else:
        raise errors.ApiError(415, "unsupported_media_type", "Send the confirmation as text/csv, or as "
                              "multipart/form-data with a part `file`.")
    if len(data) > MAX_UPLOAD:
        raise errors.ApiError(422, "invalid_input", "file: larger than 5 MB.",
                              {"file": ["Larger than 5 MB."]})
    return data


@blp.post(f"{BATCH_PATH}/confirmation")
@bearer_required(Permission.MANAGE_PAYOUTS)
@blp.doc(requestBody=CONFIRMATION_BODY)
@blp.response(200, ConfirmationOut)
@_errors(401, 403, 404, 409, 415, 422)
def confirm_batch(batch_id: int, *, actor: Actor) -> Any:
    """Import the bank's confirmation

    All or nothing: any bad line refuses the whole file (422 `confirmation_rejected`, each
    problem under `fields.lines`). The same file again changes nothing (`already_imported`).
    """
    data = _confirmation_body()
    try:
        result = payouts.import_confirmation(db.session, actor, batch_id, data)
    except ConfirmationRejected as rejected:
        raise errors.ApiError(422, "confirmation_rejected", str(rejected),
                              {"lines": [str(problem) for problem in rejected.problems]}) from None
    return _confirmation_out(result)


@blp.post(f"{BATCH_PATH}/cancel")
@bearer_required(Permission.MANAGE_PAYOUTS)
@blp.arguments(ReasonIn)
@blp.response(200, BatchOut)
@_errors(401, 403, 404, 409, 422)
def cancel_batch(data: dict[str, Any], batch_id: int, *, actor: Actor) -> Any:
    """Cancel a payout batch

    Withdraws its unpaid items, which may then be batched again.
    """
    payouts.cancel_batch(db.session, actor, batch_id, data["reason"])
    return _batch(actor, batch_id)


@blp.post(f"{ITEM_PATH}/claw-back")
@bearer_required(Permission.MANAGE_PAYOUTS)
@blp.arguments(ReasonIn)
@blp.response(200, ItemOut)
@_errors(401, 403, 404, 409, 422)
def claw_back(data: dict[str, Any], item_id: int, *, actor: Actor) -> Any:
    """Claw back a paid item

    Reverses its cost (each jurisdiction's part back) and returns the reserve to the pool;
    the payee then owes the amount. Only a paid item; again: unchanged.
    """
    item: PayoutItem = payouts.claw_back(db.session, actor, item_id, data["reason"])
    view = payouts.get_batch(db.session, actor, item.batch_id)
    return next(_item_out(view.id, i) for i in view.items if i.id == item_id)


# ----------------------------------------------------------------------- statements, rates


@blp.get("/statements/<string(length=2):jurisdiction>")
@bearer_required()
@blp.arguments(StatementArgs, location="query")
@blp.response(200, StatementOut)
@_errors(401, 403, 404, 422)
def get_statement(args: dict[str, Any], jurisdiction: str, *, actor: Actor) -> Any:
    """Read a jurisdiction's statement

    A calendar year (`year`, this year by default) or any period (`from` and `to`, both
    included): what the member owes into each pool by its share, what it paid in, its part of
    every payout, and its balance. Finance, program admins and auditors. As XLSX: ask for the
    document `statement_xlsx` (`POST /documents`).
    """
    if args.get("start") is not None:
        span = statements.period(start=args["start"], end=args["end"])
    else:
        span = statements.period(args.get("year") or datetime.now(UTC).year)
    s = statements.jurisdiction_statement(db.session, actor, jurisdiction, span)
    return {
        "jurisdiction": s.jurisdiction_code, "jurisdiction_name": s.jurisdiction_name,
        "period_start": s.period.start, "period_end": s.period.end, "currency": s.currency,
        "pools": [{"pool_id": p.pool_id, "year": p.year, "kind": p.kind, "name": p.name,
                   "share": decimal_text(p.share), "funded": p.funded, "owed": p.owed, "spent": p.spent,
                   "borne": p.borne} for p in s.pools],
        "payments": [{"effective_on": p.effective_on, "transaction_id": p.transaction_id,
                      "reference": p.idempotency_key, "memo": p.memo, "amount": p.amount}
                     for p in s.payments],
        "payouts": [{"effective_on": p.effective_on, "transaction_id": p.transaction_id,
                     "reference": p.idempotency_key, "kind": p.kind, "memo": p.memo, "pool_id": p.pool_id,
                     "total": p.total, "part": p.part, "payable": p.payable, "payee_account": p.payee_account}
                    for p in s.payouts],
        "owed": s.owed, "paid_in": s.paid_in, "borne": s.borne, "owed_to_date": s.owed_to_date,
        "paid_in_to_date": s.paid_in_to_date, "borne_to_date": s.borne_to_date,
        "outstanding": s.outstanding, "balance": s.balance,
    }


@blp.get("/rates")
@bearer_optional
@blp.arguments(RatesArgs, location="query")
@blp.response(200, RatesOut)
@_errors(401, 422)
def list_rates(args: dict[str, Any], *, actor: Actor) -> Any:
    """List exchange rates

    The EUR reference rates in force on a day (today by default): for each currency the
    newest dated on or before it. Public.
    """
    on = args.get("on") or datetime.now(UTC).date()
    rates = sorted(fx.rates_on(db.session, on), key=lambda rate: rate.quote)
    return {"on": on, "base": "EUR",
            "rates": [{"currency": r.quote, "rate": decimal_text(fx.plain(r.rate)), "rate_date": r.rate_date,
                       "source": r.source} for r in rates]}
