"""The data manager's "Export DICOM reports" action: SR and GSPS of every signed read, in the background."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydicom import dcmread
from pytestqt.qtbot import QtBot

from app.campaign_manager import CampaignManagerWindow
from app.report_export import ReportExporter
from kyphoangle.cli import main
from kyphoangle.storage import open_database
from kyphoangle.storage.models import Read, ReadStatus
from kyphoangle.workstation.campaign_admin import CampaignAdminService
from kyphoangle.workstation.study_reads import StudyReadService


def test_export_dicom_reports_writes_every_signed_read_without_blocking(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "demo.sqlite3"
    argv = ["demo", "install", "--db", str(db), "--folder", str(tmp_path / "films"), "--subjects", "1"]
    assert main(argv) == 0
    database = open_database(str(db))
    try:
        with database.reading() as session:
            signed = (
                session.query(Read)
                .filter(Read.status == ReadStatus.SIGNED, Read.superseded_by_id.is_(None))
                .count()
            )
        account = StudyReadService(database).authenticate("data.manager", "data-manager")
        window = CampaignManagerWindow(CampaignAdminService(database, account))
        window.setProperty("suppress_dialogs", True)
        qtbot.addWidget(window)
        window.show()
        target = tmp_path / "to-pacs"
        target.mkdir()
        monkeypatch.setattr(window, "ask_folder", lambda title: target)
        with qtbot.waitSignal(window.dicom_exporter.finished, timeout=300_000) as blocker:
            window.dicom_button.click()
            assert not window.dicom_button.isEnabled()  # the export runs; the window stays usable
        assert blocker.args == [signed, str(target)]
        assert window.dicom_button.isEnabled()
        reports = sorted(target.glob("*.sr.dcm"))
        assert len(reports) == signed > 0 and len(list(target.glob("*.gsps.dcm"))) == signed
        assert dcmread(reports[0]).VerificationFlag == "VERIFIED"
        assert all(os.stat(p).st_mode & 0o777 == 0o600 for p in reports)
        assert str(signed) in window.statusBar().currentMessage()
    finally:
        database.dispose()


def test_an_unexpected_failure_is_reported_and_the_action_can_run_again(qtbot: QtBot, tmp_path: Path) -> None:
    calls: list[Path] = []

    def broken_export(folder: Path) -> int:
        calls.append(folder)
        raise KeyError("segmental_kyphosis")

    exporter = ReportExporter(broken_export)
    with qtbot.waitSignal(exporter.failed, timeout=10_000) as blocker:
        exporter.start(tmp_path)
    title, message = blocker.args
    assert title == "The DICOM reports were not exported"
    assert "KeyError" in message and "support-bundle" in message
    assert not exporter.busy
    with qtbot.waitSignal(exporter.failed, timeout=10_000):
        exporter.start(tmp_path)
    assert calls == [tmp_path, tmp_path]
