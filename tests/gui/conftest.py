"""Qt tests run offscreen with settings in a temporary folder; shared films and windows."""

from __future__ import annotations

import os

# Before anything imports Qt. The check script re-runs the screenshot test on a real X server (Xvfb)
# by setting KYPHOANGLE_TEST_QT_PLATFORM=xcb.
os.environ["QT_QPA_PLATFORM"] = os.environ.get("KYPHOANGLE_TEST_QT_PLATFORM", "offscreen")

import sys
from collections.abc import Iterator
from pathlib import Path

# Helper modules of these tests (campaign_study, blinded_helpers) are imported by their plain names.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

import pytest
from PySide6.QtCore import QSettings
from reading_study import ADMIN_PASSWORD, DEMO_PASSWORD, import_films

from app.sample_film import SampleFilm, write_sample_film
from kyphoangle.vocabulary import UserRole
from kyphoangle.workstation.accounts import add_user, create_first_admin
from kyphoangle.workstation.connection import open_study, sign_in
from kyphoangle.workstation.records import Account
from kyphoangle.workstation.study_reads import StudyReadService


@pytest.fixture(autouse=True, scope="session")
def _temporary_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
    yield


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def store(tmp_path: Path) -> StudyReadService:
    """A real study database (SQLite in tmp_path) with an admin and the site reader "demo", signed in."""
    database = open_study(str(tmp_path / "data" / "study.sqlite3"))
    create_first_admin(database, "admin", ADMIN_PASSWORD)
    add_user(
        sign_in(database, "admin", ADMIN_PASSWORD), "demo", UserRole.SITE_READER, DEMO_PASSWORD, "Demo reader"
    )
    service = StudyReadService(database)
    service.authenticate("demo", DEMO_PASSWORD)
    yield service
    database.dispose()


@pytest.fixture
def demo_reader(store: StudyReadService) -> Account:
    return store.account


@pytest.fixture
def sample_film(tmp_path: Path, store: StudyReadService) -> SampleFilm:
    film = write_sample_film(tmp_path / "films" / "film.dcm", seed=1)
    import_films(store, film.path)
    return film
