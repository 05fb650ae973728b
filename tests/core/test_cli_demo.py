"""`kyphoangle demo install`: the demo study lands in a database once, with accounts, films and reads."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from kyphoangle.campaign import campaign_progress, get_campaign
from kyphoangle.cli import main
from kyphoangle.cli.demo import PILOT_CAMPAIGN, PILOT_DISAGREEMENTS
from kyphoangle.storage import open_database
from kyphoangle.storage.reads import list_reads
from kyphoangle.storage.subjects import list_subjects
from kyphoangle.storage.users import authenticate, list_users


def test_demo_install_is_complete_and_runs_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "demo.sqlite3"
    argv = ["demo", "install", "--db", str(db), "--folder", str(tmp_path / "films"), "--subjects", "2"]
    assert main(argv) == 0
    database = open_database(str(db))
    with database.reading() as session:
        assert {u.login for u in list_users(session)} >= {"admin", "demo", "site.reader", "central1"}
        assert authenticate(session, "demo", "demo-reader").login == "demo"
        subjects = list_subjects(session)
        assert len(subjects) == 2
        assert all(s.procedure_date and s.treated_levels and s.site for s in subjects)
        reads = list_reads(session, reader_login="site.reader")
        assert len(reads) == 2 and {r.display_status for r in reads} == {"signed"}
        # the pilot campaign is read by both central readers, two cases wait for the adjudicator
        pilot = get_campaign(session, PILOT_CAMPAIGN)
        progress = campaign_progress(session, pilot)
        assert progress.cases == 4 and progress.reading == 0
        assert all(reader.remaining == 0 for reader in progress.readers)
        assert progress.awaiting_adjudication == PILOT_DISAGREEMENTS
        total = len(list_reads(session))
    assert main(argv) == 0  # already installed: nothing happens
    with database.reading() as session:
        assert len(list_reads(session)) == total

    monkeypatch.setenv("KYPHOANGLE_PASSWORD", "demo-admin")
    out = tmp_path / "export.csv"
    assert main(["export", "csv", str(out), "--db", str(db), "--user", "admin"]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    art = [r for r in rows if r["measurement"] == "traumatic_regional_angle"]
    site = [r for r in art if r["read_type"] == "site"]
    assert site and all(r["visit"] == "baseline" and r["reader"] == "site.reader" for r in site)
    assert {r["read_type"] for r in art} == {"site", "central", "repeat"}
    text = out.read_text(encoding="utf-8")
    assert "DEMO-0" not in text and "DEMO^" not in text  # no DICOM patient ID or name

    # The demo's blinded central reading campaign is open for the two central readers.
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", "central-1!")
    assert main(["campaign", "worklist", "DEMO-CENTRAL", "--db", str(db), "--user", "central1"]) == 0
