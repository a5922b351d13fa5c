"""The API's one error shape, and the handlers that turn every failure into it.

Every error of `/api/v1` answers with

    {"error": {"status": 422, "code": "invalid_input", "message": "...",
               "fields": {"amount": ["..."]}}}

whatever raised it: the argument parser (malformed JSON 400, validation 422), the bearer
token check (401 with `WWW-Authenticate: Bearer`), a service refusal (403, 404, 409, 422),
the router (404 for an unknown path, 405 for a wrong method), or an unexpected failure
(500, still JSON). The HTML pages keep their own error pages: the handlers here are
registered on the API blueprint, and the router's errors are answered by a
`before_request` hook that only looks at paths under the API's prefix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response

from bounty.ledger import InsufficientFunds, LedgerError, MissingRate
from bounty.services.errors import (
    AlreadyClaimed,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ServiceError,
)

# The key of errors about the request body as a whole rather than one field of it.
BODY_FIELD = "_body"

# Messages of the parser's own errors, in the API's words.
_STATUS_MESSAGES = {
    400: "The request is malformed.",
    401: "A valid bearer token is required.",
    403: "You are not allowed to do this.",
    404: "There is nothing here.",
    405: "This method is not allowed here.",
    409: "The request clashes with the current state.",
    415: "The request body must be JSON.",
    422: "The request has invalid input.",
    500: "Something went wrong on our side; the error has been logged.",
}


class ApiError(Exception):
    """An answer of the API's error shape, raised where the answer is decided."""

    def __init__(self, status: int, code: str, message: str,
                 fields: Mapping[str, list[str]] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


def error_response(error: ApiError) -> Response:
    """The JSON response of `error`."""
    response = jsonify({"error": {"status": error.status, "code": error.code,
                                  "message": error.message, "fields": error.fields}})
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def _code_of(name: str) -> str:
    """"Unprocessable Entity" -> "unprocessable_entity"."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as `{"field.sub": ["reason", ...]}`.

    Messages are keyed by location first (`{"json": {"amount": [...]}}`); the location is
    dropped, as a field name says enough. Errors about a whole body (`_schema`, or a plain
    list such as `{"json": ["Invalid JSON body."]}`) go under `_body`.
    """
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = str(key)
            if name == "_schema":
                name = ""
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            for field, reasons in flatten_messages(value, path).items():
                flat.setdefault(field, []).extend(reasons)
    elif isinstance(messages, list | tuple):
        for item in messages:
            if isinstance(item, Mapping):
                for field, reasons in flatten_messages(item, prefix).items():
                    flat.setdefault(field, []).extend(reasons)
            else:
                flat.setdefault(prefix or BODY_FIELD, []).append(str(item))
    elif messages is not None:
        flat.setdefault(prefix or BODY_FIELD, []).append(str(messages))
    return flat


def from_http_exception(error: HTTPException) -> ApiError:
    """The API error of an HTTP exception: the parser's, the router's or an `abort()`."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("errors", data.get("messages"))
    # The parser keys messages by location; drop it so fields are named as in the schema.
    if isinstance(messages, Mapping) and set(messages) <= {"json", "query", "view_args", "path",
                                                           "form", "headers", "cookies", "files"}:
        fields: dict[str, list[str]] = {}
        for location_messages in messages.values():
            for field, reasons in flatten_messages(location_messages).items():
                fields.setdefault(field, []).extend(reasons)
    else:
        fields = flatten_messages(messages) if messages else {}
    headers = {name: value for name, value in error.get_headers()
               if name.lower() not in ("content-type", "content-length")}
    headers.update(data.get("headers") or {})
    if status == 400 and BODY_FIELD in fields:
        code, message = "malformed_json", "The request body is not valid JSON."
        fields = {}
    elif status == 422:
        code = "invalid_input"
        message = _summary(fields) or _STATUS_MESSAGES[422]
    else:
        code = _code_of(error.name) if status != 500 else "internal_error"
        message = data.get("message") or _STATUS_MESSAGES.get(status) or error.name
    return ApiError(status, code, str(message), fields, headers)


def _summary(fields: Mapping[str, list[str]]) -> str:
    """One line naming the fields at fault, e.g. "amount: Not a valid string."."""
    return "; ".join(f"{field}: {' '.join(reasons)}" for field, reasons in sorted(fields.items()))


def from_refusal(error: ServiceError | LedgerError) -> ApiError:
    """The API error of a service's or the money rules' refusal."""
    message = str(error)
    if isinstance(error, InvalidInput):
        return ApiError(422, "invalid_input", message, {error.field: [error.reason]})
    if isinstance(error, NotFound):
        return ApiError(404, "not_found", message or _STATUS_MESSAGES[404])
    if isinstance(error, PermissionDenied):
        return ApiError(403, "forbidden", message or _STATUS_MESSAGES[403])
    if isinstance(error, AlreadyClaimed):
        return ApiError(409, "already_claimed", message or "already claimed")
    if isinstance(error, Conflict):
        return ApiError(409, "conflict", message or _STATUS_MESSAGES[409])
    if isinstance(error, InsufficientFunds):
        return ApiError(409, "insufficient_funds", message)
    if isinstance(error, MissingRate):
        return ApiError(422, "missing_rate", message, {"currency": [message]})
    if isinstance(error, LedgerError):
        return ApiError(422, "invalid_input", message, {"amount": [message]})
    return ApiError(422, "refused", message)


def register_handlers(blueprint: Blueprint) -> None:
    """Answer every error raised while `blueprint` handles a request in the API's shape.

    Called once, where the blueprint is defined: Flask refuses new handlers on a blueprint
    already registered on an application.
    """
    blueprint.register_error_handler(ApiError, _api_error)
    blueprint.register_error_handler(HTTPException, _http_exception)
    # Handlers for a status code win over handlers for a class, the application's included;
    # registering each code here keeps an HTML page for, say, 404 from answering an API call.
    for status in default_exceptions:
        blueprint.register_error_handler(status, _http_exception)
    blueprint.register_error_handler(ServiceError, _refusal)
    blueprint.register_error_handler(LedgerError, _refusal)
    blueprint.register_error_handler(InternalServerError, _unexpected)


def register_routing_errors(app: Flask, prefix: str) -> None:
    """Answer the router's errors under `prefix` (unknown path 404, wrong method 405) as JSON.

    Such a request never reaches a view, so the blueprint's handlers never see it; this
    hook answers it before the application's HTML error pages would.
    """

    def _routing_error() -> Response | None:
        error = request.routing_exception
        if (error is None or isinstance(error, RequestRedirect)
                or not isinstance(error, HTTPException)
                or not (request.path == prefix or request.path.startswith(prefix + "/"))):
            return None
        return error_response(from_http_exception(error))

    app.before_request(_routing_error)


def _api_error(error: ApiError) -> Response:
    return error_response(error)


def _http_exception(error: HTTPException) -> Response:
    return error_response(from_http_exception(error))


def _refusal(error: ServiceError | LedgerError) -> Response:
    return error_response(from_refusal(error))


def _unexpected(_error: InternalServerError) -> Response:
    return error_response(ApiError(500, "internal_error", _STATUS_MESSAGES[500]))
