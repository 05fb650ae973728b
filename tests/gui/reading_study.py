"""The GUI tests' study database: passwords of its admin and site reader, and importing films as the admin."""

from __future__ import annotations

from pathlib import Path

from kyphoangle.workstation.study_reads import StudyReadService

ADMIN_PASSWORD = "admin-password"
DEMO_PASSWORD = "demo-password"


def import_films(store: StudyReadService, *paths: Path) -> None:
    """Import films into the store's study database as its admin (readers cannot import)."""
    admin = StudyReadService(store.database)
    admin.authenticate("admin", ADMIN_PASSWORD)
    report = admin.import_paths(paths, lambda *_: None, lambda: False)
    assert not report.errors, report
