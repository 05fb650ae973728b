"""ViewGeometry: pure affine maths of zoom, pan, rotation and flip."""

from __future__ import annotations

import math

import pytest

from app.geometry import ViewGeometry


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
@pytest.mark.parametrize("flipped", [False, True])
@pytest.mark.parametrize("aspect", [1.0, 1.25])
def test_round_trip(rotation: int, flipped: bool, aspect: float) -> None:
    g = ViewGeometry(
        zoom=2.5,
        center=(100.0, 200.0),
        rotation=rotation,
        flipped=flipped,
        aspect=aspect,
        viewport=(800, 600),
    )
    for point in [(0.0, 0.0), (100.0, 200.0), (123.25, 87.5)]:
        back = g.to_image(g.to_widget(point))
        assert back == pytest.approx(point)
    assert g.to_widget((100.0, 200.0)) == pytest.approx((400.0, 300.0))


def test_rotation_is_clockwise_on_screen() -> None:
    g = ViewGeometry(zoom=1.0, center=(0.0, 0.0), rotation=90, viewport=(100, 100))
    # image +column (right) shows downward after a clockwise quarter turn
    assert g.to_widget((10.0, 0.0)) == pytest.approx((50.0, 60.0))
    flipped = ViewGeometry(zoom=1.0, center=(0.0, 0.0), flipped=True, viewport=(100, 100))
    assert flipped.to_widget((10.0, 0.0)) == pytest.approx((40.0, 50.0))


def test_zoom_about_cursor_keeps_the_point_under_it() -> None:
    g = ViewGeometry(zoom=0.5, center=(400.0, 800.0), rotation=90, flipped=True, viewport=(900, 700))
    cursor = (123.0, 456.0)
    before = g.to_image(cursor)
    zoomed = g.zoomed_about(cursor, 3.0, (0.01, 50))
    assert zoomed.zoom == pytest.approx(1.5)
    assert zoomed.to_image(cursor) == pytest.approx(before)


def test_screen_step_is_one_screen_pixel() -> None:
    g = ViewGeometry(zoom=8.0, rotation=270, viewport=(100, 100))
    dx, dy = g.screen_step_in_image(1.0, 0.0)
    assert math.hypot(dx, dy) == pytest.approx(1 / 8)
    a = g.to_widget((10.0, 10.0))
    b = g.to_widget((10.0 + dx, 10.0 + dy))
    assert (b[0] - a[0], b[1] - a[1]) == pytest.approx((1.0, 0.0))


def test_fit_and_visible_region() -> None:
    g = ViewGeometry(viewport=(500, 1000)).fitted(4000, 2000)
    assert g.zoom == pytest.approx(0.97 * 0.25)
    assert g.visible_region(4000, 2000) == (0, 0, 4000, 2000)
    rotated = g.rotated(90).fitted(4000, 2000)
    assert rotated.zoom == pytest.approx(0.97 * 500 / 4000)
    close = ViewGeometry(zoom=4.0, center=(1000.0, 2000.0), viewport=(400, 400))
    assert close.visible_region(4000, 2000) == (1950, 950, 2050, 1050)


def test_invalid_rotation() -> None:
    with pytest.raises(ValueError, match="multiple of 90"):
        ViewGeometry(rotation=45)
