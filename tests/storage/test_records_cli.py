"""Signed records at the command line: sign once, amend with a reason, versions in exports, private
files, full disks and read-only folders, formulas in CSV cells, control characters in names."""

from __future__ import annotations

import csv
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from test_cli import ADMIN_PW, MANAGER_PW, READER_PW, Cli, _bootstrap, _films, _landmark_files

from kyphoangle.landmark_file import read_landmark_file, write_landmark_file


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _signed_study(cli: Cli, tmp_path: Path) -> list[Path]:
    _bootstrap(cli)
    _films(tmp_path / "films")
    assert cli("import", str(tmp_path / "films"), user="dm", password=MANAGER_PW)[0] == 0
    files = _landmark_files(tmp_path / "reads")
    code, out, err = cli("reads", "import", str(files[0]), "--sign", user="rx", password=READER_PW)
    assert code == 0 and "read 1 (signed) by rx" in out, err
    return files


def _edited(path: Path, target: Path) -> Path:
    content = read_landmark_file(path)
    points = {k: (c + 0.5, r) for k, (c, r) in content.points.items()}
    write_landmark_file(target, replace(content, points=points))
    return target


def test_sign_once_then_amend_with_a_reason(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(db_url, monkeypatch, capsys)
    files = _signed_study(cli, tmp_path)
    edited = _edited(files[0], tmp_path / "edited.json")
    code, out, err = cli("reads", "import", str(edited), "--sign", user="rx", password=READER_PW)
    assert code != 0 and "already signed" in err and "kyphoangle reads amend 1" in err and "signed" not in out
    code, out, _ = cli("reads", "list", user="dm", password=MANAGER_PW)
    assert out.count("\n") == 2  # header and the one read: the refused import left nothing behind

    code, out, err = cli("reads", "amend", "1", str(edited), "--reason", " ", user="rx", password=READER_PW)
    assert code == 2 and "needs a reason" in err
    code, out, err = cli(
        "reads", "amend", "1", str(edited), "--reason", "T12 corner misplaced", user="rx", password=READER_PW
    )
    found = re.fullmatch(r"read (\d+) \(version 2, draft\) amends read 1\n", out)
    assert code == 0 and found, err
    new = found.group(1)  # PostgreSQL spends an id on the refused import
    code, out, err = cli("reads", "sign", new, user="rx", password=READER_PW)
    assert code == 0 and out == f"read {new} signed by rx (amendment)\n", err
    code, out, err = cli(
        "reads", "amend", "1", str(edited), "--reason", "again", "--sign", user="rx", password=READER_PW
    )
    assert code == 2 and f"superseded by read {new}" in err

    code, out, _ = cli("reads", "list", user="dm", password=MANAGER_PW)
    listed = [line.split("\t") for line in out.splitlines()]
    header = listed[0]
    rows = [dict(zip(header, line, strict=True)) for line in listed[1:]]
    assert [(r["read_id"], r["status"], r["read_version"], r["amends"]) for r in rows] == [
        ("1", "superseded", "1", ""),
        (new, "signed", "2", "1"),
    ]
    assert rows[0]["meaning"] == "site read" and rows[1]["meaning"] == "amendment"
    assert rows[1]["signed_by"] == "rx" and rows[1]["signed_at_utc"].startswith("20")

    current, history = tmp_path / "current.csv", tmp_path / "history.csv"
    assert cli("export", "csv", str(current), user="dm", password=MANAGER_PW)[0] == 0
    assert cli("export", "csv", str(history), "--history", user="dm", password=MANAGER_PW)[0] == 0
    versions = {(r["read_id"], r["read_version"], r["amends_read_id"]) for r in _rows(current)}
    assert versions == {(new, "2", "1")}
    assert {r["read_id"] for r in _rows(history)} == {"1", new}
    assert {r["signature_meaning"] for r in _rows(history)} == {"site read", "amendment"}
    for path in (current, history, tmp_path / "current.dictionary.csv"):
        assert _mode(path) == 0o600, path
    if "://" not in db_url:
        assert _mode(Path(db_url)) == 0o600
    code, out, _ = cli("audit", "verify")
    assert code == 0 and "2 signatures" in out


def test_names_are_cleaned_for_the_terminal(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(db_url, monkeypatch, capsys)
    _signed_study(cli, tmp_path)
    out_csv = tmp_path / "out.csv"
    assert cli("export", "csv", str(out_csv), user="dm", password=MANAGER_PW)[0] == 0
    values = [r["value"] for r in _rows(out_csv) if r["value"]]
    assert values and all(float(v) == float(v) for v in values)  # numbers are never neutralised
    code, _, err = cli(
        "users", "add", "mallory", "--role", "site_reader", "--name", "Mal\x1b[2J\x07lory\u202e",
        user="boss", password=ADMIN_PW, new="long enough password",
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = cli("users", "list", user="boss", password=ADMIN_PW)
    assert "Mal[2Jlory" in out and "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    code, _, err = cli(
        "users", "add", "shorty", "--role", "site_reader", user="boss", password=ADMIN_PW, new="nine char"
    )
    assert code == 2 and "at least 10 characters" in err


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (root only): full disks and read-only folders for real."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)]).returncode != 0:
        pytest.skip("tmpfs cannot be mounted here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> None:
    with (folder / "filler").open("wb", buffering=0) as stream:
        try:
            while True:
                stream.write(b"\0" * 1024)
        except OSError:
            pass


def test_full_disk_and_read_only_target_give_one_line(
    db_url: str,
    tmp_path: Path,
    small_disk: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli = Cli(db_url, monkeypatch, capsys)
    _signed_study(cli, tmp_path)
    _fill(small_disk)
    target = small_disk / "results.csv"
    code, out, err = cli("export", "csv", str(target), user="dm", password=MANAGER_PW)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "the disk is full" in err and "Traceback" not in err
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]  # no partial file
    code, out, err = cli("reads", "export", str(small_disk / "reads"), user="dm", password=MANAGER_PW)
    assert code == 2 and "the disk is full" in err and "written" not in out
    (small_disk / "filler").unlink()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    code, out, err = cli("export", "csv", str(target), user="dm", password=MANAGER_PW)
    assert code == 2 and out == "" and err.count("\n") == 1 and "read-only" in err


def test_signing_on_a_full_disk_says_nothing_was_signed(
    tmp_path: Path, small_disk: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The database itself on a full disk: the commit fails, and "signed" is never printed."""
    built = tmp_path / "study.sqlite3"
    cli = Cli(str(built), monkeypatch, capsys)
    files = _signed_study(cli, tmp_path)
    code, out, _ = cli("reads", "import", str(files[2]), user="rx", password=READER_PW)
    assert code == 0 and "(draft)" in out
    assert cli("audit", "verify")[0] == 0  # checkpoints the WAL into the file
    on_disk = small_disk / "study.sqlite3"
    shutil.copyfile(built, on_disk)
    _fill(small_disk)
    cli = Cli(str(on_disk), monkeypatch, capsys)
    code, out, err = cli("reads", "sign", "2", user="rx", password=READER_PW)
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    (small_disk / "filler").unlink()
    code, out, err = cli("reads", "list", "--status", "signed", user="dm", password=MANAGER_PW)
    assert code == 0 and out.count("\n") == 2, err  # still only read 1 signed


def test_points_unchanged_import_is_recognised(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(db_url, monkeypatch, capsys)
    files = _signed_study(cli, tmp_path)
    code, out, _ = cli("reads", "import", str(files[0]), "--sign", user="rx", password=READER_PW)
    assert code == 0 and "already imported as read 1 (signed)" in out
