"""What is drawn over a film to show a read's angles: endplate lines and one angle glyph per angle.

Pure geometry in image pixels (DICOM image-relative `(column, row)`), shared by every place that draws
a read: the workstation's film view, its screenshots, and the reports. Each computed angle becomes a
glyph: a vertex in front of the spine between its two endplates, two rays parallel to the endplates
(pointing back toward the spine, so they open or close as the endplates do), and the measurement's
short name with its signed value. The value is the one computed in millimetres; the rays follow the
landmarks as clicked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kyphoangle.anatomy import EndplateRef
from kyphoangle.protocol import Measurement, MeasurementName, MeasurementSet, Unit
from kyphoangle.vocabulary import Corner

Point = tuple[float, float]

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
        name = ANGLE_NAMES[self.name] + (f" {self.level}" if self.level else "")
        return f"{name} {self.value_deg:+.1f}\u00b0"


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
    refs: list[EndplateRef] = []
    for key in measurement.landmarks:
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
    reach = _REACH[measurement.name] * (upper_length + lower_length) / 2.0
    front = reach >= 0
    middle = (
        ((ua[0] + la[0]) / 2.0, (ua[1] + la[1]) / 2.0)
        if front
        else ((up[0] + lp[0]) / 2.0, (up[1] + lp[1]) / 2.0)
    )
    vertex = (middle[0] + anterior[0] * reach, middle[1] + anterior[1] * reach)
    sign = 1.0 if front else -1.0  # rays point back toward the spine
    return AngleGlyph(
        name=measurement.name,
        level=measurement.level,
        value_deg=measurement.value,
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
