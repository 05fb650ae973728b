"""Alembic environment: runs on the connection handed over by `kyphoangle.storage.engine`.

Configured in code (no alembic.ini): `config.attributes["connection"]` is an open SQLAlchemy
connection, or `config.attributes["url"]` a URL to connect to (developer commands). Batch mode is on
so that SQLite tables are rebuilt for changes ALTER TABLE cannot make. The whole upgrade is one
transaction on both databases (SQLite's DDL is transactional too; left to Alembic's default, each
revision would commit on its own, and a second program starting at the same time would interleave
its revisions with the first one's). On SQLite that transaction starts with BEGIN IMMEDIATE, and on
PostgreSQL an advisory lock is taken, so two programs migrating the same database at once run one
after the other, the second finding the schema already at its head.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from kyphoangle.storage.models import Base

MIGRATION_LOCK_KEY = 0x6B79_7068
"""PostgreSQL advisory lock key held while migrating ("kyph")."""


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


def run_migrations() -> None:
    """Run the migrations Alembic asked for on the configured connection."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from kyphoangle.storage.engine import create_database_engine, resolve_database_url

    engine = create_database_engine(resolve_database_url(context.config.attributes.get("url")))
    try:
        with engine.connect() as fresh:
            _run(fresh)
    finally:
        engine.dispose()


run_migrations()
