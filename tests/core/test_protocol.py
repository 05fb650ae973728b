"""Trial measurements from a full landmark set: golden values, not-computed rules, normal tables."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyphoangle.anatomy import ALL_LANDMARK_KEYS, EndplateRef, LandmarkKey
from kyphoangle.errors import LandmarkError, NormalTableError
from kyphoangle.geometry import Facing
from kyphoangle.normal_table import (
    DEFAULT_NORMAL_TABLE,
    available_normal_tables,
    load_normal_table,
    parse_normal_table,
)
from kyphoangle.protocol import (
    GlobalEndpoints,
    MeasurementName,
    MeasurementSet,
    NotEvaluable,
    Unit,
    compute_measurements,
    genant_grade,
)
from kyphoangle.spacing import PixelSpacing
from kyphoangle.vocabulary import FRACTURE_LEVELS, SpacingSource

Points = dict[str, tuple[float, float]]

# Designed endplate tilts in degrees (anterior end toward caudal is positive), patient facing right.
TILTS_DEG = {
    "T4.superior": 20.0,
    "T9.superior": 4.0,
    "T11.inferior": -3.0,
    "T12.superior": 2.0,
    "T12.inferior": -20.0,
    "L1.superior": -20.0,
    "L1.inferior": -8.0,
    "L2.superior": -6.0,
    "L2.inferior": -10.0,
    "L4.superior": 5.0,
    "L5.superior": 10.0,
    "L5.inferior": 18.0,
    "S1.superior": 30.0,
}
DEPTH_MM = 40.0
SPACING = PixelSpacing(0.1, 0.1, SpacingSource.PIXEL_SPACING)


def endplate_points(name: str, centre: tuple[float, float], tilt_deg: float, depth: float) -> Points:
    """Posterior, middle and anterior points of an endplate centred at `centre` (pixels)."""
    dx, dy = math.cos(math.radians(tilt_deg)) * depth / 2, math.sin(math.radians(tilt_deg)) * depth / 2
    cx, cy = centre
    return {
        f"{name}.posterior": (cx - dx, cy - dy),
        f"{name}.middle": (cx, cy),
        f"{name}.anterior": (cx + dx, cy + dy),
    }


def film_points() -> Points:
    """Endplates stacked down the film, 300 px (30 mm) apart, each with its designed tilt."""
    points: Points = {}
    for index, (name, tilt) in enumerate(
        sorted(TILTS_DEG.items(), key=lambda kv: EndplateRef.parse(kv[0]).sort_key)
    ):
        points.update(endplate_points(name, (1000.0, 200.0 + 300.0 * index), tilt, DEPTH_MM / 0.1))
    return points


def compute(points: Points, levels: tuple[str, ...] = ("L1",), **options: object) -> MeasurementSet:
    options.setdefault("spacing", SPACING)
    options.setdefault("normal_table", load_normal_table())
    return compute_measurements(points, fractured_levels=levels, **options)  # type: ignore[arg-type]


def value(result: MeasurementSet, name: MeasurementName, level: str | None = None) -> float:
    measurement = result.get(name, level)
    assert measurement is not None, f"{name} {level} not computed"
    return measurement.value


def test_golden_global_and_regional_angles() -> None:
    result = compute(film_points(), ("T10", "L1", "L5"))
    assert value(result, MeasurementName.THORACIC_KYPHOSIS) == pytest.approx(40.0)  # 20 - (-20)
    assert value(result, MeasurementName.LUMBAR_LORDOSIS) == pytest.approx(-50.0)  # -20 - 30
    assert value(result, MeasurementName.REGIONAL_ANGLE, "T10") == pytest.approx(7.0)  # T9 sup 4 - T11 inf -3
    assert value(result, MeasurementName.REGIONAL_ANGLE, "L1") == pytest.approx(
        12.0
    )  # T12 sup 2 - L2 inf -10
    assert value(result, MeasurementName.REGIONAL_ANGLE, "L5") == pytest.approx(-25.0)  # L4 sup 5 - S1 sup 30
    assert value(result, MeasurementName.VERTEBRAL_KYPHOSIS, "L1") == pytest.approx(-12.0)  # -20 - (-8)
    assert result.facing is Facing.RIGHT
    assert result.inconsistent_endplates == ()


def test_art_subtracts_the_default_normal_table() -> None:
    result = compute(film_points(), ("T10", "L1", "L5"))
    # Farcy 1990 coarse baseline: T10 +5, L1 0, L5 -10.
    assert value(result, MeasurementName.TRAUMATIC_REGIONAL_ANGLE, "T10") == pytest.approx(2.0)
    assert value(result, MeasurementName.TRAUMATIC_REGIONAL_ANGLE, "L1") == pytest.approx(12.0)
    assert value(result, MeasurementName.TRAUMATIC_REGIONAL_ANGLE, "L5") == pytest.approx(-15.0)
    art = result.get(MeasurementName.TRAUMATIC_REGIONAL_ANGLE, "L1")
    assert art is not None
    assert (art.normal_table, art.normal_table_version) == (DEFAULT_NORMAL_TABLE, "1")
    regional = result.get(MeasurementName.REGIONAL_ANGLE, "L1")
    assert regional is not None and regional.normal_table is None


def test_art_with_a_per_level_table_and_an_uncovered_level() -> None:
    result = compute(film_points(), ("T10", "L1"), normal_table=load_normal_table("shi-2020"))
    assert value(result, MeasurementName.TRAUMATIC_REGIONAL_ANGLE, "L1") == pytest.approx(12.0 + 2.3)
    missing = [n for n in result.not_computed if n.name is MeasurementName.TRAUMATIC_REGIONAL_ANGLE]
    assert [(n.level, "shi-2020" in n.reason) for n in missing] == [("T10", True)]


def test_facing_left_gives_identical_values() -> None:
    right = compute(film_points(), ("T10", "L1", "L5"))
    mirrored = {key: (4000.0 - col, row) for key, (col, row) in film_points().items()}
    left = compute(mirrored, ("T10", "L1", "L5"))
    assert left.facing is Facing.LEFT
    assert [(m.name, m.level, round(m.value, 9)) for m in left.measurements] == [
        (m.name, m.level, round(m.value, 9)) for m in right.measurements
    ]


def test_non_square_pixels_are_converted_before_angles() -> None:
    row_mm, col_mm = 0.15, 0.1
    # The same anatomy (in units of 0.1 mm) sampled with 0.15 x 0.1 mm pixels.
    sampled = {key: (col * 0.1 / col_mm, row * 0.1 / row_mm) for key, (col, row) in film_points().items()}
    spacing = PixelSpacing(row_mm, col_mm, SpacingSource.IMAGER_PIXEL_SPACING)
    result = compute(sampled, ("L1",), spacing=spacing)
    assert value(result, MeasurementName.THORACIC_KYPHOSIS) == pytest.approx(40.0)
    assert value(result, MeasurementName.REGIONAL_ANGLE, "L1") == pytest.approx(12.0)
    assert all(m.spacing_source is SpacingSource.IMAGER_PIXEL_SPACING for m in result.measurements)
    # Ignoring the spacing would give a different (wrong) thoracic kyphosis.
    wrong = compute(sampled, ("L1",), spacing=PixelSpacing.none())
    assert abs(value(wrong, MeasurementName.THORACIC_KYPHOSIS) - 40.0) > 1.0
    # A Pixel Aspect Ratio of 3:2 (row:column) fixes the angles without any millimetres.
    aspect = compute(sampled, ("L1",), spacing=PixelSpacing.none(), pixel_aspect_ratio=(3, 2))
    assert value(aspect, MeasurementName.THORACIC_KYPHOSIS) == pytest.approx(40.0)


def wedge_points(anterior_mm: float, middle_mm: float, posterior_mm: float, level: str = "L1") -> Points:
    """A fractured level between two 25 mm neighbours; all endplates horizontal, 0.1 mm pixels."""
    above, below = {"L1": ("T12", "L2"), "L5": ("L4", "S1")}[level]
    points: Points = {}
    top = 1000.0

    def body(name: str, heights_mm: tuple[float, float, float], y0: float) -> float:
        for corner, x, h in zip(
            ("anterior", "middle", "posterior"), (600.0, 400.0, 200.0), heights_mm, strict=True
        ):
            points[f"{name}.superior.{corner}"] = (x, y0)
            points[f"{name}.inferior.{corner}"] = (x, y0 + h / 0.1)
        return y0 + max(heights_mm) / 0.1 + 80.0

    y = body(above, (25.0, 25.0, 25.0), top)
    y = body(level, (anterior_mm, middle_mm, posterior_mm), y)
    if below == "S1":
        for corner, x in zip(("anterior", "middle", "posterior"), (600.0, 400.0, 200.0), strict=True):
            points[f"S1.superior.{corner}"] = (x, y)
    else:
        body(below, (25.0, 25.0, 25.0), y)
    return points


def test_heights_beck_index_height_loss_and_genant_grade() -> None:
    result = compute(wedge_points(15.0, 20.0, 25.0))
    assert value(result, MeasurementName.ANTERIOR_HEIGHT, "L1") == pytest.approx(15.0)
    assert value(result, MeasurementName.MIDDLE_HEIGHT, "L1") == pytest.approx(20.0)
    assert value(result, MeasurementName.POSTERIOR_HEIGHT, "L1") == pytest.approx(25.0)
    assert result.get(MeasurementName.ANTERIOR_HEIGHT, "L1").unit is Unit.MM  # type: ignore[union-attr]
    assert value(result, MeasurementName.BECK_INDEX, "L1") == pytest.approx(0.6)
    assert value(result, MeasurementName.ANTERIOR_HEIGHT_LOSS, "L1") == pytest.approx(40.0)  # (50 - 30) / 50
    assert value(result, MeasurementName.GENANT_GRADE, "L1") == 2.0  # largest reduction 40 % -> grade 2
    # The anterior corners are 40 mm apart across a 15 mm anterior / 25 mm posterior body: a wedge.
    assert value(result, MeasurementName.VERTEBRAL_KYPHOSIS, "L1") == pytest.approx(
        math.degrees(math.atan2(10.0, 40.0))
    )


def test_heights_are_in_pixels_without_spacing() -> None:
    result = compute(wedge_points(15.0, 20.0, 25.0), spacing=PixelSpacing.none())
    height = result.get(MeasurementName.ANTERIOR_HEIGHT, "L1")
    assert height is not None and height.unit is Unit.PX and height.value == pytest.approx(150.0)
    assert height.spacing_source is SpacingSource.NONE
    assert value(result, MeasurementName.BECK_INDEX, "L1") == pytest.approx(0.6)


def test_l5_uses_s1_superior_and_has_no_neighbour_morphometry() -> None:
    result = compute(wedge_points(20.0, 22.0, 25.0, level="L5"), ("L5",))
    regional = result.get(MeasurementName.REGIONAL_ANGLE, "L5")
    assert regional is not None and "S1.superior.anterior" in regional.landmarks
    reasons = {n.name: n.reason for n in result.not_computed if n.level == "L5"}
    assert "below S1" in reasons[MeasurementName.ANTERIOR_HEIGHT_LOSS]
    assert "below S1" in reasons[MeasurementName.GENANT_GRADE]


@pytest.mark.parametrize(
    ("reduction", "grade"), [(0.0, 0), (19.99, 0), (20.0, 1), (25.0, 1), (25.01, 2), (40.0, 2), (40.01, 3)]
)
def test_genant_grade_thresholds(reduction: float, grade: int) -> None:
    assert genant_grade(reduction) == grade


def test_missing_landmarks_are_named_never_a_number() -> None:
    points = film_points()
    del points["T12.inferior.anterior"]
    result = compute(points, ("L1",))
    assert result.get(MeasurementName.THORACIC_KYPHOSIS) is None
    entry = next(n for n in result.not_computed if n.name is MeasurementName.THORACIC_KYPHOSIS)
    assert entry.missing == ("T12.inferior.anterior",)
    assert entry.reason == "missing landmarks"
    assert value(result, MeasurementName.LUMBAR_LORDOSIS) == pytest.approx(-50.0)


def test_empty_landmarks_compute_nothing() -> None:
    result = compute({}, ("T12", "L1"))
    assert result.measurements == ()
    assert {n.name for n in result.not_computed} == set(MeasurementName)


def test_not_evaluable_level_carries_its_reason() -> None:
    result = compute(
        film_points(), ("T10", "L1"), not_evaluable={"L1": NotEvaluable("obscured", "bowel gas")}
    )
    l1 = [n for n in result.not_computed if n.level == "L1"]
    assert {n.reason for n in l1} == {"not evaluable: obscured: bowel gas"}
    assert result.get(MeasurementName.REGIONAL_ANGLE, "T10") is not None
    with pytest.raises(LandmarkError, match="not-evaluable reason"):
        NotEvaluable("blurry")  # type: ignore[arg-type]


def test_one_swapped_endplate_is_flagged_and_excluded() -> None:
    points = film_points()
    points["L2.inferior.anterior"], points["L2.inferior.posterior"] = (
        points["L2.inferior.posterior"],
        points["L2.inferior.anterior"],
    )
    result = compute(points, ("L1",))
    assert result.inconsistent_endplates == ("L2.inferior",)
    assert result.facing is Facing.RIGHT
    assert result.get(MeasurementName.REGIONAL_ANGLE, "L1") is None
    entry = next(n for n in result.not_computed if n.name is MeasurementName.REGIONAL_ANGLE)
    assert "swapped on L2.inferior" in entry.reason
    assert value(result, MeasurementName.THORACIC_KYPHOSIS) == pytest.approx(40.0)


def test_alternative_global_endpoints_are_recorded() -> None:
    points = film_points()
    points.update(endplate_points("L5.inferior", (1000.0, 200.0 + 300.0 * 11.5), 18.0, 400.0))
    endpoints = GlobalEndpoints.parse(lordosis="L1.superior-L5.inferior")
    result = compute(points, ("L1",), endpoints=endpoints)
    lordosis = result.get(MeasurementName.LUMBAR_LORDOSIS)
    assert lordosis is not None and lordosis.endpoints == "L1.superior-L5.inferior"
    assert lordosis.value == pytest.approx(-38.0)
    kyphosis = result.get(MeasurementName.THORACIC_KYPHOSIS)
    assert kyphosis is not None and kyphosis.endpoints == "T4.superior-T12.inferior"
    with pytest.raises(LandmarkError, match="cranial to caudal"):
        GlobalEndpoints.parse(kyphosis="T12.inferior-T4.superior")
    with pytest.raises(LandmarkError):
        GlobalEndpoints.parse(lordosis="L1.superior-S1.inferior")


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ({"T13.superior.anterior": (1.0, 2.0)}, "not a landmark key"),
        ({"S1.inferior.anterior": (1.0, 2.0)}, "S1 has only"),
        ({"L1.superior.anterior": (1.0,)}, "two finite numbers"),
        ({"L1.superior.anterior": (float("nan"), 2.0)}, "two finite numbers"),
        ({"L1.superior.anterior": ("1", 2.0)}, "two finite numbers"),
    ],
)
def test_bad_points_raise_landmark_error(points: Points, message: str) -> None:
    with pytest.raises(LandmarkError, match=message):
        compute(points)


@pytest.mark.parametrize("levels", [("T9",), ("S1",), ("L1", "L1"), ("X",)])
def test_bad_levels_raise_landmark_error(levels: tuple[str, ...]) -> None:
    with pytest.raises(LandmarkError):
        compute({}, levels)


def test_landmark_keys_are_complete_and_parse() -> None:
    assert len(ALL_LANDMARK_KEYS) == 17 * 6 + 3
    assert all(str(LandmarkKey.parse(key)) == key for key in ALL_LANDMARK_KEYS)
    assert FRACTURE_LEVELS == ("T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5")


def test_shipped_normal_tables_load_with_sources() -> None:
    names = available_normal_tables()
    assert {"farcy-1990", "shi-2020", "kwon-2019"} <= set(names)
    for name in names:
        table = load_normal_table(name)
        assert table.name == name
        assert table.version
        assert re.search(r"(19|20)\d\d;\d+:", table.source), table.source  # a citation: year;volume:page
    default = load_normal_table()
    assert dict(default.values_deg) == {
        "T10": 5.0, "T11": 0.0, "T12": 0.0, "L1": 0.0, "L2": -10.0, "L3": -10.0, "L4": -10.0, "L5": -10.0,
    }  # fmt: skip


def test_bad_normal_tables_are_rejected() -> None:
    with pytest.raises(NormalTableError, match="unknown normal table"):
        load_normal_table("nonexistent")
    base = {"format": "kyphoangle.normal_table/1", "name": "x", "version": "1", "source": "s"}
    with pytest.raises(NormalTableError, match="not a level"):
        parse_normal_table({**base, "values_deg": {"T4": 1.0}}, origin="x.json")
    with pytest.raises(NormalTableError, match="not a number"):
        parse_normal_table({**base, "values_deg": {"L1": "five"}}, origin="x.json")
    with pytest.raises(NormalTableError, match="missing field"):
        parse_normal_table({"format": "kyphoangle.normal_table/1"}, origin="x.json")


# --- properties over a whole film ---------------------------------------------------------------------


def moved(points: Points, fn: Callable[[float, float], tuple[float, float]]) -> Points:
    return {key: fn(*xy) for key, xy in points.items()}


def angle_values(result: MeasurementSet) -> dict[tuple[str, str | None], float]:
    return {(m.name, m.level): m.value for m in result.measurements if m.unit in (Unit.DEG, Unit.RATIO)}


@settings(max_examples=60, deadline=None)
@given(
    st.floats(min_value=-180, max_value=180),
    st.floats(min_value=0.2, max_value=5.0),
    st.floats(-5000, 5000),
    st.floats(-5000, 5000),
    st.booleans(),
)
def test_film_rotation_translation_scaling_and_mirroring_leave_angles_unchanged(
    rotation_deg: float, factor: float, dx: float, dy: float, mirror: bool
) -> None:
    base = compute(film_points(), ("T10", "L1", "L5"), spacing=PixelSpacing.none())
    c, s = math.cos(math.radians(rotation_deg)), math.sin(math.radians(rotation_deg))

    def move(x: float, y: float) -> tuple[float, float]:
        x = -x if mirror else x
        return factor * (c * x - s * y) + dx, factor * (s * x + c * y) + dy

    result = compute(moved(film_points(), move), ("T10", "L1", "L5"), spacing=PixelSpacing.none())
    expected = angle_values(base)
    got = angle_values(result)
    assert got.keys() == expected.keys()
    for key, angle in expected.items():
        assert got[key] == pytest.approx(angle, abs=1e-6), key
