"""A site reader sees only the subjects (and films) of their own site; managers see every site."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from argon2 import PasswordHasher

from kyphoangle.dicom.radiograph import PatientIdentity
from kyphoangle.dicom.writer import write_radiograph
from kyphoangle.errors import NotFoundError
from kyphoangle.storage.users import set_password_hasher
from kyphoangle.vocabulary import UserRole
from kyphoangle.workstation.accounts import add_user, create_first_admin, list_users, update_user
from kyphoangle.workstation.connection import open_study, sign_in
from kyphoangle.workstation.films import import_films, list_films
from kyphoangle.workstation.study_reads import StudyReadService
from kyphoangle.workstation.subjects import list_subjects, update_subject

PASSWORD = "a-long-test-password"


def test_a_site_reader_sees_only_their_site(tmp_path: Path) -> None:
    set_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    rng = np.random.default_rng(3)
    (tmp_path / "films").mkdir()
    for n in range(2):
        write_radiograph(
            tmp_path / "films" / f"film-{n}.dcm",
            rng.integers(0, 4000, size=(64, 32), dtype=np.uint16),
            pixel_spacing_mm=(0.5, 0.5),
            study_date=dt.date(2024, 1, 1),
            identity=PatientIdentity(patient_name=f"P{n}^X", patient_id=f"PID-{n}"),
        )
    database = open_study(str(tmp_path / "study.sqlite3"))
    create_first_admin(database, "admin", PASSWORD)
    admin = sign_in(database, "admin", PASSWORD)
    import_films(admin, [tmp_path / "films"])
    first, second = (s.code for s in list_subjects(admin))
    update_subject(admin, first, site="NORTH")
    update_subject(admin, second, site="SOUTH")
    add_user(admin, "north.reader", UserRole.SITE_READER, PASSWORD, site="NORTH")
    add_user(admin, "anywhere.reader", UserRole.SITE_READER, PASSWORD)
    with pytest.raises(NotFoundError, match="no site WEST"):
        add_user(admin, "west.reader", UserRole.SITE_READER, PASSWORD, site="WEST")

    north = sign_in(database, "north.reader", PASSWORD)
    assert [s.code for s in list_subjects(north)] == [first]
    assert {f.subject for f in list_films(north, paths=True)} == {first}
    service = StudyReadService(database)
    service.authenticate("north.reader", PASSWORD)
    assert {entry.subject for entry in service.images()} == {first}
    assert [u.login for u in list_users(north)] == ["north.reader"] and list_users(north)[0].site == "NORTH"

    # A reader without a site (a single-site study) sees every site, as the managers do.
    anywhere = sign_in(database, "anywhere.reader", PASSWORD)
    assert {s.code for s in list_subjects(anywhere)} == {first, second}
    assert {s.code for s in list_subjects(admin)} == {first, second}

    update_user(admin, "north.reader", reason="moved to the south site", site="SOUTH")
    assert [s.code for s in list_subjects(north)] == [second]
    database.dispose()
