"""Snapping proposals for the film being read: the corner or the endplate line the film suggests.

Qt-free: the window asks for a proposal after each placement, the view draws it, and only the reader's
Enter (or a click on it) turns it into an undoable edit. Nothing here changes the read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.film import FilmLike
from app.guidance import describe_key
from kyphoangle.anatomy import LandmarkKey
from kyphoangle.errors import KyphoangleError
from kyphoangle.geometry import Point
from kyphoangle.snapping import SnapFilm, propose_corner, propose_endplate
from kyphoangle.vocabulary import Corner

Position = tuple[float, float]

SETTING_PREFIX = "snapping/"
"""Settings key of a reader's choice, followed by the login: snapping is opt-in per reader."""


@dataclass(frozen=True, slots=True)
class ProposedMove:
    """One landmark a proposal would move: from where it is to where the film suggests."""

    key: str
    start: Position
    end: Position


@dataclass(frozen=True, slots=True)
class PendingProposal:
    """A proposal shown next to the reader's points, waiting for Enter (accept) or Esc (keep them)."""

    moves: tuple[ProposedMove, ...]
    confidence: float
    what: str
    """What is proposed, in words ("L1 superior endplate, anterior corner", "L1 superior endplate line")."""
    line: bool = False
    """An endplate line (its corners, and its middle point when placed) rather than one corner."""


def _point(position: Position) -> Point:
    return Point(position[0], position[1])


class SnapAssistant:
    """Proposes snapped corners and endplate lines on the current film (prepared once per film)."""

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
        placed = {other: _point(position) for other, position in points.items() if other != key}
        try:
            proposal = propose_corner(self._film, key, _point(click), placed)
        except KyphoangleError:
            return None
        if proposal is None:
            return None
        end = (proposal.position.column, proposal.position.row)
        return PendingProposal((ProposedMove(key, click, end),), proposal.confidence, describe_key(key))

    def propose_line(self, key: str, points: Mapping[str, Position]) -> PendingProposal | None:
        """Once both corners of `key`'s endplate are placed: the endplate fitted between them, or None."""
        if self._film is None:
            return None
        try:
            endplate = LandmarkKey.parse(key).endplate
        except KyphoangleError:
            return None
        corners = endplate.line_keys
        if not all(corner in points for corner in corners):
            return None
        placed = {other: _point(position) for other, position in points.items()}
        proposal = propose_endplate(self._film, str(endplate), placed)
        if proposal is None:
            return None
        ends = {
            corners[0]: proposal.posterior,
            corners[1]: proposal.anterior,
            endplate.key(Corner.MIDDLE): proposal.middle,
        }
        moves = tuple(
            ProposedMove(name, points[name], (end.column, end.row))
            for name, end in ends.items()
            if name in points
        )
        return PendingProposal(
            moves, proposal.confidence, f"{endplate.vertebra} {endplate.side} endplate line", True
        )
