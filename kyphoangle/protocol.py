"""The trial's measurement definitions (stable names, data) and their computation from landmarks."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from kyphoangle.anatomy import EndplateRef, LandmarkKey
from kyphoangle.errors import LandmarkError
from kyphoangle.geometry import Endplate, Facing, InconsistentEndplatesError, Point, Scale, facing
from kyphoangle.geometry import distance_mm as _distance
from kyphoangle.geometry import signed_angle_deg as _angle
from kyphoangle.normal_table import NormalTable
from kyphoangle.spacing import PixelSpacing
from kyphoangle.vocabulary import (
    FRACTURE_LEVELS,
    Corner,
    EndplateSide,
    NotEvaluableReason,
    SpacingSource,
    Vertebra,
)


class MeasurementName(StrEnum):
    """Stable names of the measurements; stored and exported as they are."""

    THORACIC_KYPHOSIS = "thoracic_kyphosis"
    LUMBAR_LORDOSIS = "lumbar_lordosis"
    REGIONAL_ANGLE = "regional_angle"
    TRAUMATIC_REGIONAL_ANGLE = "traumatic_regional_angle"
    VERTEBRAL_KYPHOSIS = "vertebral_kyphosis"
    ANTERIOR_HEIGHT = "anterior_height"
    MIDDLE_HEIGHT = "middle_height"
    POSTERIOR_HEIGHT = "posterior_height"
    BECK_INDEX = "beck_index"
    ANTERIOR_HEIGHT_LOSS = "anterior_height_loss"
    GENANT_GRADE = "genant_grade"


class Unit(StrEnum):
    """Unit strings of measurement values."""

    DEG = "deg"
    MM = "mm"
    PX = "px"
    RATIO = "ratio"
    PERCENT = "percent"
    GRADE = "grade"


@dataclass(frozen=True, slots=True)
class NotEvaluable:
    """A reader's statement that a level cannot be measured on this film, with the reason."""

    reason: NotEvaluableReason
    note: str = ""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "reason", NotEvaluableReason(self.reason))
        except ValueError:
            choices = ", ".join(NotEvaluableReason)
            raise LandmarkError(f"{self.reason!r} is not a not-evaluable reason ({choices})") from None

    def __str__(self) -> str:
        return f"{self.reason}: {self.note}" if self.note else str(self.reason)


@dataclass(frozen=True, slots=True)
class MeasurementDefinition:
    """What a measurement is: stable name, display label, unit, whether it belongs to a level."""

    name: MeasurementName
    label: str
    unit: Unit
    per_level: bool
    description: str


MEASUREMENT_DEFINITIONS: Mapping[MeasurementName, MeasurementDefinition] = {
    d.name: d
    for d in (
        MeasurementDefinition(
            MeasurementName.THORACIC_KYPHOSIS,
            "Thoracic kyphosis",
            Unit.DEG,
            False,
            "Angle from the cranial to the caudal thoracic endplate (default T4 superior to T12 inferior).",
        ),
        MeasurementDefinition(
            MeasurementName.LUMBAR_LORDOSIS,
            "Lumbar lordosis",
            Unit.DEG,
            False,
            "Angle from L1 superior to S1 superior (or L5 inferior); lordosis is negative.",
        ),
        MeasurementDefinition(
            MeasurementName.REGIONAL_ANGLE,
            "Regional angle",
            Unit.DEG,
            True,
            "Superior endplate of the vertebra above to inferior endplate of the vertebra below "
            "(S1 superior below L5).",
        ),
        MeasurementDefinition(
            MeasurementName.TRAUMATIC_REGIONAL_ANGLE,
            "Traumatic regional angle (ART)",
            Unit.DEG,
            True,
            "Regional angle minus the normal table's physiological value at the level.",
        ),
        MeasurementDefinition(
            MeasurementName.VERTEBRAL_KYPHOSIS,
            "Vertebral kyphosis",
            Unit.DEG,
            True,
            "Superior to inferior endplate of the fractured vertebra.",
        ),
        MeasurementDefinition(
            MeasurementName.ANTERIOR_HEIGHT,
            "Anterior height",
            Unit.MM,
            True,
            "Distance between the anterior corners of the vertebra's endplates.",
        ),
        MeasurementDefinition(
            MeasurementName.MIDDLE_HEIGHT,
            "Middle height",
            Unit.MM,
            True,
            "Distance between the middle points of the vertebra's endplates.",
        ),
        MeasurementDefinition(
            MeasurementName.POSTERIOR_HEIGHT,
            "Posterior height",
            Unit.MM,
            True,
            "Distance between the posterior corners of the vertebra's endplates.",
        ),
        MeasurementDefinition(
            MeasurementName.BECK_INDEX,
            "Beck index",
            Unit.RATIO,
            True,
            "Anterior height divided by posterior height.",
        ),
        MeasurementDefinition(
            MeasurementName.ANTERIOR_HEIGHT_LOSS,
            "Anterior height loss",
            Unit.PERCENT,
            True,
            "100 * ((A_above + A_below) - 2 A) / (A_above + A_below), against the neighbouring vertebrae.",
        ),
        MeasurementDefinition(
            MeasurementName.GENANT_GRADE,
            "Genant grade",
            Unit.GRADE,
            True,
            "Semi-quantitative grade (Genant, JBMR 1993;8:1137) from the largest of the anterior, middle "
            "and posterior height reductions against the mean of the neighbours: 0 below 20%, 1 20-25%, "
            "2 25-40%, 3 above 40%.",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class GlobalEndpoints:
    """The endplates that bound the global curves; stored and exported with every global value."""

    kyphosis: tuple[EndplateRef, EndplateRef] = (
        EndplateRef(Vertebra.T4, EndplateSide.SUPERIOR),
        EndplateRef(Vertebra.T12, EndplateSide.INFERIOR),
    )
    lordosis: tuple[EndplateRef, EndplateRef] = (
        EndplateRef(Vertebra.L1, EndplateSide.SUPERIOR),
        EndplateRef(Vertebra.S1, EndplateSide.SUPERIOR),
    )

    def __post_init__(self) -> None:
        for upper, lower in (self.kyphosis, self.lordosis):
            if upper.vertebra.order >= lower.vertebra.order:
                raise LandmarkError(f"global endpoints {upper}-{lower} are not cranial to caudal")

    @classmethod
    def parse(cls, kyphosis: str | None = None, lordosis: str | None = None) -> GlobalEndpoints:
        """Build from strings like `T4.superior-T12.inferior`; None keeps the default."""
        default = cls()

        def pair(
            text: str | None, fallback: tuple[EndplateRef, EndplateRef]
        ) -> tuple[EndplateRef, EndplateRef]:
            if text is None:
                return fallback
            upper, sep, lower = text.partition("-")
            if not sep:
                raise LandmarkError(f"{text!r} is not an endpoint pair such as 'T4.superior-T12.inferior'")
            return EndplateRef.parse(upper), EndplateRef.parse(lower)

        return cls(pair(kyphosis, default.kyphosis), pair(lordosis, default.lordosis))

    @staticmethod
    def label(pair: tuple[EndplateRef, EndplateRef]) -> str:
        """The stored text of an endpoint pair, e.g. `T4.superior-T12.inferior`."""
        return f"{pair[0]}-{pair[1]}"


@dataclass(frozen=True, slots=True)
class Measurement:
    """One computed value with its provenance: never a bare float."""

    name: MeasurementName
    level: str | None
    value: float
    unit: Unit
    landmarks: tuple[str, ...]
    spacing_source: SpacingSource
    normal_table: str | None = None
    normal_table_version: str | None = None
    endpoints: str | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready record (the `measurements` entries of `kyphoangle measure --format json`)."""
        return {
            "name": str(self.name),
            "level": self.level,
            "value": self.value,
            "unit": str(self.unit),
            "landmarks": list(self.landmarks),
            "spacing_source": str(self.spacing_source),
            "normal_table": self.normal_table,
            "normal_table_version": self.normal_table_version,
            "endpoints": self.endpoints,
        }


@dataclass(frozen=True, slots=True)
class NotComputed:
    """A measurement that could not be computed, with the landmarks it lacks or the reason."""

    name: MeasurementName
    level: str | None
    missing: tuple[str, ...]
    reason: str

    def as_dict(self) -> dict[str, object]:
        """JSON-ready record (the `not_computed` entries of `kyphoangle measure --format json`)."""
        return {
            "name": str(self.name),
            "level": self.level,
            "missing": list(self.missing),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class MeasurementSet:
    """Everything computed from one reader's landmarks on one film."""

    measurements: tuple[Measurement, ...]
    not_computed: tuple[NotComputed, ...]
    facing: Facing | None
    inconsistent_endplates: tuple[str, ...] = field(default=())

    def get(self, name: MeasurementName | str, level: str | None = None) -> Measurement | None:
        """The measurement of that name at that level, or None."""
        for measurement in self.measurements:
            if measurement.name == name and measurement.level == level:
                return measurement
        return None


def validate_points(points: Mapping[str, tuple[float, float]]) -> dict[str, Point]:
    """Check keys and coordinates; returns Points. Raises LandmarkError naming the bad entry."""
    checked: dict[str, Point] = {}
    for key, value in points.items():
        LandmarkKey.parse(key)
        if (
            len(value) != 2
            or any(isinstance(c, bool) or not isinstance(c, int | float) for c in value)
            or not all(math.isfinite(c) for c in value)
        ):
            raise LandmarkError(f"landmark {key}: expected [column, row] as two finite numbers")
        checked[key] = Point(float(value[0]), float(value[1]))
    return checked


def validate_levels(levels: Iterable[str]) -> tuple[str, ...]:
    """Check fractured levels are distinct levels from T10 to L5; returns them cranial to caudal."""
    result = []
    for level in levels:
        if level not in FRACTURE_LEVELS:
            raise LandmarkError(f"{level!r} is not a fractured level the trial measures (T10 to L5)")
        if level in result:
            raise LandmarkError(f"fractured level {level} is listed twice")
        result.append(level)
    return tuple(sorted(result, key=FRACTURE_LEVELS.index))


def angle_scale(spacing: PixelSpacing, pixel_aspect_ratio: tuple[int, int] | None = None) -> Scale:
    """Scale for angles: the spacing, else the Pixel Aspect Ratio (row:column), else square pixels."""
    if spacing.row_mm is not None and spacing.col_mm is not None:
        return Scale(spacing.row_mm, spacing.col_mm)
    if pixel_aspect_ratio is not None and all(part > 0 for part in pixel_aspect_ratio):
        return Scale(float(pixel_aspect_ratio[0]), float(pixel_aspect_ratio[1]))
    return Scale(1.0, 1.0)


class _Computer:
    """Computes a MeasurementSet; holds the shared inputs of one film."""

    def __init__(
        self,
        points: Mapping[str, Point],
        spacing: PixelSpacing,
        scale: Scale,
        normal_table: NormalTable,
    ) -> None:
        self.points = points
        self.spacing = spacing
        self.scale = scale
        self.normal_table = normal_table
        self.measurements: list[Measurement] = []
        self.not_computed: list[NotComputed] = []
        self.facing, self.inconsistent = self._film_facing()

    def _endplate(self, ref: EndplateRef) -> Endplate | None:
        posterior, anterior = ref.line_keys
        if posterior in self.points and anterior in self.points:
            return Endplate(self.points[posterior], self.points[anterior])
        return None

    def _film_facing(self) -> tuple[Facing | None, tuple[str, ...]]:
        """Facing of every endplate against the film's cranio-caudal axis; the minority is inconsistent.

        The axis runs from the most cranial placed endplate's midpoint to the most caudal one's. When
        the endplates split evenly, all of them are reported, since the film cannot say which is right.
        """
        refs = sorted({LandmarkKey.parse(key).endplate for key in self.points}, key=lambda r: r.sort_key)
        placed = [(ref, plate) for ref in refs if (plate := self._endplate(ref)) is not None]
        if len(placed) < 2:
            return None, ()
        axis = placed[-1][1].midpoint_mm(self.scale) - placed[0][1].midpoint_mm(self.scale)
        facings: dict[str, Facing] = {}
        for ref, plate in placed:
            try:
                facings[str(ref)] = facing(plate, axis, self.scale)
            except InconsistentEndplatesError:
                continue
        counts = Counter(facings.values()).most_common()
        if not counts:
            return None, ()
        if len(counts) > 1 and counts[0][1] == counts[1][1]:
            return None, tuple(facings)
        majority = counts[0][0]
        return majority, tuple(ref for ref, side in facings.items() if side is not majority)

    def _missing(self, keys: Sequence[str]) -> tuple[str, ...]:
        return tuple(k for k in keys if k not in self.points)

    def _skip(self, name: MeasurementName, level: str | None, missing: Sequence[str], reason: str) -> None:
        self.not_computed.append(NotComputed(name, level, tuple(missing), reason))

    def _add(
        self,
        name: MeasurementName,
        level: str | None,
        value: float,
        unit: Unit,
        keys: Sequence[str],
        *,
        normal_table: NormalTable | None = None,
        endpoints: str | None = None,
    ) -> Measurement:
        measurement = Measurement(
            name,
            level,
            value,
            unit,
            tuple(keys),
            self.spacing.source,
            normal_table=normal_table.name if normal_table else None,
            normal_table_version=normal_table.version if normal_table else None,
            endpoints=endpoints,
        )
        self.measurements.append(measurement)
        return measurement

    def angle(
        self,
        name: MeasurementName,
        level: str | None,
        upper: EndplateRef,
        lower: EndplateRef,
        endpoints: str | None = None,
    ) -> Measurement | None:
        """Signed angle between two endplates, or a NotComputed entry."""
        keys = (*upper.line_keys, *lower.line_keys)
        missing = self._missing(keys)
        if missing:
            self._skip(name, level, missing, "missing landmarks")
            return None
        odd = [str(ref) for ref in (upper, lower) if str(ref) in self.inconsistent]
        if odd:
            self._skip(name, level, (), f"anterior and posterior corners look swapped on {', '.join(odd)}")
            return None
        upper_plate, lower_plate = self._endplate(upper), self._endplate(lower)
        assert upper_plate is not None and lower_plate is not None
        try:
            value = _angle(upper_plate, lower_plate, self.scale)
        except InconsistentEndplatesError as exc:
            self._skip(name, level, (), str(exc))
            return None
        return self._add(name, level, value, Unit.DEG, keys, endpoints=endpoints)

    def height(self, name: MeasurementName, level: Vertebra, corner: Corner) -> float | None:
        """Height of a vertebra at one corner; records a Measurement only when `name` is given."""
        keys = (
            EndplateRef(level, EndplateSide.SUPERIOR).key(corner),
            EndplateRef(level, EndplateSide.INFERIOR).key(corner),
        )
        missing = self._missing(keys)
        if missing:
            self._skip(name, level.value, missing, "missing landmarks")
            return None
        value = _distance(self.points[keys[0]], self.points[keys[1]], self.scale)
        unit = Unit.MM if self.spacing.is_known else Unit.PX
        self._add(name, level.value, value, unit, keys)
        return value

    def neighbour_height(
        self, vertebra: Vertebra | None, corner: Corner
    ) -> tuple[float | None, tuple[str, ...]]:
        """Height of a neighbouring vertebra (not recorded), with the keys it needs."""
        if vertebra is None or vertebra is Vertebra.S1:
            return None, ()
        keys = (
            EndplateRef(vertebra, EndplateSide.SUPERIOR).key(corner),
            EndplateRef(vertebra, EndplateSide.INFERIOR).key(corner),
        )
        if self._missing(keys):
            return None, keys
        return _distance(self.points[keys[0]], self.points[keys[1]], self.scale), keys


def compute_measurements(
    points: Mapping[str, tuple[float, float]],
    *,
    spacing: PixelSpacing,
    fractured_levels: Iterable[str],
    normal_table: NormalTable,
    endpoints: GlobalEndpoints | None = None,
    not_evaluable: Mapping[str, NotEvaluable] | None = None,
    pixel_aspect_ratio: tuple[int, int] | None = None,
) -> MeasurementSet:
    """Compute every trial measurement the landmarks allow; the rest are NotComputed with a reason.

    `points` maps landmark keys to `[column, row]` image pixels. Angles are taken in millimetres using
    `spacing` (or the pixel aspect ratio, else square pixels, when the film has no spacing); heights are
    in mm, or px without spacing. A level in `not_evaluable` (level -> NotEvaluable) yields no
    per-level value.
    """
    checked = validate_points(points)
    levels = validate_levels(fractured_levels)
    endpoints = endpoints or GlobalEndpoints()
    skipped_levels = dict(not_evaluable or {})
    validate_levels(skipped_levels)
    computer = _Computer(checked, spacing, angle_scale(spacing, pixel_aspect_ratio), normal_table)

    computer.angle(
        MeasurementName.THORACIC_KYPHOSIS,
        None,
        *endpoints.kyphosis,
        endpoints=GlobalEndpoints.label(endpoints.kyphosis),
    )
    computer.angle(
        MeasurementName.LUMBAR_LORDOSIS,
        None,
        *endpoints.lordosis,
        endpoints=GlobalEndpoints.label(endpoints.lordosis),
    )

    for level in levels:
        if level in skipped_levels:
            for definition in MEASUREMENT_DEFINITIONS.values():
                if definition.per_level:
                    computer._skip(definition.name, level, (), f"not evaluable: {skipped_levels[level]}")
            continue
        _compute_level(computer, Vertebra(level))

    return MeasurementSet(
        measurements=tuple(computer.measurements),
        not_computed=tuple(computer.not_computed),
        facing=computer.facing,
        inconsistent_endplates=computer.inconsistent,
    )


@dataclass(frozen=True, slots=True)
class LandmarkRequirement:
    """The landmarks one measurement needs (the same keys `compute_measurements` reads)."""

    name: MeasurementName
    level: str | None
    keys: tuple[str, ...]


_LINE = (Corner.POSTERIOR, Corner.ANTERIOR)


def _endplate_keys(refs: Iterable[EndplateRef], corners: Iterable[Corner] = _LINE) -> tuple[str, ...]:
    wanted = tuple(corners)
    return tuple(ref.key(corner) for ref in refs for corner in wanted)


def _body_keys(vertebra: Vertebra, corners: Iterable[Corner]) -> tuple[str, ...]:
    return _endplate_keys((EndplateRef(vertebra, side) for side in EndplateSide), corners)


def landmark_requirements(
    fractured_levels: Iterable[str],
    endpoints: GlobalEndpoints | None = None,
    not_evaluable: Mapping[str, NotEvaluable] | None = None,
) -> tuple[LandmarkRequirement, ...]:
    """Which landmarks each measurement of a read needs: the global curves, then per evaluable
    fractured level its angles, heights, Beck index, and the height loss and Genant grade (which need
    the vertebrae above and below too; not at L5, whose neighbour below is S1)."""
    endpoints = endpoints or GlobalEndpoints()
    skipped = not_evaluable or {}
    needs = [
        LandmarkRequirement(MeasurementName.THORACIC_KYPHOSIS, None, _endplate_keys(endpoints.kyphosis)),
        LandmarkRequirement(MeasurementName.LUMBAR_LORDOSIS, None, _endplate_keys(endpoints.lordosis)),
    ]
    for level in validate_levels(fractured_levels):
        if level in skipped:
            continue
        vertebra = Vertebra(level)
        own = EndplateRef(vertebra, EndplateSide.SUPERIOR), EndplateRef(vertebra, EndplateSide.INFERIOR)
        regional = _endplate_keys(regional_endplates(vertebra))
        needs += [
            LandmarkRequirement(MeasurementName.REGIONAL_ANGLE, level, regional),
            LandmarkRequirement(MeasurementName.TRAUMATIC_REGIONAL_ANGLE, level, regional),
            LandmarkRequirement(MeasurementName.VERTEBRAL_KYPHOSIS, level, _endplate_keys(own)),
            LandmarkRequirement(
                MeasurementName.ANTERIOR_HEIGHT, level, _body_keys(vertebra, [Corner.ANTERIOR])
            ),
            LandmarkRequirement(MeasurementName.MIDDLE_HEIGHT, level, _body_keys(vertebra, [Corner.MIDDLE])),
            LandmarkRequirement(
                MeasurementName.POSTERIOR_HEIGHT, level, _body_keys(vertebra, [Corner.POSTERIOR])
            ),
            LandmarkRequirement(MeasurementName.BECK_INDEX, level, _body_keys(vertebra, _LINE)),
        ]
        above, below = vertebra.above(), vertebra.below()
        if above is None or below is None or below is Vertebra.S1:
            continue
        trio = (above, vertebra, below)
        needs += [
            LandmarkRequirement(
                MeasurementName.ANTERIOR_HEIGHT_LOSS,
                level,
                tuple(k for v in trio for k in _body_keys(v, [Corner.ANTERIOR])),
            ),
            LandmarkRequirement(
                MeasurementName.GENANT_GRADE, level, tuple(k for v in trio for k in _body_keys(v, Corner))
            ),
        ]
    return tuple(needs)


def regional_endplates(level: Vertebra) -> tuple[EndplateRef, EndplateRef]:
    """The endplates bounding the regional angle at a level (S1 superior below L5)."""
    above, below = level.above(), level.below()
    assert above is not None and below is not None, "fractured levels run from T10 to L5"
    lower_side = EndplateSide.SUPERIOR if below is Vertebra.S1 else EndplateSide.INFERIOR
    return EndplateRef(above, EndplateSide.SUPERIOR), EndplateRef(below, lower_side)


def _compute_level(computer: _Computer, level: Vertebra) -> None:
    table = computer.normal_table
    regional = computer.angle(MeasurementName.REGIONAL_ANGLE, level.value, *regional_endplates(level))
    normal = table.normal_deg(level.value)
    art = MeasurementName.TRAUMATIC_REGIONAL_ANGLE
    if regional is None:
        computer._skip(art, level.value, (), "regional angle not computed")
    elif normal is None:
        computer._skip(
            art, level.value, (), f"normal table {table.name} v{table.version} has no value at {level}"
        )
    else:
        computer._add(
            art, level.value, regional.value - normal, Unit.DEG, regional.landmarks, normal_table=table
        )

    computer.angle(
        MeasurementName.VERTEBRAL_KYPHOSIS,
        level.value,
        EndplateRef(level, EndplateSide.SUPERIOR),
        EndplateRef(level, EndplateSide.INFERIOR),
    )

    heights: dict[Corner, float | None] = {}
    for corner, name in (
        (Corner.ANTERIOR, MeasurementName.ANTERIOR_HEIGHT),
        (Corner.MIDDLE, MeasurementName.MIDDLE_HEIGHT),
        (Corner.POSTERIOR, MeasurementName.POSTERIOR_HEIGHT),
    ):
        heights[corner] = computer.height(name, level, corner)

    anterior, posterior = heights[Corner.ANTERIOR], heights[Corner.POSTERIOR]
    own_keys = {
        c: (
            EndplateRef(level, EndplateSide.SUPERIOR).key(c),
            EndplateRef(level, EndplateSide.INFERIOR).key(c),
        )
        for c in Corner
    }
    if anterior is None or posterior is None:
        computer._skip(
            MeasurementName.BECK_INDEX,
            level.value,
            computer._missing((*own_keys[Corner.ANTERIOR], *own_keys[Corner.POSTERIOR])),
            "missing landmarks",
        )
    elif posterior <= 0:
        computer._skip(MeasurementName.BECK_INDEX, level.value, (), "posterior height is zero")
    else:
        computer._add(
            MeasurementName.BECK_INDEX,
            level.value,
            anterior / posterior,
            Unit.RATIO,
            (*own_keys[Corner.ANTERIOR], *own_keys[Corner.POSTERIOR]),
        )

    _neighbour_morphometry(computer, level, heights, own_keys)


def _neighbour_morphometry(
    computer: _Computer,
    level: Vertebra,
    heights: Mapping[Corner, float | None],
    own_keys: Mapping[Corner, tuple[str, str]],
) -> None:
    """Height loss and Genant grade against the mean of the vertebrae above and below."""
    reductions: dict[Corner, float] = {}
    used: list[str] = []
    missing: list[str] = []
    for corner in Corner:
        above, above_keys = computer.neighbour_height(level.above(), corner)
        below, below_keys = computer.neighbour_height(level.below(), corner)
        own = heights[corner]
        if above is None or below is None or own is None:
            missing.extend(computer._missing((*above_keys, *below_keys, *own_keys[corner])))
            if corner is Corner.ANTERIOR:
                reason = (
                    "no vertebra with two endplates below S1"
                    if level.below() is Vertebra.S1
                    else "missing landmarks"
                )
                computer._skip(
                    MeasurementName.ANTERIOR_HEIGHT_LOSS,
                    level.value,
                    computer._missing((*above_keys, *below_keys, *own_keys[corner])),
                    reason,
                )
            continue
        keys = (*above_keys, *below_keys, *own_keys[corner])
        used.extend(keys)
        reductions[corner] = 100.0 * ((above + below) - 2.0 * own) / (above + below)
        if corner is Corner.ANTERIOR:
            computer._add(
                MeasurementName.ANTERIOR_HEIGHT_LOSS, level.value, reductions[corner], Unit.PERCENT, keys
            )
    if len(reductions) == len(Corner):
        computer._add(
            MeasurementName.GENANT_GRADE,
            level.value,
            float(genant_grade(max(reductions.values()))),
            Unit.GRADE,
            tuple(dict.fromkeys(used)),
        )
    else:
        reason = (
            "no vertebra with two endplates below S1" if level.below() is Vertebra.S1 else "missing landmarks"
        )
        computer._skip(MeasurementName.GENANT_GRADE, level.value, tuple(dict.fromkeys(missing)), reason)


def genant_grade(reduction_percent: float) -> int:
    """Genant semi-quantitative grade from a height reduction in percent (JBMR 1993;8:1137)."""
    if reduction_percent < 20.0:
        return 0
    if reduction_percent <= 25.0:
        return 1
    if reduction_percent <= 40.0:
        return 2
    return 3
