"""Fixtures of the storage tests: a real PostgreSQL server, fresh databases on both backends, users.

The PostgreSQL server is started once per test session from Debian's binaries
(`/usr/lib/postgresql/*/bin`) in a temporary directory, listening on 127.0.0.1 on a free port with its
unix socket in that directory; as root it runs as the `postgres` user. Missing binaries fail the tests
loudly (install the `postgresql` package; scripts/setup.sh does). Each test gets a fresh database,
cloned from a template already migrated to head (PostgreSQL `CREATE DATABASE ... TEMPLATE`, a file
copy for SQLite), which keeps both backends fast.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from storage_helpers import PASSWORD

from kyphoangle.storage import Database, open_database
from kyphoangle.storage.users import create_user, set_password_hasher
from kyphoangle.vocabulary import UserRole

INITDB_OPTIONS = ("-E", "UTF8", "--no-locale", "--no-sync")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _postgres_bin_dir() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name.split(".")[0])
    )
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    pytest.fail(
        "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): the storage tests run "
        "against PostgreSQL too; install the Debian package 'postgresql' (scripts/setup.sh does)",
        pytrace=False,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """A running throw-away PostgreSQL server."""

    port: int
    socket_dir: Path

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of one database on this server (superuser `postgres`, trust auth)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """Run a statement outside a transaction (CREATE/DROP DATABASE)."""
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(sql))
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start PostgreSQL for the whole test session; stop it and delete its files at the end."""
    bin_dir = _postgres_bin_dir()
    base = Path(tempfile.mkdtemp(prefix="kyphoangle-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres") if _has_user("postgres") else pwd.getpwnam("nobody")
        os.chown(base, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", account.pw_name, "--"]
    data = base / "data"
    subprocess.run(
        [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", *INITDB_OPTIONS],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    log = base / "server.log"
    options = (
        f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=60 -c shared_buffers=64MB"
    )
    started = subprocess.run(
        [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start"],
        capture_output=True,
        text=True,
    )
    if started.returncode != 0:
        text_of_log = log.read_text() if log.exists() else ""
        pytest.fail(f"PostgreSQL did not start: {started.stderr}\n{text_of_log}", pytrace=False)
    try:
        yield PostgresServer(port=port, socket_dir=base)
    finally:
        subprocess.run(
            [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> None:
    """Argon2 at production cost takes ~100 ms a hash; tests use minimal parameters."""
    set_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


_counter = itertools.count()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head with the study set up, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    open_database(str(path)).dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """A PostgreSQL database migrated to head with the study set up, cloned for each test."""
    postgres_server.execute("CREATE DATABASE kyphoangle_template")
    open_database(postgres_server.url("kyphoangle_template")).dispose()
    return "kyphoangle_template"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of the test: 'sqlite' or 'postgresql'."""
    return str(request.param)


@pytest.fixture
def empty_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a new, empty database (no tables) on the test's backend."""
    if backend == "sqlite":
        yield str(tmp_path / "empty.sqlite3")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"test_empty_{os.getpid()}_{next(_counter)}"
    server.execute(f"CREATE DATABASE {name}")
    yield server.url(name)
    server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a new database at head, with the study and its visits, on the test's backend."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "study.sqlite3"
        shutil.copyfile(template, target)
        yield str(target)
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"test_{os.getpid()}_{next(_counter)}"
    server.execute(f"CREATE DATABASE {name} TEMPLATE {template_name}")
    yield server.url(name)
    server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """The test's database, open."""
    db = open_database(db_url)
    yield db
    db.dispose()


@dataclass
class Staff:
    """The users most tests need (ids; reload them in each session)."""

    admin: int
    manager: int
    site_reader: int
    central_reader: int
    adjudicator: int


@pytest.fixture
def staff(database: Database) -> Staff:
    """An admin, a data manager, a site reader, a central reader and an adjudicator (password PASSWORD)."""
    with database.transaction() as session:
        admin = create_user(session, login="admin", role=UserRole.ADMIN, password=PASSWORD, actor=None)
        ids = {"admin": admin.id}
        for login, role in (
            ("manager", UserRole.DATA_MANAGER),
            ("site_reader", UserRole.SITE_READER),
            ("central_reader", UserRole.CENTRAL_READER),
            ("adjudicator", UserRole.ADJUDICATOR),
        ):
            ids[login] = create_user(session, login=login, role=role, password=PASSWORD, actor=admin).id
    return Staff(**ids)
