"""Counting the levels up the spine from S1, to check the names the reader gave (pure Python, no Qt).

The commonest error on a thoracolumbar film is a wrong level: a body named L1 that is T12. The count
starts at S1 when it is placed (else at the lowest endplate placed, whose name it takes as given) and
walks up the spine, along the line through the middles of the endplates placed, one vertebral body
height per body and `DISC_TO_BODY` of it per disc (the prediction's steps, `app.prediction`), each
height the nearest placed vertebra's. Each counted level gets a tick across its predicted centre and
its name; a level the reader placed whose centre is more than half a level away from the counted one
is marked as disagreeing. The count depends on the placed points' positions only, not on their names
(except the start's): a body named one level off shows against its tick. It is an aid the reader
confirms on the film, never a correction; nothing is counted from fewer than two placed endplates.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass

from app.prediction import DISC_TO_BODY, body_height
from kyphoangle.anatomy import EndplateRef, LandmarkKey
from kyphoangle.vocabulary import Corner, EndplateSide, Vertebra

Position = tuple[float, float]

TICK_HALF_WIDTH = 0.3
"""Half the length of a tick across a counted centre, in endplate lengths."""
LEVELS_BEYOND = 1
"""How many levels the count goes past the highest endplate placed."""
DISAGREE_FRACTION = 0.5
"""A placed vertebra whose centre is further than this many level steps from its counted centre
disagrees with the count."""


@dataclass(frozen=True, slots=True)
class CountedLevel:
    """One level as counted: where its centre should be, and a tick across it."""

    vertebra: Vertebra
    centre: Position
    tick: tuple[Position, Position]
    """A short segment across the spine through the centre, posterior end first."""
    start: EndplateRef | None = None
    """For the start of the count (S1, else the lowest endplate placed): that endplate, whose middle
    the tick crosses."""
    placed_as: Vertebra | None = None
    """The name the reader gave the body placed here, if any."""
    disagrees: bool = False
    """The body placed here has another name, or this level was placed more than half a level away."""

    @property
    def text(self) -> str:
        """The label drawn beside the tick: `L2?` (counted, to confirm), `L2? placed as L1`, and for
        the start `count from S1` (or `count from L3 inferior`)."""
        if self.start is not None:
            side = "" if self.start.vertebra is Vertebra.S1 else f" {self.start.side}"
            return f"count from {self.start.vertebra}{side}"
        if self.placed_as is not None and self.placed_as is not self.vertebra:
            return f"{self.vertebra}? placed as {self.placed_as}"
        return f"{self.vertebra}? placed elsewhere" if self.disagrees else f"{self.vertebra}?"


@dataclass(frozen=True, slots=True)
class LevelCount:
    """The levels counted from the start upward."""

    start: Vertebra
    levels: tuple[CountedLevel, ...]

    @property
    def caption(self) -> str:
        """What the view writes beside the count, so no one takes it for the reader's own labels."""
        return f"Levels counted from {self.start}: confirm each on the film"


def _index(ref: EndplateRef) -> int:
    order, side = ref.sort_key
    return 2 * order + side


def _midpoint(a: Position, b: Position) -> Position:
    return (a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0


class _Path:
    """The line through the middles of the placed endplates, from the start up, by length along it."""

    def __init__(self, points: list[Position]) -> None:
        self.points = points
        self.lengths = [0.0]
        for a, b in itertools.pairwise(points):
            self.lengths.append(self.lengths[-1] + math.dist(a, b))

    @property
    def length(self) -> float:
        return self.lengths[-1]

    def at(self, s: float) -> Position:
        """The point `s` along the path; beyond its end, straight on along its last segment."""
        segment = min(max(bisect_right(self.lengths, s) - 1, 0), len(self.points) - 2)
        a, b = self.points[segment], self.points[segment + 1]
        span = self.lengths[segment + 1] - self.lengths[segment] or 1.0
        t = (s - self.lengths[segment]) / span
        return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t


def count_levels(points: Mapping[str, Position]) -> LevelCount | None:
    """The levels counted up from S1 (or the lowest placed endplate), or None when fewer than two
    endplates have both their posterior and anterior corners placed."""
    corners: dict[EndplateRef, dict[Corner, Position]] = {}
    for key, position in points.items():
        parsed = LandmarkKey.parse(key)
        corners.setdefault(parsed.endplate, {})[parsed.corner] = position
    whole = {
        ref: (c[Corner.POSTERIOR], c[Corner.ANTERIOR])
        for ref, c in corners.items()
        if Corner.POSTERIOR in c and Corner.ANTERIOR in c
    }
    if len(whole) < 2:
        return None
    order = sorted(whole, key=_index, reverse=True)  # caudal first: the count goes up
    start = order[0]
    path = _Path([_midpoint(*whole[ref]) for ref in order])
    placed_at = {ref: path.lengths[i] for i, ref in enumerate(order)}
    heights: list[tuple[float, float]] = []  # (length along the path of a body's middle, its height)
    for ref in order:
        if ref.side is EndplateSide.SUPERIOR and ref.vertebra is not Vertebra.S1:
            below = EndplateRef(ref.vertebra, EndplateSide.INFERIOR)
            if below in placed_at:
                heights.append(((placed_at[ref] + placed_at[below]) / 2.0, placed_at[ref] - placed_at[below]))
    fallback = body_height(points) or path.length / max(1.0, _span(_index(order[-1]), _index(start)))

    def height(s: float) -> float:
        if not heights:
            return fallback
        return min(heights, key=lambda item: abs(item[0] - s))[1]

    def across(s: float) -> tuple[Position, float]:
        """The posterior-to-anterior direction and length of the placed endplate nearest `s`."""
        ref = min(order, key=lambda r: abs(placed_at[r] - s))
        (px, py), (ax, ay) = whole[ref]
        length = math.hypot(ax - px, ay - py) or 1.0
        return ((ax - px) / length, (ay - py) / length), length

    def tick(centre: Position, s: float) -> tuple[Position, Position]:
        (ux, uy), length = across(s)
        half = TICK_HALF_WIDTH * length
        return (centre[0] - ux * half, centre[1] - uy * half), (centre[0] + ux * half, centre[1] + uy * half)

    start_vertebra = start.vertebra
    start_centre = path.at(0.0)
    levels = [CountedLevel(start_vertebra, start_centre, tick(start_centre, 0.0), start=start)]
    # Walk endplate by endplate from the start up: a body between the two endplates of a vertebra,
    # a disc between a vertebra's superior endplate and the inferior endplate of the one above.
    bodies: dict[Vertebra, Position] = {}  # the bodies placed whole, by the name the reader gave
    for vertebra in {ref.vertebra for ref in whole}:
        placed = _placed_centre(vertebra, whole)
        if placed is not None:
            bodies[vertebra] = placed
    used: set[Vertebra] = set()
    s, index, endplate_at = 0.0, _index(start), {_index(start): 0.0}
    limit = path.length + (1.0 + DISC_TO_BODY) * height(path.length) * (LEVELS_BEYOND + 0.5)
    while index > 0:
        step = height(s) * (1.0 if (index - 1) % 2 == 0 else DISC_TO_BODY)
        s, index = s + step, index - 1
        endplate_at[index] = s
        if index % 2 == 1 or index + 1 not in endplate_at:
            continue  # a body is counted once both its endplates are
        middle = (endplate_at[index] + endplate_at[index + 1]) / 2.0
        if middle > limit:
            break
        vertebra = tuple(Vertebra)[index // 2]
        centre = path.at(middle)
        tolerance = DISAGREE_FRACTION * (1.0 + DISC_TO_BODY) * height(middle)
        found = min(
            (body for body in bodies if body not in used),
            key=lambda body: math.dist(bodies[body], centre),
            default=None,
        )
        placed_as = None
        if found is not None and math.dist(bodies[found], centre) <= tolerance:
            # A body placed there: it is this level by the count, and the count goes on from it
            # (no drift from the disc heights assumed).
            used.add(found)
            placed_as, centre = found, bodies[found]
            endplate_at[index] = s = placed_at[EndplateRef(found, EndplateSide.SUPERIOR)]
            endplate_at[index + 1] = placed_at[EndplateRef(found, EndplateSide.INFERIOR)]
            middle = (endplate_at[index] + endplate_at[index + 1]) / 2.0
        elsewhere = vertebra in bodies and math.dist(bodies[vertebra], centre) > tolerance
        levels.append(
            CountedLevel(
                vertebra,
                centre,
                tick(centre, middle),
                placed_as=placed_as,
                disagrees=(placed_as is not None and placed_as is not vertebra) or elsewhere,
            )
        )
    return LevelCount(start_vertebra, tuple(levels))


def _span(upper: int, lower: int) -> float:
    """Length along the spine from endplate index `upper` to `lower`, in body heights."""
    return sum(1.0 if i % 2 == 0 else DISC_TO_BODY for i in range(upper, lower))


def _placed_centre(
    vertebra: Vertebra, whole: Mapping[EndplateRef, tuple[Position, Position]]
) -> Position | None:
    """The centre of a vertebra as placed (both endplates whole), else None."""
    if vertebra is Vertebra.S1:
        return None
    upper = whole.get(EndplateRef(vertebra, EndplateSide.SUPERIOR))
    lower = whole.get(EndplateRef(vertebra, EndplateSide.INFERIOR))
    if upper is None or lower is None:
        return None
    return _midpoint(_midpoint(*upper), _midpoint(*lower))
