"""The reading window: study browser, film view, guidance and measurements; every edit is undoable."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QFrame,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QProgressDialog,
    QScrollArea,
    QSizePolicy,
    QWidget,
)

from app.browser_panel import StudyBrowserPanel
from app.commands import (
    AcceptProposalCommand,
    DeleteLandmarkCommand,
    MoveLandmarkCommand,
    PlaceLandmarkCommand,
    SetFracturedLevelsCommand,
    SetNotEvaluableCommand,
    SetObservationCommand,
)
from app.dialogs import ShortcutsDialog, SignDialog
from app.film import FilmLike, spacing_text
from app.film_view import FilmView, Overlay
from app.geometry import ViewGeometry
from app.guidance import Step, describe_key, next_step, required_steps
from app.guidance_panel import GuidancePanel
from app.measurement_panel import MeasurementPanel
from app.observation_panel import ObservationPanel
from app.placement import Action, Canceled, Deleted, Moved, Placed, Refused, Selected
from app.prediction import body_height, predict
from app.read_model import Position, ReadLockedError, ReadModel, ReadSnapshot
from app.shortcuts import SHORTCUTS
from app.snapping import SETTING_PREFIX, PendingProposal, SnapAssistant
from app.workers import FilmLoader, FilmPrefetcher, ImportRunner
from kyphoangle.annotation import angle_glyphs
from kyphoangle.errors import KyphoangleError, OutputFileError
from kyphoangle.landmark_file import PointProvenance
from kyphoangle.normal_table import NormalTable, load_normal_table
from kyphoangle.observations import LevelObservation
from kyphoangle.output_file import private_folder, write_text
from kyphoangle.protocol import MeasurementSet, NotEvaluable, compute_measurements
from kyphoangle.spacing import PixelSpacing
from kyphoangle.workstation import access
from kyphoangle.workstation.records import Account, ImageEntry, ImportReport, ReadService

TOOLBAR_TEXT = {
    "open": "Open",
    "import": "Import",
    "save": "Save",
    "sign": "Sign\u2026",
    "sign_next": "Sign and next\u2026",
    "fit": "Fit",
    "actual": "1:1",
    "rotate_cw": "Rotate",
    "flip": "Flip",
    "invert": "Invert",
    "help": "Help (F1)",
}
"""Short toolbar captions (menus keep the full text)."""

FOLLOW_BODIES = 5.0
"""Following the next landmark zooms in until the view is about this many vertebral bodies tall."""

AUTOSAVE_DELAY_MS = 300
"""Drafts are saved this long after the last edit (debounced)."""


def _scrolling(panel: QWidget) -> QScrollArea:
    """A panel in a frameless scroll area: a small screen scrolls the panel instead of squeezing the film."""
    area = QScrollArea()
    area.setObjectName(f"{panel.objectName()}Scroll")
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setMinimumHeight(160)
    area.setMinimumWidth(panel.minimumSizeHint().width())
    return area


class ReadingWindow(QMainWindow):
    """The main window of the reading workstation."""

    OFFERS_SIGN_AND_NEXT = True
    """Whether "Sign and next" opens the next film of the reader's worklist (blinded windows move on
    by themselves)."""

    LAYOUT_NAME = "reading"
    """Names this kind of window's layout in the settings: each kind of window, for each role, keeps
    its own geometry and panels (an adjudicator's hidden panels must not hide a reader's)."""

    def __init__(
        self,
        store: ReadService,
        reader: Account,
        settings: QSettings,
        *,
        recovery_dir: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("readingWindow")
        self.store, self.reader, self.settings = store, reader, settings
        self.recovery_dir = recovery_dir
        self.setWindowTitle(f"kyphoangle \u2014 {reader.display_name}")
        self.film: FilmLike | None = None
        self.film_path: Path | None = None
        self.model = ReadModel(ReadSnapshot(sop_instance_uid="", reader=reader.login))
        self.undo_stack = QUndoStack(self)
        self.steps: tuple[Step, ...] = ()
        self.armed_key: str | None = None
        self.result: MeasurementSet | None = None
        self.preview: tuple[str, tuple[float, float]] | None = None
        self.last_saved: dt.datetime | None = None
        self._dirty = False
        self.last_error = ""
        self._table_cache: dict[str, NormalTable] = {}
        self.campaign_manager: QMainWindow | None = None
        self._layout_to_keep: QByteArray | None = None
        """The panels as the reader arranged them, when the program hid some (e.g. a finished worklist)."""

        self.view = FilmView()
        self.setCentralWidget(self.view)
        guidance_dock = self._dock("Guidance", "guidanceDock", Qt.DockWidgetArea.RightDockWidgetArea)
        self.guidance_panel = GuidancePanel()
        guidance_dock.setWidget(_scrolling(self.guidance_panel))
        measurement_dock = self._dock(
            "Measurements", "measurementDock", Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.measurement_panel = MeasurementPanel()
        measurement_dock.setWidget(self.measurement_panel)
        observation_dock = self._dock(
            "Observations", "observationDock", Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.observation_panel = ObservationPanel()
        observation_dock.setWidget(self.observation_panel)
        self.tabifyDockWidget(measurement_dock, observation_dock)
        measurement_dock.raise_()
        browser_dock = self._dock("Study browser", "browserDock", Qt.DockWidgetArea.LeftDockWidgetArea)
        self.browser = StudyBrowserPanel()
        browser_dock.setWidget(self.browser)

        self.loader = FilmLoader(self)
        self.loader.film_loaded.connect(self._film_loaded)
        self.loader.load_failed.connect(self._film_failed)
        self.next_prefetcher = FilmPrefetcher(capacity=1, parent=self)
        """Decodes the next film of the worklist while the reader reads this one."""
        self.importer = ImportRunner(store, self)
        self.import_progress: QProgressDialog | None = None
        self.importer.progressed.connect(self._import_progressed)
        self.importer.import_finished.connect(self._import_finished)
        self.importer.import_failed.connect(self._import_failed)

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setSingleShot(True)
        self.autosave_timer.setInterval(AUTOSAVE_DELAY_MS)
        self.autosave_timer.timeout.connect(self.save_draft)

        self._build_status_bar()
        self.actions_by_id: dict[str, QAction] = {}
        self.snapping = SnapAssistant()
        self._build_actions()
        self.model.changed.connect(lambda _value: self._model_changed())
        self.view.tool_acted.connect(self._tool_acted)
        self.view.preview_moved.connect(self._preview_moved)
        self.view.proposal_answered.connect(self.answer_proposal)
        self.view.view_changed.connect(self._update_status)
        self.guidance_panel.levels_edited.connect(self._levels_edited)
        self.guidance_panel.not_evaluable_edited.connect(self._not_evaluable_edited)
        self.guidance_panel.step_chosen.connect(self._step_chosen)
        self.observation_panel.observation_edited.connect(self._observation_edited)
        self.guidance_panel.neighbours_edited.connect(self._neighbours_edited)
        self.browser.image_activated.connect(self._image_activated)
        self.browser.import_requested.connect(self.import_files)
        self.undo_stack.cleanChanged.connect(lambda _clean: self._update_status())
        self._restore_settings()
        self._first_layout = self.settings.value(self.layout_key("state")) is None
        """No layout saved yet: the side panels are sized to the window when it is first shown."""
        self.refresh_browser()
        self._refresh()

    # ------------------------------------------------------------------------------------ building
    def _dock(self, title: str, name: str, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.load_progress = QProgressBar()
        self.load_progress.setRange(0, 0)
        self.load_progress.setMaximumWidth(140)
        self.load_progress.setFormat("Decoding film\u2026")
        self.load_progress.hide()
        self.spacing_label = QLabel()
        self.spacing_label.setObjectName("spacingLabel")
        self.view_label = QLabel()
        self.save_label = QLabel()
        self.save_label.setObjectName("saveLabel")
        for widget in (self.load_progress, self.spacing_label, self.view_label, self.save_label):
            bar.addPermanentWidget(widget)
        for label in (self.spacing_label, self.view_label, self.save_label):
            label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)

    def _build_actions(self) -> None:
        handlers = {
            "open": self.open_dialog,
            "import": self.import_files,
            "import_dicomdir": self.import_dicomdir,
            "save": self.save_draft,
            "sign": self.sign_dialog,
            "sign_next": self.sign_and_next_dialog,
            "undo": self.undo_stack.undo,
            "redo": self.undo_stack.redo,
            "next_step": self.go_to_next_step,
            "labels": self.toggle_labels,
            "measurements": self.toggle_measurements,
            "fit": self.view.fit,
            "actual": self.view.actual_pixels,
            "zoom_in": lambda: self.view.zoom_by(1.25),
            "zoom_out": lambda: self.view.zoom_by(0.8),
            "rotate_cw": lambda: self.view.rotate(90),
            "rotate_ccw": lambda: self.view.rotate(-90),
            "flip": self.view.flip,
            "invert": self.view.invert,
            "reset_window": lambda: self.apply_preset(0),
            "save_preset": self.save_window_preset,
            "help": self.show_help,
            "quit": self.close,
        }
        menus = {
            name: self.menuBar().addMenu(name) for name in ("&File", "&Read", "&Landmarks", "&View", "&Help")
        }
        menu_of = {
            "Files": "&File",
            "Read": "&Read",
            "Landmarks": "&Landmarks",
            "View": "&View",
            "Help": "&Help",
        }
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolBar")
        on_toolbar = {
            "open",
            "import",
            "undo",
            "redo",
            "fit",
            "actual",
            "rotate_cw",
            "flip",
            "invert",
            "save",
            "sign",
            "sign_next",
            "help",
        }
        for shortcut in SHORTCUTS:
            action = QAction(shortcut.text, self)
            action.setObjectName(f"action_{shortcut.action}")
            action.setShortcuts([QKeySequence(k) for k in shortcut.keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setToolTip(f"{shortcut.text} ({', '.join(shortcut.keys)})")
            action.triggered.connect(handlers[shortcut.action])
            menus[menu_of[shortcut.group]].addAction(action)
            self.addAction(action)
            self.actions_by_id[shortcut.action] = action
            if shortcut.action in on_toolbar:
                action.setIconText(TOOLBAR_TEXT.get(shortcut.action, shortcut.text.rstrip("\u2026")))
                toolbar.addAction(action)
        self.preset_menu = menus["&View"].addMenu("Window presets")
        snapping = QAction("Propose snapped corners", self)
        snapping.setObjectName("action_snapping")
        snapping.setCheckable(True)
        snapping.setToolTip(
            "After each click, propose the exact corner the film shows: Enter or a click accepts, Esc keeps"
            " your point (your choice, remembered for your login)"
        )
        chosen = self.settings.value(SETTING_PREFIX + self.reader.login, False, type=bool)
        snapping.setChecked(bool(chosen))
        snapping.toggled.connect(self.set_snapping)
        menus["&Landmarks"].addSeparator()
        menus["&Landmarks"].addAction(snapping)
        self.actions_by_id["snapping"] = snapping
        follow = QAction("Follow the next landmark", self)
        follow.setObjectName("action_follow")
        follow.setCheckable(True)
        follow.setToolTip(
            "After each click, centre and zoom the film where the next landmark should be "
            "(predicted from the vertebrae placed)"
        )
        follow.setChecked(str(self.settings.value("guidance/follow", "true")).lower() in ("true", "1"))
        follow.toggled.connect(
            lambda on: self.settings.setValue("guidance/follow", "true" if on else "false")
        )
        menus["&Landmarks"].addAction(follow)
        self.actions_by_id["follow"] = follow
        self.undo_stack.canUndoChanged.connect(self.actions_by_id["undo"].setEnabled)
        self.undo_stack.canRedoChanged.connect(self.actions_by_id["redo"].setEnabled)
        self.actions_by_id["undo"].setEnabled(False)
        self.actions_by_id["redo"].setEnabled(False)
        menus["&View"].addSeparator()
        for dock in self.findChildren(QDockWidget):
            menus["&View"].addAction(dock.toggleViewAction())
        self._build_campaign_menu(before=menus["&Help"])

    def _build_campaign_menu(self, *, before: QMenu) -> None:
        """The Campaigns menu, only for data managers and admins on the study database."""
        if not access.allowed(self.reader.role, access.Action.MANAGE_CAMPAIGNS):
            return
        menu = QMenu("&Campaigns", self)
        menu.setObjectName("campaignsMenu")
        self.menuBar().insertMenu(before.menuAction(), menu)
        action = QAction("Campaign manager\u2026", self)
        action.setObjectName("action_campaign_manager")
        action.setToolTip("Create, follow, close and export central reading campaigns")
        action.triggered.connect(self.open_campaign_manager)
        menu.addAction(action)
        self.actions_by_id["campaign_manager"] = action

    def open_campaign_manager(self) -> None:
        """Show the campaign manager window (raised when it is open already)."""
        if self.campaign_manager is None:
            from app.campaign_manager import campaign_manager_for

            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self.campaign_manager = campaign_manager_for(self.store, self.reader, self)
            except KyphoangleError as exc:
                self._error("The campaign manager cannot be opened", str(exc))
                return
            finally:
                QApplication.restoreOverrideCursor()
        self.campaign_manager.show()
        self.campaign_manager.raise_()
        self.campaign_manager.activateWindow()

    # -------------------------------------------------------------------------------------- settings
    def layout_key(self, what: str) -> str:
        """The settings key of this window's `geometry` or `state`, per kind of window and per role."""
        return f"window/{self.LAYOUT_NAME}/{self.reader.role}/{what}"

    def _restore_settings(self) -> None:
        geometry = self.settings.value(self.layout_key("geometry"))
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self._default_size()
        state = self.settings.value(self.layout_key("state"))
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def _default_size(self) -> None:
        """1500 x 950, or most of a smaller screen."""
        screen = QApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else None
        if available is None or available.width() <= 0:
            self.resize(1500, 950)
            return
        self.resize(min(1500, int(available.width() * 0.95)), min(950, int(available.height() * 0.92)))

    def hide_panels_for_now(self, names: tuple[str, ...]) -> None:
        """Hide panels the program has no use for now, keeping the reader's layout for the next session."""
        if self._layout_to_keep is None:
            self._layout_to_keep = self.saveState()
        for dock in self.findChildren(QDockWidget):
            if dock.objectName() in names:
                dock.hide()

    def user_presets(self) -> list[tuple[str, float, float]]:
        """Window presets the reader saved: (name, center, width)."""
        raw = self.settings.value("display/presets", "[]")
        try:
            data = json.loads(str(raw))
            return [(str(n), float(c), float(w)) for n, c, w in data]
        except (ValueError, TypeError):
            return []

    def save_window_preset(self) -> None:
        """Remember the current window under a name (kept in the settings)."""
        name, ok = QInputDialog.getText(self, "Save window preset", "Name of this window:")
        if ok and name.strip():
            presets = [p for p in self.user_presets() if p[0] != name.strip()]
            presets.append((name.strip(), self.view.voi.center, self.view.voi.width))
            self.settings.setValue("display/presets", json.dumps(presets))
            self._rebuild_presets()

    def _all_presets(self) -> list[tuple[str, float, float]]:
        presets: list[tuple[str, float, float]] = []
        if self.film is not None:
            for index, preset in enumerate(self.film.voi_presets, start=1):
                presets.append((preset.explanation or f"File window {index}", preset.center, preset.width))
        return presets + self.user_presets()

    def _rebuild_presets(self) -> None:
        self.preset_menu.clear()
        for index, (name, center, width) in enumerate(self._all_presets()):
            action = self.preset_menu.addAction(f"{name}  (L {center:g}, W {width:g})")
            if index < 9:
                action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _checked=False, i=index: self.apply_preset(i))

    def apply_preset(self, index: int) -> None:
        """Apply the index-th window preset (file presets first, then the reader's)."""
        presets = self._all_presets()
        file_presets = self.film.voi_presets if self.film is not None else ()
        if 0 <= index < len(file_presets):
            self.view.set_preset(file_presets[index])  # keeps the file's VOI LUT Function or table
        elif 0 <= index < len(presets):
            _name, center, width = presets[index]
            self.view.set_window(center, width)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API)
        """On first use, side panels in proportion to the window: the film keeps about half of it."""
        super().showEvent(event)
        if not self._first_layout:
            return
        self._first_layout = False
        docks = {dock.objectName(): dock for dock in self.findChildren(QDockWidget)}
        guidance, measurements = docks.get("guidanceDock"), docks.get("measurementDock")
        if guidance is not None and measurements is not None:
            self.resizeDocks([guidance, measurements], [540, 420], Qt.Orientation.Vertical)
        wide = self.width() >= 1400
        sides = [d for d in (guidance, docks.get("browserDock")) if d is not None]
        self.resizeDocks(sides, ([470, 340] if wide else [380, 230])[: len(sides)], Qt.Orientation.Horizontal)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        """Save the draft and the window layout before closing."""
        if self.autosave_timer.isActive() or self._dirty:
            self.save_draft()
        self.settings.setValue(self.layout_key("geometry"), self.saveGeometry())
        state = self._layout_to_keep if self._layout_to_keep is not None else self.saveState()
        self.settings.setValue(self.layout_key("state"), state)
        self.settings.sync()
        super().closeEvent(event)

    # ------------------------------------------------------------------------------------- opening
    def open_dialog(self) -> None:
        """Ask for a film file and open it."""
        folder = str(self.settings.value("files/last_folder", str(Path.home())))
        path, _filter = QFileDialog.getOpenFileName(
            self, "Open film", folder, "DICOM files (*.dcm *.DCM *);;All files (*)"
        )
        if path:
            self.open_film(path)

    def open_film(self, path: str | Path, fractured_levels: tuple[str, ...] = ()) -> None:
        """Decode a film in the background; the window stays responsive and shows progress."""
        if self._dirty:
            self.save_draft()
        self.settings.setValue("files/last_folder", str(Path(path).parent))
        self._pending_levels = fractured_levels
        self.load_progress.show()
        self.clear_read()
        self.view.set_message(f"Decoding {Path(path).name}\u2026")
        self.statusBar().showMessage(f"Opening {Path(path).name}\u2026")
        self.loader.load(path)

    def _film_loaded(self, path: Path, film: FilmLike) -> None:
        self.load_progress.hide()
        self.film, self.film_path = film, path
        try:
            stored = self.store.load_read(film.sop_instance_uid, self.reader.login)
        except KyphoangleError as exc:
            self._error("The saved read cannot be loaded", str(exc))
            stored = None
        snapshot = (
            ReadSnapshot.from_landmark_file(
                stored.content, reader=self.reader.login, signed=stored.signed, signature=stored.signature
            )
            if stored is not None
            else None
        ) or ReadSnapshot(
            sop_instance_uid=film.sop_instance_uid,
            reader=self.reader.login,
            fractured_levels=getattr(self, "_pending_levels", ()),
        )
        self.undo_stack.clear()
        self.armed_key = None
        self.preview = None
        self.view.set_film(film)
        self.view.set_proposal(None)
        self.snapping.set_film(film)
        self.model.replace(snapshot)
        # Opening a film is not an edit: no draft is stored until the reader changes something.
        self.autosave_timer.stop()
        self._dirty = False
        self.last_saved = None
        self._rebuild_presets()
        self.statusBar().showMessage(
            f"Opened {self.film_label(path)}"
            + (
                f" (signed read: locked{'; ' + snapshot.signature if snapshot.signature else ''})"
                if snapshot.signed
                else ""
            ),
            5000,
        )
        self.refresh_browser()
        self._refresh()
        QTimer.singleShot(0, self._prefetch_next_film)

    def film_label(self, path: Path) -> str:
        """How a film is named in messages (its file name; the blinded window names the case)."""
        return path.name

    def clear_read(self) -> None:
        """No film and no read on screen (while a film decodes, or when it cannot be opened): nothing
        can be placed, saved or signed. The read shown before was saved as a draft by the caller."""
        self.autosave_timer.stop()
        self.film, self.film_path = None, None
        self.view.set_film(None)
        self.view.set_proposal(None)
        self.undo_stack.clear()
        self.armed_key = None
        self.preview = None
        self.model.replace(ReadSnapshot(sop_instance_uid="", reader=self.reader.login))
        self._dirty = False
        self.last_saved = None

    def _film_failed(self, path: Path, message: str) -> None:
        self.load_progress.hide()
        self.clear_read()
        self.view.set_message(f"This film could not be opened.\n\n{message}")
        self._error("The film cannot be opened", message)

    def _image_activated(self, entry: ImageEntry) -> None:
        self.open_film(entry.path, entry.fractured_levels)

    # ---------------------------------------------------------------------------------------- import
    def import_files(self) -> None:
        """Import DICOM files or a whole folder into the study catalogue."""
        folder = str(self.settings.value("files/last_import", str(Path.home())))
        dialog = QFileDialog(self, "Import DICOM files or a folder", folder)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        choice = QMessageBox.question(
            self,
            "Import",
            "Import a whole folder (Yes) or chosen files (No)?",
            QMessageBox.StandardButton.Yes
            | QMessageBox.StandardButton.No
            | QMessageBox.StandardButton.Cancel,
        )
        if choice == QMessageBox.StandardButton.Cancel:
            return
        if choice == QMessageBox.StandardButton.Yes:
            chosen = QFileDialog.getExistingDirectory(self, "Import folder", folder)
            paths = [chosen] if chosen else []
        else:
            paths, _filter = QFileDialog.getOpenFileNames(self, "Import files", folder)
        if paths:
            self.settings.setValue("files/last_import", str(Path(paths[0]).parent))
            self.start_import(paths)

    def import_dicomdir(self) -> None:
        """Import the films a DICOMDIR references."""
        folder = str(self.settings.value("files/last_import", str(Path.home())))
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import DICOMDIR", folder, "DICOMDIR (DICOMDIR);;All files (*)"
        )
        if path:
            self.start_import([path])

    def start_import(self, paths: list[str]) -> None:
        """Import in the background with a cancellable progress dialog."""
        progress = QProgressDialog("Importing\u2026", "Cancel", 0, 0, self)
        progress.setWindowTitle("Import")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.canceled.connect(self.importer.cancel)
        self.import_progress = progress
        progress.show()
        self.importer.start(paths)

    def _import_progressed(self, done: int, total: int, name: str) -> None:
        dialog = self.import_progress  # setValue may run the event loop and finish the import
        if dialog is not None:
            dialog.setLabelText(f"Importing {done} of {total}: {name}")
            dialog.setMaximum(max(total, 1))
            dialog.setValue(min(done, max(total - 1, 0)))

    def _import_finished(self, report: ImportReport) -> None:
        if self.import_progress is not None:
            self.import_progress.close()
            self.import_progress = None
        text = f"Imported {report.added} image(s); {report.skipped} already known"
        if report.canceled:
            text += " \u2014 canceled (what was imported is kept)"
        if report.errors:
            text += f"; {len(report.errors)} file(s) skipped"
            QMessageBox.information(self, "Import", text + ":\n\n" + "\n".join(report.errors[:15]))
        self.statusBar().showMessage(text, 8000)
        self.refresh_browser()

    def _import_failed(self, message: str) -> None:
        if self.import_progress is not None:
            self.import_progress.close()
            self.import_progress = None
        self._error("Import failed", message)

    def refresh_browser(self) -> None:
        """Reload the catalogue into the browser."""
        try:
            images = self.store.images()
        except KyphoangleError as exc:
            self.statusBar().showMessage(f"Study list unavailable: {exc}", 8000)
            return
        self.browser.show_images(images, self.reader.login, self.model.sop_instance_uid or None)

    # ------------------------------------------------------------------------------------- editing
    @property
    def target_key(self) -> str | None:
        """The landmark the next click places: the one chosen in the list, else the next missing one."""
        if self.model.signed or self.film is None:
            return None
        if self.armed_key is not None:
            return self.armed_key
        step = next_step(self.steps, self.model.points)
        return step.key if step else None

    def _push(self, command: object) -> None:
        try:
            self.undo_stack.push(command)  # type: ignore[arg-type]
        except ReadLockedError as exc:
            self._error("This read is locked", str(exc))

    # ------------------------------------------------------------------------------------- snapping
    @property
    def snapping_enabled(self) -> bool:
        """Whether proposals are offered: the reader asked for them and the read allows them."""
        action = self.actions_by_id["snapping"]
        return action.isEnabled() and action.isChecked()

    def set_snapping(self, enabled: bool) -> None:
        """Turn snapping proposals on or off for this reader (remembered for the login)."""
        self.settings.setValue(SETTING_PREFIX + self.reader.login, enabled)
        self.actions_by_id["snapping"].setChecked(enabled)
        if not enabled:
            self.answer_proposal(False, follow=False)

    def set_snapping_allowed(self, allowed: bool) -> None:
        """Allow proposals or not for the reads of this window (a campaign may keep them off)."""
        action = self.actions_by_id["snapping"]
        action.setEnabled(allowed)
        action.setStatusTip("" if allowed else "This campaign asks for every landmark to be placed by hand")
        if not allowed:
            self.view.set_proposal(None)

    def _offer_proposal(self, key: str, click: Position) -> None:
        self.view.set_proposal(None)
        proposal = self.snapping.propose(key, click, self.model.points)
        if proposal is None:
            self._offer_line(key)
        else:
            self._show_proposal(proposal)

    def _offer_line(self, key: str) -> None:
        """After a corner is settled: the endplate line between both corners, when the film shows it."""
        if self.snapping_enabled and not key.endswith(".middle"):
            proposal = self.snapping.propose_line(key, self.model.points)
            if proposal is not None and any(move.start != move.end for move in proposal.moves):
                self._show_proposal(proposal)

    def _show_proposal(self, proposal: PendingProposal) -> None:
        self.view.set_proposal(proposal)
        self.statusBar().showMessage(
            f"Snapping proposes the {proposal.what} (confidence {proposal.confidence:.2f}):"
            " Enter or a click on it accepts, Esc keeps your points"
        )

    def answer_proposal(self, accepted: bool, *, follow: bool = True) -> None:
        """Accept the proposal shown (one undoable edit) or keep the reader's points; either is recorded.

        With `follow`, a settled corner is followed by its endplate line's proposal when both corners are in.
        """
        proposal = self.view.proposal
        self.view.set_proposal(None)
        if proposal is None or self.model.signed:
            return
        if any(self.model.points.get(move.key) != move.start for move in proposal.moves):
            return  # a point has been moved, removed or undone since: the proposal no longer applies
        if accepted:
            self.undo_stack.beginMacro(f"Snap {proposal.what}")
            for move in proposal.moves:
                known = self.model.provenance.get(move.key)
                click = known.click if known is not None and known.click is not None else move.start
                self._push(AcceptProposalCommand(self.model, move.key, move.start, move.end, click=click))
            self.undo_stack.endMacro()
            self.statusBar().showMessage(f"Snapped the {proposal.what}", 3000)
        else:
            for move in proposal.moves:
                if move.key not in self.model.provenance:
                    self.model.set_provenance(move.key, PointProvenance(True, False, move.start))
            self.statusBar().showMessage(f"Kept your points for the {proposal.what}", 3000)
        self._refresh()
        if follow and not proposal.line:
            self._offer_line(proposal.moves[0].key)

    def _tool_acted(self, action: Action) -> None:
        if self.model.signed:
            return
        if self.view.proposal is not None and not isinstance(action, Selected):
            self.answer_proposal(False, follow=False)  # the reader went on: the click stands
        if isinstance(action, Placed):
            if action.key == self.armed_key:
                self.armed_key = None
            self._push(PlaceLandmarkCommand(self.model, action.key, action.position, action.previous))
            if self.snapping_enabled and self.model.points.get(action.key) == action.position:
                self._offer_proposal(action.key, action.position)
        elif isinstance(action, Moved):
            self._push(
                MoveLandmarkCommand(self.model, action.key, action.old, action.new, nudge=action.nudge)
            )
        elif isinstance(action, Deleted):
            self._push(DeleteLandmarkCommand(self.model, action.key, action.old))
        elif isinstance(action, Selected):
            if action.key and self.view.proposal is None:
                self.statusBar().showMessage(
                    f"Selected {describe_key(action.key)} \u2014 arrows nudge, Delete removes", 4000
                )
        elif isinstance(action, Canceled):
            self.statusBar().showMessage("Canceled", 2000)
        elif isinstance(action, Refused):
            self.statusBar().showMessage(
                f"That point is outside the film: {describe_key(action.key)} was not placed there.", 6000
            )
        self._refresh()
        if isinstance(action, Placed) and self.view.proposal is None:
            self.follow_next()

    def follow_next(self) -> bool:
        """Centre the view on where the next landmark should be, zooming in to about five vertebral
        bodies when the view shows more; nothing moves while too little is placed to tell, or when the
        reader turned it off. Returns whether the view moved."""
        target = self.target_key
        if target is None or self.film is None or not self.actions_by_id["follow"].isChecked():
            return False
        points = dict(self.model.points)
        expected = predict(target, points)
        if expected is None:
            return False
        view = self.view
        geometry = view.view_geometry
        body = body_height(points)
        if body is None:
            lengths = [
                math.dist(points[k], points[k.replace(".posterior", ".anterior")])
                for k in points
                if k.endswith(".posterior") and k.replace(".posterior", ".anterior") in points
            ]
            body = 0.7 * sum(lengths) / len(lengths) if lengths else None
        zoom = geometry.zoom
        if body:
            # A long jump (e.g. from L2 to S1 across the lordosis) is less sure: show more around it.
            jump = min((math.dist(expected, p) for p in points.values()), default=0.0)
            span = max(FOLLOW_BODIES * body, 2.4 * jump)
            wanted = min(view.height() / (span * geometry.aspect), 8.0)
            zoom = wanted if jump > 2 * FOLLOW_BODIES * body / 5.0 else max(zoom, wanted)
        at = view.widget_point(expected)
        inner = view.rect().adjusted(
            int(view.width() * 0.2),
            int(view.height() * 0.2),
            -int(view.width() * 0.2),
            -int(view.height() * 0.2),
        )
        if zoom == geometry.zoom and inner.contains(at.toPoint()):
            return False
        view.set_geometry(replace(geometry, zoom=zoom, center=expected))
        return True

    def _preview_moved(self, preview: object) -> None:
        self.preview = preview if isinstance(preview, tuple) else None
        self._refresh_measurements()

    def _levels_edited(self, levels: tuple[str, ...]) -> None:
        self._push(SetFracturedLevelsCommand(self.model, levels))

    def _not_evaluable_edited(self, level: str, value: NotEvaluable | None) -> None:
        self._push(SetNotEvaluableCommand(self.model, level, value))

    def _observation_edited(self, level: str, value: LevelObservation | None) -> None:
        self._push(SetObservationCommand(self.model, level, value))

    def _step_chosen(self, key: str) -> None:
        if self.model.signed:
            return
        self.armed_key = key
        if key in self.model.points:
            self.view.tool.select(key)
            self.statusBar().showMessage(
                f"Click on the film to re-place {describe_key(key)} (Esc keeps it)", 6000
            )
        self._refresh()
        self.view.setFocus()

    @property
    def neighbour_points(self) -> bool:
        """Whether the guidance asks for the neighbours' points of the height loss and Genant grade."""
        return str(self.settings.value("guidance/neighbours", "true")).lower() in ("true", "1")

    def _neighbours_edited(self, checked: bool) -> None:
        self.settings.setValue("guidance/neighbours", "true" if checked else "false")
        self._refresh()

    def go_to_next_step(self) -> None:
        """Forget a chosen landmark and go back to the next missing one."""
        self.armed_key = None
        self._refresh()

    def toggle_labels(self) -> None:
        """Show or hide the on-film labels."""
        self.view.overlay.show_labels = not self.view.overlay.show_labels
        self._refresh()

    def toggle_measurements(self) -> None:
        """Show or hide the angles drawn on the film (remembered)."""
        shown = not self.view.overlay.show_measurements
        self.settings.setValue("display/measurements", "true" if shown else "false")
        self._refresh()

    @property
    def measurements_shown(self) -> bool:
        """Whether the computed angles are drawn on the film."""
        return str(self.settings.value("display/measurements", "true")).lower() in ("true", "1")

    def _model_changed(self) -> None:
        self._dirty = not self.model.signed
        if self._dirty:
            self.autosave_timer.start()
        self._refresh()

    # ------------------------------------------------------------------------------------- display
    def _refresh(self) -> None:
        self.steps = required_steps(
            self.model.fractured_levels,
            self.model.endpoints,
            self.model.not_evaluable,
            neighbours=self.neighbour_points,
        )
        if self.armed_key is not None and self.armed_key not in {s.key for s in self.steps}:
            self.armed_key = None
        target = self.target_key
        self._refresh_measurements()
        placed, total = sum(1 for s in self.steps if s.key in self.model.points), len(self.steps)
        if self.film is None:
            banner = ""
        elif self.model.signed:
            banner = "Signed \u2014 this read is locked"
        elif target is not None:
            banner = f"Click: {describe_key(target)}   ({placed} of {total} placed)"
        else:
            banner = f"All {total} landmarks placed \u2014 check them, then Sign (Ctrl+Shift+S)"
        self.view.tool.enabled = not self.model.signed
        self.view.set_overlay(
            Overlay(
                points=dict(self.model.points),
                target=target,
                banner=banner,
                footer=spacing_text(self.spacing) if self.film is not None else "",
                show_labels=self.view.overlay.show_labels,
                glyphs=self.view.overlay.glyphs,
                show_measurements=self.measurements_shown,
            )
        )
        self.guidance_panel.show_state(
            levels=self.model.fractured_levels,
            not_evaluable=self.model.not_evaluable,
            steps=self.steps,
            placed=self.model.points,
            target=target,
            anterior_left=self._anterior_on_left(),
            locked=self.model.signed,
            film_open=self.film is not None,
            neighbours=self.neighbour_points,
        )
        self.observation_panel.show_state(
            observations=self.model.observations,
            treated=self.model.fractured_levels,
            locked=self.model.signed or self.film is None,
        )
        self.actions_by_id["sign"].setEnabled(self.film is not None and not self.model.signed)
        if "sign_next" in self.actions_by_id:
            self.actions_by_id["sign_next"].setEnabled(self.film is not None and not self.model.signed)
        self._update_status()

    def _anterior_on_left(self) -> bool | None:
        """Whether the patient's anterior shows on the left of the screen; None when not known yet.

        From the placed endplates once there are two, else from Patient Orientation (0020,0020),
        whose first value names the direction of increasing columns (A: anterior is to the right).
        """
        facing = self.result.facing if self.result is not None else None
        if facing is not None:
            left = facing.value == "left"
        else:
            orientation = tuple(getattr(self.film, "patient_orientation", ()) or ())
            first = orientation[0][:1].upper() if orientation and orientation[0] else ""
            if first not in ("A", "P"):
                return None
            left = first == "P"
        geometry: ViewGeometry = self.view.view_geometry
        if geometry.flipped:
            left = not left
        if geometry.rotation == 180:
            left = not left
        return left

    def normal_table(self) -> NormalTable | None:
        """The read's normal table (cached)."""
        name = self.model.normal_table
        if name not in self._table_cache:
            try:
                self._table_cache[name] = load_normal_table(name)
            except KyphoangleError as exc:
                self.statusBar().showMessage(str(exc), 8000)
                return None
        return self._table_cache[name]

    @property
    def spacing(self) -> PixelSpacing:
        """The spacing the read's values use: its manual calibration, else the film's."""
        if self.model.calibration is not None:
            return self.model.calibration
        assert self.film is not None
        return self.film.spacing

    def measurement_points(self) -> dict[str, tuple[float, float]]:
        """The model's landmarks, with the point being dragged at its live position."""
        points = dict(self.model.points)
        if self.preview is not None and self.preview[0]:
            points[self.preview[0]] = self.preview[1]
        return points

    def _refresh_measurements(self) -> None:
        table = self.normal_table()
        if self.film is None or table is None:
            self.result = None
            self.view.overlay.glyphs = ()
            self.measurement_panel.show_measurements(None, spacing=None, table=table)
            return
        try:
            self.result = compute_measurements(
                self.measurement_points(),
                spacing=self.spacing,
                fractured_levels=self.model.fractured_levels,
                normal_table=table,
                endpoints=self.model.endpoints,
                not_evaluable=self.model.not_evaluable,
                pixel_aspect_ratio=self.film.pixel_aspect_ratio,
            )
        except KyphoangleError as exc:
            self.result = None
            self.statusBar().showMessage(str(exc), 8000)
        self.view.overlay.glyphs = (
            angle_glyphs(self.result, self.measurement_points()) if self.result is not None else ()
        )
        self.view.update()
        self.measurement_panel.show_measurements(
            self.result, spacing=self.spacing, table=table, levels=self.model.fractured_levels
        )

    @staticmethod
    def _set_label(label: QLabel, text: str) -> None:
        """Set a status label's text and make it exactly wide enough (status bars squeeze labels)."""
        if label.text() != text:
            label.setText(text)
            label.setFixedWidth(label.fontMetrics().horizontalAdvance(text) + 14 if text else 0)

    def _update_status(self) -> None:
        if self.film is None:
            self._set_label(self.spacing_label, "")
            self._set_label(self.view_label, "")
        else:
            spacing = self.spacing
            self._set_label(
                self.spacing_label,
                f"{spacing.row_mm:.3f} x {spacing.col_mm:.3f} mm/px ({spacing.source})"
                if spacing.row_mm is not None and spacing.col_mm is not None
                else "No pixel spacing: heights in px",
            )
            self.spacing_label.setToolTip(spacing_text(spacing))
            g = self.view.view_geometry
            extras = (f" rotated {g.rotation}\u00b0" if g.rotation else "") + (
                " flipped" if g.flipped else ""
            )
            self._set_label(
                self.view_label,
                f"Zoom {g.zoom * 100:.0f}%{extras} | L {self.view.voi.center:.0f} W {self.view.voi.width:.0f}"
                + (" | inverted" if self.view.inverted else ""),
            )
        if self.model.signed:
            self._set_label(self.save_label, "Signed (locked)")
        elif self._dirty:
            self._set_label(self.save_label, "Saving\u2026")
        elif self.last_saved is not None:
            self._set_label(self.save_label, f"Draft saved {self.last_saved:%H:%M:%S}")
        else:
            self._set_label(self.save_label, "")

    # ---------------------------------------------------------------------------------- save / sign
    def save_draft(self) -> bool:
        """Save the draft now; on failure keep a local recovery copy and say so. Returns success."""
        self.autosave_timer.stop()
        if not self.model.sop_instance_uid or self.model.signed:
            self._dirty = False
            return True
        snapshot = self.model.snapshot()
        try:
            self.store.save_draft(snapshot.to_landmark_file())
        except KyphoangleError as exc:
            where = self._write_recovery(snapshot)
            self._error(
                "The draft could not be saved",
                f"{exc}\n\nYour landmarks are kept{' in ' + str(where) if where else ''}; "
                "they will be saved with the next edit or Ctrl+S.",
            )
            return False
        self._dirty = False
        self.last_saved = dt.datetime.now()
        self._update_status()
        return True

    def recovery_name(self, snapshot: ReadSnapshot) -> str:
        """The file name under which unsaved landmarks are kept when the store cannot take them."""
        return f"{snapshot.sop_instance_uid}__{snapshot.reader}.json"

    def recovery_document(self, snapshot: ReadSnapshot) -> dict[str, Any]:
        """What a recovery file holds: the landmark file of the read."""
        return snapshot.to_landmark_file().to_document()

    def _write_recovery(self, snapshot: ReadSnapshot) -> Path | None:
        if self.recovery_dir is None:
            return None
        path = self.recovery_dir / self.recovery_name(snapshot)
        try:
            private_folder(path.parent)
            write_text(path, json.dumps(self.recovery_document(snapshot), indent=2) + "\n")
        except OutputFileError:
            return None
        return path

    def sign_dialog(self) -> None:
        """Ask for the password, then sign and lock the read."""
        if self.film is None or self.model.signed:
            return
        dialog = SignDialog(self.reader.login, self._sign_summary(), self)
        if dialog.exec() != SignDialog.DialogCode.Accepted:
            return
        self.sign_confirmed(dialog.password)

    def _sign_summary(self) -> str:
        missing = [s for s in self.steps if s.key not in self.model.points]
        return f"{len(self.steps) - len(missing)} of {len(self.steps)} landmarks placed." + (
            f" <b>{len(missing)} missing</b>: their values will be exported as not computed."
            if missing
            else ""
        )

    def sign_confirmed(self, password: str) -> None:
        """Sign once the reader confirmed with their password (the blinded window signs in the background)."""
        self.sign(password)

    # ------------------------------------------------------------------------------ sign and next
    def worklist(self) -> list[ImageEntry]:
        """The films still waiting for this reader's signed read, by subject and visit."""
        try:
            images = self.store.images()
        except KyphoangleError:
            return []
        waiting = [e for e in images if e.statuses.get(self.reader.login) != "signed"]
        return sorted(waiting, key=lambda e: (e.subject, e.visit_code, e.path))

    def next_in_worklist(self) -> ImageEntry | None:
        """The film to read after the one on screen, or None when it was the last."""
        current = self.model.sop_instance_uid
        return next((e for e in self.worklist() if e.sop_instance_uid != current), None)

    def _prefetch_next_film(self) -> None:
        if not self.OFFERS_SIGN_AND_NEXT or self.film is None:
            return
        following = self.next_in_worklist()
        self._next_entry = following
        self.next_prefetcher.prefetch([following.path] if following is not None else [])

    def sign_and_next_dialog(self) -> None:
        """Ask for the password, sign, and open the next film of the worklist at once."""
        if self.film is None or self.model.signed:
            return
        dialog = SignDialog(self.reader.login, self._sign_summary(), self)
        if dialog.exec() != SignDialog.DialogCode.Accepted:
            return
        self.sign_and_next(dialog.password)

    def sign_and_next(self, password: str) -> bool:
        """Sign (the dialog's password, or a test's), then show the next film: decoded ahead when it
        is ready, else decoded now. Returns whether the read was signed."""
        following = getattr(self, "_next_entry", None)
        if not self.sign(password):
            return False
        if following is None or following.sop_instance_uid == self.model.sop_instance_uid:
            following = self.next_in_worklist()
        if following is None:
            self.statusBar().showMessage("Read signed. No film is left waiting for your read.", 10000)
            return True
        film = self.next_prefetcher.take(following.path)
        if film is not None:
            self._pending_levels = following.fractured_levels
            self._film_loaded(Path(following.path), film)  # type: ignore[arg-type]
        else:
            self.open_film(following.path, following.fractured_levels)
        return True

    def sign(self, password: str) -> bool:
        """Sign with a password (the dialog's, or a test's). Returns success."""
        if self.film is None or not self.model.sop_instance_uid or self.model.signed:
            return False
        try:
            self.store.sign(self.model.snapshot().to_landmark_file(), password)
        except KyphoangleError as exc:
            self._error("The read was not signed", str(exc))
            return False
        self.model.mark_signed()
        self.view.tool.select(None)
        self.undo_stack.clear()
        self._dirty = False
        self.statusBar().showMessage("Read signed and locked.", 8000)
        self.refresh_browser()
        self._refresh()
        return True

    # ----------------------------------------------------------------------------------------- misc
    def show_help(self) -> None:
        """The list of shortcuts."""
        ShortcutsDialog(self).exec()

    def _error(self, title: str, message: str) -> None:
        self.statusBar().showMessage(message.splitlines()[0], 10000)
        self.last_error = message
        if QApplication.platformName() == "offscreen" and self.property("suppress_dialogs"):
            return
        QMessageBox.warning(self, title, message)
