"""`kyphoangle support-bundle`: logs, versions, schema revision and settings, and never patient data."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from storage_helpers import write_film

from kyphoangle.cli import main
from kyphoangle.storage.engine import head_revision

SENTINEL = "SENTINELXQZ"
"""Planted in patient names, IDs, file and folder names: it must appear nowhere in the bundle."""


@pytest.fixture
def folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("KYPHOANGLE_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("KYPHOANGLE_DATA_DIR", str(tmp_path / "data"))
    for name in ("KYPHOANGLE_DB", "KYPHOANGLE_USER", "KYPHOANGLE_PASSWORD", "KYPHOANGLE_NEW_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_bundle_holds_what_support_needs_and_no_patient_data(
    folders: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    films = folders / f"{SENTINEL}^JANE"
    write_film(films, f"{SENTINEL}_1.dcm", patient_id=f"{SENTINEL}-ID", uid="1.2.826.0.1.3680043.10.1")
    monkeypatch.setenv("KYPHOANGLE_NEW_PASSWORD", "admin password")
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", "admin password")
    assert main(["--db", db_url, "users", "add", "admin", "--role", "admin"]) == 0
    assert main(["--db", db_url, "import", str(films), "--user", "admin", "--quiet"]) == 0
    # refusals that name the patient's files and values go to the log too
    assert main(["measure", str(films / f"{SENTINEL}_1.dcm"), "--landmarks", f"{SENTINEL}.json"]) == 2
    assert main(["--db", db_url, "subjects", "set", f"{SENTINEL}-ID", "--user", "admin"]) != 0
    capsys.readouterr()

    bundle = folders / "support.zip"
    assert main(["support-bundle", str(bundle), "--db", db_url]) == 0
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        contents = {name: archive.read(name).decode() for name in names}
    assert {"README.txt", "versions.json", "settings.json", "database.json", "logs/kyphoangle.log"} <= set(
        names
    )
    for name, text in contents.items():
        assert SENTINEL not in text, name
        assert "admin password" not in text, name
    log = contents["logs/kyphoangle.log"]
    assert "kyphoangle 0.1.0: import" in log and "refused (" in log
    versions = json.loads(contents["versions.json"])
    assert versions["libraries"]["pydicom"].startswith("3.")
    assert versions["libraries"]["psycopg"] != "not installed"
    assert versions["qt"].startswith("6.")
    assert versions["sqlite"].count(".") == 2
    assert "pylibjpeg" in versions["decoders"]["JPEG 2000 Image Compression (Lossless Only)"]
    database = json.loads(contents["database.json"])
    assert database["schema_revision"] == database["program_schema_head"] == head_revision()
    assert database["rows_per_table"]["image"] == 1
    assert database["rows_per_table"]["subject_identity"] == 1
    settings = json.loads(contents["settings.json"])
    assert settings["environment"]["KYPHOANGLE_PASSWORD"] == "(set; not shown)"
    assert settings["log_folder"] == str(folders / "logs")


def test_the_bundle_can_go_to_standard_output(
    folders: Path, capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    assert main(["support-bundle", "-", "--db", str(tmp_path / "none.sqlite3")]) == 0
    data = capsysbinary.readouterr().out
    target = tmp_path / "from-stdout.zip"
    target.write_bytes(data)
    with zipfile.ZipFile(target) as archive:
        facts = json.loads(archive.read("database.json"))
    assert facts["error"] == "no database file yet"
    assert not (tmp_path / "none.sqlite3").exists()
