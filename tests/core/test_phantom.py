"""The synthetic radiograph: exact landmarks give the designed angles and heights; rendering is sane."""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyphoangle.anatomy import ALL_LANDMARK_KEYS, EndplateRef
from kyphoangle.geometry import Facing
from kyphoangle.normal_table import DEFAULT_NORMAL_TABLE, load_normal_table
from kyphoangle.phantom import (
    MAX_PIXEL_VALUE,
    Fracture,
    SpineModel,
    body_geometry,
    designed_angle_deg,
    landmarks,
    render,
)
from kyphoangle.protocol import MeasurementName, MeasurementSet, compute_measurements, regional_endplates
from kyphoangle.spacing import PixelSpacing
from kyphoangle.vocabulary import FRACTURE_LEVELS, EndplateSide, SpacingSource, Vertebra


class Film(NamedTuple):
    rows: int
    columns: int
    spacing_mm: tuple[float, float]


FILM = Film(2000, 1000, (0.25, 0.25))
SMALL_FILM = Film(500, 250, (1.0, 1.0))
TABLE = load_normal_table(DEFAULT_NORMAL_TABLE)
T4_SUPERIOR = EndplateRef(Vertebra.T4, EndplateSide.SUPERIOR)
T12_INFERIOR = EndplateRef(Vertebra.T12, EndplateSide.INFERIOR)
L1_SUPERIOR = EndplateRef(Vertebra.L1, EndplateSide.SUPERIOR)
S1_SUPERIOR = EndplateRef(Vertebra.S1, EndplateSide.SUPERIOR)


def points_of(model: SpineModel, film: Film = FILM) -> dict[str, tuple[float, float]]:
    return landmarks(model, rows=film.rows, columns=film.columns, spacing_mm=film.spacing_mm)


def draw(model: SpineModel, film: Film = FILM, seed: int = 0) -> np.ndarray:
    return render(model, rows=film.rows, columns=film.columns, spacing_mm=film.spacing_mm, seed=seed)


def measure(model: SpineModel, levels: tuple[str, ...] = (), film: Film = FILM) -> MeasurementSet:
    spacing = PixelSpacing(*film.spacing_mm, SpacingSource.PIXEL_SPACING)
    return compute_measurements(
        points_of(model, film), spacing=spacing, fractured_levels=levels, normal_table=TABLE
    )


def value(result: MeasurementSet, name: MeasurementName, level: str | None = None) -> float:
    measurement = result.get(name, level)
    assert measurement is not None, f"{name} {level} not computed"
    return measurement.value


def wedge_model(level: str = "L1", anterior: float = 40.0) -> SpineModel:
    return SpineModel(fractures=(Fracture(Vertebra(level), anterior, 0.8 * anterior, 5.0),))


# --------------------------------------------------------------------------------------------- geometry


def test_global_curves_are_the_designed_ones() -> None:
    model = SpineModel(thoracic_kyphosis_deg=42.0, lumbar_lordosis_deg=-55.0)
    result = measure(model)
    assert value(result, MeasurementName.THORACIC_KYPHOSIS) == pytest.approx(42.0, abs=1e-6)
    assert value(result, MeasurementName.LUMBAR_LORDOSIS) == pytest.approx(-55.0, abs=1e-6)
    assert result.facing is Facing.RIGHT
    assert result.inconsistent_endplates == ()


def test_landmark_keys_run_from_the_top_vertebra_to_s1_superior() -> None:
    from_t4 = points_of(SpineModel())
    assert list(from_t4) == [k for k in ALL_LANDMARK_KEYS if Vertebra(k.split(".")[0]).order >= 3]
    assert "S1.superior.middle" in from_t4 and not any(k.startswith("S1.inferior") for k in from_t4)
    assert list(points_of(SpineModel(top=Vertebra.T1))) == list(ALL_LANDMARK_KEYS)


def test_default_film_holds_every_landmark_with_margin() -> None:
    for column, row in points_of(SpineModel()).values():
        assert 150 < row < 1850 and 100 < column < 900


@pytest.mark.parametrize("level", FRACTURE_LEVELS)
def test_vertebral_kyphosis_is_the_designed_wedge(level: str) -> None:
    model = wedge_model(level, 40.0)
    designed = body_geometry(model)[Vertebra(level)]
    result = measure(model, (level,))
    assert value(result, MeasurementName.VERTEBRAL_KYPHOSIS, level) == pytest.approx(
        designed.wedge_deg, abs=0.01
    )
    upper, lower = (
        EndplateRef(Vertebra(level), EndplateSide.SUPERIOR),
        EndplateRef(Vertebra(level), EndplateSide.INFERIOR),
    )
    assert designed_angle_deg(model, upper, lower) == pytest.approx(designed.wedge_deg, abs=1e-9)
    regional = designed_angle_deg(model, *regional_endplates(Vertebra(level)))
    assert value(result, MeasurementName.REGIONAL_ANGLE, level) == pytest.approx(regional, abs=0.01)


def test_wedge_angle_follows_the_height_loss_exactly() -> None:
    # Anterior height is Hp - 2 D sin(w / 2): the wedge comes from the heights and the endplate depth.
    geometry = body_geometry(wedge_model("L1", 40.0))[Vertebra.L1]
    half_sine = (geometry.posterior_height_mm - geometry.anterior_height_mm) / (2 * geometry.depth_mm)
    assert geometry.wedge_deg == pytest.approx(math.degrees(2 * math.asin(half_sine)), abs=1e-12)
    assert 10.0 < geometry.wedge_deg < 25.0


def test_regional_angle_grows_with_the_wedge() -> None:
    angles = []
    wedges = []
    for anterior in (0.0, 15.0, 30.0, 45.0):
        model = wedge_model("T12", anterior)
        result = measure(model, ("T12",))
        angles.append(value(result, MeasurementName.REGIONAL_ANGLE, "T12"))
        wedges.append(body_geometry(model)[Vertebra.T12].wedge_deg)
    assert angles == sorted(angles) and angles[-1] - angles[0] > 10.0
    # Only the fractured body changes: the regional angle moves exactly as much as its wedge.
    assert np.diff(angles) == pytest.approx(np.diff(wedges), abs=1e-6)


def test_fracture_adds_its_extra_wedge_to_the_global_curve() -> None:
    intact, fractured = SpineModel(), wedge_model("T11", 40.0)
    extra = body_geometry(fractured)[Vertebra.T11].wedge_deg - body_geometry(intact)[Vertebra.T11].wedge_deg
    kyphosis = value(measure(fractured, ("T11",)), MeasurementName.THORACIC_KYPHOSIS)
    assert kyphosis == pytest.approx(intact.thoracic_kyphosis_deg + extra, abs=1e-6)
    assert designed_angle_deg(fractured, T4_SUPERIOR, T12_INFERIOR) == pytest.approx(kyphosis, abs=1e-6)


@pytest.mark.parametrize("spacing_mm", [(0.25, 0.25), (0.2, 0.1), (0.1, 0.3)])
def test_heights_in_mm_are_the_designed_ones(spacing_mm: tuple[float, float]) -> None:
    model = wedge_model("L2", 35.0)
    designed = body_geometry(model)
    intact = body_geometry(SpineModel())[Vertebra.L2]
    film = Film(round(500 / spacing_mm[0]), round(250 / spacing_mm[1]), spacing_mm)
    result = measure(model, ("L2",), film)
    for name, expected in (
        (MeasurementName.ANTERIOR_HEIGHT, designed[Vertebra.L2].anterior_height_mm),
        (MeasurementName.MIDDLE_HEIGHT, designed[Vertebra.L2].middle_height_mm),
        (MeasurementName.POSTERIOR_HEIGHT, designed[Vertebra.L2].posterior_height_mm),
    ):
        assert value(result, name, "L2") == pytest.approx(expected, abs=1e-6)
    assert designed[Vertebra.L2].anterior_height_mm == pytest.approx(0.65 * intact.anterior_height_mm)
    assert designed[Vertebra.L2].middle_height_mm == pytest.approx(0.72 * intact.middle_height_mm)
    assert value(result, MeasurementName.THORACIC_KYPHOSIS) == pytest.approx(40.0, abs=1e-6)


def test_same_place_in_mm_whatever_the_pixel_size() -> None:
    square = landmarks(SpineModel(), rows=2000, columns=1000, spacing_mm=(0.25, 0.25))
    oblong = landmarks(SpineModel(), rows=5000, columns=500, spacing_mm=(0.1, 0.5))
    for key, (column, row) in square.items():
        assert oblong[key][0] * 0.5 == pytest.approx(column * 0.25, abs=1e-9)
        assert oblong[key][1] * 0.1 == pytest.approx(row * 0.25, abs=1e-9)


def test_facing_left_mirrors_the_film_but_keeps_signed_angles() -> None:
    right = dataclasses.replace(wedge_model("L1", 40.0), rotation_deg=3.0)
    left = dataclasses.replace(right, facing=Facing.LEFT)
    right_points = points_of(right)
    left_points = points_of(left)
    # Anterior corners lie to the right of posterior ones facing right, to the left facing left.
    key = "L1.superior."
    assert right_points[key + "anterior"][0] > right_points[key + "posterior"][0]
    assert left_points[key + "anterior"][0] < left_points[key + "posterior"][0]
    right_result, left_result = measure(right, ("L1",)), measure(left, ("L1",))
    assert (right_result.facing, left_result.facing) == (Facing.RIGHT, Facing.LEFT)
    for measurement in right_result.measurements:
        assert value(left_result, measurement.name, measurement.level) == pytest.approx(
            measurement.value, abs=1e-9
        )


def test_rotation_and_offset_change_positions_not_angles() -> None:
    still = wedge_model("L3", 30.0)
    moved = dataclasses.replace(still, rotation_deg=-8.0, offset_mm=(10.0, -20.0))
    assert points_of(still) != points_of(moved)
    a, b = measure(still, ("L3",)), measure(moved, ("L3",))
    for measurement in a.measurements:
        assert value(b, measurement.name, measurement.level) == pytest.approx(measurement.value, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    kyphosis=st.floats(10.0, 70.0),
    lordosis=st.floats(-75.0, -15.0),
    rotation=st.floats(-10.0, 10.0),
    facing=st.sampled_from(Facing),
    level=st.sampled_from(FRACTURE_LEVELS),
    anterior=st.floats(0.0, 60.0),
    posterior=st.floats(0.0, 20.0),
    size=st.floats(0.8, 1.2),
    row_mm=st.floats(0.1, 0.3),
    aspect=st.floats(0.5, 2.0),
)
def test_measured_equals_designed_for_any_spine(
    kyphosis: float,
    lordosis: float,
    rotation: float,
    facing: Facing,
    level: str,
    anterior: float,
    posterior: float,
    size: float,
    row_mm: float,
    aspect: float,
) -> None:
    model = SpineModel(
        thoracic_kyphosis_deg=kyphosis,
        lumbar_lordosis_deg=lordosis,
        rotation_deg=rotation,
        facing=facing,
        size_factor=size,
        fractures=(Fracture(Vertebra(level), anterior, anterior / 2.0, posterior),),
    )
    result = measure(model, (level,), Film(2000, 1000, (row_mm, row_mm * aspect)))
    assert result.facing is facing
    vertebra = Vertebra(level)
    pairs = {
        (MeasurementName.THORACIC_KYPHOSIS, None): (T4_SUPERIOR, T12_INFERIOR),
        (MeasurementName.LUMBAR_LORDOSIS, None): (L1_SUPERIOR, S1_SUPERIOR),
        (MeasurementName.REGIONAL_ANGLE, level): regional_endplates(vertebra),
        (MeasurementName.VERTEBRAL_KYPHOSIS, level): (
            EndplateRef(vertebra, EndplateSide.SUPERIOR),
            EndplateRef(vertebra, EndplateSide.INFERIOR),
        ),
    }
    for (name, at), (upper, lower) in pairs.items():
        assert value(result, name, at) == pytest.approx(designed_angle_deg(model, upper, lower), abs=0.01)
    designed = body_geometry(model)[vertebra]
    assert value(result, MeasurementName.ANTERIOR_HEIGHT, level) == pytest.approx(designed.anterior_height_mm)
    assert value(result, MeasurementName.POSTERIOR_HEIGHT, level) == pytest.approx(
        designed.posterior_height_mm
    )


def test_invalid_models_are_refused() -> None:
    with pytest.raises(ValueError, match="S1"):
        Fracture(Vertebra.S1, 20.0, 20.0)
    with pytest.raises(ValueError, match="anterior_loss_pct"):
        Fracture(Vertebra.L1, 95.0, 20.0)
    with pytest.raises(ValueError, match="twice"):
        SpineModel(fractures=(Fracture(Vertebra.L1, 20, 20), Fracture(Vertebra.L1, 30, 30)))
    with pytest.raises(ValueError, match="rotation"):
        SpineModel(rotation_deg=60.0)
    with pytest.raises(ValueError, match="cranial"):
        designed_angle_deg(SpineModel(), S1_SUPERIOR, L1_SUPERIOR)
    with pytest.raises(ValueError, match="spacing"):
        landmarks(SpineModel(), rows=100, columns=100, spacing_mm=(0.0, 0.2))


# --------------------------------------------------------------------------------------------- render


def body_mean(pixels: np.ndarray, points: dict[str, tuple[float, float]], vertebra: str) -> float:
    """Mean value inside the quadrilateral of a body's four corners, shrunk toward its centre."""
    corners = np.array(
        [points[f"{vertebra}.{s}.{c}"] for s, c in (("superior", "posterior"), ("superior", "anterior"),
                                                    ("inferior", "anterior"), ("inferior", "posterior"))]
    )  # fmt: skip
    centre = corners.mean(axis=0)
    inner = centre + 0.6 * (corners - centre) - 0.5
    mask = np.zeros(pixels.shape, np.uint8)
    cv2.fillPoly(mask, [np.round(inner).astype(np.int32)], 1)
    return float(pixels[mask > 0].mean())


def disc_value(pixels: np.ndarray, points: dict[str, tuple[float, float]], upper: str, lower: str) -> float:
    """Mean of a small window at the middle of a disc space."""
    a = np.array(points[f"{upper}.inferior.middle"])
    b = np.array(points[f"{lower}.superior.middle"])
    column, row = ((a + b) / 2.0).astype(int)
    return float(pixels[row - 1 : row + 2, column - 3 : column + 4].mean())


def test_render_is_deterministic_12_bit_and_sized() -> None:
    model = wedge_model("L1", 40.0)
    first = draw(model, SMALL_FILM, seed=5)
    again = draw(model, SMALL_FILM, seed=5)
    other = draw(model, SMALL_FILM, seed=6)
    assert first.dtype == np.uint16 and first.shape == (500, 250)
    assert int(first.max()) <= MAX_PIXEL_VALUE and int(first.min()) >= 0
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.std() > 200  # a film, not a flat field


def test_non_square_pixels_render_the_film_the_landmarks_describe() -> None:
    film = Film(1250, 500, (0.4, 0.5))
    model = SpineModel(rotation_deg=4.0)
    pixels = draw(model, film).astype(np.float64)
    points = points_of(model, film)
    for upper, lower in (("T6", "T7"), ("T11", "T12"), ("L3", "L4")):
        assert body_mean(pixels, points, upper) > disc_value(pixels, points, upper, lower) + 300


def test_bodies_bright_discs_dark_cement_near_saturation() -> None:
    baseline = wedge_model("L1", 40.0)
    treated = SpineModel(fractures=(Fracture(Vertebra.L1, 20.0, 16.0, 2.0, cemented=True),))
    points = points_of(treated)
    before = draw(baseline, seed=1).astype(np.float64)
    after = draw(treated, seed=1).astype(np.float64)
    assert body_mean(after, points, "L3") > disc_value(after, points, "L3", "L4") + 400
    assert body_mean(after, points, "L1") > 3300  # cement, close to the 4095 ceiling
    assert body_mean(after, points, "L1") > body_mean(after, points, "L3") + 800
    assert abs(body_mean(before, points, "L3") - body_mean(after, points, "L3")) < 150
    # The wedge shows: at baseline the anterior top of the treated body's outline is disc or soft tissue.
    column, row = points["L1.superior.anterior"]
    inside = after[int(row) + 4, int(column) - 6]
    assert before[int(row) + 4, int(column) - 6] < inside - 300


def test_anatomy_seed_is_the_patient_and_seed_is_the_exposure() -> None:
    treated = SpineModel(fractures=(Fracture(Vertebra.L2, 20.0, 16.0, cemented=True),), anatomy_seed=3)
    other_patient = dataclasses.replace(treated, anatomy_seed=4)
    a = draw(treated, SMALL_FILM, seed=1)
    b = draw(other_patient, SMALL_FILM, seed=1)
    assert not np.array_equal(a, b)


def test_side_marker_is_drawn_in_the_collimated_field() -> None:
    marked = draw(SpineModel(side_marker="R"), seed=2)
    blank = draw(SpineModel(side_marker=None), seed=2)
    differs = np.argwhere(marked != blank)
    assert len(differs) > 100
    assert differs[:, 0].max() < 200 and differs[:, 1].max() < 250  # top left: behind the patient's back
    assert int(marked.max()) == MAX_PIXEL_VALUE


def test_full_size_film_renders() -> None:
    pixels = render(SpineModel(), rows=4000, columns=2000, spacing_mm=(0.125, 0.125), seed=0)
    assert pixels.shape == (4000, 2000) and pixels.dtype == np.uint16


def test_extreme_spines_still_render() -> None:
    fractures = tuple(
        Fracture(Vertebra(level), 80.0, 80.0, 80.0 * (i % 2), cemented=bool(i % 2))
        for i, level in enumerate(FRACTURE_LEVELS)
    )
    for kyphosis, lordosis, rotation, facing in (
        (100.0, -100.0, 45.0, Facing.LEFT),
        (-20.0, 30.0, -45.0, Facing.RIGHT),
    ):
        model = SpineModel(
            thoracic_kyphosis_deg=kyphosis,
            lumbar_lordosis_deg=lordosis,
            rotation_deg=rotation,
            facing=facing,
            size_factor=1.5,
            fractures=fractures,
        )
        assert draw(model, SMALL_FILM).shape == (500, 250)
        assert draw(model, Film(40, 20, (0.1, 3.0))).shape == (40, 20)


def _edge_offset_mm(
    image: np.ndarray, truth: dict[str, tuple[float, float]], ref: str, spacing_mm: tuple[float, float]
) -> float:
    """Where the drawn endplate's edge lies, in mm toward caudal from its true line (mean of 3 places)."""
    row_mm, col_mm = spacing_mm
    p = np.array(truth[f"{ref}.posterior"]) * (col_mm, row_mm)
    a = np.array(truth[f"{ref}.anterior"]) * (col_mm, row_mm)
    along = (a - p) / np.linalg.norm(a - p)
    normal = np.array([-along[1], along[0]])
    if normal[1] < 0:
        normal = -normal  # toward caudal (rows grow downward)
    steps = np.arange(-6.0, 6.0, 0.05)
    offsets = []
    for fraction in (0.25, 0.5, 0.75):
        points = (p + fraction * (a - p))[None, :] + steps[:, None] * normal[None, :]
        columns = (points[:, 0] / col_mm - 0.5).astype(np.float32)  # OpenCV samples pixel centres
        rows = (points[:, 1] / row_mm - 0.5).astype(np.float32)
        profile = cv2.remap(image.astype(np.float32), columns[None, :], rows[None, :], cv2.INTER_LINEAR)[0]
        offsets.append(float(steps[int(np.argmax(np.gradient(profile)))]))
    return float(np.mean(offsets))


def test_the_sacral_endplate_is_drawn_where_its_truth_lies() -> None:
    """The S1 superior points are the top of the drawn sacrum, as the bodies' endplates are theirs."""
    model = SpineModel()
    image = render(model, rows=FILM.rows, columns=FILM.columns, spacing_mm=FILM.spacing_mm)
    truth = landmarks(model, rows=FILM.rows, columns=FILM.columns, spacing_mm=FILM.spacing_mm)
    control = _edge_offset_mm(image, truth, "L3.superior", FILM.spacing_mm)
    sacrum = _edge_offset_mm(image, truth, "S1.superior", FILM.spacing_mm)
    assert abs(control) < 0.6, control
    assert abs(sacrum) < 0.6, sacrum
