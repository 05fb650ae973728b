"""Crash safety and concurrency: SIGKILL in the middle of saves; two processes saving at once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Staff
from sqlalchemy import func, select
from storage_helpers import add_subject_with_images

from kyphoangle.storage import Database, open_database
from kyphoangle.storage.audit import verify_trail
from kyphoangle.storage.models import Landmark, MeasurementRow, Read, User
from kyphoangle.storage.users import create_user
from kyphoangle.vocabulary import UserRole

CHILD = Path(__file__).with_name("save_reads_child.py")
KILLS = 20
LANDMARKS_PER_READ = 18


def _child(url: str, uid: str, reader: str, count: int) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(CHILD.parent), str(CHILD.parents[2])]))
    return subprocess.Popen(
        [sys.executable, str(CHILD), url, uid, reader, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _check_reads_whole(database: Database) -> tuple[set[int], int]:
    """Every read has all its landmarks and the same number of measurement rows; returns (ids, rows)."""
    with database.reading() as session:
        ids = set(session.scalars(select(Read.id)))
        marks = dict(session.execute(select(Landmark.read_id, func.count()).group_by(Landmark.read_id)).all())
        rows = dict(
            session.execute(
                select(MeasurementRow.read_id, func.count()).group_by(MeasurementRow.read_id)
            ).all()
        )
        assert verify_trail(session).intact
    assert all(marks.get(read_id) == LANDMARKS_PER_READ for read_id in ids), "a read lost landmarks"
    counts = {rows.get(read_id) for read_id in ids}
    assert len(counts) <= 1 and None not in counts, f"reads with different measurement counts: {counts}"
    return ids, counts.pop() if counts else 0


@pytest.mark.slow
def test_sigkill_while_saving_loses_no_committed_read(
    database: Database, staff: Staff, db_url: str, backend: str
) -> None:
    _, (uid,) = add_subject_with_images(database, staff.manager)
    database.dispose()
    committed: set[int] = set()
    rng = random.Random(20241125)
    for _ in range(KILLS):
        child = _child(db_url, uid, "site_reader", 10_000)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr.read() if child.stderr else ""
        committed.add(int(child.stdout.readline()))  # at least one save has returned
        time.sleep(rng.uniform(0.0, 0.15))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
        committed.update(int(line) for line in out.split())
        assert child.returncode == -signal.SIGKILL
        reopened = open_database(db_url)
        try:
            if reopened.is_sqlite:
                with reopened.engine.connect() as connection:
                    assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            stored, _ = _check_reads_whole(reopened)
        finally:
            reopened.dispose()
        assert committed <= stored, f"reads whose save had returned are missing: {committed - stored}"
    assert len(committed) >= KILLS


@pytest.mark.slow
def test_two_processes_saving_at_once_lose_nothing(database: Database, staff: Staff, db_url: str) -> None:
    _, (uid,) = add_subject_with_images(database, staff.manager)
    with database.transaction() as session:
        admin = session.get_one(User, staff.admin)
        create_user(session, login="second_reader", role=UserRole.SITE_READER, password="x" * 10, actor=admin)
    per_child = 60
    children = [_child(db_url, uid, login, per_child) for login in ("site_reader", "second_reader")]
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    saved = [int(line) for out, _ in outputs for line in out.split()[1:]]
    assert len(saved) == len(set(saved)) == 2 * per_child
    stored, _ = _check_reads_whole(database)
    assert set(saved) == stored
    with database.reading() as session:
        result = verify_trail(session)
        readers = session.execute(select(Read.reader_id, func.count()).group_by(Read.reader_id)).all()
    assert result.intact and len(readers) == 2 and {n for _, n in readers} == {per_child}
