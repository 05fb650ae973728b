"""A campaign from creation to agreement report, as the README walks a new user through it, by the GUI only.

The data manager closes the pilot campaign and creates a new one in the campaign manager; each user
signs in and gets their role's window (`entry.window_for`); both readers read their worklists by
clicking, repeats included; the adjudicator chooses a read; the data manager follows the status and
saves the agreement report, the blinded CSV and the key.
"""

from __future__ import annotations

import csv
from pathlib import Path

from campaign_study import CAMPAIGN, PASSWORDS, build_campaign_study
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QPushButton, QWidget
from pytestqt.qtbot import QtBot
from test_adjudication import decide, read_worklist
from test_campaign_manager import (
    click,
    click_row,
    fill_new_campaign,
    row_of,
    save_as,
    status,
    type_into,
    when_modal,
)

from app import entry
from app.adjudication_window import AdjudicationWindow
from app.blinded_window import BlindedReadingWindow
from app.campaign_dialogs import CloseCampaignDialog, NewCampaignDialog
from app.campaign_manager import CampaignManagerWindow
from app.main_window import ReadingWindow
from kyphoangle.agreement_report import AgreementScope
from kyphoangle.campaign_export import CAMPAIGN_COLUMNS, KEY_COLUMNS
from kyphoangle.vocabulary import CampaignRole
from kyphoangle.workstation.study_reads import StudyReadService

NEW = "CR-WALK"


def test_a_campaign_from_creation_to_the_agreement_report(qtbot: QtBot, tmp_path: Path) -> None:
    study = build_campaign_study(tmp_path, films=5)  # five cases: enough for the statistics
    store = StudyReadService(study.database)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)

    def sign_in(login: str, password: str) -> QWidget:
        window, why = entry.window_for(store, store.authenticate(login, password), settings, tmp_path)
        assert window is not None, why
        qtbot.addWidget(window)
        return window

    # --- the data manager: Campaigns > Campaign manager
    workstation = sign_in("manager", "manager-pass")
    assert isinstance(workstation, ReadingWindow)
    workstation.show()
    workstation.actions_by_id["campaign_manager"].trigger()
    manager = workstation.campaign_manager
    assert isinstance(manager, CampaignManagerWindow)
    manager.setProperty("suppress_dialogs", True)
    manager.folder = tmp_path
    qtbot.waitExposed(manager)

    # close the pilot campaign, with a reason
    click_row(qtbot, manager.campaign_table, row_of(manager, CAMPAIGN))

    def confirm_close(dialog: QWidget) -> None:
        assert isinstance(dialog, CloseCampaignDialog)
        qtbot.keyClicks(dialog.reason_edit, "pilot over")
        click(qtbot, dialog.close_button)

    when_modal(qtbot, CloseCampaignDialog, confirm_close)
    click(qtbot, manager.close_button)
    assert status(manager, "status") == "closed"

    # a new campaign: two readers, 40 % of the cases read twice, one case apart at least
    def create(dialog: QWidget) -> None:
        assert isinstance(dialog, NewCampaignDialog)
        fill_new_campaign(qtbot, dialog, name=NEW, readers=("central1", "central2"), seed="314")
        type_into(qtbot, dialog.repeat_spin, "40")
        type_into(qtbot, dialog.gap_spin, "1")
        click(qtbot, dialog.create_button)

    when_modal(qtbot, NewCampaignDialog, create)
    click(qtbot, manager.new_button)
    assert manager.selected_code == NEW
    assert status(manager, "cases") == "5" and status(manager, "seed") == "314"

    # --- the readers: each signs in, gets the blinded window of the new campaign and reads it all
    for login, disagree in (("central1", 0), ("central2", 1)):
        window = sign_in(login, PASSWORDS[login])
        assert isinstance(window, BlindedReadingWindow)
        assert window.campaign_store.campaign_code == NEW
        window.close()
        seen = read_worklist(qtbot, study, login, tmp_path, disagree_on=disagree, campaign=NEW)
        assert len(seen) == 7 and sum(repeat for _, repeat in seen) == 2

    click(qtbot, manager.refresh_button)
    assert status(manager, "awaiting") == "1" and status(manager, "finished") == "4"

    # --- the adjudicator: signs in, sees the disputed case and chooses reader 1's read
    adjudication = sign_in("adjud", PASSWORDS["adjud"])
    assert isinstance(adjudication, AdjudicationWindow)
    adjudication.resize(1500, 950)
    adjudication.show()
    qtbot.waitUntil(lambda: adjudication.reading.film is not None, timeout=20000)
    assert adjudication.adjudication_case is not None
    panel = adjudication.adjudication_panel
    assert panel is not None
    choose = panel.findChild(QPushButton, f"choose_{CampaignRole.READER_1}")
    assert choose is not None
    screens: dict[str, list[str]] = {}
    decide(qtbot, "Reader 2 measured the wrong level", PASSWORDS["adjud"], screens, "decision")
    qtbot.mouseClick(choose, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: adjudication.case is None, timeout=10000)
    adjudication.close()

    # --- the data manager: status, agreement report, exports
    click(qtbot, manager.refresh_button)
    assert status(manager, "finished") == "5" and status(manager, "adjudicated") == "1"
    tab_bar = manager.tabs.tabBar()
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(1).center())
    report = manager.agreement_panel.report
    assert report is not None and report.campaign == NEW
    scopes = {(line.scope, line.reader) for line in report.lines if line.icc is not None}
    assert (AgreementScope.INTER, "") in scopes
    assert {(AgreementScope.INTRA, "central1"), (AgreementScope.INTRA, "central2")} <= {
        (line.scope, line.reader) for line in report.lines
    }
    assert [rate.adjudicated for rate in report.adjudication] == [1, 1]
    assert [rate.chosen for rate in report.adjudication] == [1, 0]

    when_modal(qtbot, QFileDialog, save_as(qtbot, tmp_path / "agreement.pdf"))
    click(qtbot, manager.agreement_panel.pdf_button)
    assert (tmp_path / "agreement.pdf").read_bytes().startswith(b"%PDF")

    when_modal(qtbot, QFileDialog, save_as(qtbot, tmp_path / "campaign.csv"))
    click(qtbot, manager.export_button)
    with (tmp_path / "campaign.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CAMPAIGN_COLUMNS
    assert {row["read_type"] for row in rows} == {"central", "repeat"}
    assert len({row["case_code"] for row in rows if row["final"] == "1"}) == 5

    from PySide6.QtWidgets import QMessageBox

    def yes(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        click(qtbot, box.button(QMessageBox.StandardButton.Yes))
        when_modal(qtbot, QFileDialog, save_as(qtbot, tmp_path / "key.csv"))

    when_modal(qtbot, QMessageBox, yes)
    click(qtbot, manager.key_button)
    with (tmp_path / "key.csv").open(encoding="utf-8") as handle:
        key = list(csv.DictReader(handle))
    assert tuple(key[0]) == KEY_COLUMNS and len(key) == 5
    assert {row["subject"] for row in key} == set(study.subject_codes)
