"""The data manager's Monitoring tab: the monitoring report in the campaign manager, saved as HTML."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from campaign_study import CampaignStudy, build_campaign_study, signed_in
from pytestqt.qtbot import QtBot

from app.campaign_manager import CampaignManagerWindow
from app.monitoring_panel import OVERDUE_COLOUR
from kyphoangle.storage.models import Subject, Visit
from kyphoangle.workstation.campaign_admin import CampaignAdminService


@pytest.fixture
def study(tmp_path: Path) -> Iterator[CampaignStudy]:
    built = build_campaign_study(tmp_path, films=3)
    yield built
    built.database.dispose()


def test_the_monitoring_tab_shows_every_subject_visit_and_saves_the_report(
    qtbot: QtBot, study: CampaignStudy, tmp_path: Path
) -> None:
    window = CampaignManagerWindow(CampaignAdminService(study.database, signed_in(study.database, "manager")))
    window.setProperty("suppress_dialogs", True)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    panel = window.monitoring_panel
    assert panel.report is None and not panel.html_button.isEnabled()
    window.tabs.setCurrentWidget(panel)  # shown: computed
    assert panel.report is not None
    with study.database.reading() as session:
        expected = session.query(Subject).count() * session.query(Visit).count()
    assert panel.table.rowCount() == len(panel.report.lines) == expected
    highlighted = {
        row
        for row in range(panel.table.rowCount())
        if panel.table.item(row, 0).background().color() == OVERDUE_COLOUR
    }
    assert highlighted == {n for n, line in enumerate(panel.report.lines) if line.overdue}
    assert str(panel.report.overdue_count) in panel.summary.text()
    target = tmp_path / "monitoring.html"
    window.ask_save_path = lambda title, name, name_filter: target  # type: ignore[method-assign]
    panel._ask_path = window.ask_save_path
    with qtbot.waitSignal(panel.saved, timeout=5000):
        panel.html_button.click()
    assert "Trial monitoring report" in target.read_text(encoding="utf-8")
