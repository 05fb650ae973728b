"""The trial server's roles exactly as docs/deployment.md sets them up (its SQL files run by psql): the
owner migrates, the application works but cannot change or delete an audit event, the backup role dumps."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from kyphoangle.storage import open_database
from kyphoangle.storage.audit import verify_trail
from kyphoangle.storage.backup import backup_database
from kyphoangle.storage.models import UserRole
from kyphoangle.storage.users import create_user

pytestmark = pytest.mark.postgres

PASSWORD = "a long enough password"
SQL = Path(__file__).resolve().parents[2] / "docs" / "sql"


def _psql() -> str:
    return shutil.which("psql") or sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]


def _run_sql(url: str, file: Path) -> None:
    subprocess.run(
        [_psql(), "-v", "ON_ERROR_STOP=1", "-q", "-d", url, "-f", str(file)],
        check=True,
        capture_output=True,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )


@pytest.fixture
def trial_server(postgres_server: object) -> Iterator[str]:
    """Host and port of the test server, with the documented roles and database; removed afterwards."""
    host = f"127.0.0.1:{postgres_server.port}"  # type: ignore[attr-defined]
    _run_sql(f"postgresql://postgres@{host}/postgres", SQL / "trial-roles.sql")
    try:
        yield host
    finally:
        postgres_server.execute("DROP DATABASE IF EXISTS kyphoangle WITH (FORCE)")  # type: ignore[attr-defined]
        for role in ("kyphoangle_app", "kyphoangle_backup", "kyphoangle_owner"):
            postgres_server.execute(f"DROP ROLE IF EXISTS {role}")  # type: ignore[attr-defined]


def test_the_application_role_can_work_but_never_edit_the_audit_trail(
    trial_server: str, tmp_path: Path
) -> None:
    owner_url = f"postgresql://kyphoangle_owner@{trial_server}/kyphoangle"
    app_url = f"postgresql://kyphoangle_app@{trial_server}/kyphoangle"
    open_database(owner_url).dispose()  # the first start, as the owner: tables and study set up
    _run_sql(owner_url, SQL / "audit-append-only.sql")

    app = open_database(app_url)
    try:
        with app.transaction() as session:
            admin = create_user(session, login="admin", role=UserRole.ADMIN, password=PASSWORD, actor=None)
            create_user(session, login="r.smith", role=UserRole.SITE_READER, password=PASSWORD, actor=admin)
        for statement in ("UPDATE audit_event SET reason = 'edited'", "DELETE FROM audit_event"):
            denied = pytest.raises(ProgrammingError, match="permission denied for table audit_event")
            with denied, app.engine.begin() as connection:
                connection.execute(text(statement))
        with pytest.raises(ProgrammingError, match="must be owner"), app.engine.begin() as connection:
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER ALL"))
        with app.reading() as session:
            trail = verify_trail(session)
        assert trail.intact and trail.events_checked >= 2
    finally:
        app.dispose()

    backup_url = f"postgresql://kyphoangle_backup@{trial_server}/kyphoangle"
    dump = backup_database(backup_url, tmp_path / "trial.dump")
    assert dump.size_bytes > 0
    assert (tmp_path / "trial.dump").read_bytes()[:5] == b"PGDMP"
