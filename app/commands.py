"""Undo commands: one per user edit, each calling `ReadModel` methods only (orange/glue pattern)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QUndoCommand

from app.guidance import describe_key
from app.read_model import Position, ReadModel
from kyphoangle.landmark_file import PointProvenance
from kyphoangle.protocol import NotEvaluable

NUDGE_COMMAND_ID = 1001
"""Consecutive arrow-key nudges of one landmark merge into one undo step."""


class SetLandmarkCommand(QUndoCommand):
    """Set one landmark from `old` to `new` (None: absent). Base of place, move and delete.

    A point set by hand has no snapping provenance; undo restores the provenance it had.
    """

    def __init__(
        self,
        model: ReadModel,
        key: str,
        old: Position | None,
        new: Position | None,
        text: str,
        provenance: PointProvenance | None = None,
    ):
        super().__init__(text)
        self.model, self.key, self.old, self.new = model, key, old, new
        self.old_provenance = model.provenance.get(key)
        self.new_provenance = provenance

    def redo(self) -> None:
        """Apply the new position."""
        self.model.set_point(self.key, self.new)
        self.model.set_provenance(self.key, self.new_provenance if self.new is not None else None)

    def undo(self) -> None:
        """Restore the old position."""
        self.model.set_point(self.key, self.old)
        self.model.set_provenance(self.key, self.old_provenance if self.old is not None else None)


class AcceptProposalCommand(SetLandmarkCommand):
    """Move a landmark to the position snapping proposed, as accepted, keeping the reader's click."""

    def __init__(
        self,
        model: ReadModel,
        key: str,
        start: Position,
        proposal: Position,
        *,
        click: Position | None = None,
    ):
        provenance = PointProvenance(proposed=True, accepted=True, click=click or start)
        super().__init__(model, key, start, proposal, f"Snap {describe_key(key)}", provenance)


class PlaceLandmarkCommand(SetLandmarkCommand):
    """Place a landmark (or re-place it over its previous position)."""

    def __init__(self, model: ReadModel, key: str, position: Position, previous: Position | None = None):
        verb = "Re-place" if previous is not None else "Place"
        super().__init__(model, key, previous, position, f"{verb} {describe_key(key)}")


class MoveLandmarkCommand(SetLandmarkCommand):
    """Move a landmark by dragging (one command per drag) or nudging (consecutive nudges merge)."""

    def __init__(self, model: ReadModel, key: str, old: Position, new: Position, *, nudge: bool = False):
        super().__init__(model, key, old, new, f"{'Nudge' if nudge else 'Move'} {describe_key(key)}")
        self.nudge = nudge

    def id(self) -> int:
        """Nudges share an id so that `mergeWith` is tried; drags never merge."""
        return NUDGE_COMMAND_ID if self.nudge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt API)
        """Absorb the next nudge of the same landmark."""
        if not isinstance(other, MoveLandmarkCommand) or not other.nudge or other.key != self.key:
            return False
        self.new = other.new
        return True


class DeleteLandmarkCommand(SetLandmarkCommand):
    """Delete a landmark."""

    def __init__(self, model: ReadModel, key: str, old: Position):
        super().__init__(model, key, old, None, f"Delete {describe_key(key)}")


class SetFracturedLevelsCommand(QUndoCommand):
    """Choose the fractured levels."""

    def __init__(self, model: ReadModel, levels: Iterable[str]):
        self.model = model
        self.old = model.fractured_levels
        self.new = tuple(levels)
        super().__init__(f"Fractured levels: {', '.join(self.new) or 'none'}")

    def redo(self) -> None:
        """Apply the new levels."""
        self.model.set_fractured_levels(self.new)

    def undo(self) -> None:
        """Restore the previous levels."""
        self.model.set_fractured_levels(self.old)


class SetNotEvaluableCommand(QUndoCommand):
    """Mark a level not evaluable with a reason, or clear the mark."""

    def __init__(self, model: ReadModel, level: str, value: NotEvaluable | None):
        self.model, self.level = model, level
        self.old = model.not_evaluable.get(level)
        self.new = value
        text = f"Mark {level} not evaluable ({value})" if value else f"Mark {level} evaluable"
        super().__init__(text)

    def redo(self) -> None:
        """Apply the mark."""
        self.model.set_not_evaluable(self.level, self.new)

    def undo(self) -> None:
        """Restore the previous mark."""
        self.model.set_not_evaluable(self.level, self.old)
