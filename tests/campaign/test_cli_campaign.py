"""`kyphoangle campaign ...` and `kyphoangle agreement` end to end, including who may see what."""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pydicom
import pytest
from campaign_helpers import (
    FILMS,
    REPEATS,
    content_for,
    make_people,
    make_readers,
    make_study,
    pdf_pages,
    run_campaign,
)
from conftest import Staff
from sqlalchemy import select
from storage_helpers import PASSWORD

from kyphoangle.agreement_report import PDF_PLOTS_PER_PAGE, PDF_ROWS_PER_PAGE, agreement_report
from kyphoangle.campaign import case_reads, final_reads, get_campaign, get_case
from kyphoangle.cli import main
from kyphoangle.dicom import PatientIdentity, load_radiograph
from kyphoangle.dicom.blinded_copy import blinded_instance_uid
from kyphoangle.dicom.writer import write_radiograph
from kyphoangle.landmark_file import write_landmark_file
from kyphoangle.storage import Database
from kyphoangle.storage.models import Campaign, Image, Read
from kyphoangle.storage.users import get_user


class Cli:
    """Runs `kyphoangle` in-process against the test database as a given user (password PASSWORD)."""

    def __init__(self, db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.db, self.capsys = db, capsys
        monkeypatch.delenv("KYPHOANGLE_DB", raising=False)
        monkeypatch.setenv("KYPHOANGLE_PASSWORD", PASSWORD)

    def __call__(self, *argv: str, user: str) -> tuple[int, str, str]:
        code = main([*argv, "--db", self.db, "--user", user])
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(db_url, monkeypatch, capsys)


def test_create_worklist_read_status(database: Database, staff: Staff, cli: Cli, tmp_path: Path) -> None:
    make_study(database, staff.manager)
    make_people(database, staff.admin, staff.manager)
    code, out, err = cli(
        "campaign", "create", "CLI1", "--readers", "central1,central2", "--adjudicator", "adjudicator2",
        "--repeat-fraction", "0.25", "--min-gap", "3", "--seed", "77", "--threshold-deg", "5",
        user="manager",
    )  # fmt: skip
    assert code == 0, err
    assert "seed 77" in out
    code, _, err = cli("campaign", "create", "CLI2", "--readers", "central1,central2", "--adjudicator",
                       "adjudicator2", user="central1")  # fmt: skip
    assert code == 3 and "central readers cannot manage campaigns" in err

    code, out, _ = cli("campaign", "worklist", "CLI1", user="central1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split("\t") == ["position", "case_code", "done"]
    assert len(lines) == 1 + FILMS + REPEATS + 1
    assert "PID" not in out and "1.2.826" not in out and "L1" not in out

    code, out, _ = cli("campaign", "next", "CLI1", user="central1")
    assert code == 0
    header, row = out.splitlines()
    assert header.split("\t") == [
        "case_code",
        "position",
        "sop_instance_uid",
        "fractured_levels",
        "draft_read",
        "film",
    ]
    shown = out
    case_code, uid = row.split("\t")[0], row.split("\t")[2]
    copy = tmp_path / "case.dcm"
    code, _, err = cli("campaign", "next", "CLI1", "--film", str(copy), user="central1")
    assert code == 2 and f"the film of case {case_code} cannot be read" in err
    assert "/films/" not in err and ".dcm" not in err.replace("case.dcm", ""), "no path of the original"
    source = write_case_film(database, case_code, tmp_path)
    code, out, err = cli("campaign", "next", "CLI1", "--film", str(copy), user="central1")
    assert code == 0, err
    assert out.splitlines()[1].split("\t")[5] == str(copy)
    assert_blinded_copy(source, copy, uid=uid, case_code=case_code, shown=shown + out)
    landmarks = tmp_path / "read.json"
    write_landmark_file(landmarks, content_for(uid, 0.0))
    code, out, err = cli("campaign", "read", "CLI1", str(landmarks), "--sign", user="central1")
    assert code == 0, err
    assert "central, signed" in out

    code, out, _ = cli("campaign", "status", "CLI1", user="manager")
    assert code == 0
    total = FILMS + REPEATS
    assert f"central1\treader_1\t1\t{total - 1}" in out and f"central2\treader_2\t0\t{total}" in out
    code, out, _ = cli("campaign", "status", "CLI1", user="central2")
    assert "central1" not in out

    # A central reader cannot reach reads or identities through the campaign commands.
    for argv in (
        ("campaign", "export", "CLI1", str(tmp_path / "x.csv")),
        ("campaign", "export", "CLI1", str(tmp_path / "x.csv"), "--key", str(tmp_path / "k.csv")),
        ("agreement", "--campaign", "CLI1"),
    ):
        code, _, err = cli(*argv, user="central2")
        assert code == 3 and "central readers cannot export campaigns" in err
    code, out, _ = cli("reads", "list", user="central1")
    assert code == 0 and "case_code" in out and "S0" not in out and "PID" not in out
    code, _, err = cli("reads", "list", "--reader", "central2", user="central1")
    assert code == 3 and "only their own" in err
    code, _, err = cli("campaign", "worklist", "CLI1", user="site_reader")
    assert code == 3 and "site readers cannot list campaigns" in err
    assert not (tmp_path / "k.csv").exists()


def test_export_and_agreement_commands(database: Database, staff: Staff, cli: Cli, tmp_path: Path) -> None:
    make_study(database, staff.manager)
    people = make_people(database, staff.admin, staff.manager)
    readings = run_campaign(database, people)

    code, out, _ = cli("campaign", "worklist", "CR1", user="adjudicator2")
    assert code == 0 and readings.forced in out

    code, out, _ = cli("campaign", "status", "CR1", user="manager")
    assert "1 awaiting adjudication" in out

    out_csv, key = tmp_path / "c.csv", tmp_path / "key.csv"
    code, out, err = cli("campaign", "export", "CR1", str(out_csv), "--key", str(key), user="manager")
    assert code == 0, err
    assert "audit trail" in out and key.exists()
    code, out, _ = cli("audit", "list", user="manager")
    assert "export" in out

    code, out, err = cli("agreement", "--campaign", "CR1", user="manager")
    assert code == 0, err
    assert "inter-reader" in out and "ICC" in out
    report = str(tmp_path / "r.html")
    code, out, _ = cli(
        "agreement", "--campaign", "CR1", "--format", "csv", "--report", report, user="manager"
    )
    assert code == 0
    rows = list(csv.DictReader(out.splitlines()))
    assert {row["scope"] for row in rows} == {"inter", "intra"}
    assert (tmp_path / "r.html").exists() and (tmp_path / "r.csv").exists()


def test_three_reader_campaign(database: Database, staff: Staff, cli: Cli) -> None:
    make_study(database, staff.manager)
    make_people(database, staff.admin, staff.manager)
    make_readers(database, staff.admin, [f"central{n}" for n in range(3, 8)])
    code, out, err = cli(
        "campaign", "create", "K3", "--readers", "central1,central2,central3", "--adjudicator",
        "adjudicator2", "--repeat-fraction", "0.25", "--min-gap", "3", "--seed", "77", user="manager",
    )  # fmt: skip
    assert code == 0, err
    code, _, err = cli(
        "campaign", "create", "K7", "--readers", ",".join(f"central{n}" for n in range(1, 8)),
        "--adjudicator", "adjudicator2", user="manager",
    )  # fmt: skip
    assert code == 2 and "2 to 6 central readers, not 7" in err
    code, out, _ = cli("campaign", "status", "K3", user="manager")
    assert code == 0
    total = FILMS + REPEATS
    assert f"central1\treader_1\t0\t{total}" in out and f"central3\treader_3\t0\t{total}" in out
    assert "campaign K3 is open, 3 readers" in out
    code, out, _ = cli("campaign", "status", "K3", user="central3")
    assert "central3\treader_3" in out and "central1" not in out and "central2" not in out


def test_close_command(database: Database, staff: Staff, cli: Cli) -> None:
    make_study(database, staff.manager)
    people = make_people(database, staff.admin, staff.manager)
    readings = run_campaign(database, people)
    code, _, err = cli("campaign", "close", "CR1", user="central1")
    assert code == 3 and "central readers cannot manage campaigns" in err
    code, out, err = cli("campaign", "close", "CR1", "--reason", "reading period over", user="manager")
    assert code == 0, err
    assert f"campaign CR1 closed (1 of {FILMS} cases unfinished)" in out
    code, _, err = cli("campaign", "close", "CR1", user="manager")
    assert code == 2 and "already closed" in err
    code, out, _ = cli("campaign", "status", "CR1", user="manager")
    assert "campaign CR1 is closed" in out
    with database.reading() as session:
        campaign = get_campaign(session, "CR1")
        read_id = case_reads(session, campaign, readings.forced, get_user(session, "manager"))[0].id
    code, _, err = cli(
        "campaign", "adjudicate", "CR1", readings.forced, "--read", str(read_id), "--reason", "late",
        user="adjudicator2",
    )  # fmt: skip
    assert code == 2 and "closed, not open" in err
    code, out, _ = cli("audit", "list", user="manager")
    assert "reading period over" in out


def write_case_film(database: Database, case_code: str, folder: Path) -> Path:
    """Write a film with a patient's identity where the case's image is registered; returns its path."""
    with database.transaction() as session:
        campaign = session.scalars(select(Campaign).where(Campaign.code == "CLI1")).one()
        case = get_case(session, campaign, case_code)
        image = session.get_one(Image, case.image_id)
        path = folder / "site-films" / "Doe_Jane_20240301.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_radiograph(
            path,
            np.arange(64 * 48, dtype=np.uint16).reshape(64, 48),
            identity=PatientIdentity(patient_name="Doe^Jane", patient_id="PID-0", institution_name="Nord"),
            study_date=dt.date(2024, 3, 1),
            sop_instance_uid=image.sop_instance_uid,
            imager_pixel_spacing_mm=(0.15, 0.15),
        )
        image.file_path = str(path)
    return path


def assert_blinded_copy(source: Path, copy: Path, *, uid: str, case_code: str, shown: str) -> None:
    """The copy shows the same film under the UID shown, calibrated the same, with nothing of the
    original's identity; the output `shown` to the reader holds no part of the original's path."""
    assert source.name not in shown and str(source.parent) not in shown
    original, blinded = load_radiograph(source), load_radiograph(copy)
    assert blinded.sop_instance_uid == uid == blinded_instance_uid(original.sop_instance_uid, case_code)
    assert np.array_equal(original.pixels, blinded.pixels)
    assert blinded.spacing == original.spacing
    ds = pydicom.dcmread(source)
    raw = copy.read_bytes()
    identifying = ("PatientID", "PatientName", "StudyDate", "InstitutionName", "SOPInstanceUID")
    for keyword in identifying:
        value = str(ds.get(keyword, "") or "")
        assert not value or value.encode() not in raw, keyword
    assert pydicom.dcmread(copy).PatientID == case_code


def test_adjudicate_by_reader_slot(database: Database, staff: Staff, cli: Cli) -> None:
    make_study(database, staff.manager)
    people = make_people(database, staff.admin, staff.manager)
    readings = run_campaign(database, people)
    code, out, err = cli("campaign", "worklist", "CR1", user="adjudicator2")
    assert code == 0, err
    assert f"{readings.forced}\tawaiting adjudication" in out
    code, out, err = cli(
        "campaign", "adjudicate", "CR1", readings.forced, "--choose", "reader_2", "--reason", "slipped",
        user="adjudicator2",
    )  # fmt: skip
    assert code == 0, err
    assert f"case {readings.forced}: reader 2's read" in out and "is final" in out
    with database.reading() as session:
        campaign = get_campaign(session, "CR1")
        case = get_case(session, campaign, readings.forced)
        chosen = session.get_one(Read, final_reads(session, campaign)[case.id])
        assert chosen.reader.login == "central2"
    code, _, err = cli(
        "campaign", "adjudicate", "CR1", readings.forced, "--choose", "reader_1", "--reason", "again",
        user="adjudicator2",
    )  # fmt: skip
    assert code == 2 and err.strip()


def test_agreement_pdf_report(database: Database, staff: Staff, cli: Cli, tmp_path: Path) -> None:
    make_study(database, staff.manager)
    people = make_people(database, staff.admin, staff.manager)
    run_campaign(database, people)
    with database.reading() as session:
        report = agreement_report(session, get_campaign(session, "CR1"), actor=get_user(session, "manager"))
    plots = sum(line.bias is not None for line in report.lines)
    assert len(report.lines) <= PDF_ROWS_PER_PAGE - len(report.adjudication) - 2  # one table page

    pdf = tmp_path / "r.pdf"
    code, _, err = cli("agreement", "--campaign", "CR1", "--report", str(pdf), user="manager")
    assert code == 0, err
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf_pages(pdf) == 1 + math.ceil(plots / PDF_PLOTS_PER_PAGE)
    assert (tmp_path / "r.csv").exists()

    code, _, err = cli("agreement", "--campaign", "CR1", "--report", str(tmp_path / "r.docx"), user="manager")
    assert code == 2 and "r.docx" in err and ".pdf" in err and ".html" in err
    assert not (tmp_path / "r.docx").exists()
