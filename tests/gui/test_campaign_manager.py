"""The campaign manager driven like a data manager: create campaigns in the dialog, follow their status,
close, export and compute the agreement report; the Campaigns menu only for those allowed."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from blinded_helpers import assert_no_proposals, make_blinded_window
from campaign_study import CAMPAIGN, PASSWORDS, CampaignStudy, build_campaign_study, signed_in
from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
from PySide6.QtGui import QPixmap, QStandardItemModel
from PySide6.QtWidgets import (
    QApplication,
    QDialogButtonBox,
    QFileDialog,
    QLineEdit,
    QListWidget,
    QMenu,
    QMessageBox,
    QProgressBar,
    QTableWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from app.campaign_dialogs import CloseCampaignDialog, NewCampaignDialog
from app.campaign_manager import CampaignManagerWindow
from app.main_window import ReadingWindow
from app.snapping import SETTING_PREFIX
from kyphoangle.agreement_report import CSV_COLUMNS
from kyphoangle.campaign import (
    get_campaign,
    members_of,
    next_case,
    save_case_read,
    settings_of,
    sign_case_read,
    worklist,
)
from kyphoangle.campaign_export import CAMPAIGN_COLUMNS, KEY_COLUMNS
from kyphoangle.landmark_file import LandmarkFile
from kyphoangle.protocol import MeasurementName
from kyphoangle.storage.audit import AuditAction, AuditEntity, list_events
from kyphoangle.storage.models import AuditEvent, Campaign
from kyphoangle.storage.users import create_user, get_user
from kyphoangle.vocabulary import CampaignRole, CampaignStatus, UserRole
from kyphoangle.workstation.campaign_admin import CampaignAdminService
from kyphoangle.workstation.records import Account, ReadService
from kyphoangle.workstation.study_reads import StudyReadService

EXTRA_READERS = ("central3", "central4", "central5", "central6", "central7")
EXTRA_PASSWORD = "central-extra!"


# --- helpers ---------------------------------------------------------------------------------------------


def when_modal(qtbot: QtBot, kind: type[QWidget], act: Callable[[QWidget], None]) -> None:
    """Run `act` on the next visible modal dialog of type `kind` as soon as it is open (exec() blocks)."""

    def poll() -> None:
        modal = QApplication.activeModalWidget()
        if not isinstance(modal, kind) or not modal.isVisible():
            QTimer.singleShot(20, poll)
            return
        try:
            act(modal)
        except BaseException:
            modal.close()  # a failed check must not leave the test blocked in exec()
            raise

    QTimer.singleShot(20, poll)


def save_as(qtbot: QtBot, path: Path) -> Callable[[QWidget], None]:
    """Type `path` into a save dialog's file name and press its Save button."""

    def act(dialog: QWidget) -> None:
        assert isinstance(dialog, QFileDialog)
        edit = dialog.findChild(QLineEdit, "fileNameEdit")
        assert edit is not None
        edit.clear()
        qtbot.keyClicks(edit, str(path))
        # The name completer pops up once the folder is listed (in the background, so not always): it
        # would take a key press or the click on Save. A user closes it and looks before saving.
        completer = edit.completer()
        if completer is not None:
            completer.popup().hide()
        box = dialog.findChild(QDialogButtonBox, "buttonBox")
        assert box is not None
        save = box.button(QDialogButtonBox.StandardButton.Save) or box.button(
            QDialogButtonBox.StandardButton.Open
        )
        assert save is not None and save.isEnabled()
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
        if dialog.isVisible():  # the click went to a popup that was just opening: press again
            completer = edit.completer()
            if completer is not None:
                completer.popup().hide()
            qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
        assert not dialog.isVisible(), f"the save dialog did not take {path}"

    return act


def click(qtbot: QtBot, widget: QWidget) -> None:
    """A left click in the middle of a widget."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_row(qtbot: QtBot, table: QTableWidget, row: int) -> None:
    """Click the first cell of a table row."""
    item = table.item(row, 0)
    assert item is not None
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualItemRect(item).center())


def click_list_item(qtbot: QtBot, widget: QListWidget, text: str) -> None:
    """Click the list item whose text starts with `text`."""
    matches = [widget.item(r) for r in range(widget.count()) if widget.item(r).text().startswith(text)]
    assert len(matches) == 1, f"{text!r} in {[widget.item(r).text() for r in range(widget.count())]}"
    widget.scrollToItem(matches[0])
    qtbot.mouseClick(
        widget.viewport(), Qt.MouseButton.LeftButton, pos=widget.visualItemRect(matches[0]).center()
    )


def tick_list_item(qtbot: QtBot, widget: QListWidget, text: str) -> None:
    """Click the check box of the list item whose text is `text`."""
    matches = [widget.item(r) for r in range(widget.count()) if widget.item(r).text() == text]
    assert len(matches) == 1
    widget.scrollToItem(matches[0])
    rect = widget.visualItemRect(matches[0])
    qtbot.mouseClick(
        widget.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.left() + 10, rect.center().y())
    )


def type_into(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Select what a field holds and type over it."""
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)


def row_of(window: CampaignManagerWindow, code: str) -> int:
    """The list row of a campaign."""
    return [row.code for row in window.rows].index(code)


def status(window: CampaignManagerWindow, key: str) -> str:
    """A value of the status panel."""
    return window.status_panel.values[key].text()


def reader_table(window: CampaignManagerWindow) -> list[tuple[str, ...]]:
    """The rows of the per-reader progress table (reader, login, done, remaining)."""
    table = window.status_panel.reader_table
    return [tuple(table.item(r, c).text() for c in range(4)) for r in range(table.rowCount())]


def audit_count(study: CampaignStudy) -> int:
    """How many events the audit trail holds."""
    with study.database.reading() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def campaign_codes(study: CampaignStudy) -> list[str]:
    """The campaigns in the database."""
    with study.database.reading() as session:
        return list(session.scalars(select(Campaign.code).order_by(Campaign.code)))


def tilted(study: CampaignStudy, uid: str, rows: float) -> LandmarkFile:
    """The film's true landmarks with T12's superior anterior corner `rows` lower (L1's angle changes)."""
    points = dict(study.films[uid].truth)
    column, row = points["T12.superior.anterior"]
    points["T12.superior.anterior"] = (column, row + rows)
    return LandmarkFile(sop_instance_uid=uid, points=points, fractured_levels=("L1",))


def read_cases(
    study: CampaignStudy, login: str, rows_of: Callable[[int], float], *, count: int | None = None
) -> None:
    """Sign `count` (default: every) next cases of the reader, the n-th tilted by `rows_of(n)` rows."""
    password = PASSWORDS.get(login, EXTRA_PASSWORD)
    n = 0
    while count is None or n < count:
        with study.database.transaction() as session:
            campaign = get_campaign(session, CAMPAIGN)
            reader = get_user(session, login)
            case = next_case(session, campaign, reader)
            if case is None:
                return
            save_case_read(session, campaign, reader, tilted(study, case.sop_instance_uid, rows_of(n)))
            sign_case_read(session, campaign, reader, password)
        n += 1


def read_everything(study: CampaignStudy) -> None:
    """Both readers read every case; they differ a little, and much (> 5 deg) on their first case."""
    read_cases(study, "central1", lambda n: 0.0)
    read_cases(study, "central2", lambda n: 8.0 if n == 0 else 0.4 * (n + 1))


# --- fixtures --------------------------------------------------------------------------------------------


@pytest.fixture
def films() -> int:
    """Films of the study (a test needing more parametrizes it)."""
    return 3


@pytest.fixture
def study(tmp_path: Path, films: int) -> Iterator[CampaignStudy]:
    built = build_campaign_study(tmp_path, films=films)
    with built.database.transaction() as session:
        admin = get_user(session, "admin")
        for login in EXTRA_READERS:
            create_user(
                session, login=login, role=UserRole.CENTRAL_READER, password=EXTRA_PASSWORD, actor=admin
            )
        create_user(session, login="site1", role=UserRole.SITE_READER, password="site-reader!", actor=admin)
    yield built
    built.database.dispose()


@pytest.fixture
def window(qtbot: QtBot, study: CampaignStudy, tmp_path: Path) -> CampaignManagerWindow:
    manager = CampaignManagerWindow(
        CampaignAdminService(study.database, signed_in(study.database, "manager"))
    )
    manager.setProperty("suppress_dialogs", True)
    manager.folder = tmp_path
    qtbot.addWidget(manager)
    manager.show()
    qtbot.waitExposed(manager)
    return manager


def fill_new_campaign(
    qtbot: QtBot,
    dialog: NewCampaignDialog,
    *,
    name: str,
    readers: tuple[str, ...],
    seed: str = "",
) -> None:
    """Type a name, choose readers in order, optionally a seed (everything else as offered)."""
    type_into(qtbot, dialog.name_edit, name)
    for login in readers:
        click_list_item(qtbot, dialog.available_list, login)
        click(qtbot, dialog.add_reader_button)
    if seed:
        type_into(qtbot, dialog.seed_edit, seed)


# --- the menu --------------------------------------------------------------------------------------------


def test_campaigns_menu_only_for_data_managers_on_the_database(
    qtbot: QtBot, study: CampaignStudy, tmp_path: Path
) -> None:
    settings = QSettings(str(tmp_path / "menu.ini"), QSettings.Format.IniFormat)
    store = StudyReadService(study.database)

    def reading_window(account: Account, on: ReadService = store) -> ReadingWindow:
        window = ReadingWindow(on, account, settings)
        window.setProperty("suppress_dialogs", True)
        qtbot.addWidget(window)
        return window

    def menu_titles(window: ReadingWindow) -> list[str]:
        return [a.text() for a in window.menuBar().actions()]

    site = reading_window(store.authenticate("site1", "site-reader!"))
    assert "campaign_manager" not in site.actions_by_id
    assert "&Campaigns" not in menu_titles(site)
    assert site.findChild(QMenu, "campaignsMenu") is None

    manager = reading_window(store.authenticate("manager", "manager-pass"))
    assert menu_titles(manager)[-2:] == ["&Campaigns", "&Help"]
    action = manager.actions_by_id["campaign_manager"]
    assert action.text() == "Campaign manager\u2026"
    manager.show()
    qtbot.waitExposed(manager)
    menu = manager.findChild(QMenu, "campaignsMenu")
    assert menu is not None and action in menu.actions()
    action.trigger()
    opened = manager.campaign_manager
    assert isinstance(opened, CampaignManagerWindow)
    qtbot.waitExposed(opened)
    assert [row.code for row in opened.rows] == [CAMPAIGN]
    action.trigger()
    assert manager.campaign_manager is opened, "one campaign manager per reading window"

    admin = reading_window(store.authenticate("admin", "admin-pass"))
    assert "campaign_manager" in admin.actions_by_id


# --- creating --------------------------------------------------------------------------------------------


def test_the_manager_opens_on_an_open_campaign(
    qtbot: QtBot, window: CampaignManagerWindow, study: CampaignStudy
) -> None:
    assert window.selected_code == CAMPAIGN
    assert status(window, "status") == "open" and status(window, "cases") == "3"
    assert window.close_button.isEnabled() and window.export_button.isEnabled()


def test_create_a_campaign_in_the_dialog(
    qtbot: QtBot, window: CampaignManagerWindow, study: CampaignStudy
) -> None:
    assert [row.code for row in window.rows] == [CAMPAIGN]
    created: list[str] = []

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, NewCampaignDialog)
        # reader 1 is central2, reader 2 central1: the order chosen is the order kept
        fill_new_campaign(qtbot, dialog, name="CR-GUI", readers=("central2", "central1"), seed="4242")
        qtbot.keyClicks(dialog.title_edit, "Central read, month 3")
        assert [dialog.chosen_list.item(r).text() for r in range(2)] == [
            "1. central2 (Central Reader Two)",
            "2. central1 (Central Reader One)",
        ]
        dialog.adjudicator_combo.setCurrentIndex(dialog.adjudicator_combo.findData("adjud"))
        click(qtbot, dialog.some_films)
        for code in study.subject_codes[:2]:
            click_list_item(qtbot, dialog.subject_list, code)
        assert dialog.measurement_list.item(0).text() == "Regional angle"
        assert dialog.measurement_list.item(0).checkState() == Qt.CheckState.Checked
        tick_list_item(qtbot, dialog.measurement_list, "Vertebral kyphosis")
        assert dialog.rule_combo.count() == 2
        assert dialog.threshold_spin.value() == 5.0 and dialog.threshold_spin.suffix() == " deg"
        type_into(qtbot, dialog.threshold_spin, "4.5")
        click(qtbot, dialog.level_rule_box)
        assert dialog.repeat_spin.value() == 10 and dialog.gap_spin.value() == 20
        type_into(qtbot, dialog.repeat_spin, "50")
        type_into(qtbot, dialog.gap_spin, "0")
        type_into(qtbot, dialog.gap_days_spin, "7")
        click(qtbot, dialog.create_button)
        created.append(dialog.error_label.text())

    when_modal(qtbot, NewCampaignDialog, fill)
    click(qtbot, window.new_button)
    assert created == [""]

    with study.database.reading() as session:
        campaign = get_campaign(session, "CR-GUI")
        assert campaign.title == "Central read, month 3"
        assert campaign.random_seed == 4242
        assert campaign.repeat_fraction == pytest.approx(0.5)
        people = {role: user.login for role, (_, user) in members_of(session, campaign).items()}
        assert people == {
            CampaignRole.READER_1: "central2",
            CampaignRole.READER_2: "central1",
            CampaignRole.ADJUDICATOR: "adjud",
        }
        settings = settings_of(campaign)
        assert settings.rule.measurement is MeasurementName.REGIONAL_ANGLE
        assert settings.rule.threshold_deg == pytest.approx(4.5)
        assert settings.rule.level_disagreement is False
        assert settings.measurements == (MeasurementName.REGIONAL_ANGLE, MeasurementName.VERTEBRAL_KYPHOSIS)
        assert (settings.min_gap, settings.min_gap_days) == (0, 7)
        for login in ("central1", "central2"):
            entries = worklist(session, campaign, get_user(session, login))
            assert len(entries) == 3  # two films, one of them presented again
            assert len({e.case_code for e in entries}) == 2

    assert [row.code for row in window.rows] == [CAMPAIGN, "CR-GUI"]
    assert window.selected_code == "CR-GUI"
    assert status(window, "seed") == "4242"
    assert status(window, "cases") == "2"
    assert "regional_angle differs by more than 4.5 deg" in status(window, "rule")
    assert "evaluable" not in status(window, "rule")
    assert reader_table(window) == [("Reader 1", "central2", "0", "3"), ("Reader 2", "central1", "0", "3")]
    assert "4242" in window.statusBar().currentMessage()


def test_a_campaign_created_without_snapping_offers_its_readers_no_proposals(
    qtbot: QtBot, window: CampaignManagerWindow, study: CampaignStudy, tmp_path: Path
) -> None:
    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, NewCampaignDialog)
        assert dialog.snapping_box.isChecked(), "allowed unless unticked, as on the command line"
        fill_new_campaign(qtbot, dialog, name="CR-HAND", readers=("central1", "central2"))
        box = dialog.snapping_box  # a click on its box and words (the row is wider than they are)
        qtbot.mouseClick(
            box, Qt.MouseButton.LeftButton, pos=QPoint(box.sizeHint().width() // 2, box.height() // 2)
        )
        assert not box.isChecked()
        click(qtbot, dialog.create_button)

    when_modal(qtbot, NewCampaignDialog, fill)
    click(qtbot, window.new_button)
    assert window.selected_code == "CR-HAND"
    assert status(window, "snapping") == "off (every landmark placed by hand)"
    service = CampaignAdminService(study.database, signed_in(study.database, "manager"))
    assert service.details("CR-HAND").settings.snapping is False
    assert service.details(CAMPAIGN).settings.snapping is True
    window.select_campaign(CAMPAIGN)
    assert status(window, "snapping") == "allowed (readers may accept proposals)"

    # The reader has snapping on for themselves; the campaign keeps it off in its blinded window.
    folder = tmp_path / "reader"
    folder.mkdir()
    settings = QSettings(str(folder / "settings-central1.ini"), QSettings.Format.IniFormat)
    settings.setValue(SETTING_PREFIX + "central1", True)
    settings.sync()
    reader = make_blinded_window(qtbot, study, "central1", folder, campaign="CR-HAND")
    assert reader.case is not None
    assert_no_proposals(qtbot, reader, study)


def test_a_generated_seed_is_shown_and_up_to_six_readers_in_order(
    qtbot: QtBot, window: CampaignManagerWindow, study: CampaignStudy
) -> None:
    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, NewCampaignDialog)
        fill_new_campaign(qtbot, dialog, name="CR-SIX", readers=("central3", "central1", *EXTRA_READERS[1:]))
        assert dialog.chosen_list.count() == 6
        click_list_item(qtbot, dialog.available_list, "central2")
        assert not dialog.add_reader_button.isEnabled(), "six readers at most"
        # central1 moves up to reader 1
        click_list_item(qtbot, dialog.chosen_list, "2. central1")
        click(qtbot, dialog.up_button)
        click(qtbot, dialog.create_button)

    when_modal(qtbot, NewCampaignDialog, fill)
    click(qtbot, window.new_button)

    with study.database.reading() as session:
        campaign = get_campaign(session, "CR-SIX")
        members = members_of(session, campaign)
        seed = campaign.random_seed
    readers = sorted(role for role in members if role != CampaignRole.ADJUDICATOR)
    assert [members[role][1].login for role in readers] == [
        "central1", "central3", "central4", "central5", "central6", "central7",
    ]  # fmt: skip
    assert window.selected_code == "CR-SIX"
    assert status(window, "seed") == str(seed)
    assert [row[:2] for row in reader_table(window)] == [
        (f"Reader {n}", login)
        for n, login in enumerate(("central1", "central3", "central4", "central5", "central6", "central7"), 1)
    ]


def test_the_adjudicator_cannot_also_be_a_reader(
    qtbot: QtBot, window: CampaignManagerWindow, study: CampaignStudy
) -> None:
    with study.database.transaction() as session:
        create_user(
            session,
            login="adjud2",
            role=UserRole.ADJUDICATOR,
            password="adjudicate-2!",
            actor=get_user(session, "admin"),
        )
    seen: list[str] = []

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, NewCampaignDialog)
        combo = dialog.adjudicator_combo
        combo.setCurrentIndex(combo.findData("adjud"))
        # adjudicators may read in other campaigns, but not in the one they adjudicate
        listed = [dialog.available_list.item(r) for r in range(dialog.available_list.count())]
        adjudicator = next(item for item in listed if item.text().startswith("adjud ("))
        assert not adjudicator.flags() & Qt.ItemFlag.ItemIsEnabled
        click_list_item(qtbot, dialog.available_list, "adjud (")
        click(qtbot, dialog.add_reader_button)
        assert dialog.chosen_list.count() == 0
        # adjud2 reads: it can no longer be picked as the adjudicator, and adjud is free to read again
        fill_new_campaign(qtbot, dialog, name="CR-ROLES", readers=("adjud2", "central1"))
        model = combo.model()
        assert isinstance(model, QStandardItemModel)
        assert not model.item(combo.findData("adjud2")).isEnabled()
        assert model.item(combo.findData("adjud")).isEnabled()
        click(qtbot, dialog.create_button)
        seen.append(dialog.error_label.text())

    when_modal(qtbot, NewCampaignDialog, fill)
    click(qtbot, window.new_button)
    assert seen == [""]
    with study.database.reading() as session:
        people = {
            role: user.login
            for role, (_, user) in members_of(session, get_campaign(session, "CR-ROLES")).items()
        }
    assert people == {
        CampaignRole.READER_1: "adjud2",
        CampaignRole.READER_2: "central1",
        CampaignRole.ADJUDICATOR: "adjud",
    }


@pytest.mark.parametrize(
    ("name", "readers", "message"),
    [
        ("CR-ONE", ("central1",), "2 to 6 central readers, not 1"),
        (CAMPAIGN, ("central1", "central2"), f"already a campaign '{CAMPAIGN}'"),
        ("", ("central1", "central2"), "needs a name"),
        ("CR-SEED", ("central1", "central2"), "seed must be between"),
    ],
)
def test_a_refused_entry_is_explained_and_nothing_is_created(
    qtbot: QtBot,
    window: CampaignManagerWindow,
    study: CampaignStudy,
    name: str,
    readers: tuple[str, ...],
    message: str,
) -> None:
    events = audit_count(study)
    shown: list[str] = []

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, NewCampaignDialog)
        fill_new_campaign(
            qtbot, dialog, name=name, readers=readers, seed="9999999999" if "SEED" in name else ""
        )
        click(qtbot, dialog.create_button)
        assert dialog.isVisible(), "a refused campaign keeps the dialog open"
        shown.append(dialog.error_label.text())
        assert dialog.name_edit.text() == name, "what was typed stays"
        dialog.reject()

    when_modal(qtbot, NewCampaignDialog, fill)
    click(qtbot, window.new_button)
    assert len(shown) == 1 and message in shown[0]
    assert campaign_codes(study) == [CAMPAIGN]
    assert audit_count(study) == events
    assert [row.code for row in window.rows] == [CAMPAIGN]


def test_selected_films_need_a_selection(
    qtbot: QtBot, window: CampaignManagerWindow, study: CampaignStudy
) -> None:
    shown: list[str] = []

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, NewCampaignDialog)
        fill_new_campaign(qtbot, dialog, name="CR-NONE", readers=("central1", "central2"))
        click(qtbot, dialog.some_films)
        click(qtbot, dialog.create_button)
        shown.append(dialog.error_label.text())
        dialog.reject()

    when_modal(qtbot, NewCampaignDialog, fill)
    click(qtbot, window.new_button)
    assert shown == ["Select subjects, visits or sites, or take all films of the study"]
    assert campaign_codes(study) == [CAMPAIGN]


# --- status ----------------------------------------------------------------------------------------------


def test_status_follows_the_signed_reads(
    qtbot: QtBot, window: CampaignManagerWindow, study: CampaignStudy
) -> None:
    click_row(qtbot, window.campaign_table, row_of(window, CAMPAIGN))
    assert window.selected_code == CAMPAIGN
    assert (status(window, "cases"), status(window, "finished"), status(window, "awaiting")) == (
        "3",
        "0",
        "0",
    )
    assert status(window, "seed") == "11"
    assert status(window, "repeat") == "0 % of the cases read twice"
    assert status(window, "gap") == "20 cases"
    assert status(window, "adjudicator") == "adjud"
    assert status(window, "measurements") == "regional_angle"
    assert status(window, "rule") == (
        "regional_angle differs by more than 5 deg, or the readers disagree on the evaluable levels"
    )
    assert reader_table(window) == [("Reader 1", "central1", "0", "3"), ("Reader 2", "central2", "0", "3")]

    read_cases(study, "central1", lambda n: 0.0, count=1)
    click(qtbot, window.refresh_button)
    assert window.selected_code == CAMPAIGN, "the selection survives a refresh"
    assert reader_table(window)[0] == ("Reader 1", "central1", "1", "2")

    read_everything(study)
    click(qtbot, window.refresh_button)
    assert reader_table(window) == [("Reader 1", "central1", "3", "0"), ("Reader 2", "central2", "3", "0")]
    bar = window.status_panel.reader_table.cellWidget(1, 4)
    assert isinstance(bar, QProgressBar) and (bar.value(), bar.maximum()) == (3, 3)
    assert (status(window, "finished"), status(window, "awaiting"), status(window, "reading")) == (
        "2",
        "1",
        "0",
    )
    table = window.campaign_table
    row = row_of(window, CAMPAIGN)
    assert [table.item(row, c).text() for c in range(table.columnCount())] == [
        CAMPAIGN, CAMPAIGN, "open", "3", "2", "1",
    ]  # fmt: skip


# --- closing ---------------------------------------------------------------------------------------------


def test_close_a_campaign_with_a_reason(
    qtbot: QtBot, window: CampaignManagerWindow, study: CampaignStudy
) -> None:
    click_row(qtbot, window.campaign_table, row_of(window, CAMPAIGN))
    assert window.close_button.isEnabled()

    def cancel(dialog: QWidget) -> None:
        assert isinstance(dialog, CloseCampaignDialog)
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)

    when_modal(qtbot, CloseCampaignDialog, cancel)
    click(qtbot, window.close_button)
    assert status(window, "status") == "open"

    def confirm(dialog: QWidget) -> None:
        assert isinstance(dialog, CloseCampaignDialog)
        assert "0 of 3 cases are finished" in dialog.message.text()
        qtbot.keyClicks(dialog.reason_edit, "end of the reading period")
        click(qtbot, dialog.close_button)

    when_modal(qtbot, CloseCampaignDialog, confirm)
    click(qtbot, window.close_button)
    assert status(window, "status") == "closed"
    assert window.campaign_table.item(row_of(window, CAMPAIGN), 2).text() == "closed"
    assert not window.close_button.isEnabled()
    assert window.export_button.isEnabled(), "a closed campaign can still be exported"
    with study.database.reading() as session:
        campaign = get_campaign(session, CAMPAIGN)
        assert campaign.status == CampaignStatus.CLOSED
        event = list_events(session, entity=AuditEntity.CAMPAIGN, entity_id=campaign.id)[-1]
    assert (event.actor_login, event.action, event.reason) == (
        "manager",
        "update",
        "end of the reading period",
    )
    assert event.new_values["status"] == "closed"


# --- exporting -------------------------------------------------------------------------------------------


def test_export_the_campaign_csv_and_the_audited_key(
    qtbot: QtBot, window: CampaignManagerWindow, study: CampaignStudy, tmp_path: Path
) -> None:
    read_everything(study)
    click_row(qtbot, window.campaign_table, row_of(window, CAMPAIGN))

    out = tmp_path / "exports" / "blinded.csv"
    out.parent.mkdir()
    when_modal(qtbot, QFileDialog, save_as(qtbot, out))
    click(qtbot, window.export_button)
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and tuple(rows[0]) == CAMPAIGN_COLUMNS
    assert {row["reader"] for row in rows} == {"central1", "central2"}
    text = out.read_text(encoding="utf-8")
    assert not [value for value in study.forbidden() if value in text], "the campaign CSV is blinded"
    assert "rows from 6 reads written" in window.statusBar().currentMessage()

    # the key: cancelled at the warning, nothing is written or recorded
    events = audit_count(study)
    key = tmp_path / "exports" / "key.csv"
    warnings: list[str] = []

    def cancel(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        warnings.append(box.text())
        click(qtbot, box.button(QMessageBox.StandardButton.Cancel))

    when_modal(qtbot, QMessageBox, cancel)
    click(qtbot, window.key_button)
    assert "un-blinds" in warnings[0] and "audit trail" in warnings[0]
    assert not key.exists() and audit_count(study) == events

    def confirm(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        when_modal(qtbot, QFileDialog, save_as(qtbot, key))
        click(qtbot, box.button(QMessageBox.StandardButton.Yes))

    when_modal(qtbot, QMessageBox, confirm)
    click(qtbot, window.key_button)
    with key.open(encoding="utf-8") as handle:
        keys = list(csv.DictReader(handle))
    assert tuple(keys[0]) == KEY_COLUMNS
    assert sorted(row["subject"] for row in keys) == sorted(study.subject_codes)
    assert {row["case_code"] for row in keys} == {row["case_code"] for row in rows}
    with study.database.reading() as session:
        campaign = get_campaign(session, CAMPAIGN)
        event = list_events(session, entity=AuditEntity.CAMPAIGN, entity_id=campaign.id)[-1]
    assert (event.actor_login, event.action) == ("manager", AuditAction.EXPORT)
    assert event.new_values["key_file"] == str(key.resolve())
    assert "audit trail" in window.statusBar().currentMessage()


def test_an_export_that_cannot_be_written_is_reported(
    qtbot: QtBot, window: CampaignManagerWindow, tmp_path: Path
) -> None:
    click_row(qtbot, window.campaign_table, row_of(window, CAMPAIGN))
    missing = tmp_path / "no-such-folder" / "out.csv"
    window.ask_save_path = lambda title, name, name_filter: missing  # type: ignore[method-assign]
    click(qtbot, window.export_button)
    assert "cannot be written" in window.last_error
    assert not missing.exists()


# --- agreement -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("films", [6])  # five cases at least for the statistics
def test_agreement_report_with_plots_and_saved_files(
    qtbot: QtBot, window: CampaignManagerWindow, study: CampaignStudy, tmp_path: Path
) -> None:
    read_everything(study)
    click_row(qtbot, window.campaign_table, row_of(window, CAMPAIGN))
    panel = window.agreement_panel
    assert panel.report is None, "computed only when the tab is shown"
    tab_bar = window.tabs.tabBar()
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(1).center())
    assert window.tabs.currentWidget() is panel
    assert panel.report is not None

    table = panel.statistics_table
    rows = [
        tuple(table.item(r, c).text() for c in range(table.columnCount())) for r in range(table.rowCount())
    ]
    pooled = [
        row for row in rows if row[0] == "inter-reader" and row[2] == "regional_angle" and row[3] == "all"
    ]
    assert len(pooled) == 1
    assert pooled[0][1] == "reader 1 vs reader 2" and pooled[0][4] == "6"
    assert pooled[0][5].count("[") == 1 and pooled[0][6].endswith(" deg")
    rates = panel.rate_table
    assert [rates.item(r, 0).text() for r in range(rates.rowCount())] == ["central1", "central2"]
    assert rates.item(0, 2).text() == "1" and rates.item(0, 3).text() == "16.7 %"

    assert panel.plot_labels, "a Bland-Altman plot per line with limits"
    for label in panel.plot_labels:
        pixmap = label.pixmap()
        assert isinstance(pixmap, QPixmap) and not pixmap.isNull() and pixmap.width() > 300

    for button, name in (
        (panel.html_button, "report.html"),
        (panel.pdf_button, "report.pdf"),
        (panel.csv_button, "stats.csv"),
    ):
        when_modal(qtbot, QFileDialog, save_as(qtbot, tmp_path / name))
        click(qtbot, button)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Reader agreement in campaign" in html and html.count("<img") == len(panel.plot_labels)
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    with (tmp_path / "stats.csv").open(encoding="utf-8") as handle:
        saved = list(csv.DictReader(handle))
    assert tuple(saved[0]) == CSV_COLUMNS and len(saved) == table.rowCount()
    everything = html + (tmp_path / "stats.csv").read_text(encoding="utf-8")
    assert not [value for value in study.forbidden() if value in everything], "no patient identity"
    assert "stats.csv" in window.statusBar().currentMessage()


def test_only_managers_use_the_store(study: CampaignStudy) -> None:
    from kyphoangle.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        CampaignAdminService(study.database, signed_in(study.database, "central1")).campaigns()
