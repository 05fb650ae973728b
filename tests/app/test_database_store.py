"""The database adapter of ReadStore against a SQLite study database in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.database_store import DatabaseReadStore
from app.read_model import ReadSnapshot
from app.sample_film import write_sample_film
from kyphoangle.errors import AuthenticationError, ReadLockedError
from kyphoangle.storage import open_database
from kyphoangle.storage import users as user_repo


@pytest.fixture
def database_store(tmp_path: Path) -> DatabaseReadStore:
    database = open_database(f"sqlite:///{tmp_path / 'study.sqlite'}")
    with database.transaction() as session:
        admin = user_repo.create_user(
            session, login="admin", role="admin", password="admin-password", actor=None
        )
        user_repo.create_user(
            session, login="demo", role="site_reader", password="demo-password", actor=admin
        )
    return DatabaseReadStore(database)


def test_import_save_sign_lock(database_store: DatabaseReadStore, tmp_path: Path) -> None:
    film = write_sample_film(tmp_path / "films" / "a.dcm", rows=400, columns=200, spacing_mm=(1.5, 1.5))
    database_store.authenticate("admin", "admin-password")
    report = database_store.import_paths([tmp_path / "films"], lambda *a: None, lambda: False)
    assert report.added == 1, report
    assert [i.sop_instance_uid for i in database_store.images()] == [film.sop_instance_uid]
    with pytest.raises(AuthenticationError):
        database_store.authenticate("demo", "wrong")
    assert database_store.authenticate("demo", "demo-password").login == "demo"
    assert database_store.load_read(film.sop_instance_uid, "demo") is None
    points = {key: film.truth[key] for key in ("T4.superior.posterior", "T4.superior.anterior")}
    snapshot = ReadSnapshot(film.sop_instance_uid, "demo", points=points, fractured_levels=("L1",))
    database_store.save_draft(snapshot)
    moved = ReadSnapshot(
        film.sop_instance_uid, "demo", points={**points, "T4.superior.anterior": (50.25, 60.125)}
    )
    database_store.save_draft(moved)
    reopened = DatabaseReadStore(database_store.database).load_read(film.sop_instance_uid, "demo")
    assert reopened is not None and dict(reopened.points) == dict(moved.points)
    assert database_store.images()[0].statuses == {"demo": "draft"}
    assert database_store.sign(moved, "demo-password").signed
    fresh = DatabaseReadStore(database_store.database)
    signed = fresh.load_read(film.sop_instance_uid, "demo")
    assert signed is not None and signed.signed
    assert signed.signature.startswith("signed by demo, 20") and signed.signature.endswith(", site read")
    with pytest.raises(ReadLockedError):
        fresh.save_draft(moved)
