"""The angle glyphs drawn over a film: rays parallel to the endplates, vertex in front of the spine."""

from __future__ import annotations

import math

from kyphoangle.annotation import AngleGlyph, angle_glyphs, disagreeing_angles
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
