"""Screenshots of the main states for review (`KYPHOANGLE_SCREENSHOTS=screenshots xvfb-run pytest -k shots`).

Without the variable the states are still rendered (to a temporary folder), so the test guards against
painting errors.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

from drawn import drawn_colors, near
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from reading_study import ADMIN_PASSWORD, DEMO_PASSWORD, import_films, place_every_landmark

from app import style
from app.commands import PlaceLandmarkCommand, SetFracturedLevelsCommand
from app.main_window import ReadingWindow
from app.sample_film import write_sample_film
from kyphoangle.anatomy import LandmarkKey
from kyphoangle.storage import subjects as subject_repo
from kyphoangle.storage import users as user_repo
from kyphoangle.workstation.accounts import add_user, create_first_admin
from kyphoangle.workstation.connection import open_study, sign_in
from kyphoangle.workstation.study_reads import StudyReadService


def shot(qtbot: QtBot, widget: QWidget, path: Path) -> None:
    """Let pending layouts settle, then save the widget as PNG."""
    qtbot.wait(60)
    assert widget.grab().save(str(path))


def test_screenshots(qtbot: QtBot, tmp_path: Path, settings: QSettings) -> None:
    target = Path(os.environ.get("KYPHOANGLE_SCREENSHOTS") or tmp_path / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    folder = tmp_path / "incoming"
    film = None
    procedure = dt.date(2024, 3, 1)
    for subject, days in (("DEMO-001", (-5, 3, 90)), ("DEMO-002", (-2, 15))):
        for index, day in enumerate(days):
            written = write_sample_film(
                folder / f"{subject}_{index}.dcm", rows=2400, columns=1200, spacing_mm=(0.25, 0.25),
                subject=subject, seed=index, study_date=procedure + dt.timedelta(days=day),
            )  # fmt: skip
            film = film or written
    assert film is not None
    store = StudyReadService(open_study(str(tmp_path / "data" / "study.sqlite3")))
    create_first_admin(store.database, "admin", ADMIN_PASSWORD)
    add_user(sign_in(store.database, "admin", ADMIN_PASSWORD), "demo", "site_reader", DEMO_PASSWORD)
    import_films(store, folder)
    with store.database.transaction() as session:
        actor = user_repo.get_user(session, "admin")
        for summary in subject_repo.list_subjects(session):
            subject_repo.update_subject(
                session,
                subject_repo.get_subject(session, summary.code),
                actor=actor,
                procedure_date=procedure,
            )
    reader = store.authenticate("demo", DEMO_PASSWORD)
    window = ReadingWindow(store, reader, settings)
    window.setProperty("suppress_dialogs", True)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    window.refresh_browser()
    shot(qtbot, window, target / "1-browser.png")
    assert len(window.browser.image_items()) == 5

    with qtbot.waitSignal(window.reading.loader.film_loaded, timeout=30000):
        window.reading.open_film(film.path)
    window.reading.undo_stack.push(SetFracturedLevelsCommand(window.reading.model, ("L1",)))
    shot(qtbot, window, target / "2-film-opened.png")

    steps = window.reading.steps
    first = steps[0].key
    side_color = style.side_color(LandmarkKey.parse(first).endplate.side)
    window.reading.view.fit()
    assert not near(drawn_colors(window.reading.view, film.truth[first]), side_color)
    for step in steps[: len(steps) // 2]:
        window.reading.undo_stack.push(
            PlaceLandmarkCommand(window.reading.model, step.key, film.truth[step.key])
        )
    shot(qtbot, window, target / "3-half-placed.png")

    # the loupe while the next landmark is being placed, zoomed on the fractured vertebra
    view = window.reading.view
    nxt = window.reading.target_key
    assert nxt is not None
    view.set_geometry(replace(view.view_geometry, zoom=1.2, center=film.truth[nxt]))
    at = view.widget_point(film.truth[nxt])
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(round(at.x()), round(at.y())))
    shot(qtbot, window, target / "4-loupe.png")
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(round(at.x()), round(at.y())))

    place_every_landmark(window.reading, film.truth)
    view.fit()
    shot(qtbot, window, target / "5-all-placed.png")
    # every marker is drawn where its landmark lies, in its endplate's colour
    for step in window.reading.steps:
        wanted = style.side_color(LandmarkKey.parse(step.key).endplate.side)
        assert near(drawn_colors(view, film.truth[step.key]), wanted), step.key
    shot(qtbot, window.reading.measurement_panel, target / "6-measurements.png")
    assert window.sign(DEMO_PASSWORD)
    window.refresh_browser()
    shot(qtbot, window, target / "7-signed.png")
    assert len(list(target.glob("*.png"))) >= 7
