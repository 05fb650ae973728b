"""No identifying value of the films reaches any screen of the blinded window (main window, dialogs, errors,
settings), while a central reader reads, signs, asks for help and meets a case closed elsewhere."""

from __future__ import annotations

from pathlib import Path

from blinded_helpers import leaks, make_blinded_window, place_all_landmarks, visible_texts, when_modal
from campaign_study import CAMPAIGN, PASSWORDS, build_campaign_study
from PySide6.QtWidgets import QDialog, QDockWidget, QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app.dialogs import ShortcutsDialog, SignDialog
from kyphoangle.campaign import get_campaign, next_case, save_case_read, sign_case_read
from kyphoangle.storage.users import get_user


def test_nothing_identifying_is_shown_anywhere(qtbot: QtBot, tmp_path: Path) -> None:
    study = build_campaign_study(tmp_path)
    forbidden = study.forbidden()
    screens: dict[str, list[str]] = {}
    window = make_blinded_window(qtbot, study, "central1", tmp_path, suppress_dialogs=False)
    assert window.case is not None and window.reading.film is not None

    # what the reader has and has not
    assert window.findChild(QDockWidget, "browserDock") is None
    assert not {"open", "import", "import_dicomdir"} & set(window.actions_by_id)
    action_texts = {a.text() for a in window.findChildren(type(window.actions_by_id["sign"]))}
    assert not any(t.startswith(("Open", "Import")) for t in action_texts)
    assert window.case.case_code in window.windowTitle()
    assert all(not box.isEnabled() for box in window.reading.guidance_panel.level_boxes.values())
    assert window.reading.model.fractured_levels == ("L1",)
    screens["opened"] = visible_texts()
    # the control: the film's own path names the patient, so the check below can see a leak
    assert window.reading.film_path is not None and leaks([str(window.reading.film_path)], forbidden)

    place_all_landmarks(qtbot, window, study)
    qtbot.waitUntil(lambda: not window.reading.dirty, timeout=5000)
    screens["placed"] = visible_texts()

    def read_help(dialog: QWidget) -> None:
        assert isinstance(dialog, ShortcutsDialog)
        shown = [dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())]
        assert shown and not any(text.startswith(("Open", "Import")) for text in shown)
        screens["help"] = visible_texts()
        dialog.close()

    when_modal(qtbot, read_help)
    window.actions_by_id["help"].trigger()

    def sign(dialog: QWidget) -> None:
        assert isinstance(dialog, SignDialog)
        screens["sign dialog"] = visible_texts()
        edit = dialog.findChild(QLineEdit, "signPassword")
        assert edit is not None
        qtbot.keyClicks(edit, PASSWORDS["central1"])
        dialog.accept()

    first = window.case.case_code
    when_modal(qtbot, sign)
    window.actions_by_id["sign"].trigger()
    screens["signing"] = visible_texts()  # the next film on screen while the signature is stored
    qtbot.waitUntil(lambda: window.pending_sign is None, timeout=10000)
    assert window.case is not None and window.case.case_code != first
    assert (
        window.reading.film is not None
        and window.reading.film.sop_instance_uid == window.case.sop_instance_uid
    )
    screens["next case"] = visible_texts()

    # The second case is signed elsewhere (the same reader, another workstation): saving here is refused.
    place_all_landmarks(qtbot, window, study)
    window.reading.autosave_timer.stop()
    with study.database.transaction() as session:
        campaign, reader = get_campaign(session, CAMPAIGN), get_user(session, "central1")
        case = next_case(session, campaign, reader)
        assert case is not None
        save_case_read(session, campaign, reader, window.reading.model.snapshot().to_landmark_file())
        sign_case_read(session, campaign, reader, PASSWORDS["central1"])

    def read_error(dialog: QWidget) -> None:
        assert isinstance(dialog, QMessageBox)
        screens["error"] = [*visible_texts(), dialog.text(), dialog.informativeText(), dialog.detailedText()]
        dialog.done(QDialog.DialogCode.Accepted)

    when_modal(qtbot, read_error)
    assert not window.reading.save_draft()
    assert "locked" in window.last_error
    qtbot.waitUntil(lambda: window.case is not None and window.case.position == 3)
    screens["after error"] = visible_texts()

    window.close()
    settings_text = Path(window.settings.fileName()).read_text(encoding="latin-1")
    screens["settings"] = [settings_text]
    assert "last_folder" not in settings_text

    assert set(screens) == {
        "opened", "placed", "help", "sign dialog", "signing", "next case", "error", "after error", "settings"
    }  # fmt: skip
    for name, texts in screens.items():
        assert texts, name
        assert leaks(texts, forbidden) == [], f"identifying text on the {name} screen"
    assert any(first in text for text in screens["sign dialog"] + screens["next case"])
