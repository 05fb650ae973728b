"""Upgrading: a study database made by release 0.1.0 (schema revision 0002) opens with this program,
migrates to the current schema, and keeps its accounts, signed reads, exports and audit trail.

`data/release-0.1.0.sqlite3` was made with release 0.1.0's own commands (the README's scripted example:
two accounts, one demo subject, six signed site reads). Keep it as it is: it stands for the trial
databases in the field. When a release changes the schema, add that release's database beside it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kyphoangle.cli import main
from kyphoangle.storage import open_database
from kyphoangle.storage.audit import verify_trail
from kyphoangle.storage.engine import (
    create_database_engine,
    database_revision,
    head_revision,
    resolve_database_url,
)
from kyphoangle.storage.models import Read, User

RELEASE_DATABASE = Path(__file__).with_name("data") / "release-0.1.0.sqlite3"
RELEASE_SCHEMA = "0002"


def test_a_database_of_release_0_1_0_migrates_and_keeps_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "trial.sqlite3"
    shutil.copyfile(RELEASE_DATABASE, copy)
    engine = create_database_engine(resolve_database_url(str(copy)))
    assert database_revision(engine) == RELEASE_SCHEMA
    engine.dispose()

    database = open_database(str(copy))
    try:
        assert database_revision(database.engine) == head_revision()
        with database.reading() as session:
            assert sorted(session.scalars(select(User.login))) == ["admin", "r.smith"]
            assert session.scalar(select(func.count()).select_from(Read).where(Read.status == "signed")) == 6
            trail = verify_trail(session)
            assert trail.intact and trail.events_checked >= 37
    finally:
        database.dispose()

    monkeypatch.setenv("KYPHOANGLE_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", "admin-pass-1")
    capsys.readouterr()
    assert main(["--db", str(copy), "export", "csv", "-", "--user", "admin"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert sum(",traumatic_regional_angle," in row for row in rows) == 6
