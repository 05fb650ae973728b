"""What is drawn over a film to show a read's angles: endplate lines and one angle glyph per angle.

Pure geometry in image pixels (DICOM image-relative `(column, row)`), shared by every place that draws
a read: the workstation's film view, its screenshots, and the reports. Each computed angle becomes a
glyph: a vertex in front of the spine between its two endplates, two rays parallel to the endplates
(pointing back toward the spine, so they open or close as the endplates do), and the measurement's
short name with its signed value. The value is the one computed in millimetres; the rays follow the
landmarks as clicked.

On screen the rays and the arc have a fixed size in screen pixels; drawn on the film itself (the DICOM
presentation state), they are sized from the endplates (`RAY_LENGTH`, `ARC_RADIUS`) and the arc is a
polyline (`AngleGlyph.arc_points`). The colours are the Okabe-Ito palette, the same everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kyphoangle.anatomy import EndplateRef
from kyphoangle.protocol import GlobalEndpoints, Measurement, MeasurementName, MeasurementSet, Unit
from kyphoangle.protocol.requirements import UnreachableNeedError, landmarks_needed
from kyphoangle.vocabulary import Corner, EndplateSide

Point = tuple[float, float]

OKABE_ITO: Mapping[str, str] = {
    "orange": "#e69f00",
    "sky blue": "#56b4e9",
    "bluish green": "#009e73",
    "yellow": "#f0e442",
    "blue": "#0072b2",
    "vermillion": "#d55e00",
    "reddish purple": "#cc79a7",
}
"""The Okabe-Ito palette (Okabe and Ito, "Color Universal Design", 2008): told apart with every
common colour-vision deficiency. Every colour drawn over a film is one of these, over a dark halo."""
SIDE_COLORS: Mapping[EndplateSide, str] = {
    EndplateSide.SUPERIOR: OKABE_ITO["sky blue"],
    EndplateSide.INFERIOR: OKABE_ITO["orange"],
}
"""The colour of the endplate lines: superior sky blue, inferior orange."""
ANGLE_COLORS: Mapping[MeasurementName, str] = {
    MeasurementName.THORACIC_KYPHOSIS: OKABE_ITO["yellow"],
    MeasurementName.LUMBAR_LORDOSIS: OKABE_ITO["bluish green"],
    MeasurementName.REGIONAL_ANGLE: OKABE_ITO["vermillion"],
    MeasurementName.VERTEBRAL_KYPHOSIS: OKABE_ITO["reddish purple"],
}
"""The colour of each angle (its rays, arc and value)."""
ENDPLATE_EXTENSION = 0.25
"""An endplate line is drawn past each corner by this fraction of its length."""
RAY_LENGTH = 0.6
"""Length of a glyph's rays drawn on the film, in endplate lengths (the mean of its two endplates)."""
ARC_RADIUS = 0.4
"""Radius of a glyph's arc drawn on the film, in endplate lengths (on screen: 30 of 46 pixels)."""
TEXT_OFFSET = 0.15
"""Distance from the vertex to the glyph's text drawn on the film, in endplate lengths."""
TEXT_HEIGHT = 0.22
"""Height of a glyph's text drawn on the film, in endplate lengths (where a viewer lets it be sized)."""
ARC_STEP_DEG = 3.0
"""Largest angle between two consecutive points of an arc drawn as a polyline."""

ANGLE_NAMES: Mapping[MeasurementName, str] = {
    MeasurementName.THORACIC_KYPHOSIS: "Thoracic kyphosis",
    MeasurementName.LUMBAR_LORDOSIS: "Lumbar lordosis",
    MeasurementName.REGIONAL_ANGLE: "Regional angle",
    MeasurementName.VERTEBRAL_KYPHOSIS: "Vertebral kyphosis",
}
"""The angles drawn on the film, with the name written beside each (the level follows)."""

_REACH: Mapping[MeasurementName, float] = {
    MeasurementName.VERTEBRAL_KYPHOSIS: -0.6,
    MeasurementName.REGIONAL_ANGLE: 0.8,
    MeasurementName.THORACIC_KYPHOSIS: 0.8,
    MeasurementName.LUMBAR_LORDOSIS: 0.8,
}
"""How far in front of the anterior corners each kind of glyph sits, in endplate lengths; negative:
behind the posterior corners (the vertebral kyphosis, so that the two angles of a fractured level
never cover each other)."""


@dataclass(frozen=True, slots=True)
class AngleGlyph:
    """One angle as drawn: its endplates, the vertex, the rays' directions, the text."""

    name: MeasurementName
    level: str | None
    value_deg: float
    upper: tuple[Point, Point]
    """The upper endplate, (posterior, anterior) corners."""
    lower: tuple[Point, Point]
    vertex: Point
    """Where the rays start: in front of the spine (behind it for a vertebral kyphosis), halfway
    between the endplates."""
    upper_ray: Point
    """Unit direction of the ray parallel to the upper endplate (anterior to posterior)."""
    lower_ray: Point

    @property
    def text(self) -> str:
        """E.g. `Regional angle L1 +9.0°`."""
        return self.label()

    def label(self, degrees: str = "\u00b0") -> str:
        """The name, level and signed value, with `degrees` after the value (` deg` where the text must
        be ASCII, as in a presentation state)."""
        name = ANGLE_NAMES[self.name] + (f" {self.level}" if self.level else "")
        return f"{name} {self.value_deg:+.1f}{degrees}"

    @property
    def size(self) -> float:
        """The mean length of its two endplates (image pixels): the scale of the glyph drawn on the film."""
        return (math.dist(*self.upper) + math.dist(*self.lower)) / 2.0

    @property
    def sweep_deg(self) -> float:
        """The turn from the upper ray to the lower one, degrees in [-180, 180) (positive: clockwise on
        the film, rows growing downward); the arc is drawn through this turn, as on screen."""
        start = math.atan2(self.upper_ray[1], self.upper_ray[0])
        end = math.atan2(self.lower_ray[1], self.lower_ray[0])
        return (math.degrees(end - start) + 180.0) % 360.0 - 180.0

    def ray_ends(self, length: float) -> tuple[Point, Point]:
        """The far ends of the upper and lower rays, `length` image pixels from the vertex."""
        x, y = self.vertex
        (ux, uy), (lx, ly) = self.upper_ray, self.lower_ray
        return (x + ux * length, y + uy * length), (x + lx * length, y + ly * length)

    def arc_points(self, radius: float, step_deg: float = ARC_STEP_DEG) -> tuple[Point, ...]:
        """The arc between the rays as a polyline: points `radius` image pixels from the vertex, from
        the upper ray to the lower one, at most `step_deg` apart (at least two points)."""
        start = math.atan2(self.upper_ray[1], self.upper_ray[0])
        sweep = math.radians(self.sweep_deg)
        count = max(2, math.ceil(abs(self.sweep_deg) / step_deg) + 1)
        x, y = self.vertex
        return tuple(
            (
                x + radius * math.cos(start + sweep * i / (count - 1)),
                y + radius * math.sin(start + sweep * i / (count - 1)),
            )
            for i in range(count)
        )

    @property
    def away(self) -> Point:
        """Unit direction from the vertex away from both rays: where the text goes."""
        return _unit(-(self.upper_ray[0] + self.lower_ray[0]), -(self.upper_ray[1] + self.lower_ray[1]))

    def text_anchor(self, distance: float) -> Point:
        """Where the text starts on the film: `distance` image pixels from the vertex, away from the rays."""
        ax, ay = self.away
        return self.vertex[0] + ax * distance, self.vertex[1] + ay * distance


def endplate_line(posterior: Point, anterior: Point) -> tuple[Point, Point]:
    """An endplate line as drawn: past each corner by `ENDPLATE_EXTENSION` of its length."""
    dx, dy = (
        (anterior[0] - posterior[0]) * ENDPLATE_EXTENSION,
        (anterior[1] - posterior[1]) * ENDPLATE_EXTENSION,
    )
    return (posterior[0] - dx, posterior[1] - dy), (anterior[0] + dx, anterior[1] + dy)


def _endplate(points: Mapping[str, Point], ref: EndplateRef) -> tuple[Point, Point] | None:
    posterior, anterior = points.get(ref.key(Corner.POSTERIOR)), points.get(ref.key(Corner.ANTERIOR))
    if posterior is None or anterior is None:
        return None
    return posterior, anterior


def _unit(dx: float, dy: float) -> Point:
    length = math.hypot(dx, dy) or 1.0
    return dx / length, dy / length


def angle_glyph(measurement: Measurement, points: Mapping[str, Point]) -> AngleGlyph | None:
    """The glyph of one angle measurement, or None when it is not an angle drawn on the film."""
    if measurement.name not in ANGLE_NAMES or measurement.unit is not Unit.DEG:
        return None
    return _glyph(measurement.name, measurement.level, measurement.value, measurement.landmarks, points)


def reported_glyph(
    name: MeasurementName,
    level: str | None,
    value_deg: float,
    points: Mapping[str, Point],
    endpoints: GlobalEndpoints | None = None,
) -> AngleGlyph | None:
    """The glyph of an angle known by its name, level and value (a signed read as reported: the
    endplates are the protocol's for that angle); None when it is not an angle drawn on the film or
    its endplates are not all placed."""
    if name not in ANGLE_NAMES:
        return None
    try:
        keys = landmarks_needed(name, level, endpoints)
    except UnreachableNeedError:
        return None
    return _glyph(name, level, value_deg, keys, points)


def _glyph(
    name: MeasurementName,
    level: str | None,
    value_deg: float,
    landmarks: Sequence[str],
    points: Mapping[str, Point],
) -> AngleGlyph | None:
    refs: list[EndplateRef] = []
    for key in landmarks:
        ref = EndplateRef.parse(key.rsplit(".", 1)[0])
        if ref not in refs:
            refs.append(ref)
    if len(refs) != 2:
        return None
    upper, lower = (_endplate(points, ref) for ref in sorted(refs, key=lambda r: r.sort_key))
    if upper is None or lower is None:
        return None
    (up, ua), (lp, la) = upper, lower
    upper_length, lower_length = math.dist(up, ua), math.dist(lp, la)
    anterior = _unit((ua[0] - up[0]) + (la[0] - lp[0]), (ua[1] - up[1]) + (la[1] - lp[1]))
    reach = _REACH[name] * (upper_length + lower_length) / 2.0
    front = reach >= 0
    middle = (
        ((ua[0] + la[0]) / 2.0, (ua[1] + la[1]) / 2.0)
        if front
        else ((up[0] + lp[0]) / 2.0, (up[1] + lp[1]) / 2.0)
    )
    vertex = (middle[0] + anterior[0] * reach, middle[1] + anterior[1] * reach)
    sign = 1.0 if front else -1.0  # rays point back toward the spine
    return AngleGlyph(
        name=name,
        level=level,
        value_deg=value_deg,
        upper=upper,
        lower=lower,
        vertex=vertex,
        upper_ray=_unit(sign * (up[0] - ua[0]), sign * (up[1] - ua[1])),
        lower_ray=_unit(sign * (lp[0] - la[0]), sign * (lp[1] - la[1])),
    )


def angle_glyphs(result: MeasurementSet, points: Mapping[str, Point]) -> tuple[AngleGlyph, ...]:
    """A glyph for every computed angle of a read (global curves first, then by level)."""
    glyphs = (angle_glyph(m, points) for m in result.measurements)
    return tuple(g for g in glyphs if g is not None)


def disagreeing_angles(
    reads: Sequence[Sequence[AngleGlyph]], threshold_deg: float
) -> frozenset[tuple[MeasurementName, str | None]]:
    """The angles (name and level) on which the reads disagree: values more than `threshold_deg` apart,
    or drawn for one read and not for another. The adjudicator can show these alone."""
    values: dict[tuple[MeasurementName, str | None], list[float]] = {}
    for glyphs in reads:
        for glyph in glyphs:
            values.setdefault((glyph.name, glyph.level), []).append(glyph.value_deg)
    return frozenset(
        key
        for key, found in values.items()
        if len(found) < len(reads) or max(found) - min(found) > threshold_deg
    )
