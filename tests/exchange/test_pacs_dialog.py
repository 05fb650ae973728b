"""The workstation's query and retrieve dialog against a real Orthanc: search by patient ID, retrieve the
selected studies into the import, cancel between studies, and a node that cannot be reached."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from conftest import ADMIN_PASSWORD, DemoStudy
from orthanc_server import OrthancServer, free_port
from PySide6.QtCore import QItemSelectionModel, QObject, QSettings, Qt
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from app.main_window import ReadingWindow
from app.pacs_dialog import PacsDialog, pacs_action, pacs_allowed, pacs_dialog_for
from kyphoangle.errors import KyphoangleError
from kyphoangle.vocabulary import UserRole
from kyphoangle.workstation import pacs as pacs_service
from kyphoangle.workstation.accounts import add_user, create_first_admin
from kyphoangle.workstation.connection import SignedIn, open_study, sign_in
from kyphoangle.workstation.films import list_films
from kyphoangle.workstation.pacs import StudiesRetrieved, save_pacs_node
from kyphoangle.workstation.records import ReadService
from kyphoangle.workstation.study_reads import StudyReadService

MANAGER_PASSWORD = "data-manager"
PATIENT = "DEMO-001"


@pytest.fixture
def loaded(orthanc: OrthancServer, demo_template: DemoStudy) -> Iterator[OrthancServer]:
    """Orthanc holding the demo films (and nothing else)."""
    orthanc.hold_only(demo_template.films)
    yield orthanc
    orthanc.clear()


@pytest.fixture
def manager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, orthanc: OrthancServer) -> Iterator[SignedIn]:
    """A data manager signed in to a new, empty study database that knows the Orthanc node and one
    node nothing listens on."""
    monkeypatch.setenv("KYPHOANGLE_DATA_DIR", str(tmp_path / "data"))
    database = open_study(str(tmp_path / "study.sqlite3"))
    create_first_admin(database, "admin", ADMIN_PASSWORD)
    admin = sign_in(database, "admin", ADMIN_PASSWORD)
    add_user(admin, "dm", UserRole.DATA_MANAGER, MANAGER_PASSWORD)
    save_pacs_node(admin, "orthanc", ae_title="ORTHANC", host="127.0.0.1", port=orthanc.dicom_port)
    save_pacs_node(admin, "nowhere", ae_title="NOWHERE", host="127.0.0.1", port=free_port())
    yield sign_in(database, "dm", MANAGER_PASSWORD)
    database.dispose()


def _open(qtbot: QtBot, actor: SignedIn, node: str) -> PacsDialog:
    dialog = PacsDialog(actor)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.node_combo.setCurrentIndex(dialog.node_combo.findData(node))
    return dialog


def _search(qtbot: QtBot, dialog: PacsDialog, patient_id: str) -> int:
    qtbot.keyClicks(dialog.patient_id, patient_id)
    with qtbot.waitSignal(dialog.search_finished, timeout=30000) as found:
        qtbot.mouseClick(dialog.search_button, Qt.MouseButton.LeftButton)
    return int(found.args[0])


def _select_rows(dialog: PacsDialog, rows: range) -> None:
    model = dialog.results.selectionModel()
    for row in rows:
        model.select(
            dialog.results.model().index(row, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )


def test_the_file_menu_offers_it_to_data_managers_and_admins_only(
    qtbot: QtBot, manager: SignedIn, tmp_path: Path
) -> None:
    assert pacs_allowed(UserRole.DATA_MANAGER) and pacs_allowed(UserRole.ADMIN)
    assert not any(pacs_allowed(r) for r in (UserRole.SITE_READER, UserRole.CENTRAL_READER))
    admin = sign_in(manager.database, "admin", ADMIN_PASSWORD)
    add_user(admin, "site1", UserRole.SITE_READER, "site-reader!")
    settings = QSettings(str(tmp_path / "menu.ini"), QSettings.Format.IniFormat)
    store = StudyReadService(manager.database)

    def reading_window(login: str, password: str) -> ReadingWindow:
        window = ReadingWindow(store, store.authenticate(login, password), settings)
        window.setProperty("suppress_dialogs", True)
        qtbot.addWidget(window)
        return window

    assert "pacs" not in reading_window("site1", "site-reader!").actions_by_id
    assert pacs_action(QObject(), UserRole.SITE_READER) is None
    window = reading_window("dm", MANAGER_PASSWORD)
    action = window.actions_by_id["pacs"]
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    assert isinstance(file_menu, QMenu) and action in file_menu.actions()
    action.trigger()
    dialog = window.pacs_dialog
    assert isinstance(dialog, PacsDialog) and dialog.isVisible()
    names = [dialog.node_combo.itemData(i) for i in range(dialog.node_combo.count())]
    assert names == ["nowhere", "orthanc"]
    action.trigger()
    assert window.pacs_dialog is dialog, "one dialog per window"
    with pytest.raises(KyphoangleError, match="study database"):
        pacs_dialog_for(cast(ReadService, object()), store.account)


def test_search_then_retrieve_a_study_into_the_import(
    qtbot: QtBot, loaded: OrthancServer, manager: SignedIn
) -> None:
    dialog = _open(qtbot, manager, "orthanc")
    assert not dialog.retrieve_button.isEnabled()
    found = _search(qtbot, dialog, PATIENT)
    assert found > 2 and dialog.results.rowCount() == found
    assert {dialog.results.item(r, 0).text() for r in range(found)} == {PATIENT}
    assert all(dialog.results.item(r, 5).text() == "1" for r in range(found))  # images per study
    assert all(dialog.results.item(r, 2).text()[4] == "-" for r in range(found))  # a date

    dialog.results.selectRow(0)
    study = dialog.selected_studies()[0]
    assert dialog.retrieve_button.isEnabled()
    with qtbot.waitSignal(dialog.retrieve_finished, timeout=60000) as finished:
        qtbot.mouseClick(dialog.retrieve_button, Qt.MouseButton.LeftButton)
    result = finished.args[0]
    assert isinstance(result, StudiesRetrieved)
    assert [s.study_uid for s in result.studies] == [study] and not result.cancelled
    films = list_films(manager)
    assert len(films) == 1 and films[0].sop_instance_uid == result.summary.new[0]
    summary = dialog.summary.toPlainText()
    assert "studies retrieved: 1 of 1" in summary and "new films: 1" in summary
    assert dialog.last_error == "" and dialog.search_button.isEnabled()

    # the same study again: nothing new, the report says it was already imported
    with qtbot.waitSignal(dialog.retrieve_finished, timeout=60000):
        qtbot.mouseClick(dialog.retrieve_button, Qt.MouseButton.LeftButton)
    assert "already imported: 1" in dialog.summary.toPlainText()
    assert len(list_films(manager)) == 1


def test_cancel_stops_before_the_next_study_and_keeps_what_was_imported(
    qtbot: QtBot, loaded: OrthancServer, manager: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_done, cancel_clicked = threading.Event(), threading.Event()
    real_retrieve = pacs_service.retrieve_study

    def retrieve_then_wait(*args: object, **kwargs: object) -> pacs_service.Retrieved:
        result = real_retrieve(*args, **kwargs)  # type: ignore[arg-type]
        if not first_done.is_set():
            first_done.set()  # the first study is imported: hold on until the user has cancelled
            assert cancel_clicked.wait(30)
        return result

    monkeypatch.setattr(pacs_service, "retrieve_study", retrieve_then_wait)
    dialog = _open(qtbot, manager, "orthanc")
    found = _search(qtbot, dialog, PATIENT)
    _select_rows(dialog, range(found))
    assert len(dialog.selected_studies()) == found > 2
    with qtbot.waitSignal(dialog.retrieve_finished, timeout=60000) as finished:
        qtbot.mouseClick(dialog.retrieve_button, Qt.MouseButton.LeftButton)
        assert dialog.cancel_button.isEnabled() and not dialog.search_button.isEnabled()
        qtbot.waitUntil(first_done.is_set, timeout=30000)
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        assert not dialog.cancel_button.isEnabled()
        cancel_clicked.set()
    result = finished.args[0]
    assert result.cancelled and len(result.studies) == 1 and len(result.not_retrieved) == found - 1
    assert len(list_films(manager)) == 1
    assert "cancelled" in dialog.summary.toPlainText() and "Cancelled" in dialog.status.text()
    assert dialog.progress.value() == 1

    # the dialog is usable again: the next retrieve brings the rest
    assert dialog.search_button.isEnabled() and dialog.retrieve_button.isEnabled()
    cancel_clicked.set()
    with qtbot.waitSignal(dialog.retrieve_finished, timeout=120000) as finished:
        qtbot.mouseClick(dialog.retrieve_button, Qt.MouseButton.LeftButton)
    assert not finished.args[0].cancelled, dialog.summary.toPlainText()
    assert len(list_films(manager)) == found, dialog.summary.toPlainText()


def test_a_node_that_cannot_be_reached_is_a_message(qtbot: QtBot, manager: SignedIn) -> None:
    dialog = _open(qtbot, manager, "nowhere")
    with qtbot.waitSignal(dialog.failed, timeout=30000) as failed:
        qtbot.mouseClick(dialog.search_button, Qt.MouseButton.LeftButton)
    message = str(failed.args[0])
    assert "nowhere" in message and "cannot be reached" in message and "Traceback" not in message
    assert dialog.status.text() == message == dialog.last_error
    assert dialog.results.rowCount() == 0 and dialog.search_button.isEnabled() and not dialog.busy
