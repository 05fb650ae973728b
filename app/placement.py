"""The landmark placement tool: a small state machine fed plain events, testable without Qt.

Press on empty film with a target landmark starts PLACING (the loupe shows, the point follows the
pointer); release places it. Press on an existing landmark selects it and starts DRAGGING; release
moves it (one undoable edit per drag). Esc cancels either. Positions are image `(column, row)`.
A press or a release outside the film is refused (`Refused`): no landmark lies off the film.
The tool never changes the model: it returns actions for the window to turn into undo commands.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Position = tuple[float, float]


class ToolState(enum.Enum):
    """What the tool is doing."""

    IDLE = "idle"
    PLACING = "placing"
    DRAGGING = "dragging"


@dataclass(frozen=True, slots=True)
class Previewed:
    """The point being placed or dragged is at `position` (not yet an edit)."""

    key: str
    position: Position


@dataclass(frozen=True, slots=True)
class Placed:
    """A landmark was placed (or re-placed over `previous`)."""

    key: str
    position: Position
    previous: Position | None


@dataclass(frozen=True, slots=True)
class Moved:
    """A landmark was dragged or nudged from `old` to `new`."""

    key: str
    old: Position
    new: Position
    nudge: bool = False


@dataclass(frozen=True, slots=True)
class Deleted:
    """A landmark was deleted."""

    key: str
    old: Position


@dataclass(frozen=True, slots=True)
class Selected:
    """The selection changed (None: nothing selected)."""

    key: str | None


@dataclass(frozen=True, slots=True)
class Canceled:
    """Placing or dragging was abandoned; the point is back where it was (or absent)."""

    key: str


@dataclass(frozen=True, slots=True)
class Refused:
    """A point outside the film was refused; the landmark stays where it was (or absent)."""

    key: str
    position: Position


Action = Previewed | Placed | Moved | Deleted | Selected | Canceled | Refused


class PlacementTool:
    """Places, selects, drags, nudges and deletes landmarks; see the module docstring."""

    def __init__(
        self,
        points: Callable[[], Mapping[str, Position]],
        target: Callable[[], str | None],
        bounds: Callable[[], tuple[float, float] | None] = lambda: None,
    ) -> None:
        self._points = points
        self._target = target
        self._bounds = bounds
        """The film's (columns, rows), or None when any position is accepted."""
        self.state = ToolState.IDLE
        self.selected: str | None = None
        self.active: str | None = None
        self.position: Position | None = None
        self._origin: Position | None = None
        self.enabled = True

    def on_film(self, position: Position) -> bool:
        """Whether a position lies on the film (its edges included)."""
        bounds = self._bounds()
        if bounds is None:
            return True
        return 0.0 <= position[0] <= bounds[0] and 0.0 <= position[1] <= bounds[1]

    def hit(self, position: Position, radius: float) -> str | None:
        """The landmark nearest `position` within `radius` image pixels, if any."""
        best, best_distance = None, radius
        for key, point in self._points().items():
            distance = math.dist(point, position)
            if distance <= best_distance:
                best, best_distance = key, distance
        return best

    def press(self, position: Position, radius: float) -> list[Action]:
        """Left button pressed at an image position; `radius` is the pick tolerance in image pixels."""
        if not self.enabled or self.state is not ToolState.IDLE:
            return []
        key = self.hit(position, radius)
        actions: list[Action] = []
        if key is not None:
            self.state, self.active = ToolState.DRAGGING, key
            self._origin = self._points()[key]
            self.position = self._origin
            if self.selected != key:
                self.selected = key
                actions.append(Selected(key))
            return actions
        target = self._target()
        if target is None:
            if self.selected is not None:
                self.selected = None
                actions.append(Selected(None))
            return actions
        if not self.on_film(position):
            return [Refused(target, position)]
        self.state, self.active, self.position = ToolState.PLACING, target, position
        self._origin = self._points().get(target)
        actions.append(Previewed(target, position))
        return actions

    def move(self, position: Position) -> list[Action]:
        """Pointer moved with the button held."""
        if self.state is ToolState.IDLE or self.active is None:
            return []
        self.position = position
        return [Previewed(self.active, position)]

    def release(self, position: Position) -> list[Action]:
        """Left button released: finishes placing or dragging."""
        if self.state is ToolState.IDLE or self.active is None:
            return []
        key, state, origin = self.active, self.state, self._origin
        self._reset()
        if not self.on_film(position):
            return [Refused(key, position)]
        if state is ToolState.PLACING:
            self.selected = key
            return [Placed(key, position, origin), Selected(key)]
        assert origin is not None
        if position == origin:
            return []
        return [Moved(key, origin, position)]

    def cancel(self) -> list[Action]:
        """Esc: abandon placing or dragging, else clear the selection."""
        if self.state is not ToolState.IDLE and self.active is not None:
            key = self.active
            self._reset()
            return [Canceled(key)]
        if self.selected is not None:
            self.selected = None
            return [Selected(None)]
        return []

    def nudge(self, step: Position) -> list[Action]:
        """Move the selected landmark by `step` image pixels (arrow keys)."""
        key = self.selected
        if not self.enabled or self.state is not ToolState.IDLE or key is None:
            return []
        old = self._points().get(key)
        if old is None:
            return []
        new = (old[0] + step[0], old[1] + step[1])
        if not self.on_film(new):
            return [Refused(key, new)]
        return [Moved(key, old, new, nudge=True)]

    def delete(self) -> list[Action]:
        """Delete the selected landmark."""
        key = self.selected
        if not self.enabled or self.state is not ToolState.IDLE or key is None:
            return []
        old = self._points().get(key)
        self.selected = None
        if old is None:
            return [Selected(None)]
        return [Deleted(key, old), Selected(None)]

    def select(self, key: str | None) -> None:
        """Select a landmark from outside (e.g. the step list)."""
        self.selected = key

    def _reset(self) -> None:
        self.state, self.active, self.position, self._origin = ToolState.IDLE, None, None, None
