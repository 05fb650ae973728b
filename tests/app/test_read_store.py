"""The JSON read store: users, atomic drafts, signing and locking, import with progress and cancel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.read_model import ReadLockedError, ReadSnapshot
from app.read_store import AuthenticationError, LocalReadStore, visit_sort_key
from app.sample_film import write_sample_film
from kyphoangle.protocol import NotEvaluable
from kyphoangle.vocabulary import NotEvaluableReason


def test_demo_account_and_wrong_password(store: LocalReadStore) -> None:
    assert store.authenticate("demo", "demo").login == "demo"
    with pytest.raises(AuthenticationError, match="wrong password"):
        store.authenticate("demo", "nope")
    with pytest.raises(AuthenticationError):
        store.authenticate("ghost", "demo")


def test_draft_round_trip_is_exact_and_sign_locks(store: LocalReadStore) -> None:
    snapshot = ReadSnapshot(
        "1.2.3",
        "demo",
        points={"L1.superior.anterior": (0.1 + 0.2, 1234.56789012345)},
        fractured_levels=("L1",),
        not_evaluable={"L1": NotEvaluable(NotEvaluableReason.DOUBLE_CONTOUR, "rotated")},
    )
    store.save_draft(snapshot)
    assert not list(store.folder.rglob("*.tmp"))
    loaded = store.load_read("1.2.3", "demo")
    assert loaded == snapshot
    assert store.statuses("1.2.3") == {"demo": "draft"}
    with pytest.raises(AuthenticationError):
        store.sign(snapshot, "wrong")
    signed = store.sign(snapshot, "demo")
    assert signed.signed
    reloaded = store.load_read("1.2.3", "demo")
    assert reloaded is not None and reloaded.signed and reloaded.points == snapshot.points
    with pytest.raises(ReadLockedError):
        store.save_draft(snapshot)


def test_import_with_progress_cancel_and_errors(store: LocalReadStore, tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    write_sample_film(folder / "a.dcm", rows=200, columns=100, spacing_mm=(3.0, 3.0), visit="D90")
    write_sample_film(folder / "b.dcm", rows=200, columns=100, spacing_mm=(3.0, 3.0), visit="D-8..D-1")
    (folder / "notes.txt").write_text("not dicom")
    seen: list[tuple[int, int]] = []
    report = store.import_paths([folder], lambda done, total, name: seen.append((done, total)), lambda: False)
    assert (report.added, report.skipped, len(report.errors)) == (2, 0, 1)
    assert "not a DICOM file" in report.errors[0]
    assert seen[-1] == (3, 3)
    again = store.import_paths([folder], lambda *a: None, lambda: False)
    assert (again.added, again.skipped) == (0, 2)
    canceled = LocalReadStore(tmp_path / "other").import_paths([folder], lambda *a: None, lambda: True)
    assert canceled.canceled and canceled.added == 0
    visits = sorted((image.visit for image in store.images()), key=visit_sort_key)
    assert visits == ["D-8..D-1", "D90"]
    assert json.loads((store.folder / "catalog.json").read_text())[0]["site"] == "Demo site"


def test_visit_order() -> None:
    labels = ["D360", "D15", "D2-D5", "D180", "D-8..D-1", "D90", "Unassigned"]
    assert sorted(labels, key=visit_sort_key) == [
        "D-8..D-1",
        "D2-D5",
        "D15",
        "D90",
        "D180",
        "D360",
        "Unassigned",
    ]
