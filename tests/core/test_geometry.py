"""Signed endplate angles: hand-computed golden cases and invariance properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kyphoangle.geometry import (
    Endplate,
    Facing,
    InconsistentEndplatesError,
    Point,
    Scale,
    Turn,
    distance_mm,
    facing,
    signed_angle_deg,
    turn,
)


def plate(posterior: tuple[float, float], anterior: tuple[float, float]) -> Endplate:
    return Endplate(Point(*posterior), Point(*anterior))


# Patient facing right: anterior toward +column. Rows grow downward (caudal).
HORIZONTAL_UPPER = plate((100.0, 100.0), (200.0, 100.0))


def test_parallel_endplates_give_zero() -> None:
    lower = plate((100.0, 300.0), (200.0, 300.0))
    assert signed_angle_deg(HORIZONTAL_UPPER, lower) == pytest.approx(0.0, abs=1e-12)


def test_anterior_wedge_is_kyphosis_positive() -> None:
    # Lower endplate rises anteriorly by tan(10 deg) * 100: the lines converge in front -> +10 deg.
    lower = plate((100.0, 300.0), (200.0, 300.0 - 100.0 * math.tan(math.radians(10.0))))
    assert signed_angle_deg(HORIZONTAL_UPPER, lower) == pytest.approx(10.0, abs=1e-9)


def test_posterior_wedge_is_lordosis_negative() -> None:
    # Lower endplate drops anteriorly: the lines diverge in front -> -15 deg.
    lower = plate((100.0, 300.0), (200.0, 300.0 + 100.0 * math.tan(math.radians(15.0))))
    assert signed_angle_deg(HORIZONTAL_UPPER, lower) == pytest.approx(-15.0, abs=1e-9)


def test_both_endplates_tilted() -> None:
    # Upper tilts 20 deg toward caudal anteriorly, lower tilts 5 deg toward cranial: 20 - (-5) = 25 deg.
    upper = plate((0.0, 0.0), (math.cos(math.radians(20)), math.sin(math.radians(20))))
    lower = plate((0.0, 10.0), (math.cos(math.radians(5)), 10.0 - math.sin(math.radians(5))))
    assert signed_angle_deg(upper, lower) == pytest.approx(25.0, abs=1e-9)


def test_patient_facing_left_gives_the_same_sign() -> None:
    # Mirror of the 10 deg kyphotic wedge: anterior toward -column.
    upper = plate((200.0, 100.0), (100.0, 100.0))
    lower = plate((200.0, 300.0), (100.0, 300.0 - 100.0 * math.tan(math.radians(10.0))))
    assert signed_angle_deg(upper, lower) == pytest.approx(10.0, abs=1e-9)
    caudal = lower.midpoint_mm(Scale(1, 1)) - upper.midpoint_mm(Scale(1, 1))
    assert turn(upper, caudal, Scale(1, 1)) is Turn.COUNTERCLOCKWISE
    assert facing(upper.vector_mm(Scale(1, 1))) is Facing.LEFT


def test_non_square_pixels_use_millimetres() -> None:
    # Rows are 0.2 mm, columns 0.1 mm. The lower endplate rises 10 rows over 100 columns:
    # in mm that is 2 mm over 10 mm, atan(0.2) = 11.3099 deg; in pixels it would be atan(0.1) = 5.7106 deg.
    scale = Scale(row_mm=0.2, col_mm=0.1)
    lower = plate((100.0, 300.0), (200.0, 290.0))
    expected = math.degrees(math.atan2(2.0, 10.0))
    assert expected == pytest.approx(11.309932474, abs=1e-9)
    assert signed_angle_deg(HORIZONTAL_UPPER, lower, scale) == pytest.approx(expected, abs=1e-9)
    assert signed_angle_deg(HORIZONTAL_UPPER, lower) == pytest.approx(math.degrees(math.atan(0.1)), abs=1e-9)


def test_large_angles_are_not_folded() -> None:
    # 100 deg of lordosis stays -100, never the 80 deg complement an acos() would give.
    upper = plate((0.0, 0.0), (math.cos(math.radians(-50)), math.sin(math.radians(-50))))
    lower = plate((0.0, 10.0), (math.cos(math.radians(50)), 10.0 + math.sin(math.radians(50))))
    assert signed_angle_deg(upper, lower) == pytest.approx(-100.0, abs=1e-9)


def test_swapped_corners_are_detected() -> None:
    lower = plate((200.0, 300.0), (100.0, 290.0))  # anterior/posterior clicked the wrong way round
    with pytest.raises(InconsistentEndplatesError, match="swapped"):
        signed_angle_deg(HORIZONTAL_UPPER, lower)


def test_degenerate_inputs_raise_our_error() -> None:
    with pytest.raises(InconsistentEndplatesError, match="zero length"):
        signed_angle_deg(plate((1.0, 1.0), (1.0, 1.0)), HORIZONTAL_UPPER)
    with pytest.raises(InconsistentEndplatesError, match="same midpoint"):
        signed_angle_deg(HORIZONTAL_UPPER, HORIZONTAL_UPPER)


def test_distance_in_millimetres() -> None:
    assert distance_mm(Point(0, 0), Point(30, 40)) == pytest.approx(50.0)
    assert distance_mm(Point(0, 0), Point(30, 40), Scale(row_mm=0.5, col_mm=2.0)) == pytest.approx(
        math.hypot(60.0, 20.0)
    )


# --- properties -------------------------------------------------------------------------------------

tilts = st.floats(min_value=-30.0, max_value=30.0)
lengths = st.floats(min_value=5.0, max_value=60.0)


@st.composite
def endplate_pairs(draw: st.DrawFn) -> tuple[Endplate, Endplate]:
    """A plausible pair, in mm (square pixels), patient facing right.

    As on any sagittal film the upper endplate lies above the lower one and the line joining their
    midpoints is within 45 degrees of the endplates' perpendicular: the anatomy the swap check relies on.
    """
    x0, y0 = draw(st.floats(-500, 500)), draw(st.floats(-500, 500))
    tilt_upper, tilt_lower = math.radians(draw(tilts)), math.radians(draw(tilts))
    gap = draw(st.floats(min_value=10.0, max_value=300.0))
    shift = draw(st.floats(min_value=-20.0, max_value=20.0))
    len_upper, len_lower = draw(lengths), draw(lengths)
    upper = plate((x0, y0), (x0 + len_upper * math.cos(tilt_upper), y0 + len_upper * math.sin(tilt_upper)))
    lower = plate(
        (x0 + shift, y0 + gap),
        (x0 + shift + len_lower * math.cos(tilt_lower), y0 + gap + len_lower * math.sin(tilt_lower)),
    )
    axis = lower.midpoint_mm(Scale(1, 1)) - upper.midpoint_mm(Scale(1, 1))
    assume(abs(axis[0]) < 0.5 * axis[1])
    return upper, lower


def transform(e: Endplate, fn: object) -> Endplate:
    assert callable(fn)
    return Endplate(
        Point(*fn(e.posterior.column, e.posterior.row)), Point(*fn(e.anterior.column, e.anterior.row))
    )


@settings(max_examples=300, deadline=None)
@given(
    endplate_pairs(),
    st.floats(min_value=-180.0, max_value=180.0),
    st.floats(-1e4, 1e4),
    st.floats(-1e4, 1e4),
    st.floats(min_value=0.05, max_value=20.0),
)
def test_rigid_motion_and_isotropic_scale_leave_angles_unchanged(
    pair: tuple[Endplate, Endplate], rotation_deg: float, dx: float, dy: float, factor: float
) -> None:
    upper, lower = pair
    try:
        expected = signed_angle_deg(upper, lower)
    except InconsistentEndplatesError:
        assume(False)  # an inconsistent pair is not an example of this property
        raise
    c, s = math.cos(math.radians(rotation_deg)), math.sin(math.radians(rotation_deg))

    def move(x: float, y: float) -> tuple[float, float]:
        return factor * (c * x - s * y) + dx, factor * (s * x + c * y) + dy

    assert signed_angle_deg(transform(upper, move), transform(lower, move)) == pytest.approx(
        expected, abs=1e-6
    )


@settings(max_examples=300, deadline=None)
@given(endplate_pairs(), st.booleans())
def test_mirroring_the_film_leaves_signed_angles_unchanged(
    pair: tuple[Endplate, Endplate], vertical: bool
) -> None:
    upper, lower = pair
    try:
        expected = signed_angle_deg(upper, lower)
    except InconsistentEndplatesError:
        assume(False)  # an inconsistent pair is not an example of this property
        raise

    def mirror(x: float, y: float) -> tuple[float, float]:
        return (x, -y) if vertical else (-x, y)

    assert signed_angle_deg(transform(upper, mirror), transform(lower, mirror)) == pytest.approx(
        expected, abs=1e-6
    )


@settings(max_examples=200, deadline=None)
@given(endplate_pairs())
def test_upper_and_lower_order_does_not_matter(pair: tuple[Endplate, Endplate]) -> None:
    upper, lower = pair
    try:
        expected = signed_angle_deg(upper, lower)
    except InconsistentEndplatesError:
        assume(False)  # an inconsistent pair is not an example of this property
        raise
    assert signed_angle_deg(lower, upper) == pytest.approx(expected, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(endplate_pairs(), st.booleans())
def test_swapping_corners_of_one_endplate_is_never_silent(
    pair: tuple[Endplate, Endplate], which: bool
) -> None:
    upper, lower = pair
    swapped = Endplate(upper.anterior, upper.posterior) if which else upper
    other = lower if which else Endplate(lower.anterior, lower.posterior)
    with pytest.raises(InconsistentEndplatesError):
        signed_angle_deg(swapped, other)


@settings(max_examples=200, deadline=None)
@given(endplate_pairs(), st.floats(min_value=0.05, max_value=1.0), st.floats(min_value=0.05, max_value=1.0))
def test_angle_depends_only_on_millimetre_geometry(
    pair: tuple[Endplate, Endplate], row_mm: float, col_mm: float
) -> None:
    """The same anatomy sampled with any pixel shape gives the same angle once spacing is applied."""
    upper, lower = pair
    try:
        expected = signed_angle_deg(upper, lower)  # coordinates taken as millimetres
    except InconsistentEndplatesError:
        assume(False)  # an inconsistent pair is not an example of this property
        raise

    def to_pixels(x: float, y: float) -> tuple[float, float]:
        return x / col_mm, y / row_mm

    scale = Scale(row_mm=row_mm, col_mm=col_mm)
    assert signed_angle_deg(transform(upper, to_pixels), transform(lower, to_pixels), scale) == pytest.approx(
        expected, abs=1e-6
    )


# --- endplates that cross inside the film ------------------------------------------------------------


def rotate(e: Endplate, degrees: float) -> Endplate:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return transform(e, lambda x, y: (c * x - s * y, s * x + c * y))


def slide(e: Endplate, by: float) -> Endplate:
    """The same line, its two clicks moved `by` lengths along it: the midpoint moves, the line does not."""
    dx, dy = e.anterior.column - e.posterior.column, e.anterior.row - e.posterior.row
    return transform(e, lambda x, y: (x + by * dx, y + by * dy))


# A long upper endplate tilting 21.8 deg toward caudal and a short lower one rising 21.8 deg anteriorly,
# placed in front so that the lines cross between the upper one's corners and the lower midpoint sits
# level with the upper one: converging anteriorly, 2 * 21.80 = 43.60 deg of kyphosis.
CROSS_UPPER = plate((0.0, 0.0), (100.0, 40.0))
CROSS_LOWER = plate((80.0, 30.0), (100.0, 22.0))
CROSS_DEG = 2 * math.degrees(math.atan2(40.0, 100.0))


def test_crossing_endplates_take_their_sign_from_the_film_not_the_midpoints() -> None:
    assert signed_angle_deg(CROSS_UPPER, CROSS_LOWER, film_turn=Turn.CLOCKWISE) == pytest.approx(CROSS_DEG)
    # read from this pair alone the midpoints would disagree with the corners: refused, never a sign flip
    with pytest.raises(InconsistentEndplatesError):
        signed_angle_deg(CROSS_UPPER, CROSS_LOWER)


@settings(max_examples=300, deadline=None)
@given(
    st.floats(min_value=0.0, max_value=360.0),
    st.floats(min_value=-3.0, max_value=3.0),
    st.floats(min_value=-3.0, max_value=3.0),
    st.booleans(),
)
def test_crossing_endplates_same_value_for_any_rotation_and_midpoint_order(
    rotation_deg: float, slide_upper: float, slide_lower: float, mirror: bool
) -> None:
    upper, lower = slide(CROSS_UPPER, slide_upper), slide(CROSS_LOWER, slide_lower)
    film_turn = Turn.CLOCKWISE
    if mirror:
        upper, lower = (transform(e, lambda x, y: (-x, y)) for e in (upper, lower))
        film_turn = Turn.COUNTERCLOCKWISE
    upper, lower = rotate(upper, rotation_deg), rotate(lower, rotation_deg)
    assert signed_angle_deg(upper, lower, film_turn=film_turn) == pytest.approx(CROSS_DEG, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(endplate_pairs(), st.floats(min_value=0.0, max_value=360.0))
def test_the_film_turn_agrees_with_the_pair_wherever_the_pair_can_tell(
    pair: tuple[Endplate, Endplate], rotation_deg: float
) -> None:
    upper, lower = rotate(pair[0], rotation_deg), rotate(pair[1], rotation_deg)
    try:
        expected = signed_angle_deg(upper, lower)
    except InconsistentEndplatesError:
        return
    assert signed_angle_deg(upper, lower, film_turn=Turn.CLOCKWISE) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("rotation_deg", "mirror", "expected"),
    [
        (0.0, False, Facing.RIGHT),
        (60.0, False, Facing.RIGHT),
        (-80.0, False, Facing.RIGHT),
        (120.0, False, Facing.LEFT),  # turned more than a quarter: the anterior now points left
        (180.0, False, Facing.LEFT),
        (-135.0, False, Facing.LEFT),
        (0.0, True, Facing.LEFT),
        (180.0, True, Facing.RIGHT),
        (90.0, False, None),  # anterior straight down: neither left nor right
    ],
)
def test_facing_follows_the_displayed_anterior_at_any_rotation(
    rotation_deg: float, mirror: bool, expected: Facing | None
) -> None:
    anterior = plate((0.0, 0.0), (1.0, 0.0))
    if mirror:
        anterior = transform(anterior, lambda x, y: (-x, y))
    assert facing(rotate(anterior, rotation_deg).vector_mm(Scale(1, 1))) is expected
