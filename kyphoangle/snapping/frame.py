"""Where a corner's endplate is expected to run, from the points already placed, and film regions resampled
into that frame.

Directions are unit vectors in millimetre space (x to the right of the film, y down the rows), so that
non-square pixels and in-plane rotation are handled once, when a region is resampled. A local frame has
its x axis along the endplate and its y axis across it; `LocalRegion.patch` samples the film on such a
grid with OpenCV's `warpAffine`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from kyphoangle.anatomy import EndplateRef, LandmarkKey, endplates_of
from kyphoangle.geometry import Facing, Point, Scale
from kyphoangle.snapping.film import Grey, SnapFilm
from kyphoangle.vocabulary import Corner, EndplateSide

FloatMap = npt.NDArray[np.float64]
"""A map of values over a local frame."""
Vector = npt.NDArray[np.float64]
"""A 2-vector in millimetre space, x right and y down."""

_SPREAD_PER_LEVEL_DEG = 12.0
"""How much further an endplate may turn for each level between it and the reference endplate."""
_MAX_SPREAD_DEG = 60.0
"""Widest search around a reference direction (the sacrum against L1 differs by up to this much)."""
_UNKNOWN_SPREAD_DEG = 55.0
"""Search around the film's rows when no endplate is placed yet (upper thoracic endplates tilt steeply)."""
_MIN_CAUDAL_COSINE = 0.64
"""cos 50 deg: the widest turn of an endplate's caudal side from the direction of the spine."""
_MIN_REFERENCE_MM = 5.0
"""An endplate whose two corners are closer than this gives no direction."""


@dataclass(frozen=True, slots=True)
class Orientation:
    """The expected directions at an endplate: posterior-to-anterior along it, and caudal across it."""

    anterior: tuple[float, float]
    caudal: tuple[float, float]

    def turned(self, angle_deg: float) -> Orientation:
        """Both directions turned together by `angle_deg` (clockwise as displayed)."""
        c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))

        def turn(v: tuple[float, float]) -> tuple[float, float]:
            return (c * v[0] - s * v[1], s * v[0] + c * v[1])

        return Orientation(turn(self.anterior), turn(self.caudal))


@dataclass(frozen=True, slots=True)
class Expectation:
    """The orientations worth trying at a click and how far (degrees) the truth may turn from them."""

    orientations: tuple[Orientation, ...]
    spread_deg: float
    caudal_hint: tuple[float, float] = (0.0, 1.0)
    """Which way the spine runs caudally here; no endplate is tried whose caudal side turns 50 deg from it."""

    def plausible(self, orientation: Orientation) -> bool:
        """Whether an endplate so turned still has its caudal side toward the caudal hint.

        Without this, a wide search can fit a corner turned a quarter turn: a wall taken for an endplate.
        """
        caudal = orientation.caudal
        return caudal[0] * self.caudal_hint[0] + caudal[1] * self.caudal_hint[1] >= _MIN_CAUDAL_COSINE


def unit(vector: Vector) -> Vector:
    """`vector` scaled to length 1 (the zero vector is returned as it is)."""
    norm = float(np.hypot(vector[0], vector[1]))
    return vector / norm if norm > 0 else vector


def _perpendicular(anterior: Vector, caudal_hint: Vector) -> Vector:
    normal = np.array([-anterior[1], anterior[0]])
    return normal if float(normal @ caudal_hint) >= 0 else -normal


def _line(placed: Mapping[str, Point], ref: EndplateRef, scale: Scale) -> tuple[Vector, Vector] | None:
    """Midpoint and posterior-to-anterior vector (mm) of a placed endplate, or None."""
    posterior_key, anterior_key = ref.line_keys
    if posterior_key not in placed or anterior_key not in placed:
        return None
    posterior, anterior = scale.to_mm(placed[posterior_key]), scale.to_mm(placed[anterior_key])
    vector = anterior - posterior
    if float(np.hypot(*vector)) < _MIN_REFERENCE_MM:
        return None
    return (posterior + anterior) / 2.0, vector


def _caudal_hint(key: LandmarkKey, click_mm: Vector, placed: Mapping[str, Point], scale: Scale) -> Vector:
    """Which way is caudal: from points of other vertebrae when placed, else down the film's rows."""
    order = key.endplate.vertebra.order
    hint = np.zeros(2)
    for other, point in placed.items():
        try:
            other_key = LandmarkKey.parse(other)
        except ValueError:
            continue
        difference = other_key.endplate.vertebra.order - order
        if difference != 0:
            hint += math.copysign(1.0, difference) * unit(scale.to_mm(point) - click_mm)
    return unit(hint) if float(np.hypot(*hint)) > 0.5 else np.array([0.0, 1.0])


def expected(
    key: LandmarkKey,
    click: Point,
    placed: Mapping[str, Point],
    scale: Scale,
    facing: Facing | None = None,
) -> Expectation:
    """The endplate directions to try at a click on `key`, given the points already placed.

    In order of trust: the other corner of the same endplate; another endplate of the same vertebra;
    the nearest placed endplate; else the film's rows, with `facing` (both facings when None).
    """
    click_mm = scale.to_mm(click)
    caudal_hint = _caudal_hint(key, click_mm, placed, scale)
    own = _line({**placed, str(key): click}, key.endplate, scale) if key.corner is not Corner.MIDDLE else None
    if own is None and key.corner is Corner.MIDDLE:
        own = _line(placed, key.endplate, scale)
    if own is not None:
        anterior = unit(own[1])
        length = float(np.hypot(*own[1]))
        spread = min(20.0, max(6.0, math.degrees(math.atan2(6.0, length))))
        return Expectation((_oriented(anterior, caudal_hint),), spread, _pair(caudal_hint))
    references = [ref for ref in endplates_of(key.endplate.vertebra) if ref != key.endplate]
    nearby = sorted(
        (
            EndplateRef(other.endplate.vertebra, other.endplate.side)
            for other in (_parsed(k) for k in placed)
            if other is not None
        ),
        key=lambda ref: abs(ref.vertebra.order - key.endplate.vertebra.order),
    )
    for ref in [*references, *nearby]:
        line = _line(placed, ref, scale)
        if line is not None:
            # The spine curves: each level between the reference and this endplate may turn it further.
            levels = abs(ref.vertebra.order - key.endplate.vertebra.order)
            spread = min(_MAX_SPREAD_DEG, 20.0 + _SPREAD_PER_LEVEL_DEG * max(0, levels - 1))
            return Expectation((_oriented(unit(line[1]), caudal_hint),), spread, _pair(caudal_hint))
    facings = (facing,) if facing is not None else (Facing.RIGHT, Facing.LEFT)
    orientations = []
    for side in facings:
        # Facing right, anterior and caudal make a positive cross product (rows grow downward).
        anterior = np.array([caudal_hint[1], -caudal_hint[0]])
        if side is Facing.LEFT:
            anterior = -anterior
        orientations.append(_oriented(anterior, caudal_hint))
    return Expectation(tuple(orientations), _UNKNOWN_SPREAD_DEG, _pair(caudal_hint))


def _pair(vector: Vector) -> tuple[float, float]:
    return float(vector[0]), float(vector[1])


def _parsed(text: str) -> LandmarkKey | None:
    try:
        return LandmarkKey.parse(text)
    except ValueError:
        return None


def _oriented(anterior: Vector, caudal_hint: Vector) -> Orientation:
    caudal = _perpendicular(anterior, caudal_hint)
    return Orientation((float(anterior[0]), float(anterior[1])), (float(caudal[0]), float(caudal[1])))


def inward(key: LandmarkKey, orientation: Orientation) -> tuple[Vector, Vector]:
    """Unit vectors (mm) pointing into the body from the corner: along the endplate, and across it."""
    anterior, caudal = np.array(orientation.anterior), np.array(orientation.caudal)
    along = -anterior if key.corner is Corner.ANTERIOR else anterior
    across = caudal if key.endplate.side is EndplateSide.SUPERIOR else -caudal
    return along, across


def noise_level(gradients: tuple[FloatMap, ...], floor: float) -> float:
    """Robust spread of the gradients (median absolute value), never below `floor` (grey units per mm).

    The floor keeps a flat or saturated region, whose only gradients are steps of one grey level,
    from turning those steps into clear edges.
    """
    both = np.concatenate([np.abs(g).ravel() for g in gradients])
    spread = 1.4826 * float(np.median(both)) if both.size else 0.0
    return max(spread, floor, 1e-12)


def gradients(samples: npt.NDArray[np.float32], step_mm: float) -> tuple[FloatMap, FloatMap]:
    """Derivatives toward +x (columns) and +y (rows) of a patch, in grey units per mm."""
    gx = cv2.Sobel(samples, cv2.CV_64F, 1, 0, ksize=3) / (8.0 * step_mm)
    gy = cv2.Sobel(samples, cv2.CV_64F, 0, 1, ksize=3) / (8.0 * step_mm)
    return np.asarray(gx, dtype=np.float64), np.asarray(gy, dtype=np.float64)


class LocalRegion:
    """A blurred piece of the film around a centre, resampled on demand into local frames."""

    def __init__(self, film: SnapFilm, centre: Point, radius_mm: float, blur_mm: float) -> None:
        self.film = film
        margin_c = radius_mm / film.col_mm + 3.0
        margin_r = radius_mm / film.row_mm + 3.0
        self.left = math.floor(centre.column - margin_c)
        self.top = math.floor(centre.row - margin_r)
        right, bottom = math.ceil(centre.column + margin_c), math.ceil(centre.row + margin_r)
        grey = film.region(self.top, bottom, self.left, right)
        self.whole = self.left >= 0 and self.top >= 0 and right <= film.columns and bottom <= film.rows
        """Whether the region lies inside the film (then every sample of a patch does)."""
        self.left, self.top = max(0, self.left), max(0, self.top)
        sigma_x, sigma_y = blur_mm / film.col_mm, blur_mm / film.row_mm
        if grey.size and max(sigma_x, sigma_y) >= 0.3:
            grey = np.asarray(cv2.GaussianBlur(grey, (0, 0), sigma_x, sigmaY=sigma_y), dtype=np.float32)
        self.grey: Grey = grey

    @property
    def empty(self) -> bool:
        """Whether the region holds too few pixels to look at (a click at or beyond the film's edge)."""
        return bool(self.grey.shape[0] < 4 or self.grey.shape[1] < 4)

    def patch(
        self,
        origin: Vector,
        along: Vector,
        across: Vector,
        start_mm: tuple[float, float],
        size: tuple[int, int],
        step_mm: float,
    ) -> tuple[Grey, npt.NDArray[np.bool_]]:
        """Sample the region at `origin + x along + y across` (mm) for x, y from `start_mm` by `step_mm`.

        Returns the samples (`size` = (ny, nx), row i is y) and a mask of the samples inside the film.
        """
        film = self.film
        # Sample (j, i) to OpenCV source coordinates (pixel centres at integers) of the region.
        x0, y0 = start_mm
        base = origin + x0 * along + y0 * across
        matrix = np.array(
            [
                [along[0] * step_mm / film.col_mm, across[0] * step_mm / film.col_mm,
                 base[0] / film.col_mm - 0.5 - self.left],
                [along[1] * step_mm / film.row_mm, across[1] * step_mm / film.row_mm,
                 base[1] / film.row_mm - 0.5 - self.top],
            ]
        )  # fmt: skip
        ny, nx = size
        samples = cv2.warpAffine(
            self.grey, matrix, (nx, ny), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        if self.whole:
            return np.asarray(samples, dtype=np.float32), np.ones((ny, nx), dtype=bool)
        jj, ii = np.meshgrid(np.arange(nx, dtype=np.float64), np.arange(ny, dtype=np.float64))
        u = matrix[0, 0] * jj + matrix[0, 1] * ii + matrix[0, 2] + self.left
        v = matrix[1, 0] * jj + matrix[1, 1] * ii + matrix[1, 2] + self.top
        inside = (u >= 0) & (v >= 0) & (u <= film.columns - 1) & (v <= film.rows - 1)
        return np.asarray(samples, dtype=np.float32), inside
