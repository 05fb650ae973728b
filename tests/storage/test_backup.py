"""`kyphoangle backup` and the restores docs/deployment.md describes, on SQLite and PostgreSQL."""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select
from storage_helpers import PASSWORD

from kyphoangle.cli import main
from kyphoangle.errors import StorageError
from kyphoangle.storage import Database, open_database
from kyphoangle.storage.audit import verify_trail
from kyphoangle.storage.backup import backup_database, libpq_arguments
from kyphoangle.storage.engine import resolve_database_url
from kyphoangle.storage.models import AuditEvent, User, UserRole
from kyphoangle.storage.users import create_user


def _facts(database: Database) -> tuple[list[str], int, bool]:
    with database.reading() as session:
        logins = sorted(session.scalars(select(User.login)))
        events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        return logins, events, verify_trail(session).intact


def _pg_restore() -> str:
    found = shutil.which("pg_restore") or sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_restore"))[-1]
    return str(found)


def test_backup_then_restore_gives_the_same_database(
    database: Database,
    staff: object,
    db_url: str,
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KYPHOANGLE_LOG_DIR", str(tmp_path / "logs"))
    before = _facts(database)
    assert before[0] == ["adjudicator", "admin", "central_reader", "manager", "site_reader"]
    target = tmp_path / "study.backup"
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", PASSWORD)
    assert main(["backup", str(target), "--db", db_url, "--user", "manager"]) == 0
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    if backend == "sqlite":
        with sqlite3.connect(target) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        restored_url = str(tmp_path / "restored.sqlite3")
        shutil.copyfile(target, restored_url)  # the restore: the copy put in place of the database file
    else:
        assert target.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
        server = request.getfixturevalue("postgres_server")
        server.execute("CREATE DATABASE restored_backup")
        restored_url = server.url("restored_backup")
        arguments, environment = libpq_arguments(resolve_database_url(restored_url))
        subprocess.run(
            [_pg_restore(), "--no-owner", "--exit-on-error", *arguments, str(target)],
            check=True,
            capture_output=True,
            env={**os.environ, **environment},
        )
    restored = open_database(restored_url)
    try:
        assert _facts(restored) == before
        assert before[2] is True
    finally:
        restored.dispose()
        if backend == "postgresql":
            request.getfixturevalue("postgres_server").execute("DROP DATABASE restored_backup WITH (FORCE)")


def test_an_sqlite_backup_is_taken_while_a_writer_holds_the_database(tmp_path: Path) -> None:
    database = open_database(str(tmp_path / "busy.sqlite3"))
    with database.transaction() as session:
        create_user(session, login="pending", role=UserRole.ADMIN, password="pending password", actor=None)
        session.flush()
        result = backup_database(database.url, tmp_path / "during.sqlite3")
    database.dispose()
    database.dispose()
    assert result.backend == "sqlite" and result.size_bytes > 0
    copy = open_database(str(tmp_path / "during.sqlite3"))
    try:
        assert "pending" not in _facts(copy)[0]  # the uncommitted change is not in the copy
    finally:
        copy.dispose()


def test_nothing_is_written_when_the_backup_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(StorageError, match="no SQLite database"):
        backup_database(str(tmp_path / "absent.sqlite3"), tmp_path / "out.sqlite3")
    monkeypatch.setenv("KYPHOANGLE_PG_DUMP", "/bin/false")
    with pytest.raises(StorageError, match="pg_dump failed"):
        backup_database("postgresql://nobody@127.0.0.1:1/none", tmp_path / "out.dump")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_password_goes_to_pg_dump_by_environment_not_command_line() -> None:
    arguments, environment = libpq_arguments(resolve_database_url("postgresql://app:s3cret@db.site-a/trial"))
    assert "s3cret" not in " ".join(arguments)
    assert arguments == ["--dbname", "postgresql://app@db.site-a/trial"]
    assert environment == {"PGPASSWORD": "s3cret"}
