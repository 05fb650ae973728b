"""Opening the study database: URL resolution, SQLite pragmas, sessions, migrations on open.

A database is chosen by, in order: the `--db` value (a SQLAlchemy URL such as
`postgresql://user@host/kyphoangle`, or a plain file path meaning SQLite), the `KYPHOANGLE_DB`
environment variable, else `kyphoangle.sqlite3` in the data folder (`kyphoangle.folders.data_folder`:
`--data-dir`, else the platform's user data folder).

SQLite runs in WAL mode with foreign keys on, `synchronous=FULL` (a committed read survives a power
cut, not only a crash) and a 30 s busy timeout. Write transactions start with `BEGIN IMMEDIATE`, so two
processes writing at once queue up instead of failing half-way; read-only sessions (`Database.reading`)
start a deferred transaction and never wait for a writer.

Sessions belong to the caller, one per user action::

    db = open_database()                      # migrates to the current schema
    with db.transaction() as session:         # commits on success, rolls back on error
        user = authenticate(session, "r.smith", password)
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from kyphoangle.errors import StorageError
from kyphoangle.folders import data_folder
from kyphoangle.resources import package_folder

ENV_DATABASE = "KYPHOANGLE_DB"
"""Environment variable naming the database when `--db` is not given."""

DEFAULT_DATABASE_FILENAME = "kyphoangle.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 65_536
"""Page cache per connection (64 MiB): long lists and exports read from memory."""
_BEGIN_OPTION = "kyphoangle_sqlite_begin"
_MIGRATIONS_PACKAGE = "kyphoangle.storage.migrations"


def default_database_path() -> Path:
    """The SQLite file used when no database is named: in the user's data directory."""
    return data_folder() / DEFAULT_DATABASE_FILENAME


def resolve_database_url(value: str | URL | None = None) -> URL:
    """The URL of the database named by `value`, else `KYPHOANGLE_DB`, else the default SQLite file.

    A value without `://` is a file path (relative to the current directory) of an SQLite database.
    """
    if isinstance(value, URL):
        return value
    text = value or os.environ.get(ENV_DATABASE) or ""
    if not text:
        return URL.create("sqlite", database=str(default_database_path()))
    if "://" not in text:
        return URL.create("sqlite", database=str(Path(text).expanduser().resolve()))
    try:
        url = make_url(text)
    except ArgumentError:
        raise StorageError(f"{text!r} is neither a database URL nor a file path") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise StorageError(f"{url.get_backend_name()} databases are not supported (use SQLite or PostgreSQL)")
    return url


def _sqlite_on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit transactions are broken
    # for DDL and cannot do BEGIN IMMEDIATE).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        cursor.execute("PRAGMA temp_store = MEMORY")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    mode = connection.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def create_database_engine(url: URL) -> Engine:
    """An Engine for `url`, with SQLite's pragmas and begin mode, or PostgreSQL's pre-ping."""
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config() -> Config:
    """Alembic configuration built in code (no alembic.ini at run time)."""
    config = Config()
    config.set_main_option("script_location", str(package_folder(_MIGRATIONS_PACKAGE)))
    return config


def head_revision() -> str:
    """The newest schema revision this program knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def database_revision(engine: Engine) -> str | None:
    """The schema revision of the database (None when it has no tables of ours yet)."""
    with engine.connect().execution_options(**{_BEGIN_OPTION: "DEFERRED"}) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Migrate the database's schema to `revision` (default: the newest), in one transaction.

    On SQLite, foreign keys are switched off while tables are rebuilt (Alembic's batch mode copies a
    table to change it) and checked afterwards.
    """
    config = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        if sqlite:
            assert raw is not None
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            if sqlite:
                assert raw is not None
                problems = raw.execute("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise StorageError(f"the migration left broken references: {problems[:5]}")
        finally:
            if sqlite:
                assert raw is not None
                raw.execute("PRAGMA foreign_keys = ON")


@contextmanager
def bulk_results() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while tens of thousands of result rows are built.

    Rows and tuples hold no reference cycles (reference counting frees them), but allocating so many
    tracked objects triggers repeated full collections that can double the time of a long listing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Database:
    """An open study database: its URL, engine and the sessions callers open on it."""

    def __init__(self, url: URL, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self._writer = sessionmaker(bind=engine, expire_on_commit=False)
        reading_engine = engine.execution_options(**{_BEGIN_OPTION: "DEFERRED"})
        self._reader = sessionmaker(bind=reading_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is an SQLite file."""
        return self.engine.dialect.name == "sqlite"

    @property
    def display_name(self) -> str:
        """The URL without its password, for messages."""
        return self.url.render_as_string(hide_password=True)

    def session(self) -> Session:
        """A new session for writes (the caller begins and commits it)."""
        return self._writer()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one write transaction: committed on success, rolled back on any error.

        Database failures (busy for longer than the timeout, connection lost, a constraint refusing a
        change made at the same time elsewhere) become a `StorageError`; nothing is half-saved.
        """
        try:
            with self._writer() as session, session.begin():
                yield session
        except IntegrityError as exc:
            raise StorageError(
                f"the database refused the change, probably because the same record was saved at the same "
                f"time elsewhere; nothing was saved ({exc.orig})"
            ) from exc
        except OperationalError as exc:
            raise StorageError(
                f"the database {self.display_name} could not complete the change; "
                f"nothing was saved ({exc.orig})"
            ) from exc

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reading only (deferred transaction on SQLite; rolled back at the end)."""
        with self._reader() as session:
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def open_database(value: str | URL | None = None, *, upgrade: bool = True, seed: bool = True) -> Database:
    """Open (creating when needed) the database named by `value` (see `resolve_database_url`).

    With `upgrade`, the schema is migrated to the newest revision; with `seed`, a new database gets its
    study protocol and visit schedule from `resources/visit_schedule.json`. A database written by a
    newer kyphoangle is refused rather than misread.
    """
    url = resolve_database_url(value)
    engine = create_database_engine(url)
    database = Database(url, engine)
    try:
        current = database_revision(engine)
        head = head_revision()
        if current is not None and current != head:
            known = {
                script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
            }
            if current not in known:
                raise StorageError(
                    f"the database {database.display_name} was created by a newer kyphoangle "
                    f"(schema {current}); update the program"
                )
        if upgrade and current != head:
            upgrade_database(engine)
        if seed and upgrade:
            from kyphoangle.storage.study import ensure_study, has_study

            with database.reading() as session:
                seeded = has_study(session)
            if not seeded:
                with database.transaction() as session:
                    ensure_study(session)
    except (OperationalError, DBAPIError) as exc:
        engine.dispose()
        raise StorageError(f"cannot open the database {database.display_name}: {exc.orig}") from None
    except BaseException:
        engine.dispose()
        raise
    return database
