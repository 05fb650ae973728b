"""Subjects and identity, visit assignment from D0, and importing films (idempotent, conflicts)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import Staff
from sqlalchemy import select
from storage_helpers import add_subject_with_images, write_film

from kyphoangle.errors import NotFoundError, PermissionDeniedError, ReasonRequiredError
from kyphoangle.importer import ImportProgress, import_radiographs
from kyphoangle.storage import Database
from kyphoangle.storage.audit import AuditEntity, list_events, verify_trail
from kyphoangle.storage.images import (
    assign_visit,
    get_image,
    list_images,
    patient_position_from_dicom,
    set_patient_position,
)
from kyphoangle.storage.models import Subject, SubjectIdentity, User
from kyphoangle.storage.schedule import load_visit_schedule
from kyphoangle.storage.subjects import (
    SubjectError,
    get_identity,
    get_or_create_site,
    get_subject,
    list_subjects,
    update_subject,
)
from kyphoangle.vocabulary import PatientPosition, VisitAssignment


def test_schedule_windows() -> None:
    schedule = load_visit_schedule()
    day = {code: next(w for w in schedule.visits if w.code == code) for code in ("baseline", "D15", "D90")}
    assert (day["baseline"].min_day, day["baseline"].max_day) == (-8, -1)
    assert (day["D15"].min_day, day["D15"].max_day) == (12, 18)
    assert (day["D90"].min_day, day["D90"].max_day) == (76, 104)
    assert schedule.visit_for_day(-3).code == "baseline"  # type: ignore[union-attr]
    assert schedule.visit_for_day(4).code == "D2-D5"  # type: ignore[union-attr]
    assert schedule.visit_for_day(0) is None and schedule.visit_for_day(40) is None
    assert schedule.visit_for_day(390).code == "D360"  # type: ignore[union-attr]


def test_subject_codes_identity_apart_and_visits(database: Database, staff: Staff) -> None:
    code, uids = add_subject_with_images(
        database,
        staff.manager,
        study_dates=(dt.date(2024, 3, 1), dt.date(2024, 3, 8), dt.date(2024, 6, 3), dt.date(2024, 4, 20)),
    )
    assert code == "S001"
    images = {i.sop_instance_uid: i for i in list_images(database.session())}
    assert [images[u].visit for u in uids] == ["baseline", "D2-D5", "D90", "unscheduled"]
    assert [images[u].study_day for u in uids] == [-4, 3, 90, 46]
    with database.reading() as session:
        summary = list_subjects(session)[0]
        assert summary.code == "S001" and summary.treated_levels == ("L1",) and summary.image_count == 4
        manager = session.get_one(User, staff.manager)
        reader = session.get_one(User, staff.site_reader)
        subject = get_subject(session, "S001")
        assert get_identity(session, subject, actor=manager).patient_name == "Doe^Jane"
        with pytest.raises(PermissionDeniedError):
            get_identity(session, subject, actor=reader)
        assert not hasattr(Subject, "patient_name") and hasattr(SubjectIdentity, "patient_name")


def test_setting_procedure_date_later_reassigns_visits_audited(database: Database, staff: Staff) -> None:
    code, uids = add_subject_with_images(
        database, staff.manager, procedure_date=None, study_dates=(dt.date(2024, 3, 1), dt.date(2024, 6, 3))
    )
    with database.reading() as session:
        assert [get_image(session, u).visit_assignment for u in uids] == [VisitAssignment.PENDING] * 2
    with database.transaction() as session:
        manager = session.get_one(User, staff.manager)
        update_subject(session, get_subject(session, code), actor=manager, procedure_date=dt.date(2024, 3, 5))
    with database.reading() as session:
        assert [i.visit for i in list_images(session, subject_code=code)] == ["baseline", "D90"]
        events = list_events(session, entity=AuditEntity.VISIT_ASSIGNMENT)
        assert [e.new_values["visit"] for e in events] == ["baseline", "D90"]
        assert all(e.old_values["visit"] == "pending" for e in events)
    # Changing a recorded D0 needs a reason; manual assignments are kept.
    with database.transaction() as session:
        manager = session.get_one(User, staff.manager)
        assign_visit(session, get_image(session, uids[1]), "D180", actor=manager, reason="protocol deviation")
        with pytest.raises(ReasonRequiredError, match="procedure_date"):
            update_subject(
                session, get_subject(session, code), actor=manager, procedure_date=dt.date(2024, 3, 4)
            )
    with database.transaction() as session:
        manager = session.get_one(User, staff.manager)
        update_subject(
            session,
            get_subject(session, code),
            actor=manager,
            procedure_date=dt.date(2024, 2, 20),
            reason="D0 typo corrected from the operating report",
        )
    with database.reading() as session:
        assert [i.visit for i in list_images(session, subject_code=code)] == ["unscheduled", "D180"]
        assert verify_trail(session).intact


def test_subject_fields_validation_and_permissions(database: Database, staff: Staff) -> None:
    code, _ = add_subject_with_images(database, staff.manager)
    with database.transaction() as session:
        manager = session.get_one(User, staff.manager)
        reader = session.get_one(User, staff.site_reader)
        subject = get_subject(session, code)
        with pytest.raises(SubjectError, match="1 to 3"):
            update_subject(session, subject, actor=manager, treated_levels=["T10", "T11", "T12", "L1"])
        with pytest.raises(SubjectError, match="T10 to L5"):
            update_subject(session, subject, actor=manager, treated_levels=["T4"])
        with pytest.raises(PermissionDeniedError):
            update_subject(session, subject, actor=reader, diagnosis="myeloma")
        site = get_or_create_site(session, "LYON", actor=manager)
        update_subject(session, subject, actor=manager, site=site, diagnosis="myeloma")
        assert subject.site is not None and subject.site.code == "LYON"
        with pytest.raises(NotFoundError):
            get_subject(session, "S999")


def test_assign_visit_requires_reason_and_role(database: Database, staff: Staff) -> None:
    _, uids = add_subject_with_images(database, staff.manager)
    with database.transaction() as session:
        manager = session.get_one(User, staff.manager)
        reader = session.get_one(User, staff.central_reader)
        image = get_image(session, uids[0])
        with pytest.raises(ReasonRequiredError):
            assign_visit(session, image, "D15", actor=manager, reason="")
        with pytest.raises(PermissionDeniedError):
            assign_visit(session, image, "D15", actor=reader, reason="x")
        with pytest.raises(NotFoundError, match="D16"):
            assign_visit(session, image, "D16", actor=manager, reason="x")
        assign_visit(session, image, "unscheduled", actor=manager, reason="film of the wrong patient side")
        set_patient_position(session, image, "supine", actor=manager, reason="lying on the table on the film")
    with database.reading() as session:
        image = get_image(session, uids[0])
        assert image.visit_id is None and image.visit_assignment is VisitAssignment.MANUAL
        assert image.patient_position is PatientPosition.SUPINE
        assert [i.sop_instance_uid for i in list_images(session, visit_code="unscheduled")] == uids


def test_patient_position_from_dicom() -> None:
    assert patient_position_from_dicom("HFS") is PatientPosition.SUPINE
    assert patient_position_from_dicom("", "ERECT LAT") is PatientPosition.STANDING
    assert patient_position_from_dicom("HFP") is PatientPosition.UNKNOWN
    assert patient_position_from_dicom("") is PatientPosition.UNKNOWN


def test_import_folder_idempotent_with_conflicts_and_unreadable(
    database: Database, staff: Staff, tmp_path: Path
) -> None:
    films = tmp_path / "films"
    write_film(films / "a", "1.dcm", patient_id="P1", uid="1.2.3.1", study_date=dt.date(2024, 1, 1))
    write_film(films / "a", "2.dcm", patient_id="P1", uid="1.2.3.2", study_date=dt.date(2024, 4, 1))
    write_film(films / "b", "3.dcm", patient_id="P2", uid="1.2.3.3", patient_position="HFS")
    (films / "b" / "notes.dcm").write_bytes(b"DICM but not really" * 10)
    (films / "b" / "broken.dcm").write_bytes(b"\x00" * 128 + b"DICM" + b"\x02\x00\x10\x00garbage")
    write_film(films / "c", "noid.dcm", patient_id="", uid="1.2.3.9")
    seen: list[ImportProgress] = []
    with database.reading() as session:
        manager = session.get_one(User, staff.manager)
    summary = import_radiographs(database, [films], actor=manager, progress=seen.append)
    assert sorted(summary.new) == ["1.2.3.1", "1.2.3.2", "1.2.3.3"]
    assert summary.new_subjects == ["S001", "S002"]
    assert summary.conflicts == [] and summary.already_known == []
    reasons = {Path(u.path).name: u.reason for u in summary.unreadable}
    assert set(reasons) >= {"broken.dcm", "noid.dcm"}
    assert "Patient ID" in reasons["noid.dcm"]
    assert seen and seen[-1].files_done == summary.files_done
    with database.reading() as session:
        identity = session.scalars(select(SubjectIdentity).order_by(SubjectIdentity.dicom_patient_id)).all()
        assert [(i.dicom_patient_id, i.patient_name) for i in identity] == [
            ("P1", "Name^P1"),
            ("P2", "Name^P2"),
        ]
        assert identity[0].birth_date == dt.date(1950, 1, 2)
        assert get_image(session, "1.2.3.3").patient_position is PatientPosition.SUPINE
        assert get_image(session, "1.2.3.1").visit_assignment is VisitAssignment.PENDING
        assert len(get_image(session, "1.2.3.1").sha256) == 64

    # Again, plus a copy of a known film and a different film reusing a known UID.
    shutil.copy(films / "a" / "1.dcm", tmp_path / "copy.dcm")
    write_film(tmp_path / "other", "x.dcm", patient_id="P1", uid="1.2.3.2", pixel_value=7)
    again = import_radiographs(database, [films, tmp_path / "copy.dcm", tmp_path / "other"], actor=manager)
    assert again.new == [] and sorted(again.already_known) == ["1.2.3.1", "1.2.3.1", "1.2.3.2", "1.2.3.3"]
    assert [c.sop_instance_uid for c in again.conflicts] == ["1.2.3.2"]
    assert any("1.2.3.2" in line and "different content" in line for line in again.lines())

    # D0 set later re-assigns the imported films.
    with database.transaction() as session:
        manager = session.get_one(User, staff.manager)
        update_subject(
            session, get_subject(session, "S001"), actor=manager, procedure_date=dt.date(2024, 1, 5)
        )
    with database.reading() as session:
        assert [i.visit for i in list_images(session, subject_code="S001")] == ["baseline", "D90"]
        assert verify_trail(session).intact


def test_import_needs_role_and_can_be_cancelled(database: Database, staff: Staff, tmp_path: Path) -> None:
    for n in range(5):
        write_film(tmp_path, f"{n}.dcm", patient_id="P1", uid=f"1.2.4.{n}")
    with database.reading() as session:
        reader = session.get_one(User, staff.site_reader)
        manager = session.get_one(User, staff.manager)
    with pytest.raises(PermissionDeniedError):
        import_radiographs(database, tmp_path, actor=reader)
    calls = iter(range(100))
    summary = import_radiographs(
        database, tmp_path, actor=manager, cancel=lambda: next(calls) >= 2, batch_size=1
    )
    assert summary.cancelled and len(summary.new) == 2
    rest = import_radiographs(database, tmp_path, actor=manager)
    assert len(rest.new) == 3 and len(rest.already_known) == 2
