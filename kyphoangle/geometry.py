"""Points, endplates, signed angles and distances in millimetre space: pure numpy, no files.

Coordinate convention (DOMAIN.md): a point is `(column, row)` in image pixels, DICOM image-relative
(the top-left corner of the first pixel is (0, 0)). Rows grow downward. Before any angle is taken,
column differences are multiplied by the column spacing and row differences by the row spacing, so
that non-square pixels give the true angle.

Sign convention: kyphosis positive, lordosis negative, whichever way the patient faces and however the
film is turned. Two things of the film fix the sign, never the order of clicks or of midpoints:
- the endplates' own posterior-to-anterior vectors (the anterior direction), and
- the film's `Turn`: whether, as displayed, the caudal direction lies a quarter turn clockwise or
  counter-clockwise from the anterior direction. Rotating a film keeps its turn; mirroring flips it. A
  whole film's turn is read from its most cranial and most caudal endplates, far apart on the spine.
The angle from an upper endplate to a lower one is the signed angle between their posterior-to-anterior
vectors, `tilt(upper) - tilt(lower)` with each tilt measured toward caudal: positive when the lines
converge anteriorly. It is taken with `atan2` (no `acos`, no 0-90 versus 90-180 ambiguity), so two
endplates that cross inside the film give the same value whichever is clicked first.

`Facing` is what a reader sees: the side of the displayed film the patient's anterior points to.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from kyphoangle.errors import LandmarkError

_EPSILON_MM = 1e-9


class InconsistentEndplatesError(LandmarkError):
    """Endplates disagree on which side is anterior, or are degenerate (zero length, coincident)."""


class Facing(StrEnum):
    """Which side of the displayed film the patient's anterior faces."""

    LEFT = "left"
    RIGHT = "right"


class Turn(StrEnum):
    """Which way, as displayed (rows growing downward), caudal lies from anterior: a film's handedness.

    A patient facing right on an upright film has anterior toward +column and caudal toward +row, a
    quarter turn clockwise; facing left, counter-clockwise. Rotating the film keeps the turn; mirroring
    it flips the turn.
    """

    CLOCKWISE = "clockwise"
    COUNTERCLOCKWISE = "counterclockwise"

    @property
    def sign(self) -> float:
        """+1 for clockwise, -1 for counter-clockwise."""
        return 1.0 if self is Turn.CLOCKWISE else -1.0


@dataclass(frozen=True, slots=True)
class Point:
    """A clicked position in image pixels, `(column, row)`, DICOM image-relative."""

    column: float
    row: float


@dataclass(frozen=True, slots=True)
class Scale:
    """Millimetres per pixel along rows and columns (1, 1 when only pixels are known)."""

    row_mm: float
    col_mm: float

    def __post_init__(self) -> None:
        if not (self.row_mm > 0 and self.col_mm > 0 and math.isfinite(self.row_mm * self.col_mm)):
            raise ValueError("scale must be positive and finite")

    def to_mm(self, point: Point) -> npt.NDArray[np.float64]:
        """The point as `(x_mm, y_mm)`, y growing downward like rows."""
        return np.array([point.column * self.col_mm, point.row * self.row_mm], dtype=np.float64)


SQUARE_PIXELS = Scale(1.0, 1.0)


@dataclass(frozen=True, slots=True)
class Endplate:
    """An endplate line from its posterior corner to its anterior corner."""

    posterior: Point
    anterior: Point

    def vector_mm(self, scale: Scale) -> npt.NDArray[np.float64]:
        """Posterior-to-anterior vector in millimetres."""
        return scale.to_mm(self.anterior) - scale.to_mm(self.posterior)

    def midpoint_mm(self, scale: Scale) -> npt.NDArray[np.float64]:
        """Midpoint of the line in millimetres."""
        return (scale.to_mm(self.anterior) + scale.to_mm(self.posterior)) / 2.0

    def length_mm(self, scale: Scale) -> float:
        """Length of the endplate line in millimetres."""
        return float(np.hypot(*self.vector_mm(scale)))


def _cross(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    return float(a[0] * b[1] - a[1] * b[0])


def _unit(vector: npt.NDArray[np.float64], what: str) -> npt.NDArray[np.float64]:
    norm = float(np.hypot(*vector))
    if norm <= _EPSILON_MM:
        raise InconsistentEndplatesError(f"{what} has zero length: its two points coincide")
    return vector / norm


def turn(endplate: Endplate, caudal_mm: npt.NDArray[np.float64], scale: Scale) -> Turn:
    """The turn from the endplate's anterior direction to a caudal direction of the film.

    With rows growing downward, anterior (+x) and caudal (+y) have a positive cross product: clockwise.
    Raises InconsistentEndplatesError when the endplate runs along the caudal direction.
    """
    cross = _cross(endplate.vector_mm(scale), caudal_mm)
    if abs(cross) <= _EPSILON_MM:
        raise InconsistentEndplatesError("endplate runs along the spine's axis: anterior side is undefined")
    return Turn.CLOCKWISE if cross > 0 else Turn.COUNTERCLOCKWISE


def facing(anterior_mm: npt.NDArray[np.float64]) -> Facing | None:
    """The side of the displayed film an anterior direction points to; None when it points straight up
    or down (a film turned a quarter, where left and right say nothing)."""
    if abs(float(anterior_mm[0])) <= _EPSILON_MM * max(1.0, float(np.hypot(*anterior_mm))):
        return None
    return Facing.RIGHT if float(anterior_mm[0]) > 0 else Facing.LEFT


_LABEL_SIGNS = {"A": ("anterior", 1.0), "P": ("anterior", -1.0), "F": ("caudal", 1.0), "H": ("caudal", -1.0)}


def orientation_from_labels(patient_orientation: Sequence[str]) -> tuple[Facing | None, Turn | None]:
    """Facing and turn from Patient Orientation (0020,0020): the patient directions of the rows (left to
    right on the display) and of the columns (top to bottom), e.g. `A\\F` for a patient facing right.

    Only the first letter of each value counts (an oblique `AF` is read as `A`). Returns None for what
    the labels cannot say (no A/P label: no facing; no H/F label as well: no turn).
    """
    if len(patient_orientation) != 2:
        return None, None
    axes = {"anterior": np.zeros(2), "caudal": np.zeros(2)}
    for value, direction in zip(
        patient_orientation, (np.array([1.0, 0.0]), np.array([0.0, 1.0])), strict=True
    ):
        letter = value.strip().upper()[:1]
        if letter in _LABEL_SIGNS:
            axis, sign = _LABEL_SIGNS[letter]
            axes[axis] = axes[axis] + sign * direction
    anterior, caudal = axes["anterior"], axes["caudal"]
    side = facing(anterior) if float(np.hypot(*anterior)) > 0 else None
    cross = _cross(anterior, caudal)
    if cross == 0:
        return side, None
    return side, Turn.CLOCKWISE if cross > 0 else Turn.COUNTERCLOCKWISE


def signed_angle_deg(
    upper: Endplate, lower: Endplate, scale: Scale = SQUARE_PIXELS, *, film_turn: Turn | None = None
) -> float:
    """Signed angle between two endplates in degrees: kyphosis positive, lordosis negative.

    `film_turn` is the film's handedness (see `Turn`); given, the value depends only on the endplates'
    directions, so endplates that cross give the same value whatever the order of their midpoints.
    Without it the turn is read from this pair alone (the lower endplate's midpoint is caudal), which
    is right whenever the two lines do not cross between their corners, and both endplates must agree
    on it: otherwise one has its corners swapped and InconsistentEndplatesError is raised, as for a
    line of zero length or endplates at the same place.
    """
    u_upper = _unit(upper.vector_mm(scale), "upper endplate")
    u_lower = _unit(lower.vector_mm(scale), "lower endplate")
    if film_turn is None:
        caudal = lower.midpoint_mm(scale) - upper.midpoint_mm(scale)
        if float(np.hypot(*caudal)) <= _EPSILON_MM:
            raise InconsistentEndplatesError("the two endplates have the same midpoint")
        film_turn = turn(upper, caudal, scale)
        if turn(lower, caudal, scale) is not film_turn:
            raise InconsistentEndplatesError(
                "the two endplates point in opposite directions: anterior and posterior corners are"
                " swapped on one of them"
            )
    if float(u_upper @ u_lower) <= -1.0 + _EPSILON_MM:
        raise InconsistentEndplatesError(
            "the two endplates point in opposite directions: anterior and posterior corners are swapped"
            " on one of them"
        )
    # Clockwise (as displayed) from the lower endplate's direction to the upper one's is a tilt of the
    # upper endplate toward caudal on a clockwise film: kyphosis.
    clockwise_deg = math.degrees(math.atan2(_cross(u_lower, u_upper), float(u_lower @ u_upper)))
    return film_turn.sign * clockwise_deg


def distance_mm(a: Point, b: Point, scale: Scale = SQUARE_PIXELS) -> float:
    """Distance between two points in millimetres (in pixels with the square-pixel scale)."""
    return float(np.hypot(*(scale.to_mm(b) - scale.to_mm(a))))
