"""The real reading window, driven like a reader: open, choose a level, click every landmark, drag, undo,
sign, reopen. Clicks go to the viewport at screen positions mapped from known image positions."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QPoint, QPointF, QSettings, Qt
from pytestqt.qtbot import QtBot
from reading_study import ADMIN_PASSWORD, DEMO_PASSWORD

from app.dialogs import SignDialog
from app.film_view import FilmView
from app.main_window import ReadingWindow
from app.measurement_panel import format_value
from app.sample_film import SampleFilm, write_sample_film
from kyphoangle.normal_table import load_normal_table
from kyphoangle.protocol import MeasurementSet, compute_measurements
from kyphoangle.storage import subjects as subject_repo
from kyphoangle.storage import users as user_repo
from kyphoangle.workstation.records import Account
from kyphoangle.workstation.study_reads import StudyReadService


def make_window(
    qtbot: QtBot,
    store: StudyReadService,
    settings: QSettings,
    reader: Account,
    tmp: Path,
    *,
    resize: bool = True,
) -> ReadingWindow:
    window = ReadingWindow(store, reader, settings, recovery_dir=tmp / "recovery")
    window.setProperty("suppress_dialogs", True)
    qtbot.addWidget(window)
    if resize:
        window.resize(1500, 950)
    window.show()
    qtbot.waitExposed(window)
    return window


def open_film(qtbot: QtBot, window: ReadingWindow, path: Path) -> None:
    with qtbot.waitSignal(window.reading.loader.film_loaded, timeout=20000):
        window.reading.open_film(path)
    assert window.reading.film is not None


def click_image(qtbot: QtBot, view: FilmView, point: tuple[float, float]) -> tuple[float, float]:
    """Click where an image point is on screen (first panning to it, as a reader does, when the view
    that follows the next landmark left it off screen); returns the image position actually clicked."""
    at = view.widget_point(point)
    pixel = QPoint(round(at.x()), round(at.y()))
    if not view.rect().adjusted(20, 40, -20, -40).contains(pixel):
        view.set_geometry(replace(view.view_geometry, center=point))
        at = view.widget_point(point)
        pixel = QPoint(round(at.x()), round(at.y()))
    assert view.rect().contains(pixel), f"{point} is off screen at {pixel}"
    clicked = view.image_point(QPointF(pixel))  # before the click: the view may follow the next landmark
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=pixel)
    return clicked


def tick(qtbot: QtBot, window: ReadingWindow, level: str) -> None:
    """Click a level's check box on its indicator."""
    box = window.reading.guidance_panel.level_boxes[level]
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def assert_same_measurements(shown: MeasurementSet | None, expected: MeasurementSet) -> None:
    assert shown is not None
    assert {(m.name, m.level): m.value for m in shown.measurements} == pytest.approx(
        {(m.name, m.level): m.value for m in expected.measurements}
    )
    assert {(n.name, n.level) for n in shown.not_computed} == {
        (n.name, n.level) for n in expected.not_computed
    }


@pytest.mark.parametrize(
    ("zoom", "rotation", "flipped"),
    [("fit", 0, False), ("close", 0, False), ("fit", 90, False), ("close", 270, True)],
)
def test_place_every_landmark_drag_undo_sign_reopen(
    qtbot: QtBot,
    tmp_path: Path,
    store: StudyReadService,
    settings: QSettings,
    demo_reader: Account,
    sample_film: SampleFilm,
    monkeypatch: pytest.MonkeyPatch,
    zoom: str,
    rotation: int,
    flipped: bool,
) -> None:
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    window.actions_by_id["follow"].setChecked(False)  # this test chooses the view of every click
    open_film(qtbot, window, sample_film.path)
    view = window.reading.view
    tick(qtbot, window, "L1")
    assert window.reading.model.fractured_levels == ("L1",)
    assert window.reading.undo_stack.undoText().startswith("Fractured levels")
    view.rotate(rotation)
    if flipped:
        view.flip()
    view.fit()
    fit_zoom = view.view_geometry.zoom

    clicked: dict[str, tuple[float, float]] = {}
    for step in window.reading.steps:
        assert window.reading.target_key == step.key, "guidance must advance one landmark per click"
        assert (
            step.key in window.reading.guidance_panel.next_label.text()
            or step.label in window.reading.guidance_panel.next_label.text()
        )
        truth = sample_film.truth[step.key]
        if zoom == "close":
            # the reader pans to each vertebra at high zoom; the point lands off-centre on purpose
            view.set_geometry(
                replace(view.view_geometry, zoom=fit_zoom * 4, center=(truth[0] + 7.3, truth[1] - 5.1))
            )
        clicked[step.key] = click_image(qtbot, view, truth)
    assert window.reading.target_key is None
    assert "All" in view.overlay.banner

    stored = dict(window.reading.model.points)
    assert stored.keys() == clicked.keys()
    for key, position in clicked.items():
        assert stored[key] == pytest.approx(position, abs=1e-9)
        tolerance = 0.5 if zoom == "close" else 0.5 / view.view_geometry.zoom + 1e-9
        assert abs(stored[key][0] - sample_film.truth[key][0]) <= tolerance
        assert abs(stored[key][1] - sample_film.truth[key][1]) <= tolerance

    table = load_normal_table()
    expected = compute_measurements(
        stored, spacing=window.reading.film.spacing, fractured_levels=("L1",), normal_table=table
    )  # type: ignore[union-attr]
    assert_same_measurements(window.reading.result, expected)
    kyphosis = expected.get("thoracic_kyphosis")
    assert kyphosis is not None
    assert window.reading.measurement_panel.value_text("thoracic_kyphosis") == format_value(kyphosis)[0]
    assert window.reading.measurement_panel.rows[("lumbar_lordosis", None)].text(2) == "lordosis"

    # drag one landmark: one undo step, angles follow
    key = "L1.superior.anterior"
    start = view.widget_point(stored[key])
    start_pixel = QPoint(round(start.x()), round(start.y()))
    end_pixel = start_pixel + QPoint(9, 6)
    count = window.reading.undo_stack.count()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start_pixel)
    qtbot.mouseMove(view, start_pixel + QPoint(4, 3))
    qtbot.mouseMove(view, end_pixel)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=end_pixel)
    assert window.reading.undo_stack.count() == count + 1
    dragged = view.image_point(QPointF(end_pixel))
    assert window.reading.model.points[key] == pytest.approx(dragged)
    moved_points = dict(window.reading.model.points)
    assert_same_measurements(
        window.reading.result,
        compute_measurements(
            moved_points, spacing=window.reading.film.spacing, fractured_levels=("L1",), normal_table=table
        ),  # type: ignore[union-attr]
    )
    window.reading.undo_stack.undo()
    assert window.reading.model.points[key] == stored[key]
    window.reading.undo_stack.redo()
    assert window.reading.model.points[key] == pytest.approx(dragged)

    # the draft autosaves without any action from the reader
    qtbot.waitUntil(
        lambda: (
            (r := store.load_read(sample_film.sop_instance_uid, "demo")) is not None
            and dict(r.content.points) == moved_points
        )
    )

    # sign through the dialog (password typed), which locks the read
    def fake_exec(dialog: SignDialog) -> int:
        dialog.password_edit.setText(DEMO_PASSWORD)
        return int(SignDialog.DialogCode.Accepted)

    monkeypatch.setattr(SignDialog, "exec", fake_exec)
    window.sign_dialog()
    assert window.reading.model.signed
    assert [image.statuses for image in store.images()] == [{"demo": "signed"}]
    view.fit()
    click_image(qtbot, view, (40.0, 40.0))
    assert dict(window.reading.model.points) == moved_points
    window.close()

    # reopen: every point exactly as it was, still locked, same angles
    again = make_window(qtbot, store, settings, demo_reader, tmp_path)
    open_film(qtbot, again, sample_film.path)
    assert dict(again.reading.model.points) == moved_points
    assert again.reading.model.signed and again.reading.model.fractured_levels == ("L1",)
    assert "locked" in again.reading.view.overlay.banner
    assert_same_measurements(
        again.reading.result,
        compute_measurements(
            moved_points, spacing=again.reading.film.spacing, fractured_levels=("L1",), normal_table=table
        ),  # type: ignore[union-attr]
    )
    again.close()


def test_nudge_is_one_screen_pixel_and_merges(
    qtbot: QtBot,
    tmp_path: Path,
    store: StudyReadService,
    settings: QSettings,
    demo_reader: Account,
    sample_film: SampleFilm,
) -> None:
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    open_film(qtbot, window, sample_film.path)
    view = window.reading.view
    view.set_geometry(
        replace(view.view_geometry, zoom=8.0, center=sample_film.truth["T4.superior.posterior"])
    )
    placed = click_image(qtbot, view, sample_film.truth["T4.superior.posterior"])
    for _ in range(3):
        qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert window.reading.model.points["T4.superior.posterior"] == pytest.approx(
        (placed[0] + 3 / 8, placed[1] - 1 / 8)
    )
    assert window.reading.undo_stack.count() == 2
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert "T4.superior.posterior" not in window.reading.model.points
    window.reading.undo_stack.undo()
    window.reading.undo_stack.undo()
    assert window.reading.model.points["T4.superior.posterior"] == placed


def test_replace_a_chosen_landmark_and_not_evaluable(
    qtbot: QtBot,
    tmp_path: Path,
    store: StudyReadService,
    settings: QSettings,
    demo_reader: Account,
    sample_film: SampleFilm,
) -> None:
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    open_film(qtbot, window, sample_film.path)
    view = window.reading.view
    first = click_image(qtbot, view, sample_film.truth["T4.superior.posterior"])
    window.reading.guidance_panel.step_chosen.emit("T4.superior.posterior")
    assert window.reading.target_key == "T4.superior.posterior"
    moved = click_image(qtbot, view, (sample_film.truth["T4.superior.posterior"][0] + 60, 300.0))
    assert window.reading.model.points["T4.superior.posterior"] == moved != first
    assert window.reading.target_key == "T4.superior.anterior"
    assert window.reading.undo_stack.undoText().startswith("Re-place")
    tick(qtbot, window, "L3")
    combo = window.reading.guidance_panel.evaluable_combos["L3"]
    combo.setCurrentIndex(1)
    assert str(window.reading.model.not_evaluable["L3"].reason) == "obscured"
    assert (
        window.reading.measurement_panel.rows[("regional_angle", "L3")].text(2) == "not evaluable: obscured"
    )
    window.reading.undo_stack.undo()
    assert "L3" not in window.reading.model.not_evaluable


def test_guidance_without_a_film_asks_for_one(
    qtbot: QtBot, tmp_path: Path, store: StudyReadService, settings: QSettings, demo_reader: Account
) -> None:
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    assert window.reading.film is None
    panel = window.reading.guidance_panel
    assert panel.next_label.text() == "No film is open. Open a film to place its landmarks."
    assert panel.schematic.idle_text == "No film open"
    assert not window.actions_by_id["sign"].isEnabled()


def test_unreadable_file_shows_our_message(
    qtbot: QtBot, tmp_path: Path, store: StudyReadService, settings: QSettings, demo_reader: Account
) -> None:
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    bad = tmp_path / "report.dcm"
    bad.write_text("hello")
    with qtbot.waitSignal(window.reading.loader.load_failed, timeout=10000):
        window.reading.open_film(bad)
    assert window.reading.film is None
    assert "report.dcm" in window.last_error
    assert "could not be opened" in window.reading.view.message


def test_save_failure_keeps_a_recovery_copy(
    qtbot: QtBot,
    tmp_path: Path,
    store: StudyReadService,
    settings: QSettings,
    demo_reader: Account,
    sample_film: SampleFilm,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kyphoangle.workstation.connection import StoreUnavailableError

    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    open_film(qtbot, window, sample_film.path)

    def broken(snapshot: object) -> None:
        raise StoreUnavailableError("The database connection was lost.")

    monkeypatch.setattr(store, "save_draft", broken)
    click_image(qtbot, window.reading.view, sample_film.truth["T4.superior.posterior"])
    assert window.reading.save_draft() is False
    assert "connection was lost" in window.last_error
    recovered = list((tmp_path / "recovery").glob("*.json"))
    assert len(recovered) == 1 and "T4.superior.posterior" in recovered[0].read_text()


def test_settings_persist_geometry_and_presets(
    qtbot: QtBot,
    tmp_path: Path,
    store: StudyReadService,
    settings: QSettings,
    demo_reader: Account,
    sample_film: SampleFilm,
) -> None:
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    open_film(qtbot, window, sample_film.path)
    window.resize(1234, 876)
    window.reading.view.set_window(1500, 800)
    settings.setValue("display/presets", '[["Soft", 1500, 800]]')
    window.reading.rebuild_presets()
    assert [p[0] for p in window.reading.all_presets()] == ["Full range", "Bone", "Soft"]
    window.reading.apply_preset(1)
    assert (window.reading.view.voi.center, window.reading.view.voi.width) == (2600.0, 1800.0)
    window.close()
    assert settings.value("files/last_folder") == str(sample_film.path.parent)
    saved = settings.value(window.window_layout.key("geometry"))
    assert window.window_layout.key("geometry") == "window/reading/site_reader/geometry"
    assert isinstance(saved, QByteArray) and not saved.isEmpty()
    again = make_window(qtbot, store, settings, demo_reader, tmp_path, resize=False)
    assert again.restoreGeometry(saved) and again.restoreState(
        settings.value(window.window_layout.key("state"))
    )  # type: ignore[arg-type]


def test_help_lists_every_shortcut(qtbot: QtBot) -> None:
    from app.dialogs import ShortcutsDialog
    from app.shortcuts import SHORTCUTS

    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    texts = {dialog.table.item(row, 1).text() for row in range(dialog.table.rowCount())}  # type: ignore[union-attr]
    assert {s.text for s in SHORTCUTS} <= texts


def test_browser_lists_visits_in_order_and_opens_an_image(
    qtbot: QtBot, tmp_path: Path, store: StudyReadService, settings: QSettings, demo_reader: Account
) -> None:
    folder = tmp_path / "incoming"
    procedure = dt.date(2024, 3, 1)
    for day in (90, -5, 15):
        write_sample_film(
            folder / f"D{day}.dcm",
            rows=400,
            columns=200,
            spacing_mm=(1.5, 1.5),
            study_date=procedure + dt.timedelta(days=day),
        )
    admin = StudyReadService(store.database)
    admin.authenticate("admin", ADMIN_PASSWORD)
    window = make_window(qtbot, admin, settings, admin.account, tmp_path)
    with qtbot.waitSignal(window.importer.import_finished, timeout=20000):
        window.start_import([str(folder)])
    with store.database.transaction() as session:
        actor = user_repo.get_user(session, "admin")
        subject = subject_repo.list_subjects(session)[0]
        subject_repo.update_subject(
            session, subject_repo.get_subject(session, subject.code), actor=actor, procedure_date=procedure
        )
    window.refresh_browser()
    items = window.browser.image_items()
    labels = [item.parent().text(0) for item in items]  # type: ignore[union-attr]
    assert labels == ["Baseline (D-8 to D-1)", "Day 15 (D12 to D18)", "Day 90 (D76 to D104)"]
    with qtbot.waitSignal(window.reading.loader.film_loaded, timeout=20000):
        window.browser.tree.itemActivated.emit(items[1], 0)
    assert window.reading.film is not None
