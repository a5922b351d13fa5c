"""What every response carries for the browser's protection, the session cookie's flags, and
`safe_next`, the one check of where a `?next=` may send the visitor.

The Content-Security-Policy allows scripts, styles, fonts and images from this site only
(plus `data:` images, which Pico CSS uses for its icons): no inline script or style, no
plugins, no `<base>` tag, no framing. Forms may post to this site and, because the
browser also checks where a form's redirect lands, to Keycloak (sign-out goes there).
A response that sets its own policy (an API documentation page, say) keeps it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from werkzeug.wrappers import Response

EXTENSION_KEY = "bounty.security"
# Environments served over plain http on a workstation; everywhere else cookies are Secure.
INSECURE_ENVIRONMENTS = ("development", "testing", "demo")
# One year, as OWASP ASVS 3.4.1 asks.
HSTS_SECONDS = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    """Set the session cookie's flags and add the security headers to every response (once)."""
    if EXTENSION_KEY in app.extensions:
        return
    app.extensions[EXTENSION_KEY] = True
    secure = app.config["ENV"] not in INSECURE_ENVIRONMENTS
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        # "__Host-" makes the browser refuse the cookie unless Secure, for "/" and without a
        # Domain, so no sibling subdomain can plant or overwrite it.
        SESSION_COOKIE_NAME="__Host-bounty_session" if secure else "bounty_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
    )
    headers = security_headers(app.config.get("KEYCLOAK_URL", ""), hsts=secure)

    def add_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    app.after_request(add_headers)


def security_headers(keycloak_url: str, hsts: bool) -> dict[str, str]:
    """The headers added to every response."""
    form_action = "'self'"
    if keycloak_url:
        parts = urlsplit(keycloak_url)
        form_action += f" {parts.scheme}://{parts.netloc}"
    policy = "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        f"form-action {form_action}",
        "frame-ancestors 'none'",
    ))
    headers = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if hsts:
        headers["Strict-Transport-Security"] = f"max-age={HSTS_SECONDS}"
    return headers


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site, `default` for anything that could leave it.

    Refused: absolute URLs (`https://evil.example`), scheme-relative ones (`//evil.example`),
    other schemes (`javascript:`), backslashes (browsers read `/\\evil.example` as
    `//evil.example`) and control characters (browsers drop tabs and newlines, so
    `/\\t/evil.example` would become `//evil.example`).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
