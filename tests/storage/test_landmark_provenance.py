"""Snapping provenance: stored with each landmark, read back, and named in the long export."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import Staff
from storage_helpers import add_subject_with_images, landmarks

from kyphoangle.export import export_csv
from kyphoangle.landmark_file import PointProvenance
from kyphoangle.storage import Database
from kyphoangle.storage.images import get_image
from kyphoangle.storage.models import User
from kyphoangle.storage.reads import create_read, get_read, read_content, update_draft


@pytest.fixture
def film(database: Database, staff: Staff) -> str:
    _, uids = add_subject_with_images(database, staff.manager)
    return uids[0]


def test_provenance_is_stored_read_back_and_exported(
    database: Database, staff: Staff, film: str, tmp_path: Path
) -> None:
    content = landmarks(film)
    snapped_key = "L1.superior.anterior"
    declined_key = "L1.superior.posterior"
    column, row = content.points[snapped_key]
    provenance = {
        snapped_key: PointProvenance(proposed=True, accepted=True, click=(column + 7.5, row - 4.0)),
        declined_key: PointProvenance(proposed=True, accepted=False, click=content.points[declined_key]),
    }
    with database.transaction() as session:
        reader = session.get_one(User, staff.site_reader)
        content = landmarks(film, provenance=provenance)
        read_id = create_read(session, image=get_image(session, film), reader=reader, content=content).id
    with database.transaction() as session:
        stored = read_content(get_read(session, read_id))
    assert dict(stored.provenance) == provenance
    assert stored.provenance[snapped_key].click == (column + 7.5, row - 4.0)

    with database.transaction() as session:
        summary = export_csv(session, tmp_path / "long.csv", actor=session.get_one(User, staff.manager))
    with summary.path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    regional = next(r for r in rows if r["measurement"] == "regional_angle" and r["level"] == "L1")
    vertebral = next(r for r in rows if r["measurement"] == "vertebral_kyphosis" and r["level"] == "L1")
    assert regional["snapped_landmarks"] == ""  # L1 superior is not one of its endplates
    assert vertebral["snapped_landmarks"] == snapped_key  # the declined proposal is not counted

    # Placing the point again by hand clears what snapping had recorded for it.
    with database.transaction() as session:
        reader = session.get_one(User, staff.site_reader)
        read = get_read(session, read_id)
        update_draft(session, read, content=landmarks(film), actor=reader, expected_version=read.version)
    with database.transaction() as session:
        assert dict(read_content(get_read(session, read_id)).provenance) == {}
