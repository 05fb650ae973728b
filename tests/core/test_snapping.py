"""Endplate snapping: proposals land on the true corners and endplates of phantom films, whatever the
encoding of the pixels, and nothing is proposed where the film shows no corner."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from functools import cache

import numpy as np
import pytest
from pydicom import uid

from kyphoangle.anatomy import EndplateRef
from kyphoangle.campaign import CampaignSettings
from kyphoangle.dicom import load_radiograph
from kyphoangle.errors import LandmarkError
from kyphoangle.geometry import Endplate, Facing, Point, Scale
from kyphoangle.phantom import MAX_PIXEL_VALUE, Fracture, SpineModel, landmarks, render
from kyphoangle.snapping import SnapFilm, SnapSettings, propose_corner, propose_endplate
from kyphoangle.snapping.evaluation import (
    GOAL_RATIO,
    Degradation,
    degrade,
    evaluate,
    markdown,
    needed_endplates,
    summaries,
)
from kyphoangle.vocabulary import Corner
from tests.core import dicom_files as files

ROWS, COLUMNS, SPACING = 2000, 1000, (0.25, 0.25)
CEMENTED = "L1"
MODEL = SpineModel(
    fractures=(Fracture(CEMENTED, 35.0, 30.0, 0.0, cemented=True),),
    bone_density=0.75,
    rotation_deg=4.0,
    facing=Facing.LEFT,
    anatomy_seed=5,
)
CORNER_TOLERANCE_MM = 1.0
"""A proposal this close to the true corner is right (the cortex itself is about 1 mm thick)."""
SACRUM_TOLERANCE_MM = 2.0
"""The phantom draws the sacrum as a smoothed outline, so its corners are rounded by about 1.5 mm."""


def _tolerance(key: str) -> float:
    return SACRUM_TOLERANCE_MM if key.startswith("S1.") else CORNER_TOLERANCE_MM


@cache
def _pixels(spacing: tuple[float, float] = SPACING, hard: bool = True) -> np.ndarray:
    pixels = render(MODEL, rows=ROWS, columns=COLUMNS, spacing_mm=spacing, seed=3)
    if hard:
        pixels = degrade(pixels, np.random.default_rng(3), spacing, Degradation())
    pixels.flags.writeable = False
    return pixels


def _truth(spacing: tuple[float, float] = SPACING) -> dict[str, Point]:
    return {
        key: Point(*value)
        for key, value in landmarks(MODEL, rows=ROWS, columns=COLUMNS, spacing_mm=spacing).items()
    }


def _film(spacing: tuple[float, float] = SPACING) -> SnapFilm:
    return SnapFilm(_pixels(spacing), spacing[0], spacing[1])


def _off(point: Point, film: SnapFilm, dx_mm: float, dy_mm: float) -> Point:
    return Point(point.column + dx_mm / film.col_mm, point.row + dy_mm / film.row_mm)


def _error_mm(a: Point, b: Point, film: SnapFilm) -> float:
    return math.hypot((a.column - b.column) * film.col_mm, (a.row - b.row) * film.row_mm)


OFFSETS_MM = ((2.0, 0.0), (0.0, -2.0), (-1.5, 1.5), (1.4, 1.4))


def _read(
    film: SnapFilm, truth: Mapping[str, Point], refs: list[EndplateRef]
) -> dict[str, tuple[Point, Point]]:
    """Click each corner of `refs` off the truth; return key -> (click, proposal or click)."""
    placed: dict[str, Point] = {}
    result = {}
    for n, ref in enumerate(refs):
        for m, key in enumerate(ref.line_keys):
            click = _off(truth[key], film, *OFFSETS_MM[(n + m) % len(OFFSETS_MM)])
            proposal = propose_corner(film, key, click, placed)
            placed[key] = proposal.position if proposal else click
            result[key] = (click, placed[key])
    return result


def test_corners_of_a_whole_read_land_on_the_true_corners() -> None:
    film, truth = _film(), _truth()
    refs = needed_endplates(CEMENTED)
    result = _read(film, truth, refs)
    errors = {key: _error_mm(proposal, truth[key], film) for key, (_, proposal) in result.items()}
    clicks = {key: _error_mm(click, truth[key], film) for key, (click, _) in result.items()}
    assert len(errors) == 2 * len(refs)
    wrong = {key: round(e, 2) for key, e in errors.items() if e > _tolerance(key)}
    assert not wrong, f"proposals off the true corner (mm): {wrong}"
    assert np.mean(list(errors.values())) < 0.5 * np.mean(list(clicks.values()))


def test_the_cement_cast_does_not_capture_the_corners_of_the_treated_vertebra() -> None:
    film, truth = _film(), _truth()
    placed: dict[str, Point] = {}
    for side in ("superior", "inferior"):
        ref = EndplateRef.parse(f"{CEMENTED}.{side}")
        inward_mm = 2.0 if side == "superior" else -2.0  # clicked inside the body, toward the cast
        for key in ref.line_keys:
            click = _off(truth[key], film, 0.0, inward_mm)
            proposal = propose_corner(film, key, click, placed)
            assert proposal is not None, key
            assert _error_mm(proposal.position, truth[key], film) <= CORNER_TOLERANCE_MM, key
            placed[key] = proposal.position


def test_monochrome1_films_give_the_same_proposals() -> None:
    film, truth = _film(), _truth()
    inverted = SnapFilm(MAX_PIXEL_VALUE - _pixels(), film.row_mm, film.col_mm, bone_is_dark=True)
    key = f"{CEMENTED}.inferior.anterior"
    click = _off(truth[key], film, 1.5, -1.5)
    normal, flipped = propose_corner(film, key, click), propose_corner(inverted, key, click)
    assert normal is not None and flipped is not None
    assert (flipped.position.column, flipped.position.row) == pytest.approx(
        (normal.position.column, normal.position.row), abs=1e-3
    )
    assert flipped.confidence == pytest.approx(normal.confidence)


def test_non_square_pixels_are_measured_in_millimetres() -> None:
    spacing = (0.25, 0.2)
    film, truth = SnapFilm(_pixels(spacing), *spacing), _truth(spacing)
    for key in ("T12.inferior.anterior", "L2.superior.posterior"):
        proposal = propose_corner(film, key, _off(truth[key], film, 1.5, 1.5))
        assert proposal is not None
        assert _error_mm(proposal.position, truth[key], film) <= CORNER_TOLERANCE_MM
        assert proposal.shift_mm == pytest.approx(
            _error_mm(proposal.position, proposal.click, film), abs=1e-6
        )


def _turn_deg(reference: Endplate, other: Endplate, scale: Scale) -> float:
    a, b = reference.vector_mm(scale), other.vector_mm(scale)
    return math.degrees(math.atan2(a[0] * b[1] - a[1] * b[0], a[0] * b[0] + a[1] * b[1]))


def test_endplate_line_corrects_corners_clicked_off_the_endplate() -> None:
    film, truth = _film(), _truth()
    scale = Scale(film.row_mm, film.col_mm)
    for name in ("T12.inferior", f"{CEMENTED}.superior", "S1.superior"):
        ref = EndplateRef.parse(name)
        posterior, anterior = ref.line_keys
        # Corners 2.5 mm off the endplate in opposite directions: a line tilted by about 9 degrees.
        placed = {
            posterior: _off(truth[posterior], film, 0.0, 2.5),
            anterior: _off(truth[anterior], film, 0.0, -2.5),
        }
        proposal = propose_endplate(film, name, placed)
        assert proposal is not None, name
        true_line = Endplate(truth[posterior], truth[anterior])
        tilt = _turn_deg(true_line, Endplate(proposal.posterior, proposal.anterior), scale)
        clicked = _turn_deg(true_line, Endplate(placed[posterior], placed[anterior]), scale)
        assert abs(clicked) > 5.0
        assert abs(tilt) < 1.0, name
        middle = truth[ref.key(Corner.MIDDLE)]
        assert _error_mm(proposal.middle, middle, film) < 2.0
        assert 0.8 <= proposal.confidence <= 1.0


def test_no_line_without_both_corners_or_with_corners_on_different_structures() -> None:
    film, truth = _film(), _truth()
    posterior, anterior = EndplateRef.parse("L3.superior").line_keys
    assert propose_endplate(film, "L3.superior", {posterior: truth[posterior]}) is None
    # The anterior corner of another vertebra: no edge joins the two points.
    far = {posterior: truth[posterior], anterior: truth["L2.superior.anterior"]}
    assert propose_endplate(film, "L3.superior", far) is None


def test_nothing_is_proposed_where_the_film_has_no_edge() -> None:
    rng = np.random.default_rng(0)
    flat = SnapFilm(np.full((400, 400), 1200, np.uint16), 0.2, 0.2)
    noise = SnapFilm(rng.normal(1000.0, 30.0, (400, 400)).astype(np.float32), 0.2, 0.2)
    for film in (flat, noise):
        for key in ("L1.superior.anterior", "L1.inferior.posterior", "L1.superior.middle"):
            assert propose_corner(film, key, Point(200.0, 200.0)) is None
    film, truth = _film(), _truth()
    # Outside the film, and in the soft tissue in front of the spine.
    assert propose_corner(film, "L1.superior.anterior", Point(-5.0, 10.0)) is None
    assert propose_corner(film, "L1.superior.anterior", Point(float(COLUMNS) + 1, 10.0)) is None
    front = _off(truth["L3.superior.anterior"], film, -40.0 if MODEL.facing is Facing.LEFT else 40.0, 8.0)
    assert propose_corner(film, "L3.superior.anterior", front) is None


def test_a_straight_edge_is_not_a_corner() -> None:
    pixels = np.full((400, 400), 500, np.uint16)
    pixels[200:, :] = 3000  # a long horizontal edge, bone below
    film = SnapFilm(pixels, 0.2, 0.2)
    assert propose_corner(film, "L1.superior.anterior", Point(200.0, 200.0)) is None
    pixels[200:, 200:] = 500  # now a corner at (200, 200), bone below and to the left
    proposal = propose_corner(
        SnapFilm(pixels, 0.2, 0.2), "L1.superior.anterior", Point(190.0, 212.0), facing=Facing.RIGHT
    )
    assert proposal is not None
    assert proposal.position.column == pytest.approx(200.0, abs=2.0)
    assert proposal.position.row == pytest.approx(200.0, abs=2.0)
    assert 0.5 <= proposal.confidence <= 1.0


def test_unknown_landmark_keys_are_refused() -> None:
    with pytest.raises(LandmarkError):
        propose_corner(_film(), "L9.superior.anterior", Point(10.0, 10.0))
    with pytest.raises(LandmarkError):
        propose_endplate(_film(), "L1.upper", {})


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        SnapSettings(search_radius_mm=0.0)
    with pytest.raises(ValueError):
        SnapSettings(min_confidence=1.5)


_REAL_FILMS = [f"{film}_{encoding}.dcm" for film in files.CR_FILMS for encoding in ("UNCR", "J2KI")]


@pytest.mark.skipif(files.PYDICOM_DATA is None, reason="pydicom-data is not installed")
@pytest.mark.parametrize("name", _REAL_FILMS)
def test_real_radiographs_no_crash_and_no_proposal_on_flat_film(name: str) -> None:
    assert files.PYDICOM_DATA is not None
    film = SnapFilm.from_radiograph(load_radiograph(files.PYDICOM_DATA / name))
    assert film.bone_is_dark  # MONOCHROME1 CR films
    rng = np.random.default_rng(1)
    placed: dict[str, Point] = {}
    for _ in range(12):
        click = Point(float(rng.uniform(0, film.columns)), float(rng.uniform(0, film.rows)))
        proposal = propose_corner(film, "L1.superior.posterior", click, placed)
        if proposal is not None:
            assert 0.5 <= proposal.confidence <= 1.0
            assert proposal.shift_mm <= SnapSettings().search_radius_mm + 2.0
    # The flattest window of the film (collimated border or open field): nothing to snap to.
    grey = film.region(0, film.rows, 0, film.columns)
    step = 40
    windows = [
        (float(np.ptp(grey[r : r + step, c : c + step])), r + step // 2, c + step // 2)
        for r in range(step, film.rows - 2 * step, step)
        for c in range(step, film.columns - 2 * step, step)
    ]
    _, row, column = min(windows)
    for key in ("L1.superior.anterior", "L1.inferior.posterior", "L1.superior.middle"):
        assert propose_corner(film, key, Point(column + 0.5, row + 0.5)) is None


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "SC_rgb_small_odd.dcm", "liver_1frame.dcm"])
def test_pydicom_test_images_do_not_break_snapping(name: str) -> None:
    film = SnapFilm.from_radiograph(load_radiograph(files.PYDICOM_TEST_FILES / name))
    assert film.spacing_assumed or film.row_mm > 0
    for column, row in ((0.0, 0.0), (film.columns / 2, film.rows / 2), (film.columns - 1.0, film.rows - 1.0)):
        proposal = propose_corner(film, "T12.inferior.anterior", Point(column, row), {})
        assert proposal is None or 0.5 <= proposal.confidence <= 1.0
    assert (
        propose_endplate(
            film,
            "T12.inferior",
            {
                "T12.inferior.posterior": Point(1.0, 1.0),
                "T12.inferior.anterior": Point(film.columns - 1.0, 2.0),
            },
        )
        is None
        or True
    )


def test_small_evaluation_halves_the_regional_angle_error() -> None:
    reads = evaluate(
        encodings=(uid.RLELossless,), films_per_encoding=2, reads_per_film=2, sigmas_mm=(2.0,), seed=3
    )
    assert len(reads) == 4
    table = summaries(reads)
    overall = table[-1]
    assert overall.label == "all encodings"
    assert overall.sd_manual["regional_angle"] > 1.0
    assert overall.ratio("regional_angle") <= GOAL_RATIO
    assert "regional angle" in markdown(table)


def test_campaign_settings_keep_the_snapping_choice_and_old_campaigns_allow_it() -> None:
    off = CampaignSettings(snapping=False)
    assert CampaignSettings.from_json(off.to_json()) == off
    old = json.loads(CampaignSettings().to_json())
    del old["snapping"]
    assert CampaignSettings.from_json(json.dumps(old)).snapping is True


def test_a_middle_point_is_moved_onto_the_endplate_only_across_it() -> None:
    film, truth = _film(), _truth()
    ref = EndplateRef.parse("L3.superior")
    placed = {key: truth[key] for key in ref.line_keys}
    middle = truth[ref.key(Corner.MIDDLE)]
    posterior, anterior = (
        np.array([truth[k].column * film.col_mm, truth[k].row * film.row_mm]) for k in ref.line_keys
    )
    along = (anterior - posterior) / np.linalg.norm(anterior - posterior)
    across = np.array([-along[1], along[0]])
    offset = 2.0 * across + 1.0 * along  # 2 mm off the endplate, 1 mm along it
    click = _off(middle, film, float(offset[0]), float(offset[1]))
    proposal = propose_corner(film, ref.key(Corner.MIDDLE), click, placed)
    assert proposal is not None
    moved = np.array(
        [
            (proposal.position.column - click.column) * film.col_mm,
            (proposal.position.row - click.row) * film.row_mm,
        ]
    )
    assert abs(float(moved @ along)) < 0.3  # the reader's position along the endplate is kept
    error = np.array(
        [
            (proposal.position.column - middle.column) * film.col_mm,
            (proposal.position.row - middle.row) * film.row_mm,
        ]
    )
    assert abs(float(error @ across)) < CORNER_TOLERANCE_MM


@pytest.mark.parametrize(("rotation_deg", "facing"), [(25.0, Facing.RIGHT), (-20.0, Facing.LEFT)])
def test_rotated_films_with_nothing_placed_yet(rotation_deg: float, facing: Facing) -> None:
    model = SpineModel(rotation_deg=rotation_deg, facing=facing, bone_density=0.8, anatomy_seed=9)
    pixels = render(model, rows=ROWS, columns=COLUMNS, spacing_mm=SPACING, seed=9)
    film = SnapFilm(degrade(pixels, np.random.default_rng(9), SPACING, Degradation()), *SPACING)
    truth = landmarks(model, rows=ROWS, columns=COLUMNS, spacing_mm=SPACING)
    for key in ("T12.inferior.anterior", "L2.superior.posterior", "L4.inferior.posterior"):
        true = Point(*truth[key])
        proposal = propose_corner(film, key, _off(true, film, 1.4, -1.4))
        assert proposal is not None, key
        assert _error_mm(proposal.position, true, film) <= CORNER_TOLERANCE_MM, key


def test_endplate_line_from_corners_far_off_the_edge() -> None:
    film, truth = _film(), _truth()
    scale = Scale(film.row_mm, film.col_mm)
    ref = EndplateRef.parse("L2.inferior")
    posterior, anterior = ref.line_keys
    # 1 mm and 5.5 mm off the endplate in opposite directions: the strip is laid again along the first fit.
    placed = {
        posterior: _off(truth[posterior], film, 0.0, -1.0),
        anterior: _off(truth[anterior], film, 0.0, 5.5),
    }
    proposal = propose_endplate(film, str(ref), placed)
    assert proposal is not None
    true_line = Endplate(truth[posterior], truth[anterior])
    assert abs(_turn_deg(true_line, Endplate(placed[posterior], placed[anterior]), scale)) > 8.0
    assert abs(_turn_deg(true_line, Endplate(proposal.posterior, proposal.anterior), scale)) < 1.0
