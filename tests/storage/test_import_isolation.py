"""Import isolates every file: header sanity and a decode probe per file, a report, exit 4, audit events."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pydicom
import pytest
from conftest import Staff
from sqlalchemy import select
from storage_helpers import write_film
from test_cli import MANAGER_PW, Cli, _bootstrap

from kyphoangle.dicom.hostile import write_decoder_abort_film, write_deflate_bomb
from kyphoangle.importer import import_radiographs
from kyphoangle.storage import Database
from kyphoangle.storage.audit import AuditAction, AuditEntity, list_events, verify_trail
from kyphoangle.storage.models import Image, User


def _edit(path: Path, **attributes: object) -> Path:
    ds = pydicom.dcmread(path)
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    ds.save_as(path, enforce_file_format=True)
    return path


def _longer(path: Path, extra: int) -> Path:
    """The film with `extra` bytes appended to its (native) pixel data."""
    ds = pydicom.dcmread(path)
    ds.PixelData = ds.PixelData + bytes(extra)
    ds.save_as(path, enforce_file_format=True)
    return path


def _recoded(path: Path) -> Path:
    """The film rewritten in the deflated encoding."""
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    return path


def _bad_folder(folder: Path) -> dict[str, str]:
    """Bad films next to good ones; returns {file name: words its reason must contain}."""
    write_film(folder, "good1.dcm", patient_id="P1", uid="1.2.9.1")
    _edit(write_film(folder, "good2.dcm", patient_id="P2", uid="1.2.9.2"), BurnedInAnnotation="YES")
    _edit(write_film(folder, "ermf.dcm", uid="1.2.9.3"), EstimatedRadiographicMagnificationFactor="1e-320")
    _edit(write_film(folder, "spacing.dcm", uid="1.2.9.4"), PixelSpacing=["1e308", "0.1"])
    _edit(write_film(folder, "samples.dcm", uid="1.2.9.5"), SamplesPerPixel=4)
    abort = write_decoder_abort_film(folder / "abort.dcm")
    _edit(abort, PatientID="P9")
    bomb = write_deflate_bomb(folder / "bomb.dcm", inflated_bytes=64 << 20)
    truncated = write_film(folder, "truncated.dcm", uid="1.2.9.7")
    truncated.write_bytes(truncated.read_bytes()[:-1500])
    longer = _longer(write_film(folder, "longer.dcm", patient_id="P7", uid="1.2.9.8"), 1000)
    _longer(
        _recoded(write_film(folder, "longer_deflated.dcm", patient_id="P8", uid="1.2.9.9")),
        5 << 20,  # beyond the inflation margin
    )
    assert bomb.exists() and longer.exists()
    stated = 64 * 32 * 2
    return {
        "ermf.dcm": "Magnification Factor (0018,1114) is outside 1-3",
        "spacing.dcm": "Pixel Spacing (0028,0030) is outside 0.01-10 mm",
        "samples.dcm": "Samples per Pixel is 4",
        "abort.dcm": "This film cannot be decoded",
        "bomb.dcm": "unpacks to more than its header allows",
        "truncated.dcm": "truncated",
        "longer.dcm": f"the pixel data holds {stated + 1000:,} bytes where the header describes {stated:,}:"
        " the file is inconsistent and is not read",
        "longer_deflated.dcm": f"the pixel data holds {stated + (5 << 20):,} bytes where the header"
        f" describes {stated:,}: the file is inconsistent and is not read",
    }


def test_bad_films_are_skipped_with_reasons_audited_and_change_nothing(
    database: Database, staff: Staff, tmp_path: Path
) -> None:
    folder = tmp_path / "films"
    expected = _bad_folder(folder)
    with database.reading() as session:
        manager = session.get_one(User, staff.manager)
    summary = import_radiographs(database, folder, actor=manager)
    assert sorted(summary.new) == ["1.2.9.1", "1.2.9.2"]
    assert [Path(p).name for p in summary.burned_in] == ["good2.dcm"]  # shown to the data manager
    assert any("burned-in annotation: 1 film(s)" in line for line in summary.lines())
    reasons = {Path(path).name: reason for path, reason in summary.skipped}
    assert set(reasons) == set(expected)
    for name, words in expected.items():
        assert words in reasons[name], (name, reasons[name])
    with database.reading() as session:
        refused = [
            e for e in list_events(session, entity=AuditEntity.IMAGE) if e.action == AuditAction.REFUSE
        ]
        assert {Path(str(e.new_values["path"])).name for e in refused} == set(expected)
        assert verify_trail(session).intact
        before = {(i.sop_instance_uid, i.sha256, i.file_path) for i in session.scalars(select(Image))}

    again = import_radiographs(database, folder, actor=manager)  # idempotent
    assert again.new == [] and sorted(again.already_known) == ["1.2.9.1", "1.2.9.2"]
    assert {Path(p).name for p, _ in again.skipped} == set(expected)

    # A damaged copy of an imported film is skipped and the imported film is untouched.
    damaged = tmp_path / "later" / "good1.dcm"
    damaged.parent.mkdir()
    shutil.copy(folder / "good1.dcm", damaged)
    _edit(damaged, PixelSpacing=["0", "0"])
    third = import_radiographs(database, damaged.parent, actor=manager)
    assert third.new == [] and len(third.skipped) == 1
    with database.reading() as session:
        assert {(i.sop_instance_uid, i.sha256, i.file_path) for i in session.scalars(select(Image))} == before


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_cli_import_exits_4_and_writes_the_skipped_csv(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(db_url, monkeypatch, capsys)
    _bootstrap(cli)
    folder = tmp_path / "films"
    expected = _bad_folder(folder)
    report = tmp_path / "skipped.csv"
    code, out, err = cli("import", str(folder), "--skipped-csv", str(report), user="dm", password=MANAGER_PW)
    assert code == 4, err
    assert "new films: 2" in out and f"skipped files listed in {report}" in out
    assert "Traceback" not in out + err
    with open(report, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert {Path(row["path"]).name for row in rows} == set(expected)
    assert all(row["reason"] for row in rows)
    assert report.stat().st_mode & 0o077 == 0  # private, like every export

    only_good = tmp_path / "good"
    write_film(only_good, "good3.dcm", patient_id="P3", uid="1.2.9.30")
    code, out, _ = cli("import", str(only_good), user="dm", password=MANAGER_PW)
    assert code == 0 and "new films: 1" in out
