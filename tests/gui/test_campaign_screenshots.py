"""Screenshots of the campaign manager (to `$KYPHOANGLE_SCREENSHOTS` when set): status, agreement, dialog."""

from __future__ import annotations

import os
from pathlib import Path

from campaign_study import CAMPAIGN, build_campaign_study, signed_in
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from test_campaign_manager import click_row, fill_new_campaign, read_cases, row_of, when_modal

from app.campaign_dialogs import NewCampaignDialog
from app.campaign_manager import CampaignManagerWindow
from kyphoangle.campaign import get_campaign, next_case
from kyphoangle.storage.users import get_user
from kyphoangle.workstation.campaign_admin import CampaignAdminService


def test_campaign_manager_screenshots(qtbot: QtBot, tmp_path: Path) -> None:
    target = Path(os.environ.get("KYPHOANGLE_SCREENSHOTS") or tmp_path / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    # Ten films, half read twice: reader 1 finishes, reader 2 is part-way (status bars differ).
    study = build_campaign_study(tmp_path, films=10, repeat_fraction=0.5, min_gap=2)
    read_cases(study, "central1", lambda n: 0.3 * (n % 3))
    read_cases(study, "central2", lambda n: 9.0 if n == 1 else 0.5 * (n % 4) - 0.6, count=12)
    with study.database.reading() as session:
        remaining = next_case(session, get_campaign(session, CAMPAIGN), get_user(session, "central2"))
    assert remaining is not None, "reader 2 still has work: the status shows a campaign being read"

    window = CampaignManagerWindow(CampaignAdminService(study.database, signed_in(study.database, "manager")))
    window.setProperty("suppress_dialogs", True)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    click_row(qtbot, window.campaign_table, row_of(window, CAMPAIGN))
    qtbot.wait(60)
    assert window.status_panel.values["awaiting"].text() == "1"
    assert window.grab().save(str(target / "campaigns-1-status.png"))

    tab_bar = window.tabs.tabBar()
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(1).center())
    report = window.agreement_panel.report
    assert report is not None and any(line.scope == "intra" for line in report.lines), (
        "repeats give intra lines"
    )
    qtbot.wait(60)
    assert window.grab().save(str(target / "campaigns-2-agreement.png"))

    def shoot(dialog: object) -> None:
        assert isinstance(dialog, NewCampaignDialog)
        fill_new_campaign(qtbot, dialog, name="CR-2026-2", readers=("central2", "central1"), seed="20261202")
        qtbot.wait(60)
        assert dialog.grab().save(str(target / "campaigns-3-new.png"))
        dialog.reject()

    when_modal(qtbot, NewCampaignDialog, shoot)  # type: ignore[arg-type]
    qtbot.mouseClick(window.new_button, Qt.MouseButton.LeftButton)
    assert [row.code for row in window.rows] == [CAMPAIGN], "a cancelled dialog creates nothing"
