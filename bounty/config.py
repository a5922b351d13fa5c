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
    # Access token the sync reads GitLab with (read_api; api when DCO statuses are written back).
    "GITLAB_TOKEN": "",
    # Projects watched by the sync: a list of numeric ids or full paths (JSON list or comma-separated).
    "GITLAB_PROJECTS": [],
    # Groups whose projects are watched as well (JSON list or comma-separated full paths).
    "GITLAB_GROUPS": [],
    # Secret GitLab sends in X-Gitlab-Token with every webhook; empty refuses every delivery.
    "GITLAB_WEBHOOK_SECRET": "",
    # Write a `dco` commit status on each synced merge request's head commit.
    "GITLAB_WRITE_BACK_STATUS": False,
    # Page size of GitLab list requests (GitLab allows at most 100).
    "GITLAB_PER_PAGE": 100,
    # Minutes between scheduled incremental syncs (Celery beat).
    "GITLAB_SYNC_INTERVAL_MINUTES": 15,
    # Largest webhook body accepted, in bytes; larger ones get 413.
    "WEBHOOK_MAX_BYTES": 1048576,
    # Regular expressions of bot author e-mails whose commits need no sign-off (DCO.md rule 3).
    "DCO_BOT_PATTERNS": [
        r"^(\d+\+)?[^@\s]+\[bot\]@users\.noreply\.github\.com$",
        r"^(project|group)_\d+_bot(_[0-9a-f]+)?@noreply\.[^@\s]+$",
    ],
    # Celery broker (e.g. redis://127.0.0.1:6379/0). Empty runs background jobs in-process
    # (eager), as the embedded default and `bounty demo` do.
    "CELERY_BROKER_URL": "",
    # Where Celery keeps job results; empty uses the broker URL (or nothing in eager mode).
    "CELERY_RESULT_BACKEND": "",
    # Key that encrypts payee IBANs at rest: a Fernet key (32 url-safe base64 bytes), e.g. from
    # `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.
    # Empty refuses to store bank details.
    "BANK_DETAILS_KEY": "",
    # The cooperative's paying account, written as the debtor of SEPA credit transfers.
    "SEPA_DEBTOR_NAME": "",
    "SEPA_DEBTOR_IBAN": "",
    "SEPA_DEBTOR_BIC": "",
    # How many days back contribution hours may be logged (older dates are refused).
    "HOURS_BACKDATE_DAYS": 90,
    # Public pages kept per worker process for anonymous visitors (bounty.web.page_cache); 0 turns it off.
    "PAGE_CACHE_SIZE": 256,
    # Hours a finished document (XLSX export, awards report) stays downloadable before it is purged.
    "DOCUMENT_RETENTION_HOURS": 168,
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
    for key, default in DEFAULTS.items():
        # A list setting given in the environment as "a, b" rather than JSON.
        if isinstance(default, list) and isinstance(settings[key], str):
            settings[key] = [item.strip() for item in settings[key].split(",") if item.strip()]
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
    for key, default in DEFAULTS.items():
        if isinstance(default, list) and not (
            isinstance(settings[key], list) and all(isinstance(item, str | int) for item in settings[key])
        ):
            raise ConfigError(f"BOUNTY_{key} must be a list (JSON or comma-separated), got {settings[key]!r}")
    positive = ("GITLAB_PER_PAGE", "GITLAB_SYNC_INTERVAL_MINUTES", "WEBHOOK_MAX_BYTES", "HOURS_BACKDATE_DAYS",
                "DOCUMENT_RETENTION_HOURS")
    for key in positive:
        value = settings[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"BOUNTY_{key} must be a positive whole number, got {value!r}")
    cache_size = settings["PAGE_CACHE_SIZE"]
    if not isinstance(cache_size, int) or isinstance(cache_size, bool) or cache_size < 0:
        raise ConfigError(f"BOUNTY_PAGE_CACHE_SIZE must be a whole number from 0, got {cache_size!r}")
    if settings["GITLAB_PER_PAGE"] > 100:
        raise ConfigError("BOUNTY_GITLAB_PER_PAGE must be at most 100 (GitLab's limit)")
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
