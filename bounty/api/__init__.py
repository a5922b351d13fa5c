"""The JSON API, version 1, under `/api/v1`, and its OpenAPI document at `/api/v1/openapi.json`.

flask-smorest builds the document from the marshmallow schemas of `bounty.api.schemas`;
nothing of it is written by hand. Callers authenticate with Keycloak access tokens
(`Authorization: Bearer ...`), never with the session cookie of the HTML pages, so the
API is exempt from CSRF protection. Every error has one JSON shape (`bounty.api.errors`).
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from flask import Flask
from flask_smorest import Api

from bounty.api import activity, awards, bounties, documents, errors, finance, grants, hours, leaderboards
from bounty.api.auth import SECURITY_SCHEME, SECURITY_SCHEME_SPEC
from bounty.api.schemas import ErrorOut
from bounty.extensions import csrf

API_PREFIX = "/api/v1"

# Settings of the API, each put into `app.config` unless the application already has it.
SETTINGS: dict[str, Any] = {
    "API_TITLE": "Bounty ledger API",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": API_PREFIX,
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "info": {"description": "Bounties of the sovereign-cloud cooperative: list, read, create, "
                               "publish, cancel, claim, submit and review. Money is a decimal "
                               "string with its ISO 4217 code, never a number."},
    },
}


class BountyApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with the project's error shape and no application-wide handlers."""

    ERROR_SCHEMA = ErrorOut

    def _register_error_handlers(self) -> None:
        # flask-smorest would answer every HTTP error of the application with its own JSON,
        # the HTML pages' included; the API's handlers live on its blueprint instead.
        return None

    def handle_http_exception(self, error: Exception) -> Any:
        return errors.error_response(errors.from_http_exception(error))  # type: ignore[arg-type]


def register_api(app: Flask) -> None:
    """Serve the API and its OpenAPI document on `app`; a second call does nothing.

    The order against the HTML blueprints does not matter: the API's error handlers live on
    its blueprint (and win there), and the router's errors are answered before any page's.
    Bearer tokens are checked against Keycloak once `bounty.auth.init_app` has bound it.
    """
    if "bounty.api" in app.extensions:
        return
    for key, value in SETTINGS.items():
        # A copy: apispec writes into the options it is given, which must not leak across apps.
        app.config.setdefault(key, deepcopy(value))
    api = BountyApi(app)
    api.spec.components.security_scheme(SECURITY_SCHEME, SECURITY_SCHEME_SPEC)
    for module in (bounties, hours, grants, finance, documents, activity, awards, leaderboards):
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp, url_prefix=API_PREFIX)
    errors.register_routing_errors(app, API_PREFIX)
    app.extensions["bounty.api"] = api
