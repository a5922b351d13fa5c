"""The migrations: an empty database of each kind upgrades to exactly the models, downgrades
to nothing and upgrades again; PostgreSQL gets the ledger's append-only triggers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import Engine, inspect, text

import bounty.cli
from bounty.models import Base, migrate
from bounty.models.engine import make_engine
from tests.conftest import POSTGRES_URL

TRIGGERS = {
    "ledger_lines_append_only",
    "ledger_lines_no_truncate",
    "ledger_transactions_append_only",
    "ledger_transactions_no_truncate",
}


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(migrate.alembic_config(engine)).get_current_head()
    assert head is not None
    return head


@contextmanager
def fresh_postgres_schema(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine on a new, empty schema of the test server, dropped afterwards."""
    # Skips (or fails in CI) exactly as the shared fixtures do when the server is missing.
    request.getfixturevalue("postgres_schema_url")
    schema = f"bounty_migrate_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    engine = make_engine(f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with no tables at all: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "postgres":
        with fresh_postgres_schema(request) as engine:
            yield engine
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def empty_pg_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    with fresh_postgres_schema(request) as engine:
        yield engine


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_of_an_empty_database_matches_the_models(empty_engine: Engine) -> None:
    assert table_names(empty_engine) == set()
    assert migrate.current_revision(empty_engine) is None

    migrate.upgrade(empty_engine)

    assert migrate.current_revision(empty_engine) == head_revision(empty_engine)
    assert table_names(empty_engine) == set(Base.metadata.tables) | {"alembic_version"}
    assert migrate.pending_changes(empty_engine) == []


def test_upgrade_twice_changes_nothing(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == head_revision(empty_engine)
    assert migrate.pending_changes(empty_engine) == []


def test_downgrade_to_base_leaves_no_tables_and_upgrade_works_again(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine, "base")

    assert migrate.current_revision(empty_engine) is None
    # Alembic keeps its own (now empty) version table; nothing of the programme remains.
    assert table_names(empty_engine) <= {"alembic_version"}

    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == head_revision(empty_engine)
    assert migrate.pending_changes(empty_engine) == []


def test_shared_fixture_databases_are_at_head_with_no_pending_changes(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert migrate.current_revision(engine) == head_revision(engine)
        assert migrate.pending_changes(engine) == []
    finally:
        engine.dispose()


def _schema_objects(engine: Engine) -> tuple[set[str], set[str]]:
    with engine.connect() as connection:
        functions = set(
            connection.execute(
                text(
                    "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                    "WHERE n.nspname = current_schema()"
                )
            ).scalars()
        )
        triggers = set(
            connection.execute(
                text(
                    "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND NOT t.tgisinternal"
                )
            ).scalars()
        )
    return functions, triggers


@pytest.mark.postgres
def test_postgres_upgrade_creates_the_append_only_triggers(empty_pg_engine: Engine) -> None:
    empty_engine = empty_pg_engine
    assert _schema_objects(empty_engine) == (set(), set())
    migrate.upgrade(empty_engine)
    functions, triggers = _schema_objects(empty_engine)
    assert "ledger_refuse_change" in functions
    assert triggers == TRIGGERS

    # And they act: a posted transaction cannot be edited or emptied.
    with empty_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO ledger_transactions (idempotency_key, kind, memo, effective_on, "
                "posted_at, lines_digest) VALUES ('k', 'test', 'm', DATE '2026-01-01', now(), 'd')"
            )
        )
    for statement in (
        "UPDATE ledger_transactions SET memo = 'changed'",
        "DELETE FROM ledger_transactions",
        "TRUNCATE ledger_transactions CASCADE",
    ):
        with pytest.raises(Exception, match="append-only"), empty_engine.begin() as connection:
            connection.execute(text(statement))

    migrate.downgrade(empty_engine, "base")
    functions, triggers = _schema_objects(empty_engine)
    assert "ledger_refuse_change" not in functions
    assert triggers == set()
    # No sequence, index or type outlives its table.
    with empty_engine.connect() as connection:
        relations = connection.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema()"
            )
        ).scalars()
        assert set(relations) == {"alembic_version", "alembic_version_pkc"}


def test_cli_db_upgrade_prints_the_revision(tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    url = f"sqlite:///{path}"
    runner = CliRunner()

    before = runner.invoke(bounty.cli.cli, ["db", "current"], env={"BOUNTY_DATABASE_URL": url})
    assert before.exit_code == 0, before.output
    assert "empty" in before.stdout

    result = runner.invoke(bounty.cli.cli, ["db", "upgrade"], env={"BOUNTY_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    try:
        head = head_revision(engine)
        assert result.stdout.strip() == f"database at {head}"
        assert migrate.current_revision(engine) == head
        assert migrate.pending_changes(engine) == []
    finally:
        engine.dispose()

    after = runner.invoke(bounty.cli.cli, ["db", "current"], env={"BOUNTY_DATABASE_URL": url})
    assert after.stdout.strip() == head
