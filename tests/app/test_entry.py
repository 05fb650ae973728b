"""The `kyphoangle` entry point: GUI without arguments, CLI otherwise, and the installer's self-check."""

from __future__ import annotations

import pytest

from app import entry


def test_arguments_go_to_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr("kyphoangle.cli.main", lambda argv: seen.append(list(argv)) or 0)
    monkeypatch.setattr(entry, "run_gui", lambda *a, **k: pytest.fail("GUI opened"))
    assert entry.main(["measure", "x.dcm", "--landmarks", "y.json"]) == 0
    assert seen == [["measure", "x.dcm", "--landmarks", "y.json"]]


def test_no_arguments_open_the_workstation(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[object] = []
    monkeypatch.setenv("KYPHOANGLE_DB", "sqlite:///default.sqlite")
    monkeypatch.setattr(
        entry,
        "run_gui",
        lambda data_dir=None, database_url=None: opened.append(database_url or data_dir) or 0,
    )
    assert entry.main([]) == 0
    assert entry.main(["--data-dir", "/tmp/somewhere"]) == 0
    assert entry.main(["--db", "sqlite:///x.sqlite"]) == 0
    assert entry.main(["--db"]) == 2
    assert [str(o) for o in opened] == ["sqlite:///default.sqlite", "/tmp/somewhere", "sqlite:///x.sqlite"]


def test_self_check_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.main(["--self-check"]) == 0
    assert "self-check: OK" in capsys.readouterr().out
