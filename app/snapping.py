"""Snapping proposals for the film being read: which corner the film suggests near the reader's click.

Qt-free: the window asks for a proposal after each placement, the view draws it, and only the reader's
Enter (or a click on it) turns it into an undoable edit. Nothing here changes the read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.film import FilmLike
from kyphoangle.errors import KyphoangleError
from kyphoangle.geometry import Point
from kyphoangle.snapping import SnapFilm, propose_corner

Position = tuple[float, float]

SETTING_PREFIX = "snapping/"
"""Settings key of a reader's choice, followed by the login: snapping is opt-in per reader."""


@dataclass(frozen=True, slots=True)
class PendingProposal:
    """A proposal shown next to the reader's click, waiting for Enter (accept) or Esc (keep the click)."""

    key: str
    click: Position
    position: Position
    confidence: float


class SnapAssistant:
    """Proposes snapped corners on the current film (prepared once per film)."""

    def __init__(self) -> None:
        self._film: SnapFilm | None = None

    def set_film(self, film: FilmLike | None) -> None:
        """Use this film for the next proposals (None: no film, no proposals)."""
        self._film = None
        if film is not None:
            try:
                self._film = SnapFilm.from_radiograph(film)
            except ValueError:
                self._film = None  # an empty or not 2-D image: nothing to snap to

    def propose(self, key: str, click: Position, points: Mapping[str, Position]) -> PendingProposal | None:
        """The proposal for `key` clicked at `click`, given the other placed points, or None."""
        if self._film is None:
            return None
        placed = {other: Point(*position) for other, position in points.items() if other != key}
        try:
            proposal = propose_corner(self._film, key, Point(*click), placed)
        except KyphoangleError:
            return None
        if proposal is None:
            return None
        position = (proposal.position.column, proposal.position.row)
        return PendingProposal(key, click, position, proposal.confidence)
