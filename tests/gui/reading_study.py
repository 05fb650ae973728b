"""The GUI tests' study database and reads: passwords of its admin and site reader, importing films as
the admin, and placing a read's landmarks where the film's truth has them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from app.commands import PlaceLandmarkCommand, SetFracturedLevelsCommand
from app.reading_view import ReadingView
from kyphoangle.workstation.study_reads import StudyReadService

ADMIN_PASSWORD = "admin-password"
DEMO_PASSWORD = "demo-password"


def import_films(store: StudyReadService, *paths: Path) -> None:
    """Import films into the store's study database as its admin (readers cannot import)."""
    admin = StudyReadService(store.database)
    admin.authenticate("admin", ADMIN_PASSWORD)
    report = admin.import_paths(paths, lambda *_: None, lambda: False)
    assert not report.errors, report


def place_every_landmark(
    reading: ReadingView, truth: Mapping[str, tuple[float, float]], levels: tuple[str, ...] = ()
) -> None:
    """Tick `levels` as fractured (when given), then place every landmark the guidance asks for and that
    is not placed yet at its true position, one undoable step each, as a reader's clicks would."""
    if levels:
        reading.undo_stack.push(SetFracturedLevelsCommand(reading.model, levels))
    for step in reading.steps:
        if step.key not in reading.model.points:
            reading.undo_stack.push(PlaceLandmarkCommand(reading.model, step.key, truth[step.key]))
