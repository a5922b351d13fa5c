"""The grant endpoints of `/api/v1`: list, read, create, sign off a milestone, cancel.

Each view authenticates the caller (`bounty.api.auth`), parses the request with a schema,
calls one function of `bounty.services.grants` or `grant_queries` (which check the
permission again; the writes own their transaction) and answers with a schema. Who sees a
grant is `grant_queries`' rule alone: to anyone else, an anonymous caller included, a grant
does not exist (absent from the list, 404 on its own URL).
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_smorest import Blueprint

from bounty.api import errors
from bounty.api.auth import bearer_optional, bearer_required
from bounty.api.error_docs import error_docs
from bounty.api.grants_schemas import GrantCancelIn, GrantIn, GrantListArgs, GrantListOut, GrantOut
from bounty.api.schemas import MAX_ID
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.services import grant_queries, grants
from bounty.services.actors import Actor

blp = Blueprint("api_grants", __name__, description="Grants: tranches against milestones, sign-off, cancel.")
errors.register_handlers(blp)

GRANT_PATH = f"/grants/<int(min=1, max={MAX_ID}):grant_id>"
DESCRIPTIONS = {
    401: "No bearer token, or one that is not valid",
    403: "The caller may not do this (the grantee, or a member of the grantee organisation, "
         "never signs off its milestones)",
    404: "No such grant or tranche, or not one the caller may see",
    409: "The grant's state does not allow this (already signed off, not active, the fund cannot cover it)",
    422: "Invalid input, by field",
}


_documented_errors = error_docs(blp, DESCRIPTIONS)


def grant_out(view: grant_queries.GrantView) -> dict[str, Any]:
    """What GrantOut dumps."""
    return {
        "id": view.id, "title": view.title, "description": view.description, "status": view.status,
        "grantee_kind": view.grantee_kind, "grantee_id": view.grantee_id, "grantee_name": view.grantee_name,
        "working_group_code": view.working_group_code, "pool_year": view.pool_year, "total": view.total,
        "total_eur": view.total_eur, "signed_off": view.signed_off, "pending": view.pending,
        "overdue": view.overdue, "created_at": view.created_at,
        "tranches": [{"position": t.position, "milestone": t.milestone, "due_on": t.due_on,
                      "amount": t.amount, "amount_eur": t.amount_eur, "status": t.status,
                      "overdue": t.overdue, "signed_off_by": t.signed_off_by,
                      "signed_off_at": t.signed_off_at, "payable_transaction_id": t.payable_transaction_id}
                     for t in view.tranches],
    }


def _detail(actor: Actor, grant_id: int) -> dict[str, Any]:
    return grant_out(grant_queries.get_grant(db.session, actor, grant_id))


@blp.get("/grants")
@bearer_optional
@blp.arguments(GrantListArgs, location="query")
@blp.response(200, GrantListOut)
@_documented_errors(401, 422)
def list_grants(args: dict[str, Any], *, actor: Actor) -> Any:
    """List grants

    The grants the caller may see, newest first: program admins, finance, reviewers and
    auditors see every grant, a grantee its own. `overdue` keeps those with a pending
    milestone past its due date.
    """
    views = grant_queries.list_grants(db.session, actor, overdue_only=args["overdue"],
                                      status=args.get("status"))
    return {"items": [grant_out(view) for view in views]}


@blp.get(GRANT_PATH)
@bearer_optional
@blp.response(200, GrantOut)
@_documented_errors(401, 404)
def get_grant(grant_id: int, *, actor: Actor) -> Any:
    """Read a grant

    The grant with its tranches: each one's amount, EUR reserve, status, whether it is
    overdue, who signed it off and its payable transaction.
    """
    return _detail(actor, grant_id)


@blp.post("/grants")
@bearer_required(Permission.MANAGE_FUNDS)
@blp.arguments(GrantIn)
@blp.response(201, GrantOut)
@_documented_errors(401, 403, 409, 422)
def create_grant(data: dict[str, Any], *, actor: Actor) -> Any:
    """Create a grant

    Program admins only. The grant is active at once: each tranche is reserved in this year's
    development fund at the EUR rate in force (409 `insufficient_funds` when the fund cannot
    cover the whole).
    """
    tranches = [grants.TrancheInput(t["milestone"], t["due_on"], t["amount"]) for t in data.pop("tranches")]
    grant = grants.create_grant(db.session, actor, grants.GrantInput(tranches=tranches, **data))
    location = {"Location": url_for("api_grants.get_grant", grant_id=grant.id)}
    return _detail(actor, grant.id), 201, location


@blp.post(f"{GRANT_PATH}/tranches/<int(min=1, max=1000):position>/sign-off")
@bearer_required(Permission.REVIEW_WORK)
@blp.response(200, GrantOut)
@_documented_errors(401, 403, 404, 409)
def sign_off_tranche(grant_id: int, position: int, *, actor: Actor) -> Any:
    """Sign off a milestone

    A reviewer (never the grantee nor a member of the grantee organisation) signs off the
    milestone of a pending tranche: it becomes payable, its EUR cost split across the
    jurisdictions by share. Once only: a second sign-off is 409.
    """
    grants.sign_off_tranche(db.session, actor, grant_id, position)
    return _detail(actor, grant_id)


@blp.post(f"{GRANT_PATH}/cancel")
@bearer_required(Permission.MANAGE_FUNDS)
@blp.arguments(GrantCancelIn)
@blp.response(200, GrantOut)
@_documented_errors(401, 403, 404, 409, 422)
def cancel_grant(data: dict[str, Any], grant_id: int, *, actor: Actor) -> Any:
    """Cancel a grant

    Releases the reserve of the pending tranches; signed-off tranches stay payable.
    """
    grants.cancel_grant(db.session, actor, grant_id, data["reason"])
    return _detail(actor, grant_id)
