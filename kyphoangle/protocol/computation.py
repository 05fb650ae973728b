"""Computing every trial measurement from one reader's landmarks on one film.

What each measurement needs comes from the protocol file (`kyphoangle.protocol.requirements`): a
measurement whose landmarks are not all placed is NotComputed and names those it lacks, never a number
from a partial set. The film's handedness (`Turn`) is read once from its most cranial and most caudal
endplates and every angle's sign is taken with it; endplates whose corners disagree with it are
reported as inconsistent and their angles are not computed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from kyphoangle.anatomy import EndplateRef, LandmarkKey
from kyphoangle.errors import LandmarkError
from kyphoangle.geometry import (
    Endplate,
    Facing,
    InconsistentEndplatesError,
    Point,
    Scale,
    Turn,
    facing,
    orientation_from_labels,
    turn,
)
from kyphoangle.geometry import distance_mm as _distance
from kyphoangle.geometry import signed_angle_deg as _angle
from kyphoangle.normal_table import NormalTable
from kyphoangle.protocol.definitions import (
    DefinitionTable,
    GlobalEndpoints,
    Measurement,
    MeasurementName,
    MeasurementSet,
    NotComputed,
    NotEvaluable,
    Unit,
)
from kyphoangle.protocol.requirements import UnreachableNeedError, landmarks_needed, load_protocol
from kyphoangle.spacing import PixelSpacing
from kyphoangle.vocabulary import FRACTURE_LEVELS, Corner, EndplateSide, Vertebra

_HEIGHTS = {
    MeasurementName.ANTERIOR_HEIGHT: Corner.ANTERIOR,
    MeasurementName.MIDDLE_HEIGHT: Corner.MIDDLE,
    MeasurementName.POSTERIOR_HEIGHT: Corner.POSTERIOR,
}


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
    """Scale of the film: the spacing in mm; else the Pixel Aspect Ratio, else square pixels.

    Without spacing, lengths are in pixels: one unit is the width of a column, and rows are scaled by
    the aspect ratio (row:column, e.g. `5\\4` gives 1.25), so heights are in pixels, not in multiples
    of the ratio's integers.
    """
    if spacing.row_mm is not None and spacing.col_mm is not None:
        return Scale(spacing.row_mm, spacing.col_mm)
    if pixel_aspect_ratio is not None and all(part > 0 for part in pixel_aspect_ratio):
        return Scale(float(pixel_aspect_ratio[0]) / float(pixel_aspect_ratio[1]), 1.0)
    return Scale(1.0, 1.0)


def regional_endplates(level: Vertebra) -> tuple[EndplateRef, EndplateRef]:
    """The endplates bounding the regional angle at a level (S1 superior below L5)."""
    above, below = level.above(), level.below()
    assert above is not None and below is not None, "fractured levels run from T10 to L5"
    lower_side = EndplateSide.SUPERIOR if below is Vertebra.S1 else EndplateSide.INFERIOR
    return EndplateRef(above, EndplateSide.SUPERIOR), EndplateRef(below, lower_side)


def genant_grade(reduction_percent: float) -> int:
    """Genant semi-quantitative grade from a height reduction in percent (JBMR 1993;8:1137)."""
    if reduction_percent < 20.0:
        return 0
    if reduction_percent <= 25.0:
        return 1
    if reduction_percent <= 40.0:
        return 2
    return 3


class _Computer:
    """Computes a MeasurementSet; holds the shared inputs of one film."""

    def __init__(
        self,
        points: Mapping[str, Point],
        spacing: PixelSpacing,
        scale: Scale,
        normal_table: NormalTable,
        endpoints: GlobalEndpoints,
        definitions: DefinitionTable,
    ) -> None:
        self.points = points
        self.spacing = spacing
        self.scale = scale
        self.normal_table = normal_table
        self.endpoints = endpoints
        self.definitions = definitions
        self.measurements: list[Measurement] = []
        self.not_computed: list[NotComputed] = []
        self.turns: dict[str, Turn] = {}
        self.turn, self.facing, self.inconsistent = self._film_orientation()

    def plate(self, ref: EndplateRef) -> Endplate | None:
        posterior, anterior = ref.line_keys
        if posterior in self.points and anterior in self.points:
            return Endplate(self.points[posterior], self.points[anterior])
        return None

    def _film_orientation(self) -> tuple[Turn | None, Facing | None, tuple[str, ...]]:
        """The film's turn and facing from every placed endplate; the minority's corners are swapped.

        The caudal axis runs from the most cranial placed endplate's midpoint to the most caudal one's,
        far apart on any film worth measuring. When the endplates split evenly, all of them are
        reported, since the film cannot say which are right. Facing is the side of the display the
        consistent endplates' mean anterior direction points to.
        """
        refs = sorted({LandmarkKey.parse(key).endplate for key in self.points}, key=lambda r: r.sort_key)
        placed = [(ref, plate) for ref in refs if (plate := self.plate(ref)) is not None]
        if len(placed) < 2:
            return None, None, ()
        axis = placed[-1][1].midpoint_mm(self.scale) - placed[0][1].midpoint_mm(self.scale)
        turns: dict[str, Turn] = {}
        for ref, plate in placed:
            try:
                turns[str(ref)] = turn(plate, axis, self.scale)
            except InconsistentEndplatesError:
                continue
        self.turns = turns
        counts = Counter(turns.values()).most_common()
        if not counts:
            return None, None, ()
        if len(counts) > 1 and counts[0][1] == counts[1][1]:
            return None, None, tuple(turns)
        majority = counts[0][0]
        anterior = np.zeros(2)
        for ref, plate in placed:
            if turns.get(str(ref)) is majority and plate.length_mm(self.scale) > 0:
                anterior += plate.vector_mm(self.scale) / plate.length_mm(self.scale)
        odd = tuple(ref for ref, side in turns.items() if side is not majority)
        return majority, facing(anterior), odd

    def missing(self, keys: Sequence[str]) -> tuple[str, ...]:
        return tuple(k for k in keys if k not in self.points)

    def skip(self, name: MeasurementName, level: str | None, missing: Sequence[str], reason: str) -> None:
        self.not_computed.append(NotComputed(name, level, tuple(missing), reason))

    def needs(self, name: MeasurementName, level: str | None) -> tuple[str, ...] | None:
        """The measurement's landmarks when all are placed; otherwise records why not and gives None."""
        try:
            keys = landmarks_needed(name, level, self.endpoints, definitions=self.definitions)
        except UnreachableNeedError as exc:
            self.skip(name, level, (), str(exc))
            return None
        if missing := self.missing(keys):
            self.skip(name, level, missing, "missing landmarks")
            return None
        return keys

    def add(
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
        keys = self.needs(name, level)
        if keys is None:
            return None
        odd = [str(ref) for ref in (upper, lower) if str(ref) in self.inconsistent]
        if odd:
            self.skip(name, level, (), f"anterior and posterior corners look swapped on {', '.join(odd)}")
            return None
        upper_plate, lower_plate = self.plate(upper), self.plate(lower)
        assert upper_plate is not None and lower_plate is not None
        try:
            value = _angle(upper_plate, lower_plate, self.scale, film_turn=self.turn)
        except InconsistentEndplatesError as exc:
            self.skip(name, level, (), str(exc))
            return None
        return self.add(name, level, value, Unit.DEG, keys, endpoints=endpoints)

    def height_of(self, vertebra: Vertebra, corner: Corner) -> float | None:
        """Height of a vertebra at one point when both are placed (nothing recorded)."""
        keys = (
            EndplateRef(vertebra, EndplateSide.SUPERIOR).key(corner),
            EndplateRef(vertebra, EndplateSide.INFERIOR).key(corner),
        )
        if self.missing(keys):
            return None
        return _distance(self.points[keys[0]], self.points[keys[1]], self.scale)

    @property
    def length_unit(self) -> Unit:
        return Unit.MM if self.spacing.is_known else Unit.PX


def compute_measurements(
    points: Mapping[str, tuple[float, float]],
    *,
    spacing: PixelSpacing,
    fractured_levels: Iterable[str],
    normal_table: NormalTable,
    endpoints: GlobalEndpoints | None = None,
    not_evaluable: Mapping[str, NotEvaluable] | None = None,
    pixel_aspect_ratio: tuple[int, int] | None = None,
    patient_orientation: Sequence[str] | None = None,
) -> MeasurementSet:
    """Compute every trial measurement the landmarks allow; the rest are NotComputed with a reason.

    `points` maps landmark keys to `[column, row]` image pixels. Angles are taken in millimetres using
    `spacing` (or the pixel aspect ratio, else square pixels, when the film has no spacing); heights are
    in mm, or px without spacing (see `angle_scale`). A level in `not_evaluable` (level ->
    NotEvaluable) yields no per-level value. `patient_orientation` (the film's Patient Orientation
    labels, e.g. `("A", "F")`) gives the facing and turn when the landmarks cannot (fewer than two
    endplates placed, or as many endplates one way as the other); the landmarks come first, since a
    mislabelled film is more common than a reader who swaps most corners.
    """
    checked = validate_points(points)
    levels = validate_levels(fractured_levels)
    endpoints = endpoints or GlobalEndpoints()
    skipped_levels = dict(not_evaluable or {})
    validate_levels(skipped_levels)
    definitions = load_protocol()
    scale = angle_scale(spacing, pixel_aspect_ratio)
    computer = _Computer(checked, spacing, scale, normal_table, endpoints, definitions)
    if patient_orientation is not None:
        label_facing, label_turn = orientation_from_labels(patient_orientation)
        if computer.turn is None and label_turn is not None:
            # the labels break a tie: the endplates that disagree with them are the swapped ones
            computer.turn = label_turn
            computer.inconsistent = tuple(
                ref for ref, side in computer.turns.items() if side is not label_turn
            )
        if computer.facing is None:
            computer.facing = label_facing

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
            for definition in definitions.values():
                if definition.per_level:
                    computer.skip(definition.name, level, (), f"not evaluable: {skipped_levels[level]}")
            continue
        _compute_level(computer, Vertebra(level))

    return MeasurementSet(
        measurements=tuple(computer.measurements),
        not_computed=tuple(computer.not_computed),
        facing=computer.facing,
        inconsistent_endplates=computer.inconsistent,
        turn=computer.turn,
    )


def _compute_level(computer: _Computer, level: Vertebra) -> None:
    table = computer.normal_table
    above = level.above()
    assert above is not None, "fractured levels run from T10 to L5"
    regional = computer.angle(MeasurementName.REGIONAL_ANGLE, level.value, *regional_endplates(level))
    normal = table.normal_deg(level.value)
    art = MeasurementName.TRAUMATIC_REGIONAL_ANGLE
    if regional is None:
        keys = computer.needs(art, level.value)
        if keys is not None:
            computer.skip(art, level.value, (), "regional angle not computed")
    elif normal is None:
        computer.skip(
            art, level.value, (), f"normal table {table.name} v{table.version} has no value at {level}"
        )
    else:
        computer.add(
            art, level.value, regional.value - normal, Unit.DEG, regional.landmarks, normal_table=table
        )

    computer.angle(
        MeasurementName.VERTEBRAL_KYPHOSIS,
        level.value,
        EndplateRef(level, EndplateSide.SUPERIOR),
        EndplateRef(level, EndplateSide.INFERIOR),
    )
    computer.angle(
        MeasurementName.SEGMENTAL_KYPHOSIS,
        level.value,
        EndplateRef(above, EndplateSide.SUPERIOR),
        EndplateRef(level, EndplateSide.INFERIOR),
    )

    heights: dict[Corner, float] = {}
    for name, corner in _HEIGHTS.items():
        keys = computer.needs(name, level.value)
        height = computer.height_of(level, corner)
        if keys is not None and height is not None:
            heights[corner] = height
            computer.add(name, level.value, height, computer.length_unit, keys)

    keys = computer.needs(MeasurementName.BECK_INDEX, level.value)
    if keys is not None:
        if heights[Corner.POSTERIOR] <= 0:
            computer.skip(MeasurementName.BECK_INDEX, level.value, (), "posterior height is zero")
        else:
            ratio = heights[Corner.ANTERIOR] / heights[Corner.POSTERIOR]
            computer.add(MeasurementName.BECK_INDEX, level.value, ratio, Unit.RATIO, keys)

    _neighbour_morphometry(computer, level, heights)


def _reduction(computer: _Computer, level: Vertebra, own: float, corner: Corner) -> float | None:
    """Percent height reduction against the mean of the vertebrae above and below (None: degenerate)."""
    above, below = level.above(), level.below()
    assert above is not None and below is not None
    neighbours = [computer.height_of(above, corner), computer.height_of(below, corner)]
    assert neighbours[0] is not None and neighbours[1] is not None, "checked by the protocol's needs"
    total = neighbours[0] + neighbours[1]
    if total <= 0:
        return None
    return 100.0 * (total - 2.0 * own) / total


_HEIGHT_LOSSES = {
    MeasurementName.ANTERIOR_HEIGHT_LOSS: Corner.ANTERIOR,
    MeasurementName.MIDDLE_HEIGHT_LOSS: Corner.MIDDLE,
    MeasurementName.POSTERIOR_HEIGHT_LOSS: Corner.POSTERIOR,
}


def _neighbour_morphometry(computer: _Computer, level: Vertebra, heights: Mapping[Corner, float]) -> None:
    """Height losses and Genant grade against the mean of the vertebrae above and below."""
    for name, corner in _HEIGHT_LOSSES.items():
        keys = computer.needs(name, level.value)
        if keys is None:
            continue
        loss = _reduction(computer, level, heights[corner], corner)
        if loss is None:
            computer.skip(name, level.value, (), f"the neighbours' {corner} heights are zero")
        else:
            computer.add(name, level.value, loss, Unit.PERCENT, keys)
    name = MeasurementName.GENANT_GRADE
    keys = computer.needs(name, level.value)
    if keys is not None:
        reductions = [_reduction(computer, level, heights[corner], corner) for corner in Corner]
        if any(r is None for r in reductions):
            computer.skip(name, level.value, (), "the neighbours' heights are zero")
            return
        worst = max(r for r in reductions if r is not None)
        computer.add(name, level.value, float(genant_grade(worst)), Unit.GRADE, keys)
