"""The command line's conventions: a fast `--help`, global options before the command, one line and
exit 1 for an unexpected error (the traceback goes to the log), the command table kept in step."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from kyphoangle import __version__
from kyphoangle.cli import (
    COMMAND_MODULES,
    COMMAND_SUMMARIES,
    GlobalOptions,
    build_parser,
    command_of,
    main,
    split_global_options,
)
from kyphoangle.errors import KyphoangleError
from kyphoangle.exit_status import ExitStatus


@pytest.fixture(autouse=True)
def _private_folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KYPHOANGLE_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("KYPHOANGLE_DATA_DIR", str(tmp_path / "data"))


def _registered_help() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for module in COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        subparsers = parser.add_subparsers()
        importlib.import_module(module).register(subparsers)
        for action in subparsers._choices_actions:
            found[action.dest] = (module, str(action.help))
    return found


def test_the_command_table_matches_the_modules_own_help() -> None:
    assert _registered_help() == COMMAND_SUMMARIES


def test_help_lists_every_command_without_importing_any(tmp_path: Path) -> None:
    code = (
        "import sys; from kyphoangle.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as stop:\n    assert stop.code == 0\n"
        "print('LOADED', sorted(m for m in sys.modules if m.startswith('kyphoangle.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for command in COMMAND_SUMMARIES:
        assert command in out
    assert "  1  internal error: something unexpected; the details are in the log" in out
    assert out.strip().endswith("LOADED []")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"kyphoangle {__version__}"


def test_global_options_are_split_from_the_command() -> None:
    assert split_global_options(["--db", "x.sqlite3", "-vv", "users", "list", "--db", "y"]) == (
        GlobalOptions(db="x.sqlite3", data_dir=None, verbosity=2),
        ["users", "list", "--db", "y"],
    )
    assert split_global_options(["--data-dir=/d", "--verbose"]) == (GlobalOptions(None, "/d", 1), [])
    assert command_of(["--db", "u", "measure", "a.dcm"]) == "measure"
    assert command_of(["--help"]) is None
    with pytest.raises(KyphoangleError, match="--db needs a value"):
        split_global_options(["--db"])


def test_only_the_chosen_command_is_registered() -> None:
    parser = build_parser(("measure",))
    args = parser.parse_args(["measure", "a.dcm", "--landmarks", "b.json"])
    assert args.run.__module__ == "kyphoangle.cli.measure"


def test_an_unexpected_error_is_one_line_exit_1_and_a_logged_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: argparse.Namespace) -> int:
        raise ZeroDivisionError("while reading /data/SENTINEL^PATIENT/film.dcm")

    monkeypatch.setattr("kyphoangle.cli.measure.run", broken)
    monkeypatch.setattr(
        "kyphoangle.cli.measure.register",
        lambda subparsers: subparsers.add_parser("measure").set_defaults(run=broken),
    )
    assert main(["measure"]) == ExitStatus.INTERNAL_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "internal error (ZeroDivisionError)" in err
    assert "Traceback" not in err
    log = (tmp_path / "logs" / "kyphoangle.log").read_text()
    assert "Traceback (most recent call last)" in log
    assert "ZeroDivisionError: while reading <path>" in log
    assert "SENTINEL" not in log


def test_a_bad_global_option_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from app.entry import main as entry_main

    assert entry_main(["--db"]) == ExitStatus.BAD_INPUT
    assert "--db needs a value" in capsys.readouterr().err


def test_landmarks_can_come_from_standard_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import json

    from tests.core.test_cli_measure import landmark_document, make_film

    film = make_film(tmp_path / "film.dcm")
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(landmark_document())))
    assert main(["measure", str(film), "--landmarks", "-"]) == 0
    names = {m["name"] for m in json.loads(capsys.readouterr().out)["measurements"]}
    assert "regional_angle" in names


def test_every_list_command_offers_json() -> None:
    parser = build_parser()
    lists = []
    for group in parser._subparsers._group_actions[0].choices.values():  # type: ignore[union-attr]
        for action in group._actions:
            if isinstance(action, argparse._SubParsersAction) and "list" in action.choices:
                lists.append(action.choices["list"])
    assert len(lists) >= 5
    for listing in lists:
        assert "--json" in listing._option_string_actions, listing.prog
