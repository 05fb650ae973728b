"""The site reading service against a real SQLite study database in tmp_path: drafts, calibration, signing."""

from __future__ import annotations

from pathlib import Path

import pytest
from reading_study import DEMO_PASSWORD, import_films

from app.read_model import ReadModel, ReadSnapshot
from app.sample_film import write_sample_film
from kyphoangle.errors import AuthenticationError, PermissionDeniedError, ReadLockedError
from kyphoangle.landmark_file import LandmarkFile
from kyphoangle.spacing import PixelSpacing
from kyphoangle.workstation.study_reads import StudyReadService


def test_import_save_sign_lock(store: StudyReadService, tmp_path: Path) -> None:
    film = write_sample_film(tmp_path / "films" / "a.dcm", rows=400, columns=200, spacing_mm=(1.5, 1.5))
    with pytest.raises(PermissionDeniedError, match="site readers cannot import images"):
        store.import_paths([film.path], lambda *a: None, lambda: False)
    import_films(store, tmp_path / "films")
    assert [i.sop_instance_uid for i in store.images()] == [film.sop_instance_uid]
    with pytest.raises(AuthenticationError):
        StudyReadService(store.database).authenticate("demo", "wrong")
    assert store.load_read(film.sop_instance_uid, "demo") is None
    points = {key: film.truth[key] for key in ("T4.superior.posterior", "T4.superior.anterior")}
    store.save_draft(LandmarkFile(film.sop_instance_uid, points, reader="demo", fractured_levels=("L1",)))
    moved = {**points, "T4.superior.anterior": (50.25, 60.125)}
    store.save_draft(LandmarkFile(film.sop_instance_uid, moved, reader="demo"))
    other = StudyReadService(store.database)
    other.authenticate("demo", DEMO_PASSWORD)
    reopened = other.load_read(film.sop_instance_uid, "demo")
    assert reopened is not None and dict(reopened.content.points) == moved and not reopened.signed
    assert store.images()[0].statuses == {"demo": "draft"}
    store.sign(LandmarkFile(film.sop_instance_uid, moved, reader="demo"), DEMO_PASSWORD)
    fresh = StudyReadService(store.database)
    fresh.authenticate("demo", DEMO_PASSWORD)
    signed = fresh.load_read(film.sop_instance_uid, "demo")
    assert signed is not None and signed.signed
    with pytest.raises(ReadLockedError):
        fresh.save_draft(LandmarkFile(film.sop_instance_uid, moved, reader="demo"))
    with pytest.raises(PermissionDeniedError):
        fresh.load_read(film.sop_instance_uid, "admin")


def test_a_manual_calibration_survives_every_autosave(store: StudyReadService, tmp_path: Path) -> None:
    film = write_sample_film(tmp_path / "films" / "a.dcm", rows=400, columns=200, spacing_mm=(1.5, 1.5))
    import_films(store, film.path)
    calibration = PixelSpacing.manual(0.2, 0.25)
    points = {"T4.superior.posterior": (10.0, 20.0), "T4.superior.anterior": (30.0, 22.0)}
    store.save_draft(LandmarkFile(film.sop_instance_uid, points, reader="demo", calibration=calibration))
    stored = store.load_read(film.sop_instance_uid, "demo")
    assert stored is not None and stored.content.calibration == calibration
    # the window's model keeps it through an edit and the next autosave
    model = ReadModel(ReadSnapshot.from_landmark_file(stored.content, reader="demo", signed=False))
    model.set_point("T5.superior.posterior", (12.0, 40.0))
    store.save_draft(model.snapshot().to_landmark_file())
    again = store.load_read(film.sop_instance_uid, "demo")
    assert again is not None and again.content.calibration == calibration
    assert set(again.content.points) == {*points, "T5.superior.posterior"}
