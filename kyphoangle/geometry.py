"""Points, endplates, signed angles and distances in millimetre space: pure numpy, no files.

Coordinate convention (DOMAIN.md): a point is `(column, row)` in image pixels, DICOM image-relative
(the top-left corner of the first pixel is (0, 0)). Rows grow downward. Before any angle is taken,
column differences are multiplied by the column spacing and row differences by the row spacing, so
that non-square pixels give the true angle.

Sign convention: kyphosis positive, lordosis negative, whichever way the patient faces. For a pair of
endplates the anterior axis is the mean of their posterior-to-anterior unit vectors, the caudal axis is
perpendicular to it and points from the upper endplate's midpoint to the lower one's, and each tilt is
`atan2(component toward caudal, component toward anterior)`. The angle is `tilt(upper) - tilt(lower)`:
positive when the endplate lines converge anteriorly. No `acos`, no click-order dependence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from kyphoangle.errors import LandmarkError

_EPSILON_MM = 1e-9


class InconsistentEndplatesError(LandmarkError):
    """Endplates disagree on which side is anterior, or are degenerate (zero length, coincident)."""


class Facing(StrEnum):
    """Which side of the film the patient's anterior faces."""

    LEFT = "left"
    RIGHT = "right"


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


def facing(endplate: Endplate, caudal_mm: npt.NDArray[np.float64], scale: Scale) -> Facing:
    """Which way the endplate's anterior points, given the film's caudal direction.

    With rows growing downward, a patient facing right has anterior (+x) and caudal (+y), whose cross
    product is positive; facing left makes it negative.
    """
    cross = _cross(endplate.vector_mm(scale), caudal_mm)
    if abs(cross) <= _EPSILON_MM:
        raise InconsistentEndplatesError("endplate runs along the spine's axis: anterior side is undefined")
    return Facing.RIGHT if cross > 0 else Facing.LEFT


def signed_angle_deg(upper: Endplate, lower: Endplate, scale: Scale = SQUARE_PIXELS) -> float:
    """Signed angle between two endplates in degrees: kyphosis positive, lordosis negative.

    Raises InconsistentEndplatesError when the two endplates disagree on the anterior side (one has its
    corners swapped), when a line has zero length, or when the endplates coincide.
    """
    u_upper = _unit(upper.vector_mm(scale), "upper endplate")
    u_lower = _unit(lower.vector_mm(scale), "lower endplate")
    caudal = lower.midpoint_mm(scale) - upper.midpoint_mm(scale)
    if float(np.hypot(*caudal)) <= _EPSILON_MM:
        raise InconsistentEndplatesError("the two endplates have the same midpoint")
    if facing(upper, caudal, scale) is not facing(lower, caudal, scale):
        raise InconsistentEndplatesError(
            "the two endplates point in opposite directions: anterior and posterior corners are swapped"
            " on one of them"
        )
    anterior = _unit(u_upper + u_lower, "mean endplate direction")
    perpendicular = np.array([-anterior[1], anterior[0]])
    caudal_axis = perpendicular if float(perpendicular @ caudal) > 0 else -perpendicular

    def tilt(unit: npt.NDArray[np.float64]) -> float:
        return math.atan2(float(unit @ caudal_axis), float(unit @ anterior))

    return math.degrees(tilt(u_upper) - tilt(u_lower))


def distance_mm(a: Point, b: Point, scale: Scale = SQUARE_PIXELS) -> float:
    """Distance between two points in millimetres (in pixels with the square-pixel scale)."""
    return float(np.hypot(*(scale.to_mm(b) - scale.to_mm(a))))
