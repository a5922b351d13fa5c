"""Fixtures of the web tests: an application on the test database, and its client."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bounty import create_app

SECRET = "x" * 40


def build_app(database_url: str, **extra: Any) -> Flask:
    return create_app({"ENV": "testing", "DATABASE_URL": database_url, "SECRET_KEY": SECRET,
                       "PROGRAMME_YEAR": 2026, **extra})


@pytest.fixture
def make_app(db_url: str) -> Iterator[Callable[..., Flask]]:
    """Applications on the test database; their engines are closed after the test."""
    apps: list[Flask] = []

    def make(**extra: Any) -> Flask:
        app = build_app(db_url, **extra)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["bounty.db"].engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token_of(html: str) -> str:
    """The CSRF token a page's form carries."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)
