"""Regressions and properties for the geometry defects seen on whole films: pixel aspect ratio heights,
facing on turned films, and endplates that cross inside the film."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyphoangle.anatomy import EndplateRef
from kyphoangle.geometry import Facing, Turn, orientation_from_labels
from kyphoangle.normal_table import load_normal_table
from kyphoangle.phantom import Fracture, SpineModel, designed_angle_deg, landmarks
from kyphoangle.protocol import MeasurementName, MeasurementSet, Unit, compute_measurements
from kyphoangle.spacing import PixelSpacing, SpacingSource

Points = dict[str, tuple[float, float]]
LEVELS = ("T12", "L1", "L3")


def compute(points: Points, spacing: PixelSpacing | None = None, **options: object) -> MeasurementSet:
    return compute_measurements(
        points,
        spacing=spacing or PixelSpacing(0.2, 0.2, SpacingSource.PIXEL_SPACING),
        fractured_levels=LEVELS,
        normal_table=load_normal_table(),
        **options,  # type: ignore[arg-type]
    )


def phantom_points(model: SpineModel | None = None) -> Points:
    model = model or SpineModel(fractures=(Fracture("L1", 35.0, 25.0),))
    return landmarks(model, rows=3000, columns=2000, spacing_mm=(0.2, 0.2))


def turned(points: Points, degrees: float, mirror: bool = False) -> Points:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    result = {}
    for key, (x, y) in points.items():
        x = -x if mirror else x
        result[key] = (c * x - s * y + 5000.0, s * x + c * y + 5000.0)
    return result


def test_heights_in_pixels_are_scaled_by_the_aspect_ratio_not_its_integers() -> None:
    # A vertical 100-row height on pixels 5 high for 4 wide: 125 column widths, never 500 or 400.
    points = {
        "L1.superior.anterior": (300.0, 100.0),
        "L1.inferior.anterior": (300.0, 200.0),
        "L1.superior.posterior": (100.0, 100.0),
        "L1.inferior.posterior": (100.0, 180.0),
    }
    result = compute(points, PixelSpacing.none(), pixel_aspect_ratio=(5, 4))
    anterior = result.get(MeasurementName.ANTERIOR_HEIGHT, "L1")
    assert anterior is not None and anterior.unit is Unit.PX
    assert anterior.value == pytest.approx(125.0)
    posterior = result.get(MeasurementName.POSTERIOR_HEIGHT, "L1")
    assert posterior is not None and posterior.value == pytest.approx(100.0)
    # the same anatomy on square pixels (rows resampled by 5/4) gives the same heights and angles
    square = {k: (x, y * 1.25) for k, (x, y) in points.items()}
    plain = compute(square, PixelSpacing.none())
    for name in (MeasurementName.ANTERIOR_HEIGHT, MeasurementName.VERTEBRAL_KYPHOSIS):
        a, b = result.get(name, "L1"), plain.get(name, "L1")
        assert a is not None and b is not None and a.value == pytest.approx(b.value)


@pytest.mark.parametrize(
    ("degrees", "mirror", "expected_facing", "expected_turn"),
    [
        (0.0, False, Facing.RIGHT, Turn.CLOCKWISE),
        (45.0, False, Facing.RIGHT, Turn.CLOCKWISE),
        (100.0, False, Facing.LEFT, Turn.CLOCKWISE),
        (180.0, False, Facing.LEFT, Turn.CLOCKWISE),
        (-120.0, False, Facing.LEFT, Turn.CLOCKWISE),
        (0.0, True, Facing.LEFT, Turn.COUNTERCLOCKWISE),
        (180.0, True, Facing.RIGHT, Turn.COUNTERCLOCKWISE),
    ],
)
def test_facing_is_what_the_reader_sees_at_any_rotation(
    degrees: float, mirror: bool, expected_facing: Facing, expected_turn: Turn
) -> None:
    base = compute(phantom_points())
    result = compute(turned(phantom_points(), degrees, mirror))
    assert result.facing is expected_facing
    assert result.turn is expected_turn
    assert result.inconsistent_endplates == ()
    for m in base.measurements:
        got = result.get(m.name, m.level)
        assert got is not None and got.value == pytest.approx(m.value, abs=1e-6), (m.name, m.level)


def crossing_points() -> Points:
    """A film whose L1 regional endplates (T12 superior, L2 inferior) cross inside the film.

    T12 superior is a long line tilting 21.8 deg toward caudal; L2 inferior a short line rising
    21.8 deg, placed so that its midpoint is level with T12 superior's: the regional angle is
    43.60 deg of kyphosis, and only the film's other endplates say which way is caudal.
    """
    points: Points = {
        "T4.superior.posterior": (0.0, -1500.0),
        "T4.superior.anterior": (200.0, -1500.0),
        "T12.superior.posterior": (0.0, 0.0),
        "T12.superior.anterior": (100.0, 40.0),
        "L2.inferior.posterior": (80.0, 30.0),
        "L2.inferior.anterior": (100.0, 22.0),
        "S1.superior.posterior": (0.0, 1500.0),
        "S1.superior.anterior": (200.0, 1560.0),
    }
    return points


CROSSING_DEG = 2 * math.degrees(math.atan2(40.0, 100.0))


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0.0, max_value=360.0), st.booleans(), st.randoms(use_true_random=False))
def test_crossing_endplates_same_angle_for_every_click_order_and_rotation(
    degrees: float, mirror: bool, rng: random.Random
) -> None:
    keys = list(crossing_points())
    rng.shuffle(keys)  # the order in which the reader clicked
    moved = turned(crossing_points(), degrees, mirror)
    points = {key: moved[key] for key in keys}
    result = compute_measurements(
        points,
        spacing=PixelSpacing.none(),
        fractured_levels=("L1",),
        normal_table=load_normal_table(),
    )
    regional = result.get(MeasurementName.REGIONAL_ANGLE, "L1")
    assert regional is not None
    assert regional.value == pytest.approx(CROSSING_DEG, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    st.floats(min_value=-45.0, max_value=45.0),
    st.sampled_from(list(Facing)),
    st.floats(min_value=0.0, max_value=60.0),
)
def test_phantom_angles_are_read_back_whatever_the_film(rotation: float, side: Facing, loss: float) -> None:
    model = SpineModel(rotation_deg=rotation, facing=side, fractures=(Fracture("L1", loss, loss / 2),))
    result = compute(landmarks(model, rows=3000, columns=2000, spacing_mm=(0.2, 0.2)))
    segmental = result.get(MeasurementName.SEGMENTAL_KYPHOSIS, "L1")
    assert segmental is not None
    expected = designed_angle_deg(model, EndplateRef.parse("T12.superior"), EndplateRef.parse("L1.inferior"))
    assert segmental.value == pytest.approx(expected, abs=1e-6)
    assert result.facing is side


@pytest.mark.parametrize(
    ("labels", "expected_facing", "expected_turn"),
    [
        (("A", "F"), Facing.RIGHT, Turn.CLOCKWISE),
        (("P", "F"), Facing.LEFT, Turn.COUNTERCLOCKWISE),
        (("P", "H"), Facing.LEFT, Turn.CLOCKWISE),  # turned half a turn: anterior now on the left
        (("A", "H"), Facing.RIGHT, Turn.COUNTERCLOCKWISE),  # flipped top to bottom
        (("F", "A"), None, Turn.COUNTERCLOCKWISE),  # turned a quarter: anterior points down
        (("AF", "FP"), Facing.RIGHT, Turn.CLOCKWISE),  # oblique labels: their first letters count
        (("L", "F"), None, None),  # a frontal film says nothing of the anterior side
    ],
)
def test_facing_and_turn_from_the_patient_orientation_labels(
    labels: tuple[str, str], expected_facing: Facing | None, expected_turn: Turn | None
) -> None:
    assert orientation_from_labels(labels) == (expected_facing, expected_turn)


def test_labels_give_the_facing_before_two_endplates_are_placed() -> None:
    one_endplate = {"T12.superior.posterior": (100.0, 100.0), "T12.superior.anterior": (200.0, 100.0)}
    assert compute(one_endplate).facing is None
    result = compute(one_endplate, patient_orientation=("P", "F"))
    assert result.facing is Facing.LEFT and result.turn is Turn.COUNTERCLOCKWISE


def test_labels_break_a_tie_between_endplates() -> None:
    # two endplates pointing opposite ways: the landmarks cannot say which one is swapped
    points = {
        "T4.superior.posterior": (0.0, 0.0),
        "T4.superior.anterior": (100.0, 0.0),
        "S1.superior.posterior": (100.0, 2000.0),
        "S1.superior.anterior": (0.0, 2000.0),
    }
    assert set(compute(points).inconsistent_endplates) == {"T4.superior", "S1.superior"}
    labelled = compute(points, patient_orientation=("A", "F"))
    assert labelled.inconsistent_endplates == ("S1.superior",) and labelled.turn is Turn.CLOCKWISE
