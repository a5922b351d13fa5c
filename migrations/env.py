"""Alembic environment: the same revisions serve SQLite and PostgreSQL.

Run through `bounty db upgrade`; the connection or URL comes from `bounty.models.migrate`.
"""

from alembic import context

from bounty.models import Base
from bounty.models.base import UTCDateTime
from bounty.models.engine import make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _render_item(type_, obj, autogen_context):
    """Render our column types as plain SQLAlchemy ones, so revisions import nothing of ours."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `bounty db upgrade` against a database")
run_migrations_online()
