"""Migrations produce exactly the models' schema; upgrading keeps data; URLs and pragmas."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from kyphoangle.errors import StorageError
from kyphoangle.storage import open_database, resolve_database_url
from kyphoangle.storage.audit import verify_trail
from kyphoangle.storage.engine import (
    ENV_DATABASE,
    create_database_engine,
    database_revision,
    default_database_path,
    head_revision,
    upgrade_database,
)
from kyphoangle.storage.models import Base, Study, Subject
from kyphoangle.storage.study import list_visits
from kyphoangle.vocabulary import SubjectStatus


def test_upgrade_head_gives_exactly_the_models_schema(empty_db_url: str) -> None:
    engine = create_database_engine(resolve_database_url(empty_db_url))
    try:
        upgrade_database(engine)
        assert database_revision(engine) == head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_there_are_at_least_two_revisions() -> None:
    assert head_revision() == "0008_landmark_provenance"


def test_upgrade_from_first_revision_keeps_data(empty_db_url: str) -> None:
    engine = create_database_engine(resolve_database_url(empty_db_url))
    now = dt.datetime(2024, 1, 2, 3, 4, 5)
    try:
        upgrade_database(engine, "0001")
        assert "campaign" not in inspect(engine).get_table_names()
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO study (id, code, title, default_normal_table, created_at) "
                    "VALUES (1, 'OLD', 'old study', 'farcy-1990', :now)"
                ),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO subject (id, study_id, code, procedure_date, created_at, updated_at) "
                    "VALUES (7, 1, 'S007', :d0, :now, :now)"
                ),
                {"d0": dt.date(2024, 3, 5), "now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO subject_identity (id, subject_id, dicom_patient_id, patient_name) "
                    "VALUES (1, 7, 'PID', 'Doe^John')"
                )
            )
        upgrade_database(engine)
        assert database_revision(engine) == head_revision()
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT code, status, procedure_date FROM subject")).all()
            assert [(r[0], r[1]) for r in rows] == [("S007", "active")]
            assert str(rows[0][2]).startswith("2024-03-05")
            identity = connection.execute(text("SELECT patient_name FROM subject_identity")).scalar()
            assert identity == "Doe^John"
            assert "campaign" in inspect(connection).get_table_names()
    finally:
        engine.dispose()
    database = open_database(empty_db_url)
    try:
        with database.reading() as session:
            subject = session.query(Subject).one()
            assert subject.status is SubjectStatus.ACTIVE
            assert subject.procedure_date == dt.date(2024, 3, 5)
            assert verify_trail(session).intact
    finally:
        database.dispose()


def test_open_sets_up_the_study_once(db_url: str) -> None:
    for _ in range(2):
        database = open_database(db_url)
        with database.reading() as session:
            codes = [visit.code for visit in list_visits(session)]
            assert codes == ["baseline", "D2-D5", "D15", "D90", "D180", "D360"]
        database.dispose()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    database = open_database(str(tmp_path / "x.sqlite3"))
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    finally:
        database.dispose()


def test_url_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_DATABASE, raising=False)
    assert resolve_database_url(None).database == str(default_database_path())
    assert "kyphoangle" in str(default_database_path())
    plain = resolve_database_url(str(tmp_path / "a.sqlite3"))
    assert plain.get_backend_name() == "sqlite" and plain.database == str(tmp_path / "a.sqlite3")
    monkeypatch.setenv(ENV_DATABASE, "postgresql://u@h/db")
    assert resolve_database_url(None).get_backend_name() == "postgresql"
    assert resolve_database_url("sqlite:///x.db").database == "x.db"
    with pytest.raises(StorageError, match="not supported"):
        resolve_database_url("mysql://u@h/db")


def test_database_from_newer_program_is_refused(db_url: str) -> None:
    database = open_database(db_url)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    database.dispose()
    with pytest.raises(StorageError, match="newer kyphoangle"):
        open_database(db_url)


def test_unreachable_database_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot open"):
        open_database("postgresql://nobody@127.0.0.1:1/none")


def test_programs_opening_a_new_database_at_once_migrate_it_once(empty_db_url: str) -> None:
    code = "import sys; from kyphoangle.storage import open_database; open_database(sys.argv[1]).dispose()"
    children = [
        subprocess.Popen([sys.executable, "-c", code, empty_db_url], stderr=subprocess.PIPE, text=True)
        for _ in range(5)
    ]
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    database = open_database(empty_db_url)
    try:
        with database.reading() as session:
            assert session.query(Study).count() == 1
            assert len(list_visits(session)) == 6
            assert verify_trail(session).intact
        assert database_revision(database.engine) == head_revision()
    finally:
        database.dispose()


def test_campaigns_made_before_keyed_uids_each_get_their_own_secret(empty_db_url: str) -> None:
    engine = create_database_engine(resolve_database_url(empty_db_url))
    now = dt.datetime(2024, 1, 2, 3, 4, 5)
    try:
        upgrade_database(engine, "0002")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO study (id, code, title, default_normal_table, created_at) "
                    "VALUES (1, 'OLD', 'old study', 'farcy-1990', :now)"
                ),
                {"now": now},
            )
            for number in (1, 2):
                connection.execute(
                    text(
                        "INSERT INTO campaign (id, study_id, code, title, status, random_seed,"
                        " repeat_fraction, adjudication_rule, created_at)"
                        " VALUES (:id, 1, :code, 't', 'open', 7, 0.1, '{}', :now)"
                    ),
                    {"id": number, "code": f"C{number}", "now": now},
                )
        upgrade_database(engine)
        with engine.connect() as connection:
            keys = [row[0] for row in connection.execute(text("SELECT uid_key FROM campaign ORDER BY id"))]
        assert len(keys) == 2 and keys[0] != keys[1]
        assert all(len(bytes.fromhex(key)) == 32 for key in keys)
    finally:
        engine.dispose()
