"""Bugs found in a first day of reading, each reproduced as a reader meets it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from blinded_helpers import make_blinded_window, wait_for_case
from campaign_study import CAMPAIGN, PASSWORDS, build_campaign_study
from PySide6.QtCore import QPoint, QRect, QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QToolBar
from pytestqt.qtbot import QtBot
from reading_study import DEMO_PASSWORD, import_films, place_every_landmark
from test_main_window import make_window, open_film

from app import style
from app.adjudication_window import AdjudicationWindow
from app.blinded_window import BlindedReadingWindow
from app.commands import PlaceLandmarkCommand
from app.dialogs import ShortcutsDialog
from app.film_view import segment_meets_rect
from app.main_window import ReadingWindow
from app.sample_film import SampleFilm, write_sample_film
from kyphoangle.anatomy import LandmarkKey
from kyphoangle.landmark_file import LandmarkFile
from kyphoangle.spacing import PixelSpacing
from kyphoangle.storage.users import create_user, get_user
from kyphoangle.vocabulary import Corner, UserRole
from kyphoangle.workstation.adjudication import AdjudicationService
from kyphoangle.workstation.campaign_reads import CampaignReadService
from kyphoangle.workstation.records import Account
from kyphoangle.workstation.study_reads import StudyReadService

READING_DOCKS = ("guidanceDock", "measurementDock")


def _dock_visible(window: QMainWindow, name: str) -> bool:
    dock = window.findChild(QDockWidget, name)
    return dock is not None and dock.isVisible()


def _close(qtbot: QtBot, window: QMainWindow) -> None:
    window.close()
    qtbot.wait(10)


def test_the_docks_survive_sessions_of_every_role_on_one_settings_file(qtbot: QtBot, tmp_path: Path) -> None:
    """Site reader, central reader, adjudicator, site reader again: each finds its own panels."""
    study = build_campaign_study(tmp_path, films=1)
    with study.database.transaction() as session:
        create_user(
            session,
            login="site",
            role=UserRole.SITE_READER,
            password="site-reader-pw",
            actor=get_user(session, "admin"),
        )
    settings = QSettings(str(tmp_path / "shared-settings.ini"), QSettings.Format.IniFormat)

    def site_session() -> ReadingWindow:
        store = StudyReadService(study.database)
        account = store.authenticate("site", "site-reader-pw")
        window = ReadingWindow(store, account, settings, recovery_dir=tmp_path / "recovery")
        window.setProperty("suppress_dialogs", True)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    first = site_session()
    assert all(_dock_visible(first, name) for name in READING_DOCKS)
    _close(qtbot, first)

    central_store = CampaignReadService(study.database, CAMPAIGN)
    central_account = central_store.authenticate("central1", PASSWORDS["central1"])
    central = BlindedReadingWindow(central_store, central_account, settings, recovery_dir=tmp_path / "r")
    central.setProperty("suppress_dialogs", True)
    qtbot.addWidget(central)
    central.show()
    qtbot.waitExposed(central)
    wait_for_case(qtbot, central)
    assert all(_dock_visible(central, name) for name in READING_DOCKS)
    _close(qtbot, central)

    adjudication_store = AdjudicationService(study.database, CAMPAIGN)
    account = adjudication_store.authenticate("adjud", PASSWORDS["adjud"])
    adjudicator = AdjudicationWindow(adjudication_store, account, settings, recovery_dir=tmp_path / "r")
    adjudicator.setProperty("suppress_dialogs", True)
    qtbot.addWidget(adjudicator)
    adjudicator.show()
    qtbot.waitExposed(adjudicator)
    assert not _dock_visible(adjudicator, "measurementDock")  # nothing to adjudicate: the panels hide
    _close(qtbot, adjudicator)

    again = site_session()
    assert all(_dock_visible(again, name) for name in READING_DOCKS)
    _close(qtbot, again)
    central = BlindedReadingWindow(central_store, central_account, settings, recovery_dir=tmp_path / "r")
    central.setProperty("suppress_dialogs", True)
    qtbot.addWidget(central)
    central.show()
    qtbot.waitExposed(central)
    wait_for_case(qtbot, central)
    assert all(_dock_visible(central, name) for name in READING_DOCKS)


def test_a_finished_worklist_does_not_hide_the_panels_of_the_next_session(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """The blinded window hides its panels when the worklist is done; the next campaign needs them."""
    study = build_campaign_study(tmp_path, films=1)
    window = make_blinded_window(qtbot, study, "central1", tmp_path)
    window._show_done()
    assert not _dock_visible(window, "guidanceDock")
    settings = window.settings
    window.close()
    again = BlindedReadingWindow(window.campaign_store, window.reader, settings, recovery_dir=tmp_path / "r")
    again.setProperty("suppress_dialogs", True)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    wait_for_case(qtbot, again)
    assert all(_dock_visible(again, name) for name in READING_DOCKS)


def test_a_click_outside_the_film_is_refused_without_a_dialog(
    qtbot: QtBot,
    store: StudyReadService,
    settings: QSettings,
    demo_reader: Account,
    sample_film: SampleFilm,
    tmp_path: Path,
) -> None:
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    open_film(qtbot, window, sample_film.path)
    window.reading.view.fit()
    target = window.reading.target_key
    assert target is not None
    film = window.reading.film
    assert film is not None
    for outside in ((-30.0, film.rows / 2), (film.columns + 30.0, 40.0), (film.columns / 2, -20.0)):
        at = window.reading.view.widget_point(outside)
        pixel = QPoint(round(at.x()), round(at.y()))
        assert window.reading.view.rect().contains(pixel)
        qtbot.mouseClick(window.reading.view, Qt.MouseButton.LeftButton, pos=pixel)
        window.reading.save_draft()
    assert dict(window.reading.model.points) == {}
    assert window.reading.target_key == target
    assert window.last_error == ""
    assert "outside the film" in window.statusBar().currentMessage()
    recovery = tmp_path / "recovery"
    assert not recovery.exists() or not any(recovery.iterdir())


def test_dragging_a_landmark_off_the_film_puts_it_back(
    qtbot: QtBot,
    store: StudyReadService,
    settings: QSettings,
    demo_reader: Account,
    sample_film: SampleFilm,
    tmp_path: Path,
) -> None:
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    open_film(qtbot, window, sample_film.path)
    window.reading.view.fit()
    key = window.reading.target_key
    assert key is not None
    start = sample_film.truth[key]
    window.reading.view.set_geometry(window.reading.view.view_geometry)
    at = window.reading.view.widget_point(start)
    press = QPoint(round(at.x()), round(at.y()))
    qtbot.mouseClick(window.reading.view, Qt.MouseButton.LeftButton, pos=press)
    placed = window.reading.model.points[key]
    outside = window.reading.view.widget_point((-40.0, start[1]))
    qtbot.mousePress(window.reading.view, Qt.MouseButton.LeftButton, pos=press)
    qtbot.mouseMove(window.reading.view, QPoint(round(outside.x()), press.y()))
    qtbot.mouseRelease(
        window.reading.view, Qt.MouseButton.LeftButton, pos=QPoint(round(outside.x()), press.y())
    )
    assert window.reading.model.points[key] == placed
    assert window.last_error == ""
    assert "outside the film" in window.statusBar().currentMessage()


def test_a_failed_open_leaves_nothing_signable(
    qtbot: QtBot,
    store: StudyReadService,
    settings: QSettings,
    demo_reader: Account,
    sample_film: SampleFilm,
    tmp_path: Path,
) -> None:
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    open_film(qtbot, window, sample_film.path)
    key = window.reading.target_key
    assert key is not None
    window.reading.view.fit()
    at = window.reading.view.widget_point(sample_film.truth[key])
    qtbot.mouseClick(window.reading.view, Qt.MouseButton.LeftButton, pos=QPoint(round(at.x()), round(at.y())))
    assert window.reading.model.points
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"not a DICOM file at all")
    with qtbot.waitSignal(window.reading.loader.load_failed, timeout=20000):
        window.reading.open_film(broken)
    assert window.reading.film is None
    assert not window.actions_by_id["sign"].isEnabled()
    assert dict(window.reading.model.points) == {}
    assert window.reading.model.sop_instance_uid == ""
    window.sign_dialog()  # nothing to sign: returns at once (a dialog would block the test)
    assert not window.sign(DEMO_PASSWORD)
    # the read of the first film was kept as a draft
    stored = store.load_read(sample_film.sop_instance_uid, demo_reader.login)
    assert stored is not None and key in stored.content.points


def test_the_blinded_film_stays_put_while_the_panels_change(qtbot: QtBot, tmp_path: Path) -> None:
    """With the side panels at their narrowest, nothing the panels show moves the film under the cursor."""
    study = build_campaign_study(tmp_path, films=2)
    window = make_blinded_window(qtbot, study, "central1", tmp_path)
    docks = [d for d in window.findChildren(QDockWidget) if d.isVisible()]
    window.resizeDocks(docks, [40] * len(docks), Qt.Orientation.Horizontal)
    qtbot.wait(20)
    assert window.reading.film is not None
    before = (window.reading.view.width(), window.reading.view.widget_point((0.0, 0.0)))
    truth = study.films[window.reading.film.sop_instance_uid].truth
    for step in window.reading.steps:
        window.reading.undo_stack.push(PlaceLandmarkCommand(window.reading.model, step.key, truth[step.key]))
        qtbot.wait(1)
        assert (window.reading.view.width(), window.reading.view.widget_point((0.0, 0.0))) == before, step.key
    window.sign_in_background(PASSWORDS["central1"])
    qtbot.waitUntil(lambda: window.pending_sign is None, timeout=20000)
    wait_for_case(qtbot, window)
    qtbot.wait(1)
    assert window.reading.view.width() == before[0]


def _parts(window: QMainWindow) -> list[tuple[str, QRect]]:
    """The window's visible parts: menu bar, tool bars, docks, the film, the status bar."""
    parts = [("menu", window.menuBar().geometry()), ("status", window.statusBar().geometry())]
    parts += [(bar.objectName(), bar.geometry()) for bar in window.findChildren(QToolBar) if bar.isVisible()]
    # a dock behind another's tab is kept "visible" by Qt but moved off the window: not a part on show
    docks = [
        dock
        for dock in window.findChildren(QDockWidget)
        if dock.isVisible() and not dock.visibleRegion().isEmpty()
    ]
    parts += [(dock.objectName(), dock.geometry()) for dock in docks]
    central = window.centralWidget()
    assert central is not None
    parts.append(("film", central.geometry()))
    return parts


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_the_reading_window_fits_small_and_large_screens(
    qtbot: QtBot,
    tmp_path: Path,
    store: StudyReadService,
    demo_reader: Account,
    size: tuple[int, int],
) -> None:
    """No part over another, the film wide enough to read, the banner above the top vertebra, the
    level labels off every landmark and every other endplate, the F1 table whole."""
    film = write_sample_film(
        tmp_path / "films" / "tall.dcm", rows=2400, columns=1200, spacing_mm=(0.25, 0.25)
    )
    import_films(store, film.path)
    settings = QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat)
    window = ReadingWindow(store, demo_reader, settings, recovery_dir=tmp_path / "recovery")
    window.setProperty("suppress_dialogs", True)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.reading.loader.film_loaded, timeout=20000):
        window.reading.open_film(film.path)
    place_every_landmark(window.reading, film.truth, ("L1",))
    window.reading.view.fit()
    qtbot.wait(50)
    shot = window.grab()
    target = Path(os.environ.get("KYPHOANGLE_SCREENSHOTS") or tmp_path)
    assert shot.save(str(target / f"window-{size[0]}x{size[1]}.png"))

    assert (window.width(), window.height()) == size
    parts = _parts(window)
    for index, (name, rect) in enumerate(parts):
        assert window.rect().contains(rect), (name, rect)
        for other, other_rect in parts[index + 1 :]:
            assert not rect.intersects(other_rect), (name, other)
    assert window.reading.view.width() >= 0.45 * size[0]

    view = window.reading.view
    banner, footer = view.banner_rect(), view.footer_rect()
    for key, point in window.reading.model.points.items():
        at = view.widget_point(point)
        assert banner.bottom() + style.POINT_RADIUS_PX < at.y() < footer.top() - style.POINT_RADIUS_PX, key

    view.grab()  # paint: the labels are placed while drawing
    assert view.label_rects
    markers = [view.widget_point(p) for p in window.reading.model.points.values()]
    for name, rect in view.label_rects:
        for at in markers:
            assert not rect.adjusted(-style.POINT_RADIUS_PX, -style.POINT_RADIUS_PX, style.POINT_RADIUS_PX,
                                     style.POINT_RADIUS_PX).contains(at), (name, at)  # fmt: skip
        for ref in {LandmarkKey.parse(k).endplate for k in window.reading.model.points}:
            key = ref.key(Corner.POSTERIOR).rsplit(".", 1)[0]
            if key == name or ref.key(Corner.ANTERIOR) not in window.reading.model.points:
                continue
            p = view.widget_point(window.reading.model.points[ref.key(Corner.POSTERIOR)])
            a = view.widget_point(window.reading.model.points[ref.key(Corner.ANTERIOR)])
            assert not segment_meets_rect(p, a, rect), (name, key)

    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    table = dialog.table
    header = table.horizontalHeader()
    needed = sum(table.columnWidth(c) for c in range(table.columnCount() - 1))
    needed += max(table.sizeHintForColumn(2), header.sectionSizeHint(2))
    assert needed <= table.viewport().width(), "the shortcut table is cut"
    metrics = table.fontMetrics()
    for row in range(table.rowCount()):
        for column in range(table.columnCount()):
            item = table.item(row, column)
            assert item is not None
            wrapped = metrics.boundingRect(
                QRect(0, 0, table.columnWidth(column) - 8, 10000), Qt.TextFlag.TextWordWrap, item.text()
            )
            assert wrapped.height() <= table.rowHeight(row), item.text()
    assert dialog.width() <= size[0] and dialog.height() <= size[1]


def test_following_the_guidance_completes_every_measurement_and_keeps_the_calibration(
    qtbot: QtBot,
    store: StudyReadService,
    settings: QSettings,
    demo_reader: Account,
    sample_film: SampleFilm,
    tmp_path: Path,
) -> None:
    calibration = PixelSpacing.manual(0.5, 0.5)
    store.save_draft(
        LandmarkFile(
            sop_instance_uid=sample_film.sop_instance_uid,
            points={},
            reader=demo_reader.login,
            fractured_levels=("L1",),
            calibration=calibration,
        )
    )
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    open_film(qtbot, window, sample_film.path)
    place_every_landmark(window.reading, sample_film.truth)
    assert window.reading.target_key is None
    result = window.reading.result
    assert result is not None
    assert not [n for n in result.not_computed if n.level == "L1"], result.not_computed
    assert result.get("genant_grade", "L1") is not None
    assert result.get("anterior_height_loss", "L1") is not None
    height = result.get("anterior_height", "L1")
    assert height is not None and height.spacing_source == "manual"
    window.reading.save_draft()
    stored = store.load_read(sample_film.sop_instance_uid, demo_reader.login)
    assert stored is not None and stored.content.calibration == calibration
