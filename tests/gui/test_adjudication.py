"""A whole blinded campaign through the GUI: two readers read their worklists (repeats included) by
clicking, reader 2 disagrees on two cases, and the adjudicator settles one by choosing reader 1's read
and the other by a third read, every screen free of identifying text (patient, dates, readers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from blinded_helpers import (
    leaks,
    make_blinded_window,
    place_all_landmarks,
    visible_texts,
    wait_for_case,
    when_modal,
)
from campaign_study import CAMPAIGN, PASSWORDS, CampaignStudy, build_campaign_study
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QCheckBox, QLineEdit, QPlainTextEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot
from test_main_window import click_image

from app.adjudication_panel import reader_color
from app.adjudication_window import AdjudicationWindow, DecisionDialog
from app.blinded_window import BlindedReadingWindow
from kyphoangle.campaign import campaign_progress, final_reads, get_campaign
from kyphoangle.campaign_export import campaign_rows
from kyphoangle.errors import KyphoangleError, PermissionDeniedError
from kyphoangle.normal_table import load_normal_table
from kyphoangle.protocol import compute_measurements
from kyphoangle.spacing import PixelSpacing
from kyphoangle.storage.audit import list_events
from kyphoangle.storage.models import Read
from kyphoangle.vocabulary import CampaignRole
from kyphoangle.workstation.adjudication import AdjudicationService, open_adjudication_for

READER_NAMES = ["central1", "central2", "Central Reader One", "Central Reader Two"]
"""The adjudicator is blinded to who read what, too."""
SHIFT_PX = (0.0, 28.0)


def _disagreeing_key(study: CampaignStudy, sop_instance_uid: str) -> str:
    """A landmark whose displacement by SHIFT_PX changes the regional angle at L1 by more than 5 deg."""
    truth = study.films[sop_instance_uid].truth
    spacing = PixelSpacing.manual(0.75, 0.75)
    table = load_normal_table()

    def angle(points: dict[str, tuple[float, float]]) -> float:
        result = compute_measurements(points, spacing=spacing, fractured_levels=("L1",), normal_table=table)
        found = result.get("regional_angle", "L1")
        assert found is not None
        return found.value

    base = angle(dict(truth))
    for key, (x, y) in truth.items():
        moved = {**truth, key: (x + SHIFT_PX[0], y + SHIFT_PX[1])}
        if abs(angle(moved) - base) > 8:
            return key
    raise AssertionError("no landmark moves the regional angle enough")


def read_worklist(
    qtbot: QtBot,
    study: CampaignStudy,
    login: str,
    tmp: Path,
    *,
    disagree_on: int = 0,
    campaign: str = CAMPAIGN,
) -> list[tuple[str, bool]]:
    """Read the whole worklist by clicking; the first `disagree_on` cases of each campaign get one
    landmark misplaced."""
    window = make_blinded_window(qtbot, study, login, tmp, campaign=campaign)
    seen: list[tuple[str, bool]] = []
    campaigns: list[str] = []
    while window.case is not None:
        case = window.case
        campaigns.append(window.campaign_store.campaign_code)
        repeat = any(code == case.case_code for code, _ in seen)
        place_all_landmarks(qtbot, window, study)
        if campaigns.count(campaigns[-1]) <= disagree_on:
            key = _disagreeing_key(study, case.sop_instance_uid)
            x, y = window.reading.model.points[key]
            window.reading.view.tool.select(None)
            window.reading.armed_key = None
            window.reading._step_chosen(key)
            click_image(qtbot, window.reading.view, (x + SHIFT_PX[0], y + SHIFT_PX[1]))
        assert window.sign(PASSWORDS[login])
        seen.append((case.case_code, repeat))
        wait_for_case(qtbot, window)
    # a finished worklist hands over to the next open campaign with work: the count is the last one's
    last = sum(campaign == window.campaign_store.campaign_code for campaign in campaigns)
    assert window.campaign_store.progress_text() == f"{last} of {last} cases signed"
    window.close()
    return seen


def make_adjudication_window(
    qtbot: QtBot, study: CampaignStudy, tmp: Path, *, campaign: str = CAMPAIGN
) -> AdjudicationWindow:
    """Sign the adjudicator in and show their window of `campaign`, with the first case on screen."""
    assert open_adjudication_for(study.database, "adjud") == campaign
    store = AdjudicationService(study.database, campaign)
    account = store.authenticate("adjud", PASSWORDS["adjud"])
    settings = QSettings(str(tmp / "settings-adjud.ini"), QSettings.Format.IniFormat)
    window = AdjudicationWindow(store, account, settings, recovery_dir=tmp / "recovery")
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    wait_for_case(qtbot, window)  # type: ignore[arg-type]
    return window


def decide(qtbot: QtBot, reason: str, password: str, screens: dict[str, list[str]], name: str) -> None:
    """Fill the next decision dialog (reason, password), keep its visible texts as `screens[name]`, OK."""

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, DecisionDialog)
        assert not dialog.ok_button.isEnabled()  # a reason and a password are required
        reason_edit = dialog.findChild(QPlainTextEdit, "decisionReason")
        password_edit = dialog.findChild(QLineEdit, "decisionPassword")
        assert reason_edit is not None and password_edit is not None
        qtbot.keyClicks(reason_edit, reason)
        qtbot.keyClicks(password_edit, password)
        screens[name] = visible_texts()
        assert dialog.ok_button.isEnabled()
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    when_modal(qtbot, fill)


def test_a_whole_campaign_with_repeats_and_adjudication_through_the_gui(qtbot: QtBot, tmp_path: Path) -> None:
    study = build_campaign_study(tmp_path, films=3, repeat_fraction=0.34, min_gap=1)
    first = read_worklist(qtbot, study, "central1", tmp_path)
    second = read_worklist(qtbot, study, "central2", tmp_path, disagree_on=2)
    for seen in (first, second):
        assert len(seen) == 4 and sum(repeat for _, repeat in seen) == 1  # one hidden repeat each
    disputed = [code for code, _ in second[:2]]
    with study.database.reading() as session:
        progress = campaign_progress(session, get_campaign(session, CAMPAIGN))
    assert progress.awaiting_adjudication == 2 and progress.finished == 1

    forbidden = study.forbidden() + READER_NAMES
    screens: dict[str, list[str]] = {}
    window = make_adjudication_window(qtbot, study, tmp_path)
    panel = window.adjudication_panel
    assert panel is not None and window.adjudication_case is not None
    first_case = window.adjudication_case.case_code
    assert first_case in disputed and "adjudication" in window.windowTitle()
    # both reads on the film, each in its colour, and side by side in the table
    assert [r.label for r in window.reading.view.overlay.references] == ["Reader 1", "Reader 2"]
    assert len({r.color for r in window.reading.view.overlay.references}) == 2
    assert "regional_angle at L1 differs" in panel.trigger_label.text()
    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    assert headers == ["Reader 1", "Reader 2", "Spread"]
    assert float(panel.table.item(0, 2).text()) > 5  # the regional angle's spread
    assert not window.reading.view.tool.enabled  # nothing is placed before a third read is asked for
    screens["case"] = visible_texts()
    box = panel.findChild(QCheckBox, f"show_{CampaignRole.READER_2}")
    assert box is not None
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert [r.label for r in window.reading.view.overlay.references] == ["Reader 1"]
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert len(window.reading.view.overlay.references) == 2

    # a wrong password records nothing
    window.setProperty("suppress_dialogs", True)
    assert not window.choose_read(CampaignRole.READER_1, reason="r", password="wrong")
    assert "decision was not recorded" in window.last_error
    window.setProperty("suppress_dialogs", False)

    # case 1: a third read is begun (one landmark), then reader 1's read is chosen with a reason instead
    begin = panel.findChild(QPushButton, "thirdReadButton")
    assert begin is not None
    qtbot.mouseClick(begin, Qt.MouseButton.LeftButton)
    truth = study.films[window.adjudication_case.sop_instance_uid].truth
    click_image(qtbot, window.reading.view, truth[window.reading.steps[0].key])
    qtbot.waitUntil(lambda: not window.reading.dirty, timeout=5000)
    choose = panel.findChild(QPushButton, f"choose_{CampaignRole.READER_1}")
    assert choose is not None
    decide(qtbot, "Reader 2 took the wrong endplate of T12", PASSWORDS["adjud"], screens, "choose dialog")
    qtbot.mouseClick(choose, Qt.MouseButton.LeftButton)
    wait_for_case(qtbot, window)  # type: ignore[arg-type]
    assert window.adjudication_case is not None
    second_case = window.adjudication_case.case_code
    assert second_case != first_case and {first_case, second_case} == set(disputed)
    screens["next case"] = visible_texts()

    # case 2: a third read, placed by clicking with the readers' marks visible, signed as final
    third = panel.findChild(QPushButton, "thirdReadButton")
    assert third is not None
    qtbot.mouseClick(third, Qt.MouseButton.LeftButton)
    assert window.reading.view.tool.enabled and window.third_read_active
    place_all_landmarks(qtbot, window, study)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: not window.reading.dirty, timeout=5000)
    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    assert headers == ["Reader 1", "Reader 2", "Third read", "Spread"]
    screens["third read"] = visible_texts()
    sign_third = panel.findChild(QPushButton, "signThirdButton")
    assert sign_third is not None and sign_third.isEnabled()
    decide(qtbot, "Both readers missed the inferior endplate", PASSWORDS["adjud"], screens, "sign dialog")
    qtbot.mouseClick(sign_third, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.case is None, timeout=10000)
    assert "No case is awaiting adjudication" in window.reading.view.message
    screens["done"] = visible_texts()
    window.close()

    with study.database.reading() as session:
        campaign = get_campaign(session, CAMPAIGN)
        progress = campaign_progress(session, campaign)
        assert progress.finished == 3 and progress.adjudicated == 2 and progress.awaiting_adjudication == 0
        finals = {
            session.get_one(Read, read_id).read_type for read_id in final_reads(session, campaign).values()
        }
        assert finals == {"central", "adjudication"}
        rows = campaign_rows(session, campaign)
        events = [e for e in list_events(session) if e.entity == "adjudication" and e.action == "create"]
    assert {row["read_type"] for row in rows} == {"central", "repeat", "adjudication"}
    assert {row["read_status"] for row in rows} == {"signed"}  # the abandoned third read is gone
    final_codes = {row["case_code"] for row in rows if row["final"] == "1"}
    assert final_codes == {code for code, _ in first}
    assert {e.reason for e in events} == {
        "Reader 2 took the wrong endplate of T12",
        "Both readers missed the inferior endplate",
    }

    assert set(screens) == {"case", "choose dialog", "next case", "third read", "sign dialog", "done"}
    for name, texts in screens.items():
        assert texts, name
        assert leaks(texts, forbidden) == [], f"identifying text on the adjudicator's {name} screen"


def test_a_central_reader_is_not_shown_the_adjudication(qtbot: QtBot, tmp_path: Path) -> None:
    study = build_campaign_study(tmp_path, films=1)
    window = make_blinded_window(qtbot, study, "central1", tmp_path)
    assert isinstance(window, BlindedReadingWindow) and not isinstance(window, AdjudicationWindow)
    assert window.findChild(QWidget, "adjudicationPanel") is None
    assert window.reading.view.overlay.references == ()
    assert open_adjudication_for(study.database, "central1") is None


def test_the_adjudicator_has_no_path_to_names_or_other_cases(qtbot: QtBot, tmp_path: Path) -> None:
    study = build_campaign_study(tmp_path, films=2)
    read_worklist(qtbot, study, "central1", tmp_path)
    read_worklist(qtbot, study, "central2", tmp_path, disagree_on=1)
    window = make_adjudication_window(qtbot, study, tmp_path)
    case = window.adjudication_case
    assert case is not None and case.total == 1
    assert window.findChild(QWidget, "browserDock") is None
    assert not {"open", "import", "import_dicomdir"} & set(window.actions_by_id)
    store = window.adjudication_store
    with pytest.raises(PermissionDeniedError):
        store.load_read(case.sop_instance_uid, "central1")  # a reader's read is shown by slot only
    other = next(uid for uid in study.films if uid != case.sop_instance_uid)
    with pytest.raises(KyphoangleError):
        store.load_read(other, "adjud")  # the case that needs no adjudication stays closed
    assert all(read.content.reader is None for read in case.reads)
    window.close()


def test_the_adjudicator_can_show_only_the_disagreeing_measurements(qtbot: QtBot, tmp_path: Path) -> None:
    """Each reader's angles are drawn in the reader's colour; the toggle leaves only those on which the
    reads differ by more than the campaign's threshold, and the opacity slider fades them."""
    study = build_campaign_study(tmp_path, films=1)
    read_worklist(qtbot, study, "central1", tmp_path)
    read_worklist(qtbot, study, "central2", tmp_path, disagree_on=1)
    window = make_adjudication_window(qtbot, study, tmp_path)
    case, panel, view = window.adjudication_case, window.adjudication_panel, window.reading.view
    assert case is not None
    view.fit()

    def drawn() -> dict[tuple[str, str, str | None], float]:
        window.grab()  # paints the film view
        return {(label, str(g.name), g.level): g.value_deg for label, g in view.drawn_reference_glyphs}

    every = drawn()
    readers = {label for label, _, _ in every}
    assert readers == {"Reader 1", "Reader 2"}
    colors = {r.label: r.color for r in view.overlay.references}
    assert colors == {"Reader 1": reader_color(0), "Reader 2": reader_color(1)}
    angles = {(name, level) for _, name, level in every}

    def spread(name: str, level: str | None) -> float:
        return abs(every[("Reader 1", name, level)] - every[("Reader 2", name, level)])

    threshold = case.rule.threshold_deg
    disagreeing = {angle for angle in angles if spread(*angle) > threshold}
    assert ("regional_angle", "L1") in disagreeing and disagreeing != angles  # some angles agree

    box = panel.findChild(QCheckBox, "onlyDisagreeing")
    assert box is not None and not box.isChecked()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert box.isChecked()
    only = drawn()
    assert {(name, level) for _, name, level in only} == disagreeing
    assert {label for label, _, _ in only} == readers  # both reads of each disagreeing angle
    for reference in view.overlay.references:
        assert reference.points and len(reference.points) < len(dict(case.reads[0].content.points))

    slider = panel.opacity_slider
    slider.setValue(40)
    assert view.overlay.reference_opacity == pytest.approx(0.4)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert drawn() == every
    window.close()
