"""The database commands end to end: users, import, subjects, visits, reads, export, recompute, audit."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from storage_helpers import vertebra_points, write_film

from kyphoangle.cli import main
from kyphoangle.landmark_file import LandmarkFile, write_landmark_file
from kyphoangle.protocol import GlobalEndpoints, NotEvaluable
from kyphoangle.spacing import PixelSpacing
from kyphoangle.storage import open_database
from kyphoangle.storage.models import Read

ADMIN_PW, MANAGER_PW, READER_PW = "admin password", "manager password", "reader password"


class Cli:
    """Runs `kyphoangle` in-process against one database, as a given user."""

    def __init__(self, db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.db, self.monkeypatch, self.capsys = db, monkeypatch, capsys
        monkeypatch.delenv("KYPHOANGLE_DB", raising=False)
        monkeypatch.delenv("KYPHOANGLE_USER", raising=False)

    def __call__(
        self, *argv: str, user: str | None = None, password: str | None = None, new: str | None = None
    ) -> tuple[int, str, str]:
        for name, value in (("KYPHOANGLE_PASSWORD", password), ("KYPHOANGLE_NEW_PASSWORD", new)):
            if value is None:
                self.monkeypatch.delenv(name, raising=False)
            else:
                self.monkeypatch.setenv(name, value)
        args = [*argv, "--db", self.db] + (["--user", user] if user else [])
        code = main(args)
        out, err = self.capsys.readouterr()
        return code, out, err


def _bootstrap(cli: Cli) -> None:
    assert cli("users", "add", "boss", "--role", "admin", new=ADMIN_PW)[0] == 0
    assert (
        cli("users", "add", "dm", "--role", "data_manager", user="boss", password=ADMIN_PW, new=MANAGER_PW)[0]
        == 0
    )
    assert (
        cli("users", "add", "rx", "--role", "site_reader", user="boss", password=ADMIN_PW, new=READER_PW)[0]
        == 0
    )


def _films(folder: Path) -> list[str]:
    write_film(folder, "bl.dcm", patient_id="P1", uid="1.2.9.1", study_date=dt.date(2024, 3, 1))
    write_film(folder, "d90.dcm", patient_id="P1", uid="1.2.9.2", study_date=dt.date(2024, 6, 3))
    write_film(folder, "p2.dcm", patient_id="P2", uid="1.2.9.3", study_date=dt.date(2024, 5, 1))
    return ["1.2.9.1", "1.2.9.2", "1.2.9.3"]


def _points(scale: float = 0.05) -> dict[str, tuple[float, float]]:
    # The test films are 32 x 64 pixels: shrink the synthetic spine onto them.
    return {k: (c * scale, r * scale * 0.5) for k, (c, r) in vertebra_points().items()}


def _landmark_files(folder: Path) -> list[Path]:
    folder.mkdir(exist_ok=True)
    contents = [
        LandmarkFile("1.2.9.1", _points(), reader="rx", fractured_levels=("L1",)),
        LandmarkFile(
            "1.2.9.2",
            _points(),
            reader="rx",
            fractured_levels=("L1", "L2"),
            not_evaluable={"L2": NotEvaluable("double_contour")},
            normal_table="kwon-2019",
            endpoints=GlobalEndpoints.parse("T5.superior-T12.inferior", "L1.superior-L5.inferior"),
            calibration=PixelSpacing.manual(0.2, 0.25),
        ),
        LandmarkFile("1.2.9.3", _points(0.04), reader="rx", fractured_levels=("T12",)),
    ]
    paths = []
    for n, content in enumerate(contents):
        path = folder / f"{n}.json"
        write_landmark_file(path, content)
        paths.append(path)
    return paths


def test_study_workflow_from_the_command_line(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(db_url, monkeypatch, capsys)
    _bootstrap(cli)
    code, _, err = cli("users", "add", "sneaky", "--role", "admin", new=ADMIN_PW)
    assert code == 2 and "--user" in err
    code, _, err = cli("users", "add", "x", "--role", "admin", user="dm", password=MANAGER_PW, new=ADMIN_PW)
    assert code == 3 and "data managers cannot manage users" in err
    code, _, err = cli("users", "list", user="dm", password="wrong password")
    assert code == 2 and "wrong login or password" in err

    uids = _films(tmp_path / "films")
    code, _, err = cli("import", str(tmp_path / "films"), user="rx", password=READER_PW)
    assert code == 3 and "site readers cannot import images" in err
    code, out, _ = cli("import", str(tmp_path / "films"), user="dm", password=MANAGER_PW)
    assert code == 0 and "new films: 3" in out and "S001, S002" in out
    code, out, _ = cli("import", str(tmp_path / "films"), "--quiet", user="dm", password=MANAGER_PW)
    assert code == 0 and "already imported: 3" in out

    code, out, _ = cli(
        "subjects", "set", "S001", "--procedure-date", "2024-03-05", "--levels", "L1,L2", "--site", "LYON",
        "--diagnosis", "myeloma", user="dm", password=MANAGER_PW,
    )  # fmt: skip
    assert code == 0
    code, out, err = cli(
        "subjects", "set", "S001", "--procedure-date", "2024-03-06", user="dm", password=MANAGER_PW
    )
    assert code == 2 and "needs a reason" in err
    code, out, _ = cli("subjects", "list", user="rx", password=READER_PW)
    assert "S001\tLYON\tmyeloma\t2024-03-05\tL1,L2" in out and "Name^P1" not in out
    code, _, err = cli("subjects", "list", "--identity", user="rx", password=READER_PW)
    assert code == 3
    code, out, _ = cli("subjects", "list", "--identity", user="dm", password=MANAGER_PW)
    assert "Name^P1" in out
    code, out, _ = cli("images", "list", "--subject", "S001", user="dm", password=MANAGER_PW)
    assert "1.2.9.1\tS001\tbaseline\tautomatic\t-4" in out and "1.2.9.2\tS001\tD90\tautomatic\t90" in out
    code, out, _ = cli(
        "visits",
        "assign",
        uids[2],
        "unscheduled",
        "--reason",
        "wrong patient",
        user="dm",
        password=MANAGER_PW,
    )
    assert code == 0 and "unscheduled" in out
    code, out, _ = cli("visits", "list", user="rx", password=READER_PW)
    assert "D15\tDay 15 (D12 to D18)\t15\t12\t18" in out

    files = _landmark_files(tmp_path / "reads")
    code, out, err = cli("reads", "import", *map(str, files), "--sign", user="dm", password=MANAGER_PW)
    assert code == 3 and "data managers cannot sign reads" in err
    code, out, err = cli("reads", "import", str(files[0]), "--sign", user="rx", password=READER_PW)
    assert code == 0 and "(signed) by rx" in out
    code, out, err = cli("reads", "import", *map(str, files), user="dm", password=MANAGER_PW)
    assert code == 0 and "already imported as read 1" in out and out.count("(draft) by rx") == 2
    code, out, _ = cli("reads", "sign", "2", "3", user="rx", password=READER_PW)
    assert code == 0 and "read 3 signed" in out
    code, out, _ = cli("reads", "list", user="rx", password=READER_PW)
    assert out.count("\tsigned\t") == 3

    code, out, _ = cli("export", "csv", str(tmp_path / "out.csv"), "--wide", user="dm", password=MANAGER_PW)
    assert code == 0 and (tmp_path / "out.dictionary.csv").exists()
    with open(tmp_path / "out.csv", encoding="utf-8") as stream:
        wide = list(csv.DictReader(stream))
    assert [r["read_id"] for r in wide] == ["1", "2", "3"] and wide[1]["not_evaluable_L2"] == "double_contour"
    assert wide[1]["spacing_source"] == "manual" and wide[1]["normal_table"] == "kwon-2019"
    code, out, _ = cli("export", "csv", str(tmp_path / "x.csv"), user="rx", password=READER_PW)
    assert code == 3

    code, out, _ = cli("recompute", "--normal-table", "shi-2020", user="dm", password=MANAGER_PW)
    assert code == 0 and "reads checked: 3" in out
    code, out, _ = cli("audit", "list", "--entity", "measurements", "--json", user="dm", password=MANAGER_PW)
    assert (
        code == 0 and len(out.splitlines()) == 3 and json.loads(out.splitlines()[0])["action"] == "recompute"
    )
    code, out, _ = cli("audit", "list", "--last", "2", user="boss", password=ADMIN_PW)
    assert len(out.splitlines()) == 3
    assert cli("audit", "verify")[0] == 0


def test_reads_export_then_import_reproduces_measurements(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = Cli(db_url, monkeypatch, capsys)
    _bootstrap(first)
    _films(tmp_path / "films")
    first("import", str(tmp_path / "films"), user="dm", password=MANAGER_PW)
    files = _landmark_files(tmp_path / "in")
    assert (
        first(
            "reads",
            "import",
            *map(str, files),
            user="rx",
            password=READER_PW,
        )[0]
        == 0
    )
    assert first("reads", "sign", "1", user="rx", password=READER_PW)[0] == 0
    assert first("reads", "export", str(tmp_path / "out"), user="dm", password=MANAGER_PW)[0] == 0
    exported = sorted((tmp_path / "out").glob("read-*.json"))
    assert [p.name for p in exported] == ["read-000001.json", "read-000002.json", "read-000003.json"]
    assert json.loads(exported[1].read_text())["format"] == "kyphoangle.landmarks/1"

    # A second, fresh database with the same films and users.
    second_url = str(tmp_path / "second.sqlite3")
    second = Cli(second_url, monkeypatch, capsys)
    _bootstrap(second)
    second("import", str(tmp_path / "films"), user="dm", password=MANAGER_PW)
    assert second("reads", "import", *map(str, exported), user="dm", password=MANAGER_PW)[0] == 0

    def measurements(url: str) -> dict[tuple[str, str], set[tuple[object, ...]]]:
        database = open_database(url)
        try:
            with database.reading() as session:
                result: dict[tuple[str, str], set[tuple[object, ...]]] = {}
                for read in session.query(Read).all():
                    key = (read.image.sop_instance_uid, read.reader.login)
                    result[key] = {
                        (
                            str(m.name),
                            m.level,
                            m.value,
                            str(m.unit),
                            m.normal_table_name,
                            m.endpoints,
                            str(m.spacing_source),
                        )
                        for m in read.measurements
                    }
                return result
        finally:
            database.dispose()

    before, after = measurements(db_url), measurements(second_url)
    assert before == after and len(before) == 3
    assert any(m[4] == "kwon-2019" for m in before[("1.2.9.2", "rx")])


def test_audit_verify_names_the_tampered_event(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(db_url, monkeypatch, capsys)
    _bootstrap(cli)
    code, out, _ = cli("audit", "verify")
    assert code == 0 and "intact: 4 events" in out
    database = open_database(db_url)
    with database.engine.begin() as connection:
        if database.is_sqlite:
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_change ON audit_event")
        connection.execute(text("UPDATE audit_event SET actor_login = 'mallory' WHERE sequence = 3"))
    code, out, _ = cli("audit", "verify")
    assert code == 1 and "event 3" in out and "altered" in out
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE sequence = 2"))
    code, out, _ = cli("audit", "verify")
    assert code == 1 and "event 2 deleted" in out
    database.dispose()
