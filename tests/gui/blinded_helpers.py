"""Helpers of the blinded-reading tests: open a reader's window, read a case by clicking, gather all text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from campaign_study import CAMPAIGN, PASSWORDS, CampaignStudy
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QMenu,
    QProgressBar,
    QTableWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)
from pytestqt.qtbot import QtBot
from test_main_window import click_image

from app.blinded_window import BlindedReadingWindow
from app.film_view import FilmView
from kyphoangle.workstation.campaign_reads import CampaignReadService


def make_blinded_window(
    qtbot: QtBot,
    study: CampaignStudy,
    login: str,
    tmp: Path,
    *,
    suppress_dialogs: bool = True,
    campaign: str = CAMPAIGN,
) -> BlindedReadingWindow:
    """Sign `login` in and show their blinded window of `campaign`, with the first case on screen."""
    store = CampaignReadService(study.database, campaign)
    account = store.authenticate(login, PASSWORDS[login])
    settings = QSettings(str(tmp / f"settings-{login}.ini"), QSettings.Format.IniFormat)
    window = BlindedReadingWindow(store, account, settings, recovery_dir=tmp / "recovery")
    window.setProperty("suppress_dialogs", suppress_dialogs)
    qtbot.addWidget(window)
    window.resize(1500, 950)
    window.show()
    qtbot.waitExposed(window)
    wait_for_case(qtbot, window)
    return window


def wait_for_case(qtbot: QtBot, window: BlindedReadingWindow) -> None:
    """Wait until the window shows its current case's film (or the end of the worklist)."""
    qtbot.waitUntil(
        lambda: (
            window.case is None
            or (
                window.reading.film is not None
                and window.reading.film.sop_instance_uid == window.case.sop_instance_uid
            )
        ),
        timeout=20000,
    )


def place_all_landmarks(qtbot: QtBot, window: BlindedReadingWindow, study: CampaignStudy) -> None:
    """Click every landmark the guidance asks for at the film's true position."""
    assert window.reading.film is not None
    truth = study.films[window.reading.film.sop_instance_uid].truth
    window.reading.view.fit()
    for step in window.reading.steps:
        assert window.reading.target_key == step.key, (window.reading.target_key, step.key, window.case)
        click_image(qtbot, window.reading.view, truth[step.key])
    assert window.reading.target_key is None


def assert_no_proposals(qtbot: QtBot, window: BlindedReadingWindow, study: CampaignStudy) -> None:
    """The campaign keeps snapping off: no toggle, and a click near a corner stays a click."""
    assert not window.actions_by_id["snapping"].isEnabled()
    assert not window.reading.snapping_enabled
    key = window.reading.target_key
    assert key is not None and window.case is not None
    truth = study.films[window.case.sop_instance_uid].truth[key]
    click_image(qtbot, window.reading.view, (truth[0] + 3.0, truth[1] + 3.0))
    assert window.reading.view.proposal is None
    assert key in window.reading.model.points and key not in window.reading.model.provenance


def when_modal(qtbot: QtBot, act: Callable[[QWidget], None]) -> None:
    """Run `act` on the next modal dialog as soon as it is open (dialogs block in exec())."""

    def poll() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None or not modal.isVisible():
            QTimer.singleShot(20, poll)
            return
        act(modal)

    QTimer.singleShot(20, poll)


def _tree_texts(item: QTreeWidgetItem, columns: int) -> list[str]:
    texts = [t for c in range(columns) for t in (item.text(c), item.toolTip(c))]
    for index in range(item.childCount()):
        texts.extend(_tree_texts(item.child(index), columns))
    return texts


def _action_texts(action: QAction) -> list[str]:
    return [action.text(), action.toolTip(), action.iconText(), action.statusTip(), action.whatsThis()]


def widget_texts(root: QWidget) -> list[str]:
    """Every string `root` and its descendants can show: titles, labels, tooltips, items, actions."""
    texts: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        texts += [widget.windowTitle(), widget.toolTip(), widget.statusTip(), widget.whatsThis()]
        texts += [widget.accessibleName(), widget.accessibleDescription()]
        if isinstance(widget, QLabel):
            texts.append(widget.text())
        if isinstance(widget, QAbstractButton):
            texts.append(widget.text())
        if isinstance(widget, QLineEdit):
            texts += [widget.text(), widget.placeholderText()]
        if isinstance(widget, QGroupBox):
            texts.append(widget.title())
        if isinstance(widget, QComboBox):
            texts += [widget.itemText(i) for i in range(widget.count())]
        if isinstance(widget, QListWidget):
            for i in range(widget.count()):
                texts += [widget.item(i).text(), widget.item(i).toolTip()]
        if isinstance(widget, QTreeWidget):
            header = widget.headerItem()
            texts += [header.text(c) for c in range(widget.columnCount())]
            for i in range(widget.topLevelItemCount()):
                texts.extend(_tree_texts(widget.topLevelItem(i), widget.columnCount()))
        if isinstance(widget, QTableWidget):
            for r in range(widget.rowCount()):
                for c in range(widget.columnCount()):
                    cell = widget.item(r, c)
                    if cell is not None:
                        texts += [cell.text(), cell.toolTip()]
        if isinstance(widget, QMenu):
            texts.append(widget.title())
        if isinstance(widget, QProgressBar):
            texts += [widget.format(), widget.text()]
        if isinstance(widget, QMainWindow):
            texts.append(widget.statusBar().currentMessage())
        if isinstance(widget, FilmView):
            texts += [widget.message, widget.overlay.banner, widget.overlay.footer]
        for action in widget.actions():
            texts.extend(_action_texts(action))
    for action in root.findChildren(QAction):
        texts.extend(_action_texts(action))
    return [t for t in texts if t]


def visible_texts() -> list[str]:
    """The text of every visible top-level window and dialog of the application."""
    texts: list[str] = []
    for top in QApplication.topLevelWidgets():
        if top.isVisible():
            texts.extend(widget_texts(top))
    return texts


def leaks(texts: list[str], forbidden: list[str]) -> list[tuple[str, str]]:
    """(forbidden value, text) pairs where an identifying value appears (case-insensitive)."""
    found = []
    for value in forbidden:
        needle = value.lower()
        for text in texts:
            if needle in text.lower():
                found.append((value, text))
    return found
