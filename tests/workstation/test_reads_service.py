"""Reads through the workstation: importing one's own read, signing, amending with a reason, listing."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from argon2 import PasswordHasher

from kyphoangle.dicom.radiograph import PatientIdentity
from kyphoangle.dicom.writer import write_radiograph
from kyphoangle.errors import PermissionDeniedError, ReasonRequiredError
from kyphoangle.landmark_file import LandmarkFile, write_landmark_file
from kyphoangle.storage.users import set_password_hasher
from kyphoangle.vocabulary import ReadStatus, UserRole
from kyphoangle.workstation.accounts import add_user, create_first_admin
from kyphoangle.workstation.connection import open_study, sign_in
from kyphoangle.workstation.films import import_films
from kyphoangle.workstation.reads import amend_read, import_read, list_reads

PASSWORD = "a-long-test-password"
UID = "1.2.826.0.1.3680043.55.1"


def _points(shift: float = 0.0) -> dict[str, tuple[float, float]]:
    return {
        "L1.superior.posterior": (30.0, 40.0),
        "L1.superior.anterior": (90.0, 44.0 + shift),
        "L1.inferior.posterior": (30.0, 80.0),
        "L1.inferior.anterior": (90.0, 82.0),
    }


def test_a_signed_read_is_amended_only_by_its_reader_with_a_reason(tmp_path: Path) -> None:
    set_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    film = write_radiograph(
        tmp_path / "film.dcm",
        np.zeros((128, 128), dtype=np.uint16),
        pixel_spacing_mm=(0.5, 0.5),
        sop_instance_uid=UID,
        study_date=dt.date(2024, 1, 1),
        identity=PatientIdentity(patient_name="Doe^Jane", patient_id="PID-1"),
    )
    database = open_study(str(tmp_path / "study.sqlite3"))
    create_first_admin(database, "admin", PASSWORD)
    admin = sign_in(database, "admin", PASSWORD)
    add_user(admin, "reader", UserRole.SITE_READER, PASSWORD)
    add_user(admin, "other", UserRole.SITE_READER, PASSWORD)
    add_user(admin, "central", UserRole.CENTRAL_READER, PASSWORD)
    summary = import_films(admin, [film])
    assert len(summary.new) == 1, summary.lines()
    first = LandmarkFile(UID, _points(), reader="reader", fractured_levels=("L1",))
    write_landmark_file(tmp_path / "first.json", first)
    write_landmark_file(tmp_path / "second.json", replace(first, points=_points(shift=3.0)))

    reader = sign_in(database, "reader", PASSWORD)
    signed = import_read(reader, tmp_path / "first.json", sign_with=PASSWORD)
    assert signed.status == ReadStatus.SIGNED
    with pytest.raises(ReasonRequiredError):
        amend_read(reader, signed.read_id, tmp_path / "second.json", reason=" ")
    with pytest.raises(PermissionDeniedError, match="only they can amend it"):
        amend_read(sign_in(database, "other", PASSWORD), signed.read_id, tmp_path / "second.json", reason="x")
    with pytest.raises(PermissionDeniedError, match="central readers"):
        amend_read(
            sign_in(database, "central", PASSWORD), signed.read_id, tmp_path / "second.json", reason="x"
        )
    amended = amend_read(
        reader, signed.read_id, tmp_path / "second.json", reason="corner misplaced", sign_with=PASSWORD
    )
    assert amended.status == ReadStatus.SIGNED and amended.read_id != signed.read_id
    rows = {row.read_id: row.status for row in list_reads(reader)}
    assert rows == {signed.read_id: "superseded", amended.read_id: "signed"}
    with pytest.raises(PermissionDeniedError):
        list_reads(reader, reader="other")
    database.dispose()
