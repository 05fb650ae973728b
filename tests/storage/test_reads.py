"""Reads: all-or-nothing saves, drafts and versions, signing and locking, amendments, audit."""

from __future__ import annotations

import pytest
from conftest import Staff
from sqlalchemy import func, select
from storage_helpers import PASSWORD, add_subject_with_images, landmarks, vertebra_points

from kyphoangle.errors import (
    AuthenticationError,
    ConcurrentEditError,
    PermissionDeniedError,
    ReadLockedError,
    ReasonRequiredError,
)
from kyphoangle.normal_table import load_normal_table
from kyphoangle.protocol import NotEvaluable, compute_measurements
from kyphoangle.spacing import PixelSpacing
from kyphoangle.storage import Database, reads
from kyphoangle.storage.audit import AuditEntity, list_events, verify_trail
from kyphoangle.storage.images import get_image
from kyphoangle.storage.models import Landmark, MeasurementRow, Read, User
from kyphoangle.storage.reads import (
    amend_read,
    create_read,
    delete_draft,
    get_read,
    list_reads,
    read_content,
    sign_read,
    update_draft,
)
from kyphoangle.vocabulary import ReadStatus


@pytest.fixture
def film(database: Database, staff: Staff) -> str:
    _, uids = add_subject_with_images(database, staff.manager)
    return uids[0]


def _new_draft(database: Database, staff: Staff, film: str, **changes: object) -> int:
    with database.transaction() as session:
        reader = session.get_one(User, staff.site_reader)
        read = create_read(
            session, image=get_image(session, film), reader=reader, content=landmarks(film, **changes)
        )
        return read.id


def test_saved_read_holds_landmarks_and_every_measurement(
    database: Database, staff: Staff, film: str
) -> None:
    read_id = _new_draft(database, staff, film)
    expected = compute_measurements(
        vertebra_points(),
        spacing=PixelSpacing(0.15, 0.15, "pixel_spacing"),
        fractured_levels=["L1"],
        normal_table=load_normal_table(),
    )
    with database.reading() as session:
        read = get_read(session, read_id)
        assert read.status is ReadStatus.DRAFT and read.version == 1
        assert read.normal_table_name == "farcy-1990" and read.normal_table_version == "1"
        assert read.kyphosis_endpoints == "T4.superior-T12.inferior"
        assert len(read.landmarks) == 18
        values = {(m.name, m.level): m for m in read.measurements if m.value is not None}
        assert len(values) == len(expected.measurements)
        for m in expected.measurements:
            stored = values[(m.name, m.level)]
            assert stored.value == pytest.approx(m.value)
            assert stored.unit == m.unit and stored.landmark_keys == " ".join(m.landmarks)
            assert stored.spacing_source == "pixel_spacing"
        missing = {(m.name, m.level): m for m in read.measurements if m.value is None}
        assert len(missing) == len(expected.not_computed)
        kyphosis = missing[("thoracic_kyphosis", None)]
        assert "T4.superior.posterior" in kyphosis.missing_landmarks
        assert kyphosis.endpoints == "T4.superior-T12.inferior"
        assert read_content(read).points == landmarks(film).points


def test_save_is_all_or_nothing(
    database: Database, staff: Staff, film: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> list[dict[str, object]]:
        raise RuntimeError("disk full in the middle of the save")

    monkeypatch.setattr(reads, "measurement_values", explode)
    with pytest.raises(RuntimeError):
        _new_draft(database, staff, film)
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(Read)) == 0
        assert session.scalar(select(func.count()).select_from(Landmark)) == 0
        assert session.scalar(select(func.count()).select_from(MeasurementRow)) == 0
        assert verify_trail(session).intact


def test_editing_a_draft_with_versions(database: Database, staff: Staff, film: str) -> None:
    read_id = _new_draft(database, staff, film)
    moved = dict(vertebra_points())
    moved["L1.superior.anterior"] = (600.0, 440.0)
    del moved["L2.inferior.middle"]
    with database.transaction() as session:
        read = get_read(session, read_id)
        update_draft(session, read, content=landmarks(film, points=moved), expected_version=1)
        version = read.version
    assert version == 2
    with database.transaction() as session, pytest.raises(ConcurrentEditError, match="reopen"):
        update_draft(session, get_read(session, read_id), content=landmarks(film), expected_version=1)
    with database.reading() as session:
        read = get_read(session, read_id)
        assert len(read.landmarks) == 17
        regional = next(m for m in read.measurements if m.name == "regional_angle")
        assert regional.value is not None
        events = list_events(session, entity=AuditEntity.LANDMARKS, entity_id=read_id)
        assert [e.action for e in events] == ["create", "update"]
        assert events[1].old_values == {
            "L1.superior.anterior": [600.0, 420.0],
            "L2.inferior.middle": [500.0, 750.0],
        }
        assert events[1].new_values == {"L1.superior.anterior": [600.0, 440.0], "L2.inferior.middle": None}


def test_two_editors_at_once_one_gets_concurrent_edit_error(
    database: Database, staff: Staff, film: str
) -> None:
    read_id = _new_draft(database, staff, film)
    first, second = database.session(), database.session()
    try:
        with first.begin():
            read_a = get_read(first, read_id)
            update_draft(
                first, read_a, content=landmarks(film, fractured_levels=("L1", "L2")), expected_version=1
            )
        # The second editor opened version 1 before the first saved.
        with pytest.raises(ConcurrentEditError), second.begin():
            read_b = get_read(second, read_id)
            update_draft(second, read_b, content=landmarks(film), expected_version=1)
    finally:
        first.close()
        second.close()


def test_stale_row_at_flush_is_a_concurrent_edit(database: Database, staff: Staff, film: str) -> None:
    if database.is_sqlite:
        pytest.skip("SQLite write transactions start with BEGIN IMMEDIATE: no one can commit in between")
    read_id = _new_draft(database, staff, film)
    with pytest.raises(ConcurrentEditError), database.transaction() as session:
        read = get_read(session, read_id)
        # Someone else commits version 2 behind this session's back (as another program would).
        with database.engine.begin() as other:
            other.execute(Read.__table__.update().where(Read.__table__.c.id == read_id).values(version=2))
        update_draft(session, read, content=landmarks(film), expected_version=1)


def test_sign_needs_the_readers_password_then_locks(database: Database, staff: Staff, film: str) -> None:
    read_id = _new_draft(database, staff, film)
    with database.transaction() as session, pytest.raises(AuthenticationError, match="not signed"):
        sign_read(session, get_read(session, read_id), password="wrong password")
    with database.transaction() as session:
        read = sign_read(session, get_read(session, read_id), password=PASSWORD, expected_version=1)
        assert read.status is ReadStatus.SIGNED and read.signed_at is not None
    with database.transaction() as session:
        read = get_read(session, read_id)
        manager = session.get_one(User, staff.manager)
        with pytest.raises(ReadLockedError, match="locked"):
            update_draft(session, read, content=landmarks(film), expected_version=read.version)
        with pytest.raises(ReadLockedError):
            delete_draft(session, read, actor=manager)
        with pytest.raises(ReadLockedError):
            sign_read(session, read, password=PASSWORD)


def test_amendment_supersedes_after_signing(database: Database, staff: Staff, film: str) -> None:
    read_id = _new_draft(database, staff, film)
    with database.transaction() as session:
        sign_read(session, get_read(session, read_id), password=PASSWORD)
    with database.transaction() as session:
        with pytest.raises(ReasonRequiredError):
            amend_read(session, get_read(session, read_id), content=landmarks(film), reason=" ")
        amendment = amend_read(
            session,
            get_read(session, read_id),
            content=landmarks(film, fractured_levels=("L1", "L2")),
            reason="L2 fracture missed at first read",
        )
        amendment_id = amendment.id
    with database.transaction() as session, pytest.raises(ConcurrentEditError, match="in progress"):
        amend_read(session, get_read(session, read_id), content=landmarks(film), reason="again")
    with database.reading() as session:
        assert get_read(session, read_id).superseded_by_id is None  # not until the amendment is signed
    with database.transaction() as session:
        sign_read(session, get_read(session, amendment_id), password=PASSWORD)
    with database.reading() as session:
        old, new = get_read(session, read_id), get_read(session, amendment_id)
        assert old.superseded_by_id == amendment_id and old.status is ReadStatus.SIGNED
        assert len(old.landmarks) == 18 and old.measurements
        assert new.amends_read_id == read_id and new.amendment_reason == "L2 fracture missed at first read"
        summaries = {s.read_id: s for s in list_reads(session)}
        assert summaries[read_id].display_status == "superseded"
        assert summaries[amendment_id].display_status == "signed"
        assert [s.read_id for s in list_reads(session, include_superseded=False)] == [amendment_id]
        supersede = [
            e
            for e in list_events(session, entity=AuditEntity.READ, entity_id=read_id)
            if e.action == "supersede"
        ]
        assert supersede[0].reason == "L2 fracture missed at first read"
        assert verify_trail(session).intact
    with database.transaction() as session, pytest.raises(ReadLockedError, match="superseded"):
        amend_read(session, get_read(session, read_id), content=landmarks(film), reason="x")


def test_who_may_save_which_read(database: Database, staff: Staff, film: str) -> None:
    with database.transaction() as session:
        image = get_image(session, film)
        site_reader = session.get_one(User, staff.site_reader)
        central = session.get_one(User, staff.central_reader)
        manager = session.get_one(User, staff.manager)
        with pytest.raises(PermissionDeniedError, match="does not make central reads"):
            create_read(
                session, image=image, reader=site_reader, content=landmarks(film), read_type="central"
            )
        with pytest.raises(PermissionDeniedError, match="import reads"):
            create_read(session, image=image, reader=site_reader, content=landmarks(film), actor=central)
        with pytest.raises(PermissionDeniedError):
            create_read(session, image=image, reader=manager, content=landmarks(film))
        read = create_read(session, image=image, reader=site_reader, content=landmarks(film), actor=manager)
        assert read.reader_id == staff.site_reader
        with pytest.raises(PermissionDeniedError):
            update_draft(session, read, content=landmarks(film), expected_version=read.version, actor=central)


def test_not_evaluable_level_and_calibration_are_stored(database: Database, staff: Staff, film: str) -> None:
    content = landmarks(
        film,
        fractured_levels=("L1", "L2"),
        not_evaluable={"L2": NotEvaluable("obscured", "bowel gas")},
        calibration=PixelSpacing.manual(0.2, 0.2),
    )
    with database.transaction() as session:
        reader = session.get_one(User, staff.site_reader)
        read = create_read(session, image=get_image(session, film), reader=reader, content=content)
        read_id = read.id
    with database.reading() as session:
        read = get_read(session, read_id)
        level = {lv.level: lv for lv in read.levels}
        assert level["L2"].not_evaluable_reason == "obscured" and level["L2"].fractured
        l2 = [m for m in read.measurements if m.level == "L2"]
        assert l2 and all(m.value is None and "not evaluable" in str(m.not_computed_reason) for m in l2)
        heights = [m for m in read.measurements if m.name == "anterior_height" and m.level == "L1"]
        assert heights[0].spacing_source == "manual"
        assert heights[0].value == pytest.approx(130 * 0.2, rel=0.01)
        back = read_content(read)
        assert back.not_evaluable == content.not_evaluable and back.calibration == content.calibration
        assert back.fractured_levels == ("L1", "L2")


def test_delete_draft_is_audited(database: Database, staff: Staff, film: str) -> None:
    read_id = _new_draft(database, staff, film)
    with database.transaction() as session:
        central = session.get_one(User, staff.central_reader)
        with pytest.raises(PermissionDeniedError):
            delete_draft(session, get_read(session, read_id), actor=central)
        reader = session.get_one(User, staff.site_reader)
        delete_draft(session, get_read(session, read_id), actor=reader, reason="wrong film")
    with database.reading() as session:
        assert session.get(Read, read_id) is None
        assert session.scalar(select(func.count()).select_from(MeasurementRow)) == 0
        events = list_events(session, entity=AuditEntity.LANDMARKS, entity_id=read_id)
        assert events[-1].action == "delete" and len(events[-1].old_values) == 18
        assert verify_trail(session).intact


def test_landmark_outside_film_or_for_another_film(database: Database, staff: Staff, film: str) -> None:
    from kyphoangle.errors import LandmarkError

    with database.transaction() as session:
        reader = session.get_one(User, staff.site_reader)
        image = get_image(session, film)
        with pytest.raises(LandmarkError, match="outside the image"):
            create_read(
                session,
                image=image,
                reader=reader,
                content=landmarks(film, points={"L1.superior.anterior": (5000.0, 1.0)}),
            )
        with pytest.raises(LandmarkError, match="not " + film):
            create_read(session, image=image, reader=reader, content=landmarks("9.9.9"))
