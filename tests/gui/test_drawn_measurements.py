"""The measurement drawn on the film is where its landmarks are: endplate lines through their corners,
each angle's rays parallel to its endplates, its name and signed value beside it; M hides the angles."""

from __future__ import annotations

import math
import os
from pathlib import Path

from drawn import near
from PySide6.QtCore import QPointF, QSettings
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot
from reading_study import import_films, place_every_landmark

from app import style
from app.film_view import FilmView
from app.main_window import ReadingWindow
from app.sample_film import write_sample_film
from kyphoangle.anatomy import LandmarkKey
from kyphoangle.annotation import angle_glyphs
from kyphoangle.protocol import MeasurementName
from kyphoangle.vocabulary import Corner
from kyphoangle.workstation.records import Account
from kyphoangle.workstation.study_reads import StudyReadService


def _colors_within_1px(image: QImage, at: QPointF) -> list:  # type: ignore[type-arg]
    ratio = image.devicePixelRatio()
    x, y = round(at.x() * ratio), round(at.y() * ratio)
    return [image.pixelColor(x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]


def _screen_unit(view: FilmView, start: tuple[float, float], end: tuple[float, float]) -> QPointF:
    a, b = view.widget_point(start), view.widget_point(end)
    d = b - a
    length = math.hypot(d.x(), d.y())
    return d / length


def test_the_read_is_drawn_on_the_film_where_its_landmarks_are(
    qtbot: QtBot, tmp_path: Path, store: StudyReadService, demo_reader: Account
) -> None:
    film = write_sample_film(
        tmp_path / "films" / "film.dcm", rows=2400, columns=1200, spacing_mm=(0.25, 0.25)
    )
    import_films(store, film.path)
    settings = QSettings(str(tmp_path / "drawn.ini"), QSettings.Format.IniFormat)
    window = ReadingWindow(store, demo_reader, settings)
    window.setProperty("suppress_dialogs", True)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.reading.loader.film_loaded, timeout=20000):
        window.reading.open_film(film.path)
    place_every_landmark(window.reading, film.truth, ("L1",))
    view = window.reading.view
    view.fit()
    qtbot.wait(30)
    image = view.grab().toImage()
    target = Path(os.environ.get("KYPHOANGLE_SCREENSHOTS") or tmp_path)
    image.save(str(target / "drawn-measurements.png"))

    # every endplate line passes within 1 px of the points between its corners
    points = window.reading.model.points
    refs = {LandmarkKey.parse(key).endplate for key in points}
    for ref in refs:
        posterior, anterior = points.get(ref.key(Corner.POSTERIOR)), points.get(ref.key(Corner.ANTERIOR))
        if posterior is None or anterior is None:
            continue
        for t in (0.2, 0.35, 0.65, 0.8):
            between = (
                posterior[0] + t * (anterior[0] - posterior[0]),
                posterior[1] + t * (anterior[1] - posterior[1]),
            )
            colors = _colors_within_1px(image, view.widget_point(between))
            assert near(colors, style.side_color(ref.side)), (ref, t)

    # one glyph per computed angle; its rays run parallel to the endplates, in the angle's colour
    result = window.reading.result
    assert result is not None
    glyphs = angle_glyphs(result, points)
    assert {(g.name, g.level) for g in glyphs} == {
        (MeasurementName.THORACIC_KYPHOSIS, None),
        (MeasurementName.LUMBAR_LORDOSIS, None),
        (MeasurementName.REGIONAL_ANGLE, "L1"),
        (MeasurementName.VERTEBRAL_KYPHOSIS, "L1"),
    }
    for glyph in glyphs:
        color = style.ANGLE_COLORS[glyph.name]
        vertex = view.widget_point(glyph.vertex)
        for posterior, anterior in (glyph.upper, glyph.lower):
            direction = _screen_unit(view, anterior, posterior)
            if glyph.name is MeasurementName.VERTEBRAL_KYPHOSIS:
                direction = -direction  # drawn behind the vertebra, pointing forward
            for distance in (12.0, 20.0, 28.0):
                at = vertex + direction * distance
                assert near(_colors_within_1px(image, at), color), (glyph.name, distance)
        measured = result.get(glyph.name, glyph.level)
        assert measured is not None and glyph.text.endswith(f"{measured.value:+.1f}\u00b0")

    # M hides the angles (not the endplates)
    window.actions_by_id["measurements"].trigger()
    hidden = view.grab().toImage()
    glyph = next(g for g in glyphs if g.name is MeasurementName.LUMBAR_LORDOSIS)
    direction = _screen_unit(view, glyph.upper[1], glyph.upper[0])
    at = view.widget_point(glyph.vertex) + direction * 20.0
    assert not near(_colors_within_1px(hidden, at), style.ANGLE_COLORS[glyph.name])
    window.actions_by_id["measurements"].trigger()
    assert window.reading.view.overlay.show_measurements
