"""The angle glyphs drawn over a film: rays parallel to the endplates, vertex in front of the spine."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kyphoangle.annotation import (
    ARC_STEP_DEG,
    AngleGlyph,
    angle_glyphs,
    disagreeing_angles,
    endplate_line,
    reported_glyph,
)
from kyphoangle.normal_table import load_normal_table
from kyphoangle.protocol import MeasurementName, compute_measurements
from kyphoangle.spacing import PixelSpacing

# A T12-L2 segment facing right: endplates tilted so that they converge anteriorly (kyphosis).
POINTS = {
    "T12.superior.posterior": (100.0, 100.0), "T12.superior.anterior": (140.0, 104.0),
    "T12.inferior.posterior": (100.0, 130.0), "T12.inferior.anterior": (140.0, 128.0),
    "L1.superior.posterior": (100.0, 140.0), "L1.superior.anterior": (140.0, 136.0),
    "L1.inferior.posterior": (100.0, 170.0), "L1.inferior.anterior": (140.0, 162.0),
    "L2.inferior.posterior": (100.0, 210.0), "L2.inferior.anterior": (140.0, 200.0),
}  # fmt: skip


def test_each_angle_has_a_glyph_whose_rays_follow_its_endplates() -> None:
    result = compute_measurements(
        POINTS,
        spacing=PixelSpacing.manual(1.0, 1.0),
        fractured_levels=("L1",),
        normal_table=load_normal_table(),
    )
    glyphs = {(g.name, g.level): g for g in angle_glyphs(result, POINTS)}
    assert set(glyphs) == {(MeasurementName.REGIONAL_ANGLE, "L1"), (MeasurementName.VERTEBRAL_KYPHOSIS, "L1")}
    regional = glyphs[(MeasurementName.REGIONAL_ANGLE, "L1")]
    assert regional.upper == (POINTS["T12.superior.posterior"], POINTS["T12.superior.anterior"])
    assert regional.vertex[0] > 140.0  # in front of the anterior corners
    # the ray is the endplate's own direction, anterior to posterior
    assert math.isclose(regional.upper_ray[0], -40.0 / math.hypot(40.0, 4.0))
    turn = math.atan2(regional.lower_ray[1], regional.lower_ray[0]) - math.atan2(
        regional.upper_ray[1], regional.upper_ray[0]
    )
    opened = math.degrees(math.remainder(turn, 2 * math.pi))
    value = result.get("regional_angle", "L1")
    assert value is not None and math.isclose(abs(opened), abs(value.value), abs_tol=1e-9)
    assert regional.text == f"Regional angle L1 {value.value:+.1f}\u00b0"
    vertebral = glyphs[(MeasurementName.VERTEBRAL_KYPHOSIS, "L1")]
    assert vertebral.vertex[0] < 100.0  # behind the posterior corners, clear of the regional glyph


finite = st.floats(min_value=-2000.0, max_value=2000.0, allow_nan=False)


@given(
    vertex=st.tuples(finite, finite),
    upper=st.floats(min_value=-math.pi, max_value=math.pi),
    turn=st.floats(min_value=-179.0, max_value=179.0),
    radius=st.floats(min_value=1.0, max_value=500.0),
)
def test_an_arc_drawn_as_a_polyline_runs_from_ray_to_ray_on_its_circle(
    vertex: tuple[float, float], upper: float, turn: float, radius: float
) -> None:
    lower = upper + math.radians(turn)
    glyph = AngleGlyph(
        name=MeasurementName.REGIONAL_ANGLE,
        level="L1",
        value_deg=turn,
        upper=((0.0, 0.0), (40.0, 0.0)),
        lower=((0.0, 30.0), (40.0, 30.0)),
        vertex=vertex,
        upper_ray=(math.cos(upper), math.sin(upper)),
        lower_ray=(math.cos(lower), math.sin(lower)),
    )
    assert glyph.sweep_deg == pytest.approx(turn, abs=1e-6)
    arc = glyph.arc_points(radius)
    assert len(arc) >= 2
    for point in arc:
        assert math.dist(point, vertex) == pytest.approx(radius, abs=1e-6)
    first, last = glyph.ray_ends(radius)
    assert math.dist(arc[0], first) < 1e-6 and math.dist(arc[-1], last) < 1e-6
    for a, b in itertools.pairwise(arc):  # no step longer than ARC_STEP_DEG of the circle
        assert math.dist(a, b) <= 2 * radius * math.sin(math.radians(ARC_STEP_DEG) / 2) + 1e-6
    # the text goes away from both rays
    away = glyph.away
    assert (
        away[0] * (glyph.upper_ray[0] + glyph.lower_ray[0])
        + away[1] * (glyph.upper_ray[1] + glyph.lower_ray[1])
        <= 1e-9
    )


def test_an_endplate_line_is_extended_by_a_quarter_past_each_corner() -> None:
    start, end = endplate_line((100.0, 100.0), (140.0, 104.0))
    assert start == pytest.approx((90.0, 99.0)) and end == pytest.approx((150.0, 105.0))


def test_a_reported_angle_finds_its_endplates_from_the_protocol() -> None:
    result = compute_measurements(
        POINTS,
        spacing=PixelSpacing.manual(1.0, 1.0),
        fractured_levels=("L1",),
        normal_table=load_normal_table(),
    )
    for glyph in angle_glyphs(result, POINTS):
        assert reported_glyph(glyph.name, glyph.level, glyph.value_deg, POINTS) == glyph
    assert reported_glyph(MeasurementName.ANTERIOR_HEIGHT, "L1", 20.0, POINTS) is None
    assert reported_glyph(MeasurementName.REGIONAL_ANGLE, "T4", 3.0, POINTS) is None  # not placed


def test_the_angles_two_reads_disagree_on_are_those_beyond_the_threshold_or_missing_in_one() -> None:
    def glyphs(points: dict[str, tuple[float, float]]) -> tuple[AngleGlyph, ...]:
        result = compute_measurements(
            points,
            spacing=PixelSpacing.manual(1.0, 1.0),
            fractured_levels=("L1",),
            normal_table=load_normal_table(),
        )
        return angle_glyphs(result, points)

    same = glyphs(POINTS)
    tilted = glyphs({**POINTS, "L2.inferior.anterior": (140.0, 215.0)})  # the regional angle only
    shortened = tuple(g for g in same if g.name is not MeasurementName.VERTEBRAL_KYPHOSIS)
    regional = (MeasurementName.REGIONAL_ANGLE, "L1")
    vertebral = (MeasurementName.VERTEBRAL_KYPHOSIS, "L1")
    assert disagreeing_angles([same, same], 5.0) == frozenset()
    assert disagreeing_angles([same, tilted], 5.0) == {regional}
    assert disagreeing_angles([same, tilted], 90.0) == frozenset()
    assert disagreeing_angles([same, shortened], 5.0) == {vertebral}
