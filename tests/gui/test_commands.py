"""Undo commands against a bare QUndoStack: each calls model methods only."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QUndoStack

from app.commands import (
    DeleteLandmarkCommand,
    MoveLandmarkCommand,
    PlaceLandmarkCommand,
    SetFracturedLevelsCommand,
    SetNotEvaluableCommand,
)
from app.read_model import ReadLockedError, ReadModel, ReadSnapshot
from kyphoangle.protocol import NotEvaluable
from kyphoangle.vocabulary import NotEvaluableReason

KEY = "L1.superior.anterior"


@pytest.fixture
def model() -> ReadModel:
    return ReadModel(ReadSnapshot("1.2.3", "demo"))


def test_place_move_delete_undo_redo(model: ReadModel) -> None:
    stack = QUndoStack()
    changes: list[str] = []
    model.landmark_changed.connect(changes.append)
    stack.push(PlaceLandmarkCommand(model, KEY, (10.5, 20.25)))
    stack.push(MoveLandmarkCommand(model, KEY, (10.5, 20.25), (12.0, 22.0)))
    stack.push(DeleteLandmarkCommand(model, KEY, (12.0, 22.0)))
    assert KEY not in model.points
    stack.undo()
    assert model.points[KEY] == (12.0, 22.0)
    stack.undo()
    assert model.points[KEY] == (10.5, 20.25)
    stack.undo()
    assert KEY not in model.points
    stack.redo()
    stack.redo()
    assert model.points[KEY] == (12.0, 22.0)
    assert stack.count() == 3
    assert changes == [KEY] * 8
    assert stack.undoText() == "Move L1 superior endplate, anterior corner"


def test_consecutive_nudges_merge_but_drags_do_not(model: ReadModel) -> None:
    stack = QUndoStack()
    stack.push(PlaceLandmarkCommand(model, KEY, (10.0, 10.0)))
    for i in range(5):
        stack.push(
            MoveLandmarkCommand(model, KEY, (10.0 + 0.25 * i, 10.0), (10.25 + 0.25 * i, 10.0), nudge=True)
        )
    assert stack.count() == 2
    assert model.points[KEY] == (11.25, 10.0)
    stack.push(MoveLandmarkCommand(model, KEY, (11.25, 10.0), (13.0, 10.0)))
    stack.push(MoveLandmarkCommand(model, KEY, (13.0, 10.0), (14.0, 10.0)))
    assert stack.count() == 4
    stack.undo()
    stack.undo()
    stack.undo()
    assert model.points[KEY] == (10.0, 10.0)


def test_replace_restores_previous_on_undo(model: ReadModel) -> None:
    stack = QUndoStack()
    stack.push(PlaceLandmarkCommand(model, KEY, (1.0, 1.0)))
    stack.push(PlaceLandmarkCommand(model, KEY, (5.0, 5.0), previous=(1.0, 1.0)))
    assert stack.undoText().startswith("Re-place")
    stack.undo()
    assert model.points[KEY] == (1.0, 1.0)


def test_levels_and_not_evaluable(model: ReadModel) -> None:
    stack = QUndoStack()
    stack.push(SetFracturedLevelsCommand(model, ("L2", "T12")))
    assert model.fractured_levels == ("T12", "L2")
    stack.push(SetNotEvaluableCommand(model, "L2", NotEvaluable(NotEvaluableReason.OBSCURED)))
    assert model.not_evaluable["L2"].reason is NotEvaluableReason.OBSCURED
    stack.undo()
    assert "L2" not in model.not_evaluable
    stack.undo()
    assert model.fractured_levels == ()


def test_signed_read_refuses_edits(model: ReadModel) -> None:
    model.mark_signed()
    with pytest.raises(ReadLockedError, match="locked"):
        model.set_point(KEY, (1.0, 1.0))
    with pytest.raises(ReadLockedError):
        model.set_fractured_levels(("L1",))
