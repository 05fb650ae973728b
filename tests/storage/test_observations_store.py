"""Observations stored with the read (migration 0003), amended, audited and exported."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from conftest import Staff
from storage_helpers import PASSWORD, add_subject_with_images, landmarks

from kyphoangle.cli import main
from kyphoangle.errors import PermissionDeniedError
from kyphoangle.observation_export import OBSERVATION_COLUMNS, export_observations
from kyphoangle.observations import LevelObservation
from kyphoangle.storage import Database
from kyphoangle.storage.audit import AuditEntity, list_events
from kyphoangle.storage.images import get_image
from kyphoangle.storage.models import LevelObservationRow, User
from kyphoangle.storage.reads import create_read, get_read, read_content, sign_read, update_draft
from kyphoangle.vocabulary import CementLeakage, YeomType


@pytest.fixture
def observed(database: Database, staff: Staff) -> dict[str, int]:
    """S001 treated at L1: baseline grades L1 2, L2 0, L4 0; at D90 L2 becomes 1 (adjacent), L4 1."""
    dates = (dt.date(2024, 3, 1), dt.date(2024, 6, 3))
    _, uids = add_subject_with_images(database, staff.manager, study_dates=dates)
    grades = (
        {"L1": LevelObservation(2), "L2": LevelObservation(0), "L4": LevelObservation(0)},
        {
            "L1": LevelObservation(2, (CementLeakage.DISC, CementLeakage.VENOUS), (YeomType.B, YeomType.C)),
            "L2": LevelObservation(1),
            "L4": LevelObservation(1),
            "T5": LevelObservation(0),
        },
    )
    ids = {}
    with database.transaction() as session:
        reader = session.get_one(User, staff.site_reader)
        for name, uid, observations in zip(("baseline", "d90"), uids, grades, strict=True):
            read = create_read(
                session,
                image=get_image(session, uid),
                reader=reader,
                content=landmarks(uid, observations=observations),
            )
            if name == "baseline":
                sign_read(session, read, password=PASSWORD)
            ids[name] = read.id
    return ids


def test_observations_are_stored_and_read_back(database: Database, observed: dict[str, int]) -> None:
    with database.reading() as session:
        content = read_content(get_read(session, observed["d90"]))
        assert session.query(LevelObservationRow).count() == 7
    assert list(content.observations) == ["T5", "L1", "L2", "L4"]
    assert content.observations["L1"].cement_leakage == (CementLeakage.DISC, CementLeakage.VENOUS)
    assert content.observations["L1"].yeom_types == (YeomType.B, YeomType.C)


def test_editing_observations_is_audited(database: Database, staff: Staff, observed: dict[str, int]) -> None:
    with database.transaction() as session:
        read = get_read(session, observed["d90"])
        content = read_content(read)
        changed = {**content.observations, "L2": LevelObservation(2)}
        del changed["T5"]
        update_draft(
            session,
            read,
            content=landmarks(content.sop_instance_uid, observations=changed),
            expected_version=read.version,
            actor=session.get_one(User, staff.site_reader),
        )
    with database.reading() as session:
        after = read_content(get_read(session, observed["d90"]))
        events = list_events(session, entity=AuditEntity.READ, entity_id=observed["d90"])
    assert after.observations["L2"].genant_grade == 2 and "T5" not in after.observations
    assert any("'T5'" in str(event.old_values) and "'T5'" not in str(event.new_values) for event in events)


def test_observations_export_derives_new_and_adjacent_fractures(
    database: Database, staff: Staff, observed: dict[str, int], tmp_path: Path
) -> None:
    out = tmp_path / "observations.csv"
    with database.reading() as session:
        summary = export_observations(session, out, actor=session.get_one(User, staff.manager))
        with pytest.raises(PermissionDeniedError):
            export_observations(session, out, actor=session.get_one(User, staff.site_reader))
    with open(out, encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert tuple(rows[0]) == OBSERVATION_COLUMNS and summary.rows == len(rows) == 7
    by = {(r["visit"], r["level"]): r for r in rows}
    l2 = by[("D90", "L2")]
    fields = ("genant_grade", "baseline_genant_grade", "new_fracture", "adjacent_to_treated")
    assert tuple(l2[name] for name in fields) == ("1", "0", "yes", "yes")
    l4 = by[("D90", "L4")]
    assert (l4["new_fracture"], l4["adjacent_to_treated"]) == ("yes", "no")
    l1 = by[("D90", "L1")]
    assert l1["treated_level"] == "yes" and l1["new_fracture"] == "no"
    assert (l1["cement_leakage"], l1["yeom_types"], l1["leakage_seen_on"]) == (
        "disc;venous",
        "B;C",
        "radiograph",
    )
    assert by[("D90", "T5")]["baseline_genant_grade"] == "" and by[("D90", "T5")]["new_fracture"] == ""
    assert by[("baseline", "L2")]["new_fracture"] == ""  # the baseline read itself
    assert "Doe" not in out.read_text(encoding="utf-8")


def test_the_command_line_exports_observations(
    db_url: str,
    observed: dict[str, int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", PASSWORD)
    assert main(["export", "observations", "-", "--signed-only", "--db", db_url, "--user", "manager"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["level"] for r in rows} == {"L1", "L2", "L4"} and {r["visit"] for r in rows} == {"baseline"}
