"""Shared fixtures: a real database of each kind, migrated by the project's own migrations.

Every database test runs on SQLite (a fresh copy of a migrated template file) and on
PostgreSQL (a schema of its own in the server named by BOUNTY_TEST_POSTGRES_URL, emptied
after each test). With CI=true the PostgreSQL half is required: an unreachable server
fails the run. Elsewhere those tests are skipped with the reason printed.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bounty.models import Base
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.models.migrate import upgrade

POSTGRES_URL = os.environ.get("BOUNTY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_reason() -> str | None:
    """None when the server answers, else why not."""
    engine = make_engine(POSTGRES_URL, pool_pre_ping=False, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except Exception as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {type(exc).__name__}: {first_line}"
    finally:
        engine.dispose()


_PG_REASON = _postgres_reason()


def pytest_report_header(config: pytest.Config) -> str:
    if _PG_REASON is None:
        return f"PostgreSQL tests: on ({POSTGRES_URL})"
    return f"PostgreSQL tests: {'REQUIRED but ' if IN_CI else 'skipped: '}{_PG_REASON}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "bounty.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A migrated schema of its own in the test server; dropped at the end of the run."""
    if _PG_REASON is not None:
        if IN_CI:
            pytest.fail(f"CI requires PostgreSQL: {_PG_REASON}")
        pytest.skip(_PG_REASON)
    schema = f"bounty_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def empty_postgres(url: str) -> None:
    """Remove every row, the append-only ledger included (its triggers off for this session)."""
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind, one per test."""
    if request.param == "sqlite":
        target = tmp_path / "bounty.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    url = request.getfixturevalue("postgres_schema_url")
    yield url
    empty_postgres(url)


@pytest.fixture
def pg_url(postgres_schema_url: str) -> Iterator[str]:
    """PostgreSQL only, for what only PostgreSQL can show (row locks, triggers)."""
    yield postgres_schema_url
    empty_postgres(postgres_schema_url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    session = make_sessionmaker(engine)()
    yield session
    session.close()
