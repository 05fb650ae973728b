"""Synthetic lateral spine radiographs whose endplate landmarks are known exactly (numpy and OpenCV, no Qt).

The spine is built in the patient's sagittal plane, in millimetres, as a chain of elements from T1 to
S1: each vertebral body, then the disc below it. Every element is bounded by two endplate lines and has a
designed signed angle (kyphosis positive). A body with posterior height `Hp`, endplate depth `D` and wedge
angle `w` is laid out symmetrically about its bisector, so its anterior height is exactly
`Hp - 2 D sin(w / 2)`; hence the vertebral kyphosis read back from the corners is exactly `w`, and the
angle between any two endplates is the sum of the element angles between them (`designed_angle_deg`).

The chain is then turned so that the line from the top endplate to the posterior corner of S1 is
vertical, mirrored when the patient faces left, rotated in the film's plane by `rotation_deg` and
placed on the film. Landmarks are `(column, row)` in DICOM image-relative pixels: the top-left corner of
the first pixel is (0, 0), so a pixel's centre is at half-integers. Bright means dense (MONOCHROME2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import cv2
import numpy as np
import numpy.typing as npt

from kyphoangle.anatomy import EndplateRef
from kyphoangle.geometry import Facing
from kyphoangle.vocabulary import Corner, EndplateSide, Vertebra

FloatArray = npt.NDArray[np.float64]
"""Points and vectors in millimetres or pixels."""
Image32 = npt.NDArray[np.float32]
"""A layer being drawn: relative density, 0 (air) to about 1 (cement)."""

BITS_STORED = 12
"""Bits stored of a rendered film (values 0 to MAX_PIXEL_VALUE in 16-bit words)."""
MAX_PIXEL_VALUE = (1 << BITS_STORED) - 1
"""Largest pixel value of a rendered film."""

_VERTEBRAE: tuple[Vertebra, ...] = tuple(Vertebra)
_MOBILE: tuple[Vertebra, ...] = _VERTEBRAE[:-1]
_ELEMENT_COUNT = 2 * len(_MOBILE)
"""Bodies T1..L5 and the disc below each: element 2k is body k, element 2k+1 the disc below it."""
_SUBPIXEL_SHIFT = 4
_DEFAULT_PLACEMENT_MM = (12.0, 0.0)
"""Where the centre of the landmarks sits relative to the film centre, before `offset_mm`."""


@dataclass(frozen=True, slots=True)
class BodyDimensions:
    """Normal size of one vertebral body and of the disc below it, in millimetres."""

    vertebra: Vertebra
    height_mm: float
    """Mean of the anterior and posterior heights of the normal body."""
    depth_mm: float
    """Length of each endplate, posterior to anterior corner."""
    disc_below_mm: float
    """Mean height of the disc below the body (0 for S1)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "vertebra", Vertebra(self.vertebra))
        if not (self.height_mm > 0 and self.depth_mm > 0 and self.disc_below_mm >= 0):
            raise ValueError(f"{self.vertebra}: heights and depth must be positive")


def _dimensions(*rows: tuple[str, float, float, float]) -> tuple[BodyDimensions, ...]:
    return tuple(BodyDimensions(Vertebra(v), h, d, disc) for v, h, d, disc in rows)


DEFAULT_DIMENSIONS: tuple[BodyDimensions, ...] = _dimensions(
    ("T1", 15.0, 17.0, 4.0),
    ("T2", 16.0, 19.0, 4.0),
    ("T3", 17.0, 21.0, 4.2),
    ("T4", 17.5, 23.0, 4.4),
    ("T5", 18.0, 24.0, 4.6),
    ("T6", 18.5, 25.0, 4.8),
    ("T7", 19.0, 26.0, 5.0),
    ("T8", 20.0, 27.0, 5.2),
    ("T9", 20.5, 28.0, 5.4),
    ("T10", 21.0, 29.0, 5.8),
    ("T11", 22.0, 30.0, 6.2),
    ("T12", 23.0, 32.0, 7.0),
    ("L1", 25.0, 34.0, 9.0),
    ("L2", 26.0, 35.0, 10.0),
    ("L3", 27.0, 36.0, 11.0),
    ("L4", 27.0, 36.0, 11.5),
    ("L5", 26.0, 36.0, 11.0),
    ("S1", 28.0, 38.0, 0.0),
)
"""Typical adult body heights, endplate depths and disc heights, T1 to S1."""

_NORMAL_CONCAVITY_MM = 0.6
"""Depth of each normal endplate's central concavity: the middle point lies this far inside the body."""


@dataclass(frozen=True, slots=True)
class Fracture:
    """A compressed vertebral body: percent height lost at each point, and whether cement fills it."""

    level: Vertebra
    anterior_loss_pct: float
    middle_loss_pct: float
    posterior_loss_pct: float = 0.0
    cemented: bool = False
    """Kyphoplasty done: a dense PMMA cast fills the body."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", Vertebra(self.level))
        if self.level is Vertebra.S1:
            raise ValueError("S1 cannot be a fractured level of the phantom")
        for name in ("anterior_loss_pct", "middle_loss_pct", "posterior_loss_pct"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0.0 <= value <= 80.0):
                raise ValueError(f"{name} must be between 0 and 80 percent, got {value!r}")


@dataclass(frozen=True, slots=True)
class SpineModel:
    """A sagittal spine from T1 to S1 as seen on one lateral film; landmarks start at `top`."""

    top: Vertebra = Vertebra.T4
    """First vertebra whose landmarks are given (the ones above are drawn, not landmarked)."""
    thoracic_kyphosis_deg: float = 40.0
    """Designed T4 superior to T12 inferior angle without fractures (kyphosis positive)."""
    lumbar_lordosis_deg: float = -50.0
    """Designed L1 superior to S1 superior angle without fractures (lordosis negative)."""
    facing: Facing = Facing.RIGHT
    """Side of the film the patient's anterior faces."""
    rotation_deg: float = 0.0
    """In-plane rotation of the whole patient, clockwise as displayed."""
    size_factor: float = 1.0
    """Scale of every body and disc (a small or a tall patient)."""
    bone_density: float = 1.0
    """Relative brightness of bone (below 1 for osteopenia, e.g. in myeloma)."""
    dimensions: tuple[BodyDimensions, ...] = DEFAULT_DIMENSIONS
    """Normal sizes of T1 to S1, in that order."""
    fractures: tuple[Fracture, ...] = ()
    offset_mm: tuple[float, float] = (0.0, 0.0)
    """Shift of the spine on the film from its default place: toward the patient's anterior, caudal."""
    anatomy_seed: int = 0
    """Seed of what belongs to the patient, not the exposure (cement shape, bowel loops)."""
    side_marker: str | None = "L"
    """Lead marker letter printed on the film, or None."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "top", Vertebra(self.top))
        object.__setattr__(self, "facing", Facing(self.facing))
        object.__setattr__(self, "fractures", tuple(self.fractures))
        object.__setattr__(self, "dimensions", tuple(self.dimensions))
        if self.top is Vertebra.S1:
            raise ValueError("the top vertebra must be above S1")
        if tuple(d.vertebra for d in self.dimensions) != _VERTEBRAE:
            raise ValueError("dimensions must list T1 to S1 in order")
        for name in ("thoracic_kyphosis_deg", "lumbar_lordosis_deg"):
            if not (math.isfinite(getattr(self, name)) and abs(getattr(self, name)) <= 100.0):
                raise ValueError(f"{name} must be a finite angle within +-100 deg")
        if not (math.isfinite(self.rotation_deg) and abs(self.rotation_deg) <= 45.0):
            raise ValueError("rotation_deg must be within +-45 deg")
        if not (0.5 <= self.size_factor <= 1.5 and 0.2 <= self.bone_density <= 1.5):
            raise ValueError("size_factor must be within 0.5-1.5 and bone_density within 0.2-1.5")
        levels = [f.level for f in self.fractures]
        if len(set(levels)) != len(levels):
            raise ValueError("a level is fractured twice")
        if self.side_marker is not None and len(self.side_marker) != 1:
            raise ValueError("side_marker must be one letter")

    def fracture(self, level: Vertebra | str) -> Fracture | None:
        """The fracture at a level, or None."""
        return next((f for f in self.fractures if f.level == level), None)


@dataclass(frozen=True, slots=True)
class BodyGeometry:
    """Designed heights, depth and wedge angle of one vertebral body (what the landmarks measure)."""

    vertebra: Vertebra
    anterior_height_mm: float
    middle_height_mm: float
    posterior_height_mm: float
    depth_mm: float
    wedge_deg: float
    """Vertebral kyphosis, superior to inferior endplate (kyphosis positive)."""


# --------------------------------------------------------------------------------------------- design


def _bell(count: int) -> FloatArray:
    positions = (np.arange(count) + 0.5) / count
    return np.asarray(0.45 + np.sin(np.pi * positions), dtype=np.float64)


def _normal_element_angles_deg(model: SpineModel) -> FloatArray:
    """Angle of each element of the unfractured spine: the designed curves, spread over bodies and discs."""
    angles = np.zeros(_ELEMENT_COUNT)
    t4, t12, l1 = (v.order for v in (Vertebra.T4, Vertebra.T12, Vertebra.L1))
    thoracic = slice(2 * t4, 2 * t12 + 1)
    count = thoracic.stop - thoracic.start
    weights = _bell(count) * np.where(np.arange(count) % 2 == 0, 0.65, 0.35)
    angles[thoracic] = model.thoracic_kyphosis_deg * weights / weights.sum()
    angles[: 2 * t4] = 0.6 * model.thoracic_kyphosis_deg / count
    # Bodies L1..L5 then the discs below them: lordosis gathers at L4-S1.
    body_weights = np.array([0.2, 0.4, 0.6, 0.9, 1.5])
    disc_weights = np.array([1.0, 1.5, 2.0, 3.0, 4.0])
    total = body_weights.sum() + disc_weights.sum()
    angles[2 * l1 :: 2] = model.lumbar_lordosis_deg * body_weights / total
    angles[2 * l1 + 1 :: 2] = model.lumbar_lordosis_deg * disc_weights / total
    return angles


@dataclass(frozen=True, slots=True)
class _Design:
    bodies: Mapping[Vertebra, BodyGeometry]
    element_angles_deg: tuple[float, ...]
    concavity_mm: Mapping[Vertebra, tuple[float, float]]


def _design(model: SpineModel) -> _Design:
    angles = _normal_element_angles_deg(model)
    bodies: dict[Vertebra, BodyGeometry] = {}
    concavity: dict[Vertebra, tuple[float, float]] = {}
    for k, vertebra in enumerate(_MOBILE):
        size = model.dimensions[k]
        depth = size.depth_mm * model.size_factor
        height = size.height_mm * model.size_factor
        half = depth * math.sin(math.radians(angles[2 * k]) / 2.0)
        posterior, anterior = height + half, height - half
        middle = height - 2.0 * _NORMAL_CONCAVITY_MM
        split = (0.5, 0.5)
        fracture = model.fracture(vertebra)
        if fracture is not None:
            anterior *= 1.0 - fracture.anterior_loss_pct / 100.0
            middle *= 1.0 - fracture.middle_loss_pct / 100.0
            posterior *= 1.0 - fracture.posterior_loss_pct / 100.0
            split = (0.7, 0.3)  # the superior endplate usually gives way
            if abs(posterior - anterior) >= 2.0 * depth:
                raise ValueError(f"{vertebra}: fracture heights are impossible for its depth")
            angles[2 * k] = math.degrees(2.0 * math.asin((posterior - anterior) / (2.0 * depth)))
        dip = (posterior + anterior) / 2.0 - middle
        concavity[vertebra] = (dip * split[0], dip * split[1])
        bodies[vertebra] = BodyGeometry(vertebra, anterior, middle, posterior, depth, float(angles[2 * k]))
    return _Design(MappingProxyType(bodies), tuple(float(a) for a in angles), MappingProxyType(concavity))


def body_geometry(model: SpineModel) -> Mapping[Vertebra, BodyGeometry]:
    """Designed heights (mm) and wedge angle of every body T1 to L5, fractures included."""
    return _design(model).bodies


def _line_index(ref: EndplateRef) -> int:
    return 2 * ref.vertebra.order + (1 if ref.side is EndplateSide.INFERIOR else 0)


def designed_angle_deg(model: SpineModel, upper: EndplateRef, lower: EndplateRef) -> float:
    """The angle the model was built with between two endplates (kyphosis positive), fractures included."""
    start, stop = _line_index(upper), _line_index(lower)
    if start >= stop:
        raise ValueError(f"{upper} is not cranial to {lower}")
    return float(sum(_design(model).element_angles_deg[start:stop]))


# --------------------------------------------------------------------------------------------- layout


def _perp(u: FloatArray) -> FloatArray:
    """Unit vector a quarter turn toward caudal from the posterior-to-anterior direction `u`."""
    return np.array([-u[1], u[0]])


def _turn(u: FloatArray, angle_rad: float) -> FloatArray:
    """`u` turned by `angle_rad` toward caudal."""
    return math.cos(angle_rad) * u + math.sin(angle_rad) * _perp(u)


@dataclass(frozen=True, slots=True)
class _Body:
    vertebra: Vertebra
    points: Mapping[str, FloatArray]
    """Superior and inferior posterior, middle and anterior points (S1: superior only)."""
    centre: FloatArray
    anterior: FloatArray
    caudal: FloatArray
    depth_mm: float
    height_mm: float


def _chain(model: SpineModel, design: _Design) -> list[_Body]:
    """The bodies in the canonical frame: x toward the anterior, y caudal, T1's posterior corner at 0."""
    bodies: list[_Body] = []
    posterior = np.zeros(2)
    u = np.array([1.0, 0.0])
    angles = design.element_angles_deg
    for k, vertebra in enumerate(_MOBILE):
        geometry = design.bodies[vertebra]
        depth, wedge = geometry.depth_mm, math.radians(geometry.wedge_deg)
        u_mid = _turn(u, -wedge / 2.0)
        n_mid = _perp(u_mid)
        u_inf = _turn(u, -wedge)
        inf_posterior = posterior + geometry.posterior_height_mm * n_mid
        dip_sup, dip_inf = design.concavity_mm[vertebra]
        points = {
            "superior.posterior": posterior,
            "superior.middle": posterior + depth / 2.0 * u + dip_sup * n_mid,
            "superior.anterior": posterior + depth * u,
            "inferior.posterior": inf_posterior,
            "inferior.middle": inf_posterior + depth / 2.0 * u_inf - dip_inf * n_mid,
            "inferior.anterior": inf_posterior + depth * u_inf,
        }
        corners = [points[f"{s}.{c}"] for s in ("superior", "inferior") for c in ("posterior", "anterior")]
        height = (geometry.posterior_height_mm + geometry.anterior_height_mm) / 2.0
        bodies.append(_Body(vertebra, points, np.mean(corners, axis=0), u_mid, n_mid, depth, height))
        disc = math.radians(angles[2 * k + 1])
        next_depth = model.dimensions[k + 1].depth_mm * model.size_factor
        disc_height = model.dimensions[k].disc_below_mm * model.size_factor
        disc_posterior = disc_height + (depth + next_depth) / 2.0 * math.sin(disc / 2.0)
        posterior = inf_posterior + disc_posterior * _perp(_turn(u_inf, -disc / 2.0))
        u = _turn(u_inf, -disc)
        depth = next_depth
    s1_depth = model.dimensions[-1].depth_mm * model.size_factor
    s1 = {
        "superior.posterior": posterior,
        "superior.middle": posterior + s1_depth / 2.0 * u,
        "superior.anterior": posterior + s1_depth * u,
    }
    s1_height = model.dimensions[-1].height_mm * model.size_factor
    centre = posterior + s1_depth / 2.0 * u + s1_height / 2.0 * _perp(u)
    bodies.append(_Body(Vertebra.S1, s1, centre, u, _perp(u), s1_depth, s1_height))
    return bodies


def _rotation(angle_rad: float) -> FloatArray:
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return np.array([[c, -s], [s, c]])


def _moved(body: _Body, matrix: FloatArray, shift: FloatArray) -> _Body:
    return _Body(
        body.vertebra,
        {key: matrix @ p + shift for key, p in body.points.items()},
        matrix @ body.centre + shift,
        matrix @ body.anterior,
        matrix @ body.caudal,
        body.depth_mm,
        body.height_mm,
    )


@dataclass(frozen=True, slots=True)
class _Layout:
    """The spine in the patient frame (mm, x anterior, y caudal, film centre at 0) and the film mapping."""

    bodies: tuple[_Body, ...]
    to_pixel: FloatArray
    """2x3 affine map from the patient frame to DICOM image-relative (column, row)."""
    rows: int
    columns: int
    row_mm: float
    col_mm: float

    def pixels(self, points: FloatArray | Sequence[FloatArray]) -> FloatArray:
        """Patient-frame points (N x 2) as (column, row) pixels."""
        array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return np.asarray(array @ self.to_pixel[:, :2].T + self.to_pixel[:, 2], dtype=np.float64)


def _check_film(rows: int, columns: int, spacing_mm: tuple[float, float]) -> tuple[float, float]:
    if rows < 16 or columns < 16:
        raise ValueError("a film needs at least 16 rows and 16 columns")
    row_mm, col_mm = (float(v) for v in spacing_mm)
    if not (row_mm > 0 and col_mm > 0 and math.isfinite(row_mm * col_mm)):
        raise ValueError("spacing_mm must be two positive numbers (row_mm, col_mm)")
    return row_mm, col_mm


def _layout(model: SpineModel, rows: int, columns: int, spacing_mm: tuple[float, float]) -> _Layout:
    row_mm, col_mm = _check_film(rows, columns, spacing_mm)
    bodies = _chain(model, _design(model))
    top = bodies[model.top.order]
    top_middle = (top.points["superior.posterior"] + top.points["superior.anterior"]) / 2.0
    axis = bodies[-1].points["superior.posterior"] - top_middle
    upright = _rotation(math.pi / 2.0 - math.atan2(axis[1], axis[0]))
    bodies = [_moved(b, upright, np.zeros(2)) for b in bodies]
    marked = np.array([p for b in bodies[model.top.order :] for p in b.points.values()])
    centre = (marked.min(axis=0) + marked.max(axis=0)) / 2.0
    shift = np.add(_DEFAULT_PLACEMENT_MM, model.offset_mm) - centre
    bodies = [_moved(b, np.eye(2), shift) for b in bodies]
    mirror = np.diag([-1.0 if model.facing is Facing.LEFT else 1.0, 1.0])
    film = _rotation(math.radians(model.rotation_deg)) @ mirror
    scale = np.diag([1.0 / col_mm, 1.0 / row_mm])
    to_pixel = np.hstack([scale @ film, np.array([[columns / 2.0], [rows / 2.0]])])
    return _Layout(tuple(bodies), to_pixel, rows, columns, row_mm, col_mm)


def landmarks(
    model: SpineModel, *, rows: int, columns: int, spacing_mm: tuple[float, float]
) -> dict[str, tuple[float, float]]:
    """Exact `(column, row)` of every endplate point from `model.top` to S1 superior on such a film.

    Pixels are DICOM image-relative (top-left corner of the first pixel at (0, 0)); `spacing_mm` is
    `(row_mm, col_mm)` as in Pixel Spacing. Points falling outside a film too small for the spine are
    returned anyway.
    """
    layout = _layout(model, rows, columns, spacing_mm)
    result: dict[str, tuple[float, float]] = {}
    for body in layout.bodies[model.top.order :]:
        for side in EndplateSide:
            for corner in Corner:
                name = f"{side}.{corner}"
                if name in body.points:
                    column, row = layout.pixels(body.points[name])[0]
                    result[EndplateRef(body.vertebra, side).key(corner)] = (float(column), float(row))
    return result


# --------------------------------------------------------------------------------------------- render


def _quadratic(start: FloatArray, through: FloatArray, end: FloatArray, count: int = 10) -> FloatArray:
    """Points of the quadratic curve from `start` to `end` that passes through `through` halfway."""
    control = 2.0 * through - (start + end) / 2.0
    t = np.linspace(0.0, 1.0, count)[:, None]
    return np.asarray((1 - t) ** 2 * start + 2 * (1 - t) * t * control + t**2 * end, dtype=np.float64)


def _body_outline(body: _Body) -> FloatArray:
    """Closed outline of a body: endplates through their middle points, slightly waisted walls."""
    p = body.points
    waist = 0.025 * body.height_mm
    anterior_mid = (p["superior.anterior"] + p["inferior.anterior"]) / 2.0 - waist * body.anterior
    posterior_mid = (p["superior.posterior"] + p["inferior.posterior"]) / 2.0 + 0.4 * waist * body.anterior
    return np.vstack(
        [
            _quadratic(p["superior.posterior"], p["superior.middle"], p["superior.anterior"])[:-1],
            _quadratic(p["superior.anterior"], anterior_mid, p["inferior.anterior"])[:-1],
            _quadratic(p["inferior.anterior"], p["inferior.middle"], p["inferior.posterior"])[:-1],
            _quadratic(p["inferior.posterior"], posterior_mid, p["superior.posterior"])[:-1],
        ]
    )


def _local(body: _Body, coordinates: Sequence[tuple[float, float]] | FloatArray) -> FloatArray:
    """Patient-frame points from (anterior, caudal) offsets in mm from a body's centre."""
    offsets = np.asarray(coordinates, dtype=np.float64).reshape(-1, 2)
    return np.asarray(
        body.centre + offsets[:, :1] * body.anterior + offsets[:, 1:] * body.caudal, dtype=np.float64
    )


def _ellipse(centre: FloatArray, radii: tuple[float, float], count: int = 48) -> FloatArray:
    t = np.linspace(0.0, 2.0 * np.pi, count, endpoint=False)
    return np.asarray(
        np.stack([centre[0] + radii[0] * np.cos(t), centre[1] + radii[1] * np.sin(t)], axis=1),
        dtype=np.float64,
    )


def _smooth(points: FloatArray, count: int = 48, passes: int = 2) -> FloatArray:
    """A polyline resampled and smoothed (open ends kept), for anatomical curves drawn from a few knots."""
    knots = np.asarray(points, dtype=np.float64)
    t = np.linspace(0.0, len(knots) - 1.0, count)
    curve = np.stack([np.interp(t, np.arange(len(knots)), knots[:, i]) for i in range(2)], axis=1)
    kernel = np.ones(5) / 5.0
    for _ in range(passes):
        curve = np.stack(
            [np.convolve(np.pad(curve[:, i], 2, mode="edge"), kernel, mode="valid") for i in range(2)],
            axis=1,
        )
        # Averaging pulls the ends inward (the top of the sacrum sank ~2 mm below the S1 landmarks).
        curve[0], curve[-1] = knots[0], knots[-1]
    return curve


class _Canvas:
    """A float32 layer drawn with sub-pixel polygons, at full resolution or downsampled by `factor`."""

    def __init__(self, layout: _Layout, factor: int = 1) -> None:
        self.layout = layout
        self.factor = factor
        self.image: Image32 = np.zeros(_shape(layout, factor), dtype=np.float32)

    def _points(self, points: FloatArray) -> npt.NDArray[np.int32]:
        # DICOM image-relative to OpenCV (pixel centres at integers), in 1/16 pixel units.
        pixels = self.layout.pixels(points) / self.factor - 0.5
        return np.round(pixels * (1 << _SUBPIXEL_SHIFT)).astype(np.int32)

    def fill(self, points: FloatArray, value: float) -> None:
        cv2.fillPoly(self.image, [self._points(points)], (float(value),), cv2.LINE_8, _SUBPIXEL_SHIFT)

    def line(self, points: FloatArray, value: float, width_mm: float, closed: bool = False) -> None:
        mm_per_pixel = self.factor * (self.layout.row_mm + self.layout.col_mm) / 2.0
        thickness = max(1, round(width_mm / mm_per_pixel))
        cv2.polylines(
            self.image,
            [self._points(points)],
            closed,
            (float(value),),
            thickness,
            cv2.LINE_8,
            _SUBPIXEL_SHIFT,
        )

    def blurred(self, sigma_mm: float) -> Image32:
        return _blur(self.image, sigma_mm, self.factor * self.layout.row_mm, self.factor * self.layout.col_mm)


def _shape(layout: _Layout, factor: int) -> tuple[int, int]:
    return -(-layout.rows // factor), -(-layout.columns // factor)


def _blur(image: Image32, sigma_mm: float, row_mm: float, col_mm: float) -> Image32:
    sigma_x, sigma_y = sigma_mm / col_mm, sigma_mm / row_mm
    if max(sigma_x, sigma_y) < 0.3:
        return image
    return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma_x, sigmaY=sigma_y), dtype=np.float32)


def _wide_blur(image: Image32, sigma_mm: float, row_mm: float, col_mm: float) -> Image32:
    """A Gaussian blur computed on a downsampled copy (texels of at most half of sigma), then upsampled."""
    factor = max(1, int(sigma_mm / (2.0 * max(row_mm, col_mm))))
    if factor == 1:
        return _blur(image, sigma_mm, row_mm, col_mm)
    shape = (-(-image.shape[0] // factor), -(-image.shape[1] // factor))
    small = np.asarray(cv2.resize(image, shape[::-1], interpolation=cv2.INTER_AREA), dtype=np.float32)
    return _resized(
        _blur(small, sigma_mm, factor * row_mm, factor * col_mm), (image.shape[0], image.shape[1])
    )


def _resized(image: Image32, shape: tuple[int, int]) -> Image32:
    if image.shape == shape:
        return image
    return np.asarray(
        cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR), dtype=np.float32
    )


def _factor(layout: _Layout, texel_mm: float) -> int:
    """Downsampling factor giving texels of about `texel_mm`."""
    return max(1, int(texel_mm / max(layout.row_mm, layout.col_mm)))


def _profile(layout: _Layout, key: str) -> tuple[FloatArray, FloatArray]:
    """The spine's x as a function of y for one family of points (e.g. `superior.posterior`)."""
    ys = np.array([b.points[key][1] for b in layout.bodies if key in b.points])
    xs = np.array([b.points[key][0] for b in layout.bodies if key in b.points])
    return ys, xs


def _soft_tissue(
    layout: _Layout, rng: np.random.Generator, anatomy: np.random.Generator, shape: tuple[int, int]
) -> Image32:
    """Body outline, lungs above the diaphragm, heart, abdomen and bowel gas: smooth, drawn at low res."""
    factor = _factor(layout, 1.5)
    ys, posterior = _profile(layout, "superior.posterior")
    _, anterior = _profile(layout, "superior.anterior")
    span = np.linspace(-900.0, 900.0, 60)
    back_x = np.interp(span, ys, posterior) - np.interp(span, ys, np.linspace(66.0, 84.0, len(ys)))
    front_x = np.interp(span, ys, anterior) + np.interp(span, ys, np.linspace(130.0, 190.0, len(ys)))
    y_of = {b.vertebra: float(b.centre[1]) for b in layout.bodies}
    x_post = {b.vertebra: float(b.points["superior.posterior"][0]) for b in layout.bodies}
    x_ant = {b.vertebra: float(b.points["superior.anterior"][0]) for b in layout.bodies}
    row_mm, col_mm = factor * layout.row_mm, factor * layout.col_mm

    body = _Canvas(layout, factor)
    body.fill(np.vstack([np.stack([back_x, span], 1), np.stack([front_x, span], 1)[::-1]]), 1.0)
    inside = body.blurred(5.0)

    lungs = _Canvas(layout, factor)
    dome_x = np.linspace(x_post[Vertebra.T12] - 40.0, float(front_x.max()) + 50.0, 24)
    dome_t = (dome_x - dome_x[0]) / (dome_x[-1] - dome_x[0])
    y_recess, y_dome = y_of[Vertebra.L1] + 5.0, y_of[Vertebra.T10] - 5.0
    dome_y = y_recess + (y_dome - y_recess) * np.sin(np.clip(dome_t * 1.7, 0.0, np.pi / 2.0)) ** 0.6
    lungs.fill(
        np.vstack(
            [
                [[dome_x[0] - 12.0, -900.0], [dome_x[-1], -900.0]],
                np.stack([dome_x, dome_y], 1)[::-1],
                [[dome_x[0] - 12.0, y_of[Vertebra.T12]]],
            ]
        ),
        1.0,
    )
    lung = lungs.blurred(8.0)
    organs = _Canvas(layout, factor)
    organs.fill(_ellipse(np.array([x_ant[Vertebra.T8] + 80.0, y_of[Vertebra.T9] + 5.0]), (60.0, 62.0)), 0.10)
    organs.fill(_ellipse(np.array([x_ant[Vertebra.T6] + 12.0, y_of[Vertebra.T6]]), (20.0, 140.0)), 0.05)
    density = inside * (0.30 - 0.16 * lung + organs.blurred(10.0)) + 0.03

    gas = _Canvas(layout, factor)
    for _ in range(6):
        level = _VERTEBRAE[int(anatomy.integers(Vertebra.L1.order, Vertebra.S1.order + 1))]
        point = np.array([x_ant[level] + anatomy.uniform(15.0, 110.0), y_of[level] + rng.uniform(-20, 20)])
        heading = anatomy.uniform(0.0, 2.0 * np.pi)
        for _ in range(int(anatomy.integers(2, 6))):
            radii = (float(anatomy.uniform(5, 14)), float(anatomy.uniform(4, 10)))
            gas.fill(_ellipse(point, radii, 20), float(rng.uniform(0.5, 1.0)))
            heading += anatomy.uniform(-1.0, 1.0)
            point = point + anatomy.uniform(8.0, 16.0) * np.array([math.cos(heading), math.sin(heading)])
    density -= 0.05 * _blur(gas.image, 3.0, row_mm, col_mm) * (1.0 - lung)
    return _resized(density.astype(np.float32), shape)


def _rib(body: _Body, offset_mm: float, flare: float) -> FloatArray:
    """Centre line of one rib in lateral projection: back past the spine, then down and forward."""
    d = body.depth_mm
    knots = np.array(
        [
            (-d / 2.0 + 2.0, -0.25 * body.height_mm),
            (-d / 2.0 - 22.0, -2.0),
            (-d / 2.0 - 42.0 * flare, 14.0),
            (-d / 2.0 - 44.0 * flare, 40.0),
            (-d / 2.0 - 22.0 * flare, 72.0),
            (d / 2.0 + 25.0, 100.0),
            (d / 2.0 + 95.0, 118.0),
        ]
    ) + np.array([offset_mm, 0.5 * offset_mm])
    return _local(body, _smooth(knots, 60))


def _upright(centre: FloatArray) -> _Body:
    """A frame at `centre` with the patient's own axes (x anterior, y caudal), for pelvic bones."""
    return _Body(Vertebra.S1, {}, centre, np.array([1.0, 0.0]), np.array([0.0, 1.0]), 0.0, 0.0)


_ILIUM_MM = (
    (-46.0, -12.0), (-42.0, -44.0), (-15.0, -60.0), (20.0, -58.0), (50.0, -42.0), (70.0, -12.0),
    (64.0, 18.0), (42.0, 52.0), (8.0, 66.0), (-14.0, 40.0), (-38.0, 16.0), (-46.0, -12.0),
)  # fmt: skip
"""Outline of an iliac wing in lateral projection around the S1 body centre: crest on top."""


def _pelvis_and_ribs(layout: _Layout, shape: tuple[int, int]) -> Image32:
    """Faint broad bones around the spine, ribs (both sides, slightly apart) and iliac wings, at ~1 mm."""
    factor = _factor(layout, 1.0)
    ribs = _Canvas(layout, factor)
    for body in layout.bodies[Vertebra.T2.order : Vertebra.L1.order]:
        flare = 1.0 - 0.3 * (body.vertebra.order - Vertebra.T2.order) / 10.0
        for offset in (0.0, -6.0):
            curve = _rib(body, offset, flare)
            parts = np.array_split(np.arange(len(curve)), 6)
            for part, fade in zip(parts, np.linspace(1.0, 0.2, len(parts)), strict=True):
                piece = curve[max(0, part[0] - 1) : part[-1] + 1]
                ribs.line(piece, fade, 8.0)  # cortical edges stay brighter than the middle
                ribs.line(piece, 0.5 * fade, 5.0)
    frame = _upright(layout.bodies[-1].centre)
    wing = _local(frame, _smooth(np.array(_ILIUM_MM), 90, 1))
    pelvis = _Canvas(layout, factor)
    pelvis.fill(wing, 0.04)
    pelvis.line(wing[4:50], 0.06, 3.5)
    pelvis.line(_local(frame, _smooth(np.array(_ILIUM_MM[6:10]) + np.array([-8.0, -6.0]), 30, 1)), 0.05, 2.0)
    ribs_density = _blur(ribs.image, 1.0, factor * layout.row_mm, factor * layout.col_mm)
    pelvis_density = _blur(pelvis.image, 1.2, factor * layout.row_mm, factor * layout.col_mm)
    ribs_density *= 0.08
    ribs_density += pelvis_density
    return _resized(ribs_density, shape)


def _posterior_elements(body: _Body, lumbar: bool) -> list[tuple[FloatArray, float]]:
    """Pedicle, articular pillar and lamina with spinous process of one vertebra, with their densities."""
    d, h = body.depth_mm, body.height_mm
    back = -d / 2.0
    pedicle_end = back - (0.22 * d + 4.0)
    pillar_end = pedicle_end - (0.2 * d + 4.0)
    tilt = 0.0 if lumbar else 0.12 * h
    pedicle = [
        (back + 1.0, -0.45 * h),
        (pedicle_end, -0.36 * h),
        (pedicle_end, 0.02 * h),
        (back + 1.0, 0.08 * h),
    ]
    pillar = [
        (pedicle_end + 1.5, -0.74 * h),
        (pillar_end + 1.5 - tilt, -0.80 * h),
        (pillar_end, 0.70 * h),
        (pedicle_end - 1.0 + tilt, 0.78 * h),
    ]
    angle = math.radians(12.0 if lumbar else 52.0)
    length = 0.75 * d + 6.0 if lumbar else 0.9 * d + 10.0
    base_width, tip_width = (0.6 * h, 0.45 * h) if lumbar else (0.36 * h, 0.12 * h)
    direction = np.array([-math.cos(angle), math.sin(angle)])
    across = np.array([math.sin(angle), math.cos(angle)])
    base = np.array([pillar_end + 3.0, -0.05 * h])
    tip = base + length * direction
    arc = np.linspace(-np.pi / 2.0, np.pi / 2.0, 7)
    rounded = [tip + tip_width / 2.0 * (math.cos(a) * direction + math.sin(a) * across) for a in arc]
    spinous = [base - base_width / 2.0 * across, *rounded, base + base_width / 2.0 * across]
    spinous_density = 0.04 if lumbar else 0.03
    return [
        (_local(body, np.array(pedicle)), 0.07),
        (_local(body, np.array(pillar)), 0.06),
        (_local(body, np.array(spinous)), spinous_density),
    ]


def _sacrum(s1: _Body) -> tuple[FloatArray, FloatArray]:
    """The sacrum below the S1 endplate, tapering and curving backward, and its posterior elements."""
    d, h = s1.depth_mm, s1.height_mm
    anterior = [
        (d / 2.0, -h / 2.0),
        (d / 2.0 - 1.0, 0.0),
        (d / 2.0 - 5.0, h / 2.0 + 2.0),
        (d / 2.0 - 12.0, h / 2.0 + 22.0),
        (d / 2.0 - 26.0, h / 2.0 + 46.0),
        (d / 2.0 - 46.0, h / 2.0 + 66.0),
    ]
    posterior = [
        (-d / 2.0, -h / 2.0),
        (-d / 2.0 - 1.0, 0.0),
        (-d / 2.0 - 4.0, h / 2.0 + 8.0),
        (-d / 2.0 - 10.0, h / 2.0 + 28.0),
        (-d / 2.0 - 20.0, h / 2.0 + 50.0),
        (d / 2.0 - 54.0, h / 2.0 + 70.0),
    ]
    body = np.vstack([_smooth(np.array(anterior), 24, 1), _smooth(np.array(posterior), 24, 1)[::-1]])
    crest = [
        (-d / 2.0 - 6.0, -h / 2.0 - 14.0),
        (-d / 2.0 - 17.0, -h / 2.0 - 10.0),
        (-d / 2.0 - 28.0, h / 2.0),
        (-d / 2.0 - 36.0, h / 2.0 + 40.0),
        (-d / 2.0 - 22.0, h / 2.0 + 48.0),
        (-d / 2.0 - 6.0, h / 2.0 + 6.0),
    ]
    return _local(s1, body), _local(s1, np.array(crest))


def _cement_outline(body: _Body, rng: np.random.Generator) -> list[FloatArray]:
    """An irregular cement cast filling most of the body, with a few interdigitating droplets.

    Bipedicular kyphoplasty leaves two balloon cavities that merge: two overlapping lobes, one a little
    higher, with a wavy margin.
    """
    d, h = body.depth_mm, body.height_mm
    t = np.linspace(0.0, 2.0 * np.pi, 72, endpoint=False)
    parts = []
    for side in (-1.0, 1.0):
        radius = np.ones_like(t)
        for harmonic in range(2, 7):
            radius += rng.uniform(0.02, 0.06) * np.cos(harmonic * t + rng.uniform(0, 2 * np.pi))
        a0, b0 = 0.05 * d + side * 0.13 * d, side * rng.uniform(0.0, 0.06) * h
        lobe = np.stack([a0 + 0.27 * d * radius * np.cos(t), b0 + 0.40 * h * radius * np.sin(t)], axis=1)
        parts.append(_local(body, lobe))
    for _ in range(6):
        angle = rng.uniform(0, 2 * np.pi)
        centre = np.array([0.05 * d + 0.40 * d * math.cos(angle), 0.40 * h * math.sin(angle)])
        parts.append(_local(body, _ellipse(centre, (rng.uniform(1.0, 2.5), rng.uniform(0.8, 2.0)), 16)))
    return parts


def _white_noise(rng: np.random.Generator, shape: tuple[int, int]) -> Image32:
    """Zero-mean, unit-spread white noise; uniform rather than Gaussian because it is five times faster."""
    noise = rng.random(shape, dtype=np.float32)
    noise -= 0.5
    noise *= math.sqrt(12.0)
    return noise


def _texture(layout: _Layout, rng: np.random.Generator) -> Image32:
    """Trabecular-looking network of about unit spread, streaked along the spine, at full resolution.

    Ridged band-pass noise: thin bright lines where the band-passed noise crosses zero.
    """
    factor = max(1, round(0.25 / max(layout.row_mm, layout.col_mm)))
    row_mm, col_mm = factor * layout.row_mm, factor * layout.col_mm
    shape = _shape(layout, factor)
    noise = _white_noise(rng, shape)
    fine = np.asarray(
        cv2.GaussianBlur(noise, (0, 0), max(0.3, 0.25 / col_mm), sigmaY=max(0.3, 0.7 / row_mm)),
        dtype=np.float32,
    )
    ridges = _wide_blur(fine, 1.2, row_mm, col_mm)
    np.subtract(fine, ridges, out=ridges)
    np.abs(ridges, out=ridges)
    ridges *= -1.6 / (float(ridges[::7, ::7].mean()) + 1e-6)
    ridges += 1.0
    coarse_factor = _factor(layout, 1.0)
    coarse = _white_noise(rng, _shape(layout, coarse_factor))
    coarse = _blur(coarse, 2.0, coarse_factor * layout.row_mm, coarse_factor * layout.col_mm)
    ridges += _resized(0.6 * coarse / (float(coarse.std()) + 1e-6), shape)
    np.clip(ridges, -2.0, 1.0, out=ridges)
    return _resized(ridges, (layout.rows, layout.columns))


def _spine(
    layout: _Layout, model: SpineModel, texture: Image32
) -> tuple[Image32, list[tuple[FloatArray, list[FloatArray]]]]:
    """Bodies, posterior elements and sacrum at full resolution; also the outlines of the cement casts."""
    fills, cortex = _Canvas(layout), _Canvas(layout)
    anatomy = np.random.default_rng(model.anatomy_seed + 1)
    casts: list[tuple[FloatArray, list[FloatArray]]] = []
    s1 = layout.bodies[-1]
    sacrum, crest = _sacrum(s1)
    fills.fill(crest, 0.05)
    cortex.line(crest, 0.03, 1.0, closed=True)
    for body in layout.bodies[:-1]:
        for polygon, value in _posterior_elements(body, body.vertebra.order >= Vertebra.L1.order):
            fills.fill(polygon, value)
            cortex.line(polygon, 0.6 * value, 0.9, closed=True)
    fills.fill(sacrum, 0.16)
    cortex.line(sacrum, 0.10, 1.2, closed=True)
    fused_disc = _local(
        s1,
        [(-s1.depth_mm / 2.0 - 3.0, s1.height_mm / 2.0 + 3.0), (s1.depth_mm / 2.0 - 4.0, s1.height_mm / 2.0)],
    )
    fills.line(fused_disc, 0.11, 1.5)
    for body in layout.bodies[:-1]:
        outline = _body_outline(body)
        fills.fill(outline, 0.20)
        cortex.line(outline, 0.13, 1.1, closed=True)
        fracture = model.fracture(body.vertebra)
        if fracture is not None:
            # Compacted trabeculae under the collapsed endplate.
            p = body.points
            band = np.vstack(
                [
                    _quadratic(p["superior.posterior"], p["superior.middle"], p["superior.anterior"]),
                    _quadratic(p["superior.anterior"], p["superior.middle"], p["superior.posterior"])
                    + 0.18 * body.height_mm * body.caudal,
                ]
            )
            fills.fill(band, 0.26)
            if fracture.cemented:
                casts.append((outline, _cement_outline(body, anatomy)))
    row_mm, col_mm = layout.row_mm, layout.col_mm
    bone = 0.15 * texture
    bone += 0.85
    bone *= _blur(fills.image, 0.12, row_mm, col_mm)
    bone += _blur(cortex.image, 0.3, row_mm, col_mm)
    if model.bone_density != 1.0:
        bone *= model.bone_density
    return bone, casts


def _unsharp(layout: _Layout, density: Image32, sigma_mm: float, amount: float) -> Image32:
    """Processed-film edge enhancement: add back the difference from a wide blur."""
    wide = _wide_blur(density, sigma_mm, layout.row_mm, layout.col_mm)
    wide *= amount
    density *= 1.0 + amount
    density -= wide
    return density


def _roi_polygon(layout: _Layout, points: FloatArray, shift: FloatArray) -> npt.NDArray[np.int32]:
    """OpenCV polygon of patient-frame points in a window whose first pixel centre is at `shift`."""
    return np.round((layout.pixels(points) - shift) * (1 << _SUBPIXEL_SHIFT)).astype(np.int32)


def _apply_cement(
    layout: _Layout, density: Image32, casts: list[tuple[FloatArray, list[FloatArray]]], texture: Image32
) -> None:
    """Paint each cast, kept inside its body's outline, near saturation; works on its bounding box only."""
    for outline, parts in casts:
        corners = layout.pixels(np.vstack(parts))
        left, top = np.floor(corners.min(axis=0)).astype(int) - 4
        right, bottom = np.ceil(corners.max(axis=0)).astype(int) + 4
        top, left = max(0, top), max(0, left)
        bottom, right = min(layout.rows, bottom), min(layout.columns, right)
        if bottom <= top or right <= left:
            continue
        shift = np.array([left, top], dtype=np.float64) + 0.5
        mask = np.zeros((bottom - top, right - left), dtype=np.float32)
        for part in parts:
            cv2.fillPoly(mask, [_roi_polygon(layout, part, shift)], (1.0,), cv2.LINE_8, _SUBPIXEL_SHIFT)
        body = np.zeros_like(mask)
        cv2.fillPoly(body, [_roi_polygon(layout, outline, shift)], (1.0,), cv2.LINE_8, _SUBPIXEL_SHIFT)
        body = cv2.erode(body, np.ones((3, 3), np.uint8))
        mask = _blur(np.minimum(mask, body), 0.15, layout.row_mm, layout.col_mm)
        window = density[top:bottom, left:right]
        cast = 0.91 + 0.015 * texture[top:bottom, left:right]
        window += mask * (cast - window)


def _collimation(layout: _Layout, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """First row, end row, first column and end column of the exposed field."""
    margin_rows = rng.uniform(4.0, 10.0, 2) / layout.row_mm
    margin_cols = rng.uniform(4.0, 12.0, 2) / layout.col_mm
    return (
        int(margin_rows[0]),
        layout.rows - int(margin_rows[1]),
        int(margin_cols[0]),
        layout.columns - int(margin_cols[1]),
    )


def _marker(layout: _Layout, model: SpineModel, image: Image32, field: tuple[int, int, int, int]) -> None:
    """The lead side-marker letter in a top corner, behind the patient's back."""
    if model.side_marker is None:
        return
    top, _, left, right = field
    height_px = 12.0 / layout.row_mm
    width_px = 12.0 / layout.col_mm
    posterior_left = model.facing is Facing.RIGHT
    x0 = (
        left + int(8.0 / layout.col_mm)
        if posterior_left
        else right - int(8.0 / layout.col_mm + 1.5 * width_px)
    )
    y0 = top + int(8.0 / layout.row_mm)
    x1, y1 = min(layout.columns, x0 + int(1.5 * width_px)), min(layout.rows, y0 + int(1.5 * height_px))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return
    size = round(1.5 * height_px)
    letter = np.zeros((size, size), dtype=np.uint8)
    cv2.putText(  # OpenCV draws text on 8-bit images only; drawn square, then fitted to the pixel aspect
        letter, model.side_marker, (size // 6, size - size // 6), cv2.FONT_HERSHEY_SIMPLEX,
        size / 33.0, (255,), max(1, size // 10),
    )  # fmt: skip
    fitted = np.asarray(
        cv2.resize(letter, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA), dtype=np.float32
    )
    image[y0:y1, x0:x1] = 0.5 + fitted / 510.0


def render(
    model: SpineModel,
    *,
    rows: int,
    columns: int,
    spacing_mm: tuple[float, float],
    seed: int = 0,
) -> npt.NDArray[np.uint16]:
    """Draw the lateral film of `model`: 12-bit values in uint16, bright is dense (MONOCHROME2).

    `spacing_mm` is `(row_mm, col_mm)`. The same model, film and seed always give the same pixels;
    `seed` varies the exposure (noise, texture, collimation, bowel gas), `model.anatomy_seed` the patient.
    """
    layout = _layout(model, rows, columns, spacing_mm)
    rng = np.random.default_rng(seed)
    anatomy = np.random.default_rng(model.anatomy_seed)
    factor = _factor(layout, 0.5)
    shape = _shape(layout, factor)
    background = _soft_tissue(layout, rng, anatomy, shape) + _pelvis_and_ribs(layout, shape)
    density = _resized(background, (rows, columns))
    texture = _texture(layout, rng)
    bone, casts = _spine(layout, model, texture)
    density += bone
    density = _unsharp(layout, density, 5.0, 0.7)
    _apply_cement(layout, density, casts, texture)
    noise = _white_noise(rng, (rows, columns))
    noise *= 0.008
    density += noise
    field = _collimation(layout, rng)
    top, bottom, left, right = field
    film = density
    for shutter in (film[:top], film[bottom:], film[:, :left], film[:, right:]):
        shutter[...] = 0.80
    _marker(layout, model, film, field)
    np.clip(film, 0.0, 1.0, out=film)
    film *= MAX_PIXEL_VALUE
    film += 0.5
    return film.astype(np.uint16)
