"""Screenshots of the main states for review (`KYPHOANGLE_SCREENSHOTS=screenshots xvfb-run pytest -k shots`).

Without the variable the states are still rendered (to a temporary folder), so the test guards against
painting errors.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.commands import PlaceLandmarkCommand, SetFracturedLevelsCommand
from app.main_window import ReadingWindow
from app.read_store import LocalReadStore, ReaderAccount
from app.sample_film import write_sample_film


def shot(qtbot: QtBot, widget: QWidget, path: Path) -> None:
    """Let pending layouts settle, then save the widget as PNG."""
    qtbot.wait(60)
    assert widget.grab().save(str(path))


def test_screenshots(qtbot: QtBot, tmp_path: Path, settings: QSettings) -> None:
    target = Path(os.environ.get("KYPHOANGLE_SCREENSHOTS") or tmp_path / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    folder = tmp_path / "incoming"
    film = None
    for subject, visits in (("DEMO-001", ("D-8..D-1", "D2-D5", "D90")), ("DEMO-002", ("D-8..D-1", "D15"))):
        for index, visit in enumerate(visits):
            written = write_sample_film(
                folder / f"{subject}_{index}.dcm", rows=2400, columns=1200, spacing_mm=(0.25, 0.25),
                subject=subject, visit=visit, seed=index,
            )  # fmt: skip
            film = film or written
    assert film is not None
    store = LocalReadStore(tmp_path / "data")
    window = ReadingWindow(store, ReaderAccount("demo", "Demo reader"), settings)
    window.setProperty("suppress_dialogs", True)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.importer.import_finished, timeout=30000):
        window.start_import([str(folder)])
    shot(qtbot, window, target / "1-browser.png")

    with qtbot.waitSignal(window.loader.film_loaded, timeout=30000):
        window.open_film(film.path)
    window.undo_stack.push(SetFracturedLevelsCommand(window.model, ("L1",)))
    shot(qtbot, window, target / "2-film-opened.png")

    steps = window.steps
    for step in steps[: len(steps) // 2]:
        window.undo_stack.push(PlaceLandmarkCommand(window.model, step.key, film.truth[step.key]))
    shot(qtbot, window, target / "3-half-placed.png")

    # the loupe while the next landmark is being placed, zoomed on the fractured vertebra
    view = window.view
    nxt = window.target_key
    assert nxt is not None
    view.set_geometry(replace(view.view_geometry, zoom=1.2, center=film.truth[nxt]))
    at = view.widget_point(film.truth[nxt])
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(round(at.x()), round(at.y())))
    shot(qtbot, window, target / "4-loupe.png")
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(round(at.x()), round(at.y())))

    for step in window.steps:
        if step.key not in window.model.points:
            window.undo_stack.push(PlaceLandmarkCommand(window.model, step.key, film.truth[step.key]))
    view.fit()
    shot(qtbot, window, target / "5-all-placed.png")
    shot(qtbot, window.measurement_panel, target / "6-measurements.png")
    assert window.sign("demo")
    window.refresh_browser()
    shot(qtbot, window, target / "7-signed.png")
    assert len(list(target.glob("*.png"))) >= 7
