"""Fixtures of the DICOM exchange and export tests: the demo study installed once, copied per test."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kyphoangle.cli import main
from kyphoangle.storage import Database, open_database

ADMIN_PASSWORD = "demo-admin"


@dataclass(frozen=True)
class DemoStudy:
    """A copy of the demo database (2 subjects, signed site reads, a read pilot campaign) and its films."""

    db: Path
    films: Path

    def open(self) -> Database:
        return open_database(str(self.db))


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> DemoStudy:
    folder = tmp_path_factory.mktemp("demo")
    db, films = folder / "demo.sqlite3", folder / "films"
    argv = ["demo", "install", "--db", str(db), "--folder", str(films), "--subjects", "2"]
    assert main(argv) == 0
    return DemoStudy(db, films)


@pytest.fixture
def demo(demo_template: DemoStudy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoStudy]:
    """A fresh copy of the demo database (the films are shared, read-only by the tests)."""
    copy = tmp_path / "demo.sqlite3"
    # The backup API copies what the write-ahead log holds too (a file copy would miss it).
    with sqlite3.connect(demo_template.db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    monkeypatch.setenv("KYPHOANGLE_DB", str(copy))
    yield DemoStudy(copy, demo_template.films)


@pytest.fixture(scope="session")
def scp_port() -> int:
    """The port of kyphoangle's Storage SCP in the tests (Orthanc sends C-MOVEs there)."""
    from orthanc_server import free_port

    return free_port()


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory, scp_port: int) -> Iterator[object]:
    """One Orthanc for the session (emptied by tests that need it empty)."""
    from orthanc_server import start_orthanc

    server = start_orthanc(tmp_path_factory.mktemp("orthanc"), our_port=scp_port)
    try:
        yield server
    finally:
        server.stop()
