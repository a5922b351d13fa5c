"""A real browser against the application served on loopback, signed in through a real
OpenID provider shaped like Keycloak (tests/fakes/keycloak.py).

Chromium is Debian's (`/usr/bin/chromium`, installed by scripts/setup-system.sh), driven by
Playwright; Playwright's own browser download is never used.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Playwright, sync_playwright
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bounty import create_app
from tests.fakes.keycloak import KeycloakFake, make_keycloak_fixture  # noqa: F401 - fixture

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class _LateApp:
    """The server needs an app before the port is known; the app needs the port (for the
    provider's redirect URI) before it is built. This stands in until it is."""

    app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


@dataclass
class LiveSite:
    url: str
    app: Flask
    keycloak: KeycloakFake


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup-system.sh (it installs Debian's chromium)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def live_site(tmp_path: Path, sqlite_template: Path, make_keycloak: Callable[..., KeycloakFake]
              ) -> Iterator[LiveSite]:
    """The application on a loopback port with its own database and its own provider."""
    database = tmp_path / "bounty.db"
    shutil.copyfile(sqlite_template, database)
    late = _LateApp()
    server: BaseWSGIServer = make_server("127.0.0.1", 0, late, threaded=True, request_handler=_Quiet)
    url = f"http://127.0.0.1:{server.server_port}"
    keycloak = make_keycloak(redirect_uris=[f"{url}/auth/callback"])
    late.app = create_app({
        "ENV": "testing", "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "s" * 40,
        **keycloak.settings(),
    })
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield LiveSite(url, late.app, keycloak)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
