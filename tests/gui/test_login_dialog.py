"""Sign-in: the demo hint, a wrong password that keeps the dialog open, then a good one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel
from pytestqt.qtbot import QtBot
from reading_study import DEMO_PASSWORD

from app.dialogs import LoginDialog
from kyphoangle.workstation.study_reads import StudyReadService


def test_demo_hint_and_sign_in(qtbot: QtBot, store: StudyReadService) -> None:
    dialog = LoginDialog(store, last_user="demo", hint="Demo study: sign in as demo, password demo.")
    qtbot.addWidget(dialog)
    dialog.show()
    hint = dialog.findChild(QLabel, "loginHint")
    assert hint is not None and "sign in as demo" in hint.text()
    sign_in = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.keyClicks(dialog.password_edit, "wrong")
    qtbot.mouseClick(sign_in, Qt.MouseButton.LeftButton)
    assert dialog.account is None and dialog.isVisible() and dialog.error_label.text()
    dialog.password_edit.clear()
    qtbot.keyClicks(dialog.password_edit, DEMO_PASSWORD)
    qtbot.mouseClick(sign_in, Qt.MouseButton.LeftButton)
    assert dialog.account is not None and dialog.account.login == "demo"


def test_no_hint_by_default(qtbot: QtBot, store: StudyReadService) -> None:
    dialog = LoginDialog(store)
    qtbot.addWidget(dialog)
    assert dialog.findChild(QLabel, "loginHint") is None


def test_the_demo_hint_names_real_demo_accounts() -> None:
    from app.entry import DEMO_HINT
    from kyphoangle.cli.demo import DEMO_ACCOUNTS

    for login, _role, password, _name in DEMO_ACCOUNTS:
        if login == "admin":
            continue
        assert login in DEMO_HINT and password in DEMO_HINT, login
