"""CSV export (long and wide, change from baseline, no identity or dates) and recompute."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import Staff
from sqlalchemy import text, update
from storage_helpers import PASSWORD, add_subject_with_images, landmarks, vertebra_points

from kyphoangle.errors import PermissionDeniedError
from kyphoangle.export import LONG_COLUMNS, WIDE_ID_COLUMNS, export_csv, wide_value_columns
from kyphoangle.protocol import NotEvaluable
from kyphoangle.storage import Database
from kyphoangle.storage.audit import AuditEntity, list_events, verify_trail
from kyphoangle.storage.images import get_image
from kyphoangle.storage.models import MeasurementRow, User
from kyphoangle.storage.reads import amend_read, create_read, get_read, sign_read
from kyphoangle.storage.recompute import recompute

REQUIRED = [
    "subject",
    "site",
    "visit",
    "visit_day",
    "reader",
    "read_type",
    "read_id",
    "read_status",
    "level",
    "measurement",
    "value",
    "unit",
    "change_from_baseline",
    "spacing_source",
    "normal_table",
    "endpoints",
    "patient_position",
    "not_evaluable",
    "sop_instance_uid",
]


@pytest.fixture
def study(database: Database, staff: Staff) -> dict[str, int]:
    """S001: signed baseline read, signed D90 read (L1 more wedged), D90 draft by a central reader."""
    _, (baseline, d90) = add_subject_with_images(
        database, staff.manager, study_dates=(dt.date(2024, 3, 1), dt.date(2024, 6, 3))
    )
    wedged = vertebra_points(wedge_px=40.0)
    ids: dict[str, int] = {}
    with database.transaction() as session:
        reader = session.get_one(User, staff.site_reader)
        central = session.get_one(User, staff.central_reader)
        first = create_read(
            session, image=get_image(session, baseline), reader=reader, content=landmarks(baseline)
        )
        sign_read(session, first, password=PASSWORD)
        second = create_read(
            session,
            image=get_image(session, d90),
            reader=reader,
            content=landmarks(
                d90,
                points=wedged,
                fractured_levels=("L1", "L2"),
                not_evaluable={"L2": NotEvaluable("obscured", "gas")},
            ),
        )
        sign_read(session, second, password=PASSWORD)
        draft = create_read(
            session,
            image=get_image(session, d90),
            reader=central,
            content=landmarks(d90, read_type="central"),
        )
        ids = {"baseline": first.id, "d90": second.id, "draft": draft.id}
    return ids


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_long_export(database: Database, staff: Staff, study: dict[str, int], tmp_path: Path) -> None:
    out = tmp_path / "values.csv"
    with database.reading() as session:
        manager = session.get_one(User, staff.manager)
        summary = export_csv(session, out, actor=manager)
        stored = session.query(MeasurementRow).count()
    rows = _rows(out)
    assert summary.rows == len(rows) == stored and summary.reads == 3
    assert set(REQUIRED) <= set(rows[0]) and tuple(rows[0]) == LONG_COLUMNS
    by = {(int(r["read_id"]), r["measurement"], r["level"]): r for r in rows}
    base = by[(study["baseline"], "vertebral_kyphosis", "L1")]
    later = by[(study["d90"], "vertebral_kyphosis", "L1")]
    assert base["visit"] == "baseline" and base["visit_day"] == "-4" and base["subject"] == "S001"
    assert later["visit"] == "D90" and later["visit_day"] == "90" and later["read_status"] == "signed"
    assert float(later["change_from_baseline"]) == pytest.approx(float(later["value"]) - float(base["value"]))
    assert float(later["change_from_baseline"]) > 3  # more wedged: more kyphotic
    assert later["baseline_read_id"] == str(study["baseline"]) and float(base["change_from_baseline"]) == 0
    assert later["treated_level"] == "yes" and later["patient_position"] == "standing"
    assert later["unit"] == "deg" and later["spacing_source"] == "pixel_spacing"
    art = by[(study["d90"], "traumatic_regional_angle", "L1")]
    assert art["normal_table"] == "farcy-1990" and art["normal_table_version"] == "1"
    obscured = by[(study["d90"], "regional_angle", "L2")]
    assert (
        obscured["value"] == "" and obscured["not_evaluable"] == "obscured" and obscured["not_computed"] == ""
    )
    kyphosis = by[(study["d90"], "thoracic_kyphosis", "")]
    assert kyphosis["value"] == "" and kyphosis["not_computed"].startswith("missing landmarks: T4.superior")
    assert kyphosis["endpoints"] == "T4.superior-T12.inferior"
    draft = by[(study["draft"], "regional_angle", "L1")]
    assert draft["read_status"] == "draft" and draft["change_from_baseline"] == ""  # no central baseline
    # Nothing identifying, no date of a film or visit: the only time is when a read was signed.
    content = out.read_text(encoding="utf-8")
    assert "Doe" not in content and "PID-1" not in content
    undated = "\n".join(",".join(v for k, v in r.items() if k != "signed_at_utc") for r in rows)
    assert not re.search(r"(19|20)\d\d-?\d\d-?\d\d", undated)
    assert later["signed_by"] == "site_reader" and later["signature_meaning"] == "site read"
    assert later["read_version"] == "1" and later["amends_read_id"] == ""
    assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ", later["signed_at_utc"])
    assert draft["signed_by"] == draft["signed_at_utc"] == draft["signature_meaning"] == ""
    dictionary = tmp_path / "values.dictionary.csv"
    described = {r["column"] for r in _rows(dictionary)}
    assert set(LONG_COLUMNS) <= described and set(WIDE_ID_COLUMNS) <= described


def test_wide_export_and_filters(
    database: Database, staff: Staff, study: dict[str, int], tmp_path: Path
) -> None:
    with database.reading() as session:
        manager = session.get_one(User, staff.manager)
        export_csv(session, tmp_path / "long.csv", actor=manager)
        export_csv(session, tmp_path / "wide.csv", actor=manager, wide=True)
        export_csv(session, tmp_path / "signed.csv", actor=manager, signed_only=True)
    wide = _rows(tmp_path / "wide.csv")
    assert list(wide[0]) == [*WIDE_ID_COLUMNS, *wide_value_columns()]
    assert [int(r["read_id"]) for r in wide] == [study["baseline"], study["d90"], study["draft"]]
    long = {(r["read_id"], r["measurement"], r["level"]): r["value"] for r in _rows(tmp_path / "long.csv")}
    for row in wide:
        assert row["regional_angle_L1"] == long[(row["read_id"], "regional_angle", "L1")]
        assert row["anterior_height_L1"] == long[(row["read_id"], "anterior_height", "L1")]
    d90 = wide[1]
    assert d90["not_evaluable_L2"] == "obscured" and d90["regional_angle_L2"] == ""
    assert d90["visit"] == "D90" and d90["normal_table"] == "farcy-1990"
    assert {r["read_status"] for r in _rows(tmp_path / "signed.csv")} == {"signed"}


def test_export_needs_the_export_role(database: Database, staff: Staff, tmp_path: Path) -> None:
    with database.reading() as session, pytest.raises(PermissionDeniedError):
        export_csv(session, tmp_path / "x.csv", actor=session.get_one(User, staff.site_reader))


def test_superseded_reads_and_baseline_choice(
    database: Database, staff: Staff, study: dict[str, int], tmp_path: Path
) -> None:
    with database.transaction() as session:
        amendment = amend_read(
            session,
            get_read(session, study["baseline"]),
            content=landmarks(
                get_read(session, study["baseline"]).image.sop_instance_uid,
                points=vertebra_points(wedge_px=10.0),
            ),
            reason="corner misplaced",
        )
        sign_read(session, amendment, password=PASSWORD)
        amendment_id = amendment.id
    with database.reading() as session:
        manager = session.get_one(User, staff.manager)
        export_csv(session, tmp_path / "current.csv", actor=manager)
        export_csv(session, tmp_path / "all.csv", actor=manager, include_superseded=True)
    current = _rows(tmp_path / "current.csv")
    assert str(study["baseline"]) not in {r["read_id"] for r in current}
    later = next(
        r
        for r in current
        if r["read_id"] == str(study["d90"]) and r["measurement"] == "regional_angle" and r["level"] == "L1"
    )
    assert later["baseline_read_id"] == str(amendment_id)
    statuses = {r["read_id"]: r["read_status"] for r in _rows(tmp_path / "all.csv")}
    assert statuses[str(study["baseline"])] == "superseded" and statuses[str(amendment_id)] == "signed"


def test_recompute_restores_values_and_adds_other_tables(
    database: Database, staff: Staff, study: dict[str, int], tmp_path: Path
) -> None:
    with database.engine.begin() as connection:
        connection.execute(
            update(MeasurementRow)
            .where(
                MeasurementRow.read_id == study["d90"],
                MeasurementRow.name == "regional_angle",
                MeasurementRow.level == "L1",
            )
            .values(value=99.0)
        )
    with database.transaction() as session:
        manager = session.get_one(User, staff.manager)
        reader = session.get_one(User, staff.site_reader)
        with pytest.raises(PermissionDeniedError):
            recompute(session, actor=reader)
        summary = recompute(session, actor=manager)
    assert (
        summary.reads_checked == 3 and summary.reads_changed == [study["d90"]] and summary.rows_updated == 1
    )
    with database.reading() as session:
        regional = [
            m
            for m in get_read(session, study["d90"]).measurements
            if m.name == "regional_angle" and m.level == "L1"
        ]
        assert regional[0].value != 99.0
        event = list_events(session, entity=AuditEntity.MEASUREMENTS, entity_id=study["d90"])[-1]
        assert event.action == "recompute" and event.old_values == {"regional_angle@L1": 99.0}
    with database.transaction() as session:
        manager = session.get_one(User, staff.manager)
        again = recompute(session, actor=manager)
        assert again.reads_changed == []
        extra = recompute(session, actor=manager, normal_table="shi-2020")
        assert extra.rows_added >= 3 and extra.rows_updated == 0
    with database.reading() as session:
        read = get_read(session, study["d90"])
        tables = sorted(
            {
                (m.normal_table_name, m.normal_table_version)
                for m in read.measurements
                if m.name == "traumatic_regional_angle"
            }
        )
        assert tables == [("farcy-1990", "1"), ("shi-2020", "1")]
        assert read.normal_table_name == "farcy-1990" and read.status == "signed"
        manager = session.get_one(User, staff.manager)
        export_csv(session, tmp_path / "shi.csv", actor=manager, normal_table="shi-2020")
        export_csv(session, tmp_path / "shi_wide.csv", actor=manager, normal_table="shi-2020", wide=True)
        assert verify_trail(session).intact
    arts = [r for r in _rows(tmp_path / "shi.csv") if r["measurement"] == "traumatic_regional_angle"]
    assert arts and {r["normal_table"] for r in arts} == {"shi-2020"}
    wide = _rows(tmp_path / "shi_wide.csv")
    long_l1 = {r["read_id"]: r["value"] for r in arts if r["level"] == "L1"}
    assert all(w["traumatic_regional_angle_L1"] == long_l1[w["read_id"]] for w in wide)


def test_signed_read_with_old_table_version_keeps_its_art(
    database: Database, staff: Staff, study: dict[str, int]
) -> None:
    with database.engine.begin() as connection:
        connection.execute(
            text("UPDATE read SET normal_table_version = '0' WHERE id = :id"), {"id": study["d90"]}
        )
        connection.execute(
            text(
                "UPDATE measurement SET normal_table_version = '0', value = 1.5 "
                "WHERE read_id = :id AND name = 'traumatic_regional_angle' AND level = 'L1'"
            ),
            {"id": study["d90"]},
        )
    with database.transaction() as session:
        summary = recompute(session, actor=session.get_one(User, staff.manager))
    assert [read_id for read_id, _ in summary.kept] == [study["d90"]]
    with database.reading() as session:
        art = [
            m
            for m in get_read(session, study["d90"]).measurements
            if m.name == "traumatic_regional_angle" and m.level == "L1"
        ]
        assert [(m.value, m.normal_table_version) for m in art] == [(1.5, "0")]
