"""`audit verify` sees every table: any column of any row edited, rows inserted or deleted, a cut tail.

The study has a row in every table kyphoangle writes: subjects with identity, site and treated levels,
films, users, a PACS node, a signed and graded site read and its signed amendment, a draft, a finished
two-reader campaign with worklists, repeats and an adjudication. Each column of one row of each table
is edited directly in the database (foreign keys and triggers switched off, as an intruder with the
database password would); `verify_database` must name the table, and pass again once the value is
restored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from campaign_helpers import People, make_people, make_study, run_campaign
from sqlalchemy import Connection, create_engine, func, select, text
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from storage_helpers import PASSWORD, landmarks, vertebra_points

from kyphoangle.campaign import choose_reader_read, get_campaign
from kyphoangle.cli import main
from kyphoangle.observations import LevelObservation
from kyphoangle.storage import Database
from kyphoangle.storage.audit import Anchor
from kyphoangle.storage.images import get_image
from kyphoangle.storage.integrity import verify_database
from kyphoangle.storage.ledger import ledger_tables
from kyphoangle.storage.models import CampaignRole, Subject, User
from kyphoangle.storage.pacs_nodes import NodeSettings, save_node
from kyphoangle.storage.reads import amend_read, create_read, sign_read
from kyphoangle.storage.signatures import check_signatures
from kyphoangle.storage.subjects import get_or_create_site, update_subject
from kyphoangle.vocabulary import PacsProtocol


@pytest.fixture
def full_study(database: Database, staff: Any) -> Database:
    """A database with at least one row in every fingerprinted table."""
    uids = make_study(database, staff.manager, subjects=3)
    people: People = make_people(database, staff.admin, staff.manager)
    readings = run_campaign(database, people)
    with database.transaction() as session:
        manager = session.get_one(User, staff.manager)
        subject = session.scalars(select(Subject).order_by(Subject.id)).first()
        assert subject is not None
        update_subject(session, subject, actor=manager, site=get_or_create_site(session, "A", actor=manager))
        save_node(
            session,
            NodeSettings(
                name="site-a-pacs",
                protocol=PacsProtocol.DIMSE,
                ae_title="SITEAPACS",
                host="127.0.0.1",
                port=4242,
                username="core-lab",
                site_code="A",
            ),
            actor=session.get_one(User, staff.admin),
        )
        campaign = get_campaign(session, "CR1")
        adjudicator = session.get_one(User, people.adjudicator)
        choose_reader_read(
            session,
            campaign,
            adjudicator,
            readings.forced,
            role=CampaignRole.READER_1,
            reason="reader 1 placed T12 better",
            password=PASSWORD,
        )
    with database.transaction() as session:
        reader = session.get_one(User, staff.site_reader)
        graded = replace(landmarks(uids[0]), observations={"T11": LevelObservation(genant_grade=1)})
        read = create_read(session, image=get_image(session, uids[0]), reader=reader, content=graded)
        sign_read(session, read, password=PASSWORD)
        amendment = amend_read(
            session,
            read,
            content=landmarks(uids[0], points=vertebra_points(wedge_px=30.0)),
            reason="L1 corner",
        )
        sign_read(session, amendment, password=PASSWORD)
        create_read(session, image=get_image(session, uids[1]), reader=reader, content=landmarks(uids[1]))
    return database


def _verify(database: Database, anchor: Anchor | None = None) -> tuple[bool, str]:
    with database.reading() as session:
        result = verify_database(session, anchor=anchor)
    return result.intact, result.problem or ""


def _tamper_connection(database: Database) -> Iterator[Connection]:
    """A connection without kyphoangle's pragmas: foreign keys off (SQLite) or not enforced (PostgreSQL)."""
    engine = create_engine(database.url)
    try:
        with engine.begin() as connection:
            if database.is_sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            else:
                connection.exec_driver_sql("SET session_replication_role = replica")
            yield connection
    finally:
        engine.dispose()


def _run_sql(database: Database, statement: Any, parameters: dict[str, Any] | None = None) -> None:
    for connection in _tamper_connection(database):
        connection.execute(statement, parameters or {})


def _other(value: Any, python_type: type) -> Any:
    """A different value of the same kind (same length for text, so column limits hold)."""
    if value is None:
        return {
            int: 7,
            float: 1.5,
            bool: True,
            dt.date: dt.date(2000, 1, 1),
            dt.datetime: dt.datetime(2000, 1, 1),
        }.get(python_type, "x")
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1_000_003
    if isinstance(value, float):
        return value + 0.5
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(seconds=1)
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=1)
    if isinstance(value, str):
        return value[:-1] + ("x" if not value.endswith("x") else "y") if value else "x"
    raise AssertionError(f"no other value for {value!r}")


def test_every_column_of_every_table_is_covered(full_study: Database) -> None:
    database = full_study
    assert _verify(database) == (True, "")
    tables = ledger_tables()
    assert {t.name for t in tables} >= {
        "study", "visit", "site", "subject", "subject_identity", "treated_level", "app_user", "image",
        "read", "read_level", "landmark", "measurement", "signature", "campaign", "campaign_reader",
        "campaign_case", "worklist_item", "adjudication",
    }  # fmt: skip
    edits = 0
    for table in tables:
        names = [c.name for c in table.columns]
        raw = sql_table(table.name, *(sql_column(n) for n in names))
        key_names = [c.name for c in table.primary_key.columns]
        with database.reading() as session:
            row = (
                session.connection()
                .execute(select(raw).order_by(*(raw.c[k] for k in key_names)).limit(1))
                .first()
            )
        assert row is not None, f"table {table.name} has no row: the study must fill every table"
        where = " AND ".join(f"{k} = :key_{k}" for k in key_names)
        keys = {f"key_{k}": row._mapping[k] for k in key_names}
        for column in table.columns:
            if column.primary_key:
                continue
            original = row._mapping[column.name]
            try:
                python_type = getattr(column.type, "impl", column.type).python_type
            except NotImplementedError:
                python_type = str
            changed = _other(original, python_type)
            statement = text(f'UPDATE "{table.name}" SET "{column.name}" = :value WHERE {where}')
            _run_sql(database, statement, {"value": changed, **keys})
            intact, problem = _verify(database)
            assert not intact, f"editing {table.name}.{column.name} went unnoticed"
            assert f"table {table.name}, row" in problem and "changed outside kyphoangle" in problem, problem
            _run_sql(database, statement, {"value": original, **keys})
            assert _verify(database) == (True, ""), f"restoring {table.name}.{column.name}"
            edits += 1
    assert edits > 120


def test_deleted_and_inserted_rows_are_named(full_study: Database) -> None:
    database = full_study
    for connection in _tamper_connection(database):
        read_id, key, column_px, row_px = connection.execute(
            text("SELECT read_id, key, column_px, row_px FROM landmark ORDER BY read_id, key LIMIT 1")
        ).one()
    delete = text("DELETE FROM landmark WHERE read_id = :read_id AND key = :key")
    _run_sql(database, delete, {"read_id": read_id, "key": key})
    intact, problem = _verify(database)
    assert not intact and f"table landmark, row {read_id}|{key} was deleted outside kyphoangle" in problem
    insert = text("INSERT INTO landmark (read_id, key, column_px, row_px) VALUES (:r, :k, :c, :w)")
    _run_sql(database, insert, {"r": read_id, "k": key, "c": column_px, "w": row_px})
    assert _verify(database) == (True, "")
    _run_sql(database, insert, {"r": read_id, "k": "T4.superior.anterior", "c": 1.0, "w": 2.0})
    intact, problem = _verify(database)
    assert not intact and "table landmark, row" in problem and "inserted outside kyphoangle" in problem


def test_a_signature_covers_its_read_content(full_study: Database) -> None:
    """Even with the row digests rewritten to match, a changed value breaks the signature's hash."""
    database = full_study
    with database.reading() as session:
        read_id = session.scalar(select(func.max(text("read_id"))).select_from(text("signature")))
    _run_sql(
        database,
        text("UPDATE measurement SET value = value + 1 WHERE read_id = :r AND value IS NOT NULL"),
        {"r": read_id},
    )

    with database.reading() as session:
        _, problem = check_signatures(session.connection())
    assert problem is not None and problem.read_id == read_id
    assert "no longer has the content" in problem.description


def test_a_deleted_tail_is_caught_by_the_anchor(full_study: Database) -> None:
    database = full_study
    with database.reading() as session:
        result = verify_database(session)
    anchor = result.anchor
    for connection in _tamper_connection(database):
        if database.is_sqlite:
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_change ON audit_event")
        last = connection.execute(text("SELECT max(sequence) FROM audit_event")).scalar_one()
        # The newest event must change no row, or the row check would already see the cut.
        connection.execute(text("DELETE FROM audit_event WHERE sequence = :s"), {"s": last})
        previous = connection.execute(
            text("SELECT event_hash FROM audit_event WHERE sequence = :s"), {"s": last - 1}
        ).scalar_one()
        connection.execute(
            text("UPDATE audit_head SET last_sequence = :s, last_hash = :h"), {"s": last - 1, "h": previous}
        )
    intact, problem = _verify(database, anchor)
    assert not intact and f"the anchor names event {anchor.sequence}" in problem


def test_cli_verify_and_anchor(full_study: Database, capsys: pytest.CaptureFixture[str]) -> None:
    database = full_study
    url = database.url.render_as_string(hide_password=False)
    assert main(["audit", "anchor", "--db", url]) == 0
    line = capsys.readouterr().out.strip()
    assert Anchor.parse(line).sequence > 100
    assert main(["audit", "verify", "--db", url, "--anchor", line]) == 0
    out = capsys.readouterr().out
    assert "intact" in out and "signatures" in out
    _run_sql(database, text("UPDATE app_user SET role = 'admin' WHERE login = 'central1'"))
    assert main(["audit", "verify", "--db", url, "--anchor", line]) == 1
    captured = capsys.readouterr()
    assert "table app_user, row" in captured.out and captured.out.count("\n") == 1 and not captured.err
