"""Settings: the defaults table, `BOUNTY_*` environment overrides, and start-up validation.

Precedence, lowest first: DEFAULTS, then `BOUNTY_<KEY>` environment variables (values
parsed as JSON where they parse, so `BOUNTY_DEMO_LOGIN=true` is a boolean), then the
mapping given to `create_app` (tests). `validate` refuses to start a production instance
that still has a default secret or lacks a required setting, naming the setting.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - the value production refuses

DEFAULTS: dict[str, Any] = {
    # "development" (default), "demo", "testing" or "production"; production is strict.
    "ENV": "development",
    # Signs the session cookie and CSRF tokens; must be set to a long random value in production.
    "SECRET_KEY": DEFAULT_SECRET_KEY,
    # SQLAlchemy URL. Empty means SQLite at <instance folder>/bounty.db (the embedded default).
    "DATABASE_URL": "",
    # Echo SQL to the log (debugging only).
    "DATABASE_ECHO": False,
    # The development sign-in (pick a demo persona). `bounty demo` turns it on; refused in production.
    "DEMO_LOGIN": False,
    # The year whose pools and shares the landing page shows; 0 means the current year.
    "PROGRAMME_YEAR": 0,
    # Keycloak base URL, e.g. https://id.example.org (no /realms part); empty turns the
    # Keycloak sign-in off. Required in production.
    "KEYCLOAK_URL": "",
    # The realm; the provider is found at {KEYCLOAK_URL}/realms/{KEYCLOAK_REALM}.
    "KEYCLOAK_REALM": "bounty",
    # The OIDC client id: the ID token's audience and the client whose roles are read.
    "KEYCLOAK_CLIENT_ID": "bounty",
    # The confidential client's secret (Keycloak: Clients > bounty > Credentials); required in production.
    "KEYCLOAK_CLIENT_SECRET": "",
    # Token claim carrying the person's jurisdiction (EU, UK, CA or AU).
    "JURISDICTION_CLAIM": "jurisdiction",
    # Token claim carrying the name of the person's organisation.
    "ORGANISATION_CLAIM": "organisation",
    # Base URL of the cooperative's self-hosted GitLab; merge-request links must point there.
    "GITLAB_URL": "https://gitlab.example.org",
    # Default locale of pages and of money and date formatting (en or fr).
    "DEFAULT_LOCALE": "en",
}

ENVIRONMENTS = ("development", "demo", "testing", "production")

# Settings production cannot start without, beyond a non-default SECRET_KEY.
REQUIRED_IN_PRODUCTION = ("DATABASE_URL", "KEYCLOAK_URL", "KEYCLOAK_CLIENT_SECRET")


class ConfigError(RuntimeError):
    """A setting that keeps the application from starting; the message names it."""


def _parse_env_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def from_environment(environ: Mapping[str, str] | None = None, prefix: str = "BOUNTY_") -> dict[str, Any]:
    """The settings given as `BOUNTY_<KEY>` variables, for keys in DEFAULTS only."""
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for name, raw in environ.items():
        if name.startswith(prefix) and name[len(prefix):] in DEFAULTS:
            key = name[len(prefix):]
            value = _parse_env_value(raw)
            # Strings stay strings even when they look like JSON numbers (e.g. a secret "1234").
            found[key] = raw if isinstance(DEFAULTS[key], str) else value
    return found


def build(instance_path: str | Path, overrides: Mapping[str, Any] | None = None,
          environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Merge defaults, environment and explicit overrides; fill derived values."""
    settings = {**DEFAULTS, **from_environment(environ), **dict(overrides or {})}
    settings["DATABASE_URL_IS_DEFAULT"] = not settings["DATABASE_URL"]
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = "sqlite:///" + str(Path(instance_path) / "bounty.db")
    return settings


def validate(settings: Mapping[str, Any]) -> None:
    """Raise ConfigError naming the first setting that makes start-up unsafe."""
    env = settings["ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"BOUNTY_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    for key, default in DEFAULTS.items():
        # A value that is not JSON stays a string, and "False" or "no" would be truthy.
        if isinstance(default, bool) and not isinstance(settings[key], bool):
            raise ConfigError(f"BOUNTY_{key} must be true or false, got {settings[key]!r}")
    year = settings["PROGRAMME_YEAR"]
    if not isinstance(year, int) or isinstance(year, bool) or year < 0:
        raise ConfigError("BOUNTY_PROGRAMME_YEAR must be a year such as 2026, or 0 for the current year")
    if settings["DEFAULT_LOCALE"] not in ("en", "fr"):
        raise ConfigError("BOUNTY_DEFAULT_LOCALE must be en or fr")
    for key in ("KEYCLOAK_URL", "GITLAB_URL"):
        _require_http_url(key, settings[key], optional=key == "KEYCLOAK_URL")
    for key in ("KEYCLOAK_REALM", "KEYCLOAK_CLIENT_ID", "JURISDICTION_CLAIM", "ORGANISATION_CLAIM"):
        if not isinstance(settings[key], str) or not settings[key].strip():
            raise ConfigError(f"BOUNTY_{key} must not be empty")
    if env != "production":
        return
    if settings["SECRET_KEY"] == DEFAULT_SECRET_KEY or len(str(settings["SECRET_KEY"])) < 32:
        raise ConfigError(
            "BOUNTY_SECRET_KEY must be set to a random value of at least 32 characters in production"
        )
    if settings.get("DATABASE_URL_IS_DEFAULT"):
        raise ConfigError("BOUNTY_DATABASE_URL is required in production")
    for key in REQUIRED_IN_PRODUCTION:
        if not settings.get(key):
            raise ConfigError(f"BOUNTY_{key} is required in production")
    if settings["DEMO_LOGIN"]:
        raise ConfigError(
            "BOUNTY_DEMO_LOGIN is refused in production: the demo sign-in is for demonstrations only"
        )


def _require_http_url(key: str, value: Any, optional: bool) -> None:
    """Refuse a URL setting that is not an absolute http(s) URL (a typo would fail later)."""
    if optional and value == "":
        return
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"BOUNTY_{key} must be an http:// or https:// URL, got {value!r}")
