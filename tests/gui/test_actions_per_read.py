"""A complete site read of a demo film, scripted as a reader does it, counting the reader's actions.

The rules of the count: opening the film from the study browser is one action (its fractured level
comes ticked from the subject's record); each landmark is one click, at its true position; before a
click, when the point is not well inside the view or the view shows fewer than 2.5 screen pixels per
millimetre (too coarse to put a corner within half a millimetre), the reader makes one view action
(a wheel zoom or a pan: here, centring a view five vertebral bodies tall on the point); signing is one
action (Ctrl+Shift+S, the password confirmed). The view follows the next landmark by itself.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from pytestqt.qtbot import QtBot
from reading_study import DEMO_PASSWORD, import_films

from app.main_window import ReadingWindow
from app.prediction import body_height
from app.reading_view import FOLLOW_BODIES
from kyphoangle.demo import FilmSize, generate_demo_films
from kyphoangle.workstation.records import Account
from kyphoangle.workstation.study_reads import StudyReadService

ACTION_GOAL = 20
"""A site read of the fractured level and both global curves in at most this many actions."""
SCREEN_PX_PER_MM = 2.5
"""The coarsest view a reader clicks a corner in."""


def scripted_read(
    qtbot: QtBot, window: ReadingWindow, truth: dict[str, tuple[float, float]]
) -> dict[str, int]:
    """Place every landmark the guidance asks for as a reader would; the actions counted by kind."""
    counts = {"open": 1, "view": 0, "click": 0, "sign": 0}
    film = window.reading.film
    assert film is not None
    mm_per_px = film.spacing.col_mm or 1.0
    view = window.reading.view
    while (target := window.reading.target_key) is not None:
        at = view.widget_point(truth[target])
        dx, dy = view.width() * 0.1, view.height() * 0.1
        inside = (
            dx < at.x() < view.width() - dx
            and max(dy, view.banner_rect().bottom() + 10) < at.y() < view.footer_rect().top() - 10
        )
        if not inside or view.view_geometry.zoom / mm_per_px < SCREEN_PX_PER_MM:
            counts["view"] += 1
            body = body_height(dict(window.reading.model.points)) or 25.0 / mm_per_px
            zoom = max(view.view_geometry.zoom, view.height() / (FOLLOW_BODIES * body))
            view.set_geometry(replace(view.view_geometry, zoom=zoom, center=truth[target]))
            at = view.widget_point(truth[target])
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(round(at.x()), round(at.y())))
        counts["click"] += 1
        assert target in window.reading.model.points
    counts["sign"] = 1
    assert window.sign(DEMO_PASSWORD)
    return counts


@pytest.mark.parametrize("neighbours", [False, True])
def test_a_site_read_of_a_demo_film_takes_few_actions(
    qtbot: QtBot,
    tmp_path: Path,
    store: StudyReadService,
    demo_reader: Account,
    neighbours: bool,
) -> None:
    study = generate_demo_films(tmp_path / "demo", subjects=1, film_size=FilmSize(2000, 1000, 0.25))
    film = study.films[0]
    import_films(store, film.path)
    truth = {
        k: (float(v[0]), float(v[1])) for k, v in json.loads(film.truth_path.read_text())["points"].items()
    }
    settings = QSettings(str(tmp_path / "read.ini"), QSettings.Format.IniFormat)
    settings.setValue("guidance/neighbours", "true" if neighbours else "false")
    window = ReadingWindow(store, demo_reader, settings)
    window.setProperty("suppress_dialogs", True)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.reading.loader.film_loaded, timeout=30000):
        window.reading.open_film(film.path, study.subjects[0].fractured_levels)
    counts = scripted_read(qtbot, window, truth)
    total = sum(counts.values())
    print(f"actions per read (neighbours {neighbours}): {total} {counts}")
    result = window.reading.result
    assert result is not None
    level = study.subjects[0].fractured_levels[0]
    for name in ("thoracic_kyphosis", "lumbar_lordosis"):
        assert result.get(name) is not None
    for name in ("regional_angle", "traumatic_regional_angle", "vertebral_kyphosis", "beck_index"):
        assert result.get(name, level) is not None
    if neighbours:
        assert result.get("genant_grade", level) is not None
        assert total <= ACTION_GOAL + 6  # six more points than the core read
    else:
        assert total <= ACTION_GOAL
