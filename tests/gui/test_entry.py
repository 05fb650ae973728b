"""The `kyphoangle` entry point: GUI without arguments, CLI otherwise, and the installer's self-check."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app import entry


def test_arguments_go_to_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr("kyphoangle.cli.main", lambda argv: seen.append(list(argv)) or 0)
    monkeypatch.setattr(entry, "run_gui", lambda *a, **k: pytest.fail("GUI opened"))
    assert entry.main(["measure", "x.dcm", "--landmarks", "y.json"]) == 0
    assert seen == [["measure", "x.dcm", "--landmarks", "y.json"]]


def test_no_command_opens_the_workstation_with_the_global_options(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    opened: list[object] = []
    monkeypatch.setenv("KYPHOANGLE_DB", "sqlite:///default.sqlite")
    monkeypatch.setenv("KYPHOANGLE_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.delenv("KYPHOANGLE_DATA_DIR", raising=False)
    monkeypatch.setattr(
        entry,
        "run_gui",
        lambda *, database_url: opened.append(database_url) or 0,
    )
    assert entry.main([]) == 0
    assert entry.main(["--db", "sqlite:///x.sqlite"]) == 0
    assert entry.main(["--db"]) == 2
    monkeypatch.delenv("KYPHOANGLE_DB")
    assert entry.main(["--data-dir", str(tmp_path / "site")]) == 0
    assert entry.default_data_dir() == tmp_path / "site" / "workstation"
    assert [str(o) for o in opened] == [
        "sqlite:///default.sqlite",
        "sqlite:///x.sqlite",
        str(tmp_path / "site" / "kyphoangle.sqlite3"),
    ]


def test_a_command_after_the_global_options_runs_without_the_workstation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(entry, "run_gui", lambda *a, **k: pytest.fail("GUI opened"))
    monkeypatch.setenv("KYPHOANGLE_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("KYPHOANGLE_NEW_PASSWORD", "admin password")
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", "admin password")
    database = str(tmp_path / "study.sqlite3")
    assert entry.main(["--db", database, "users", "add", "boss", "--role", "admin"]) == 0
    capsys.readouterr()
    assert entry.main(["--db", database, "users", "list", "--json", "--user", "boss"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(row["login"], row["role"]) for row in rows] == [("boss", "admin")]


def test_without_a_display_the_workstation_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert entry.display_problem({}, "linux") == entry.NO_DISPLAY_MESSAGE
    assert entry.display_problem({"DISPLAY": ":0"}, "linux") is None
    assert entry.display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert entry.display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert entry.display_problem({}, "win32") is None
    assert entry.display_problem({}, "darwin") is None
    monkeypatch.setenv("KYPHOANGLE_LOG_DIR", str(tmp_path / "logs"))
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(entry, "run_gui", lambda *a, **k: pytest.fail("GUI opened"))
    if sys.platform.startswith("linux"):
        assert entry.main([]) == 2
        assert "xvfb-run -a kyphoangle" in capsys.readouterr().err


def test_an_unexpected_error_in_the_workstation_is_logged_and_shown_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, qapp: object
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from app import error_report
    from kyphoangle.log import configure_logging

    monkeypatch.setenv("KYPHOANGLE_LOG_DIR", str(tmp_path / "logs"))
    configure_logging()
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text: shown.append((title, text)))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    error_report.install_exception_hook()
    try:
        raise KeyError("SENTINEL^PATIENT")
    except KeyError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    assert len(shown) == 1
    assert shown[0][0] == error_report.DIALOG_TITLE
    assert "Something unexpected went wrong (KeyError)" in shown[0][1]
    assert "support-bundle" in shown[0][1]
    log = (tmp_path / "logs" / "kyphoangle.log").read_text()
    assert "Traceback (most recent call last)" in log and "KeyError: '<value>'" in log
    assert "SENTINEL" not in log

    def broken(**_: object) -> int:
        raise RuntimeError("broken window")

    monkeypatch.setattr(entry, "run_gui", broken)
    assert entry.start_gui() == 1
    assert len(shown) == 2


def test_self_check_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.main(["--self-check"]) == 0
    assert "self-check: OK" in capsys.readouterr().out


def test_each_role_gets_its_window_and_can_sign_out(qtbot: QtBot, tmp_path: Path) -> None:
    from campaign_study import PASSWORDS, build_campaign_study
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMenu

    from app.adjudication_window import AdjudicationWindow
    from app.blinded_window import BlindedReadingWindow
    from app.main_window import ReadingWindow
    from kyphoangle.workstation.study_reads import StudyReadService

    study = build_campaign_study(tmp_path, films=1)
    store = StudyReadService(study.database)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    kinds = {"central1": BlindedReadingWindow, "adjud": AdjudicationWindow, "manager": ReadingWindow}
    passwords = {**PASSWORDS, "manager": "manager-pass"}
    for login, kind in kinds.items():
        window, _why = entry.window_for(
            store, store.authenticate(login, passwords[login]), settings, tmp_path
        )
        assert type(window) is kind, login
        assert window is not None
        qtbot.addWidget(window)
        entry.add_sign_out(window)
        window.show()
        file_menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&File")
        texts = [a.text() for a in file_menu.actions()]
        assert texts.index(entry.SIGN_OUT_TEXT) == texts.index("Quit") - 1
        next(a for a in file_menu.actions() if a.text() == entry.SIGN_OUT_TEXT).trigger()
        assert window.property("signed_out") and not window.isVisible()
    site = study.database
    with site.transaction() as session:
        from kyphoangle.campaign import close_campaign, get_campaign
        from kyphoangle.storage.users import get_user

        close_campaign(session, get_campaign(session, "BLIND-1"), actor=get_user(session, "manager"))
    window, why = entry.window_for(
        store, store.authenticate("central1", PASSWORDS["central1"]), settings, tmp_path
    )
    assert window is None and "No reading campaign is open for you" in why


def test_an_adjudicator_who_also_reads_gets_the_window_with_work(qtbot: QtBot, tmp_path: Path) -> None:
    from campaign_study import PASSWORDS, build_campaign_study
    from PySide6.QtCore import QSettings

    from app.adjudication_window import AdjudicationWindow
    from app.blinded_window import BlindedReadingWindow
    from kyphoangle.campaign import create_campaign
    from kyphoangle.storage.users import create_user, get_user
    from kyphoangle.vocabulary import UserRole
    from kyphoangle.workstation.study_reads import StudyReadService

    study = build_campaign_study(tmp_path, films=1)
    with study.database.transaction() as session:
        admin = get_user(session, "admin")
        create_user(session, login="adjud2", role=UserRole.ADJUDICATOR, password="adjudicate-2!", actor=admin)
        # "adjud" adjudicates BLIND-1 (nothing waiting yet) and reads in READ-2, where adjud2 adjudicates
        create_campaign(
            session,
            actor=get_user(session, "manager"),
            code="READ-2",
            readers=[get_user(session, "adjud"), get_user(session, "central1")],
            adjudicator=get_user(session, "adjud2"),
            seed=5,
        )
    store = StudyReadService(study.database)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window, _why = entry.window_for(
        store, store.authenticate("adjud", PASSWORDS["adjud"]), settings, tmp_path
    )
    assert type(window) is BlindedReadingWindow, "cases to read and nothing to adjudicate"
    qtbot.addWidget(window)
    assert window.campaign_store.campaign_code == "READ-2" and window.case is not None
    window, _why = entry.window_for(store, store.authenticate("adjud2", "adjudicate-2!"), settings, tmp_path)
    assert type(window) is AdjudicationWindow, "an adjudicator with no reading gets the adjudication window"
    qtbot.addWidget(window)
