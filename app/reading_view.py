"""The reading view: one read on one film, the part every role's window shares.

The film view with the landmarks, the guidance, the measurements and the observations, the undo stack,
snapping proposals, following the next landmark, window presets, the draft saved after each edit and the
recovery copy kept when the store cannot take it, and signing. The windows around it (the site reader's,
the central reader's, the adjudicator's) place its panels in docks, put its status labels in their
status bar and its actions in their menus; they differ only in what surrounds it. A blinded view names
the film by its case code only, in messages and in recovery files.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QInputDialog, QLabel, QMenu, QProgressBar, QSizePolicy, QVBoxLayout, QWidget

from app.commands import (
    AcceptProposalCommand,
    DeleteLandmarkCommand,
    MoveLandmarkCommand,
    PlaceLandmarkCommand,
    SetFracturedLevelsCommand,
    SetNotEvaluableCommand,
    SetObservationCommand,
)
from app.film import FilmLike, spacing_text
from app.film_view import FilmView, Overlay
from app.guidance import Step, describe_key, next_step, required_steps
from app.guidance_panel import GuidancePanel
from app.measurement_panel import MeasurementPanel
from app.observation_panel import ObservationPanel
from app.placement import Action, Canceled, Deleted, Moved, Placed, Refused, Selected
from app.prediction import body_height, predict
from app.read_model import Position, ReadLockedError, ReadModel, ReadSnapshot
from app.shortcuts import SHORTCUTS
from app.snapping import SETTING_PREFIX, PendingProposal, SnapAssistant
from app.workers import FilmLoader
from kyphoangle.annotation import angle_glyphs
from kyphoangle.errors import KyphoangleError, OutputFileError
from kyphoangle.landmark_file import PointProvenance
from kyphoangle.normal_table import NormalTable, load_normal_table
from kyphoangle.observations import LevelObservation
from kyphoangle.output_file import private_folder, write_text
from kyphoangle.protocol import MeasurementSet, NotEvaluable, compute_measurements
from kyphoangle.spacing import PixelSpacing
from kyphoangle.workstation.campaign_reads import BlindedCase
from kyphoangle.workstation.records import Account, ReadService

FOLLOW_BODIES = 5.0
"""Following the next landmark zooms in until the view is about this many vertebral bodies tall."""

AUTOSAVE_DELAY_MS = 300
"""Drafts are saved this long after the last edit (debounced)."""

VIEW_ACTIONS = (
    "save",
    "undo",
    "redo",
    "next_step",
    "labels",
    "measurements",
    "fit",
    "actual",
    "zoom_in",
    "zoom_out",
    "rotate_cw",
    "rotate_ccw",
    "flip",
    "invert",
    "reset_window",
    "save_preset",
)
"""The actions of `app.shortcuts` the reading view carries out; the window adds its own."""


def shortcut_action(action_id: str, parent: QWidget) -> QAction:
    """The action of `app.shortcuts` with that id: its text, keys and tooltip, not yet connected."""
    shortcut = next(s for s in SHORTCUTS if s.action == action_id)
    action = QAction(shortcut.text, parent)
    action.setObjectName(f"action_{shortcut.action}")
    action.setShortcuts([QKeySequence(k) for k in shortcut.keys])
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setToolTip(f"{shortcut.text} ({', '.join(shortcut.keys)})")
    return action


def fit_label(label: QLabel, text: str) -> None:
    """Set a status label's text and make it exactly wide enough (status bars squeeze labels)."""
    if label.text() != text:
        label.setText(text)
        label.setFixedWidth(label.fontMetrics().horizontalAdvance(text) + 14 if text else 0)


class ReadingView(QWidget):
    """One reader's read of one film: placing, checking, saving and signing it."""

    message = Signal(str, int)
    """A line for the window's status bar and how long to show it (ms; 0 until replaced)."""
    failed = Signal(str, str)
    """Something the reader must know went wrong: a title and the message."""
    refreshed = Signal()
    """The overlay, panels and status were brought up to date; the window may add to them."""
    film_opened = Signal()
    """A film and its read are on screen."""
    draft_failed = Signal()
    """A draft could not be saved (its landmarks went to the recovery folder)."""

    def __init__(
        self,
        store: ReadService,
        reader: Account,
        settings: QSettings,
        *,
        recovery_dir: Path | None = None,
        blinded: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("readingView")
        self.store, self.reader, self.settings = store, reader, settings
        self.recovery_dir = recovery_dir
        self.blinded = blinded
        """Films are named by their case code only and no folder is remembered."""
        self.case: BlindedCase | None = None
        """The blinded case whose film is read, when the view is blinded."""
        self.levels_editable = not blinded
        """Whether the reader ticks the fractured levels (a campaign sets them for its readers)."""
        self.edits_allowed = True
        """Whether the window lets the read be edited now (besides a signed read being locked)."""
        self.film: FilmLike | None = None
        self.film_path: Path | None = None
        self.model = ReadModel(ReadSnapshot(sop_instance_uid="", reader=reader.login))
        self.undo_stack = QUndoStack(self)
        self.steps: tuple[Step, ...] = ()
        self.armed_key: str | None = None
        self.result: MeasurementSet | None = None
        self.preview: tuple[str, tuple[float, float]] | None = None
        self.last_saved: dt.datetime | None = None
        self.dirty = False
        """Edits not yet stored as a draft."""
        self._pending_levels: tuple[str, ...] = ()
        self._table_cache: dict[str, NormalTable] = {}

        self.view = FilmView()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.guidance_panel = GuidancePanel()
        self.measurement_panel = MeasurementPanel()
        self.observation_panel = ObservationPanel()
        self.loader = FilmLoader(self)
        self.loader.film_loaded.connect(self.show_film)
        self.loader.load_failed.connect(self._film_failed)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setSingleShot(True)
        self.autosave_timer.setInterval(AUTOSAVE_DELAY_MS)
        self.autosave_timer.timeout.connect(self.save_draft)
        self.snapping = SnapAssistant()
        self._build_status_widgets()
        self.view_actions = self._build_actions()
        self.preset_menu = QMenu("Window presets", self)

        self.model.changed.connect(lambda _value: self._model_changed())
        self.view.tool_acted.connect(self._tool_acted)
        self.view.preview_moved.connect(self._preview_moved)
        self.view.proposal_answered.connect(self.answer_proposal)
        self.view.view_changed.connect(self.update_status)
        self.guidance_panel.levels_edited.connect(self._levels_edited)
        self.guidance_panel.not_evaluable_edited.connect(self._not_evaluable_edited)
        self.guidance_panel.step_chosen.connect(self._step_chosen)
        self.guidance_panel.neighbours_edited.connect(self._neighbours_edited)
        self.observation_panel.observation_edited.connect(self._observation_edited)
        self.undo_stack.cleanChanged.connect(lambda _clean: self.update_status())

    # ------------------------------------------------------------------------------------ building
    def _build_status_widgets(self) -> None:
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
        for label in (self.spacing_label, self.view_label, self.save_label):
            label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)

    def status_widgets(self) -> tuple[QWidget, ...]:
        """What the window shows permanently in its status bar: decoding, spacing, view, draft."""
        return (self.load_progress, self.spacing_label, self.view_label, self.save_label)

    def _build_actions(self) -> dict[str, QAction]:
        handlers = {
            "save": self.save_draft,
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
        }
        actions: dict[str, QAction] = {}
        for action_id in VIEW_ACTIONS:
            action = shortcut_action(action_id, self)
            action.triggered.connect(handlers[action_id])
            actions[action_id] = action
        snapping = QAction("Propose snapped corners", self)
        snapping.setObjectName("action_snapping")
        snapping.setCheckable(True)
        snapping.setToolTip(
            "After each click, propose the exact corner the film shows: Enter or a click accepts, Esc keeps"
            " your point (your choice, remembered for your login)"
        )
        snapping.setChecked(bool(self.settings.value(SETTING_PREFIX + self.reader.login, False, type=bool)))
        snapping.toggled.connect(self.set_snapping)
        actions["snapping"] = snapping
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
        actions["follow"] = follow
        self.undo_stack.canUndoChanged.connect(actions["undo"].setEnabled)
        self.undo_stack.canRedoChanged.connect(actions["redo"].setEnabled)
        actions["undo"].setEnabled(False)
        actions["redo"].setEnabled(False)
        return actions

    def say(self, text: str, timeout_ms: int = 0) -> None:
        """Put a line in the window's status bar."""
        self.message.emit(text, timeout_ms)

    # --------------------------------------------------------------------------------- window presets
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
            self.rebuild_presets()

    def all_presets(self) -> list[tuple[str, float, float]]:
        """The film's window presets, then the reader's; a blinded view names the film's by number
        (their names are DICOM text)."""
        presets: list[tuple[str, float, float]] = []
        if self.film is not None:
            for index, preset in enumerate(self.film.voi_presets, start=1):
                name = "" if self.blinded else preset.explanation
                presets.append((name or f"File window {index}", preset.center, preset.width))
        return presets + self.user_presets()

    def rebuild_presets(self) -> None:
        """Fill the Window presets menu, Ctrl+1 to Ctrl+9 for the first nine."""
        self.preset_menu.clear()
        for index, (name, center, width) in enumerate(self.all_presets()):
            action = self.preset_menu.addAction(f"{name}  (L {center:g}, W {width:g})")
            if index < 9:
                action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _checked=False, i=index: self.apply_preset(i))

    def apply_preset(self, index: int) -> None:
        """Apply the index-th window preset (file presets first, then the reader's)."""
        presets = self.all_presets()
        file_presets = self.film.voi_presets if self.film is not None else ()
        if 0 <= index < len(file_presets):
            self.view.set_preset(file_presets[index])  # keeps the file's VOI LUT Function or table
        elif 0 <= index < len(presets):
            _name, center, width = presets[index]
            self.view.set_window(center, width)

    # ------------------------------------------------------------------------------------- opening
    def film_label(self, path: Path) -> str:
        """How a film is named in messages: its file name, or its case code when blinded."""
        if not self.blinded:
            return path.name
        return f"case {self.case.case_code}" if self.case is not None else "the case"

    def open_film(self, path: str | Path, fractured_levels: tuple[str, ...] = ()) -> None:
        """Decode a film in the background; the window stays responsive and shows progress."""
        if self.dirty:
            self.save_draft()
        if not self.blinded:
            self.settings.setValue("files/last_folder", str(Path(path).parent))
        self._pending_levels = fractured_levels
        self.load_progress.show()
        # Nothing acts on the previous film while this one decodes (it may be the same film, read
        # again in another campaign).
        self.clear_read()
        label = self.film_label(Path(path))
        self.view.set_message(f"{'Loading' if self.blinded else 'Decoding'} {label}\u2026")
        self.say(f"{'Loading' if self.blinded else 'Opening'} {label}\u2026")
        self.loader.load(path)

    def show_film(self, path: Path, film: FilmLike, fractured_levels: tuple[str, ...] | None = None) -> None:
        """Show a decoded film with the reader's stored read of it (a new read when there is none)."""
        self.load_progress.hide()
        if fractured_levels is not None:
            self._pending_levels = fractured_levels
        self.film, self.film_path = film, path
        try:
            stored = self.store.load_read(film.sop_instance_uid, self.reader.login)
        except KyphoangleError as exc:
            self.failed.emit("The saved read cannot be loaded", str(exc))
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
            fractured_levels=self._pending_levels,
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
        self.dirty = False
        self.last_saved = None
        self.rebuild_presets()
        signed = f" (signed read: locked{'; ' + snapshot.signature if snapshot.signature else ''})"
        self.say(f"Opened {self.film_label(path)}" + (signed if snapshot.signed else ""), 5000)
        self.refresh()
        self.film_opened.emit()

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
        self.dirty = False
        self.last_saved = None

    def _film_failed(self, path: Path, message: str) -> None:
        self.load_progress.hide()
        self.clear_read()
        if self.blinded:
            message = (
                f"The film of {self.film_label(path)} cannot be opened. "
                "Please tell the data manager, quoting the case code."
            )
            self.view.set_message(message)
        else:
            self.view.set_message(f"This film could not be opened.\n\n{message}")
        self.failed.emit("The film cannot be opened", message)

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
            self.failed.emit("This read is locked", str(exc))

    @property
    def snapping_enabled(self) -> bool:
        """Whether proposals are offered: the reader asked for them and the read allows them."""
        action = self.view_actions["snapping"]
        return action.isEnabled() and action.isChecked()

    def set_snapping(self, enabled: bool) -> None:
        """Turn snapping proposals on or off for this reader (remembered for the login)."""
        self.settings.setValue(SETTING_PREFIX + self.reader.login, enabled)
        self.view_actions["snapping"].setChecked(enabled)
        if not enabled:
            self.answer_proposal(False, follow=False)

    def set_snapping_allowed(self, allowed: bool) -> None:
        """Allow proposals or not for the reads of this view (a campaign may keep them off)."""
        action = self.view_actions["snapping"]
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
        self.say(
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
            self.say(f"Snapped the {proposal.what}", 3000)
        else:
            for move in proposal.moves:
                if move.key not in self.model.provenance:
                    self.model.set_provenance(move.key, PointProvenance(True, False, move.start))
            self.say(f"Kept your points for the {proposal.what}", 3000)
        self.refresh()
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
                self.say(f"Selected {describe_key(action.key)} \u2014 arrows nudge, Delete removes", 4000)
        elif isinstance(action, Canceled):
            self.say("Canceled", 2000)
        elif isinstance(action, Refused):
            self.say(
                f"That point is outside the film: {describe_key(action.key)} was not placed there.", 6000
            )
        self.refresh()
        if isinstance(action, Placed) and self.view.proposal is None:
            self.follow_next()

    def follow_next(self) -> bool:
        """Centre the view on where the next landmark should be, zooming in to about five vertebral
        bodies when the view shows more; nothing moves while too little is placed to tell, or when the
        reader turned it off. Returns whether the view moved."""
        target = self.target_key
        if target is None or self.film is None or not self.view_actions["follow"].isChecked():
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
        if self.levels_editable:
            self._push(SetFracturedLevelsCommand(self.model, levels))
        else:
            self.refresh()  # the fractured levels are set by the campaign, not by the reader

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
            self.say(f"Click on the film to re-place {describe_key(key)} (Esc keeps it)", 6000)
        self.refresh()
        self.view.setFocus()

    @property
    def neighbour_points(self) -> bool:
        """Whether the guidance asks for the neighbours' points of the height loss and Genant grade."""
        return str(self.settings.value("guidance/neighbours", "true")).lower() in ("true", "1")

    def _neighbours_edited(self, checked: bool) -> None:
        self.settings.setValue("guidance/neighbours", "true" if checked else "false")
        self.refresh()

    def go_to_next_step(self) -> None:
        """Forget a chosen landmark and go back to the next missing one."""
        self.armed_key = None
        self.refresh()

    def toggle_labels(self) -> None:
        """Show or hide the on-film labels."""
        self.view.overlay.show_labels = not self.view.overlay.show_labels
        self.refresh()

    def toggle_measurements(self) -> None:
        """Show or hide the angles drawn on the film (remembered)."""
        shown = not self.view.overlay.show_measurements
        self.settings.setValue("display/measurements", "true" if shown else "false")
        self.refresh()

    @property
    def measurements_shown(self) -> bool:
        """Whether the computed angles are drawn on the film."""
        return str(self.settings.value("display/measurements", "true")).lower() in ("true", "1")

    def _model_changed(self) -> None:
        self.dirty = not self.model.signed
        if self.dirty:
            self.autosave_timer.start()
        self.refresh()

    # ------------------------------------------------------------------------------------- display
    def refresh(self) -> None:
        """Bring the overlay, the panels and the status labels up to date with the read."""
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
        self.view.tool.enabled = self.edits_allowed and not self.model.signed
        self.view.set_overlay(
            Overlay(
                points=dict(self.model.points),
                target=target if self.edits_allowed else None,
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
            anterior_left=self.anterior_on_left(),
            locked=self.model.signed,
            film_open=self.film is not None,
            neighbours=self.neighbour_points,
        )
        if not self.levels_editable:
            for box in self.guidance_panel.level_boxes.values():
                box.setEnabled(False)
        self.observation_panel.show_state(
            observations=self.model.observations,
            treated=self.model.fractured_levels,
            locked=self.model.signed or self.film is None,
        )
        self.update_status()
        self.refreshed.emit()

    def anterior_on_left(self) -> bool | None:
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
        geometry = self.view.view_geometry
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
                self.say(str(exc), 8000)
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
            self.say(str(exc), 8000)
        self.view.overlay.glyphs = (
            angle_glyphs(self.result, self.measurement_points()) if self.result is not None else ()
        )
        self.view.update()
        self.measurement_panel.show_measurements(
            self.result, spacing=self.spacing, table=table, levels=self.model.fractured_levels
        )

    def update_status(self) -> None:
        """The status labels: the spacing used, zoom and window, and whether the draft is saved."""
        if self.film is None:
            fit_label(self.spacing_label, "")
            fit_label(self.view_label, "")
        else:
            spacing = self.spacing
            fit_label(
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
            fit_label(
                self.view_label,
                f"Zoom {g.zoom * 100:.0f}%{extras} | L {self.view.voi.center:.0f} W {self.view.voi.width:.0f}"
                + (" | inverted" if self.view.inverted else ""),
            )
        if self.model.signed:
            fit_label(self.save_label, "Signed (locked)")
        elif self.dirty:
            fit_label(self.save_label, "Saving\u2026")
        elif self.last_saved is not None:
            fit_label(self.save_label, f"Draft saved {self.last_saved:%H:%M:%S}")
        else:
            fit_label(self.save_label, "")

    # ---------------------------------------------------------------------------------- save / sign
    def save_draft(self) -> bool:
        """Save the draft now; on failure keep a local recovery copy and say so. Returns success."""
        self.autosave_timer.stop()
        if not self.model.sop_instance_uid or self.model.signed:
            self.dirty = False
            return True
        snapshot = self.model.snapshot()
        try:
            self.store.save_draft(snapshot.to_landmark_file())
        except KyphoangleError as exc:
            where = self._write_recovery(snapshot)
            self.failed.emit(
                "The draft could not be saved",
                f"{exc}\n\nYour landmarks are kept{' in ' + str(where) if where else ''}; "
                "they will be saved with the next edit or Ctrl+S.",
            )
            self.draft_failed.emit()
            return False
        self.dirty = False
        self.last_saved = dt.datetime.now()
        self.update_status()
        return True

    def save_before_closing(self) -> None:
        """Store edits still waiting for the autosave."""
        if self.autosave_timer.isActive() or self.dirty:
            self.save_draft()

    def recovery_name(self, snapshot: ReadSnapshot) -> str:
        """The file name under which unsaved landmarks are kept when the store cannot take them
        (named by the case code when blinded: the message that names the file must not show the UID)."""
        if self.blinded:
            case = self.case.case_code if self.case is not None else "case"
            return f"case-{case}__{snapshot.reader}.json"
        return f"{snapshot.sop_instance_uid}__{snapshot.reader}.json"

    def recovery_document(self, snapshot: ReadSnapshot) -> dict[str, Any]:
        """What a recovery file holds: the landmark file of the read; when blinded, under the blinded
        copy's UID only (a recovery file never names the film itself)."""
        document = snapshot.to_landmark_file().to_document()
        if self.blinded:
            blinded = getattr(self.case, "blinded_sop_instance_uid", "") if self.case is not None else ""
            document["image"] = {"sop_instance_uid": blinded or "0"}
        return document

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

    def sign_summary(self) -> str:
        """What the sign dialog says of the read: how many landmarks are placed, which are missing."""
        missing = [s for s in self.steps if s.key not in self.model.points]
        return f"{len(self.steps) - len(missing)} of {len(self.steps)} landmarks placed." + (
            f" <b>{len(missing)} missing</b>: their values will be exported as not computed."
            if missing
            else ""
        )

    def sign(self, password: str) -> bool:
        """Sign with a password (the dialog's, or a test's) and lock the read. Returns success."""
        if self.film is None or not self.model.sop_instance_uid or self.model.signed:
            return False
        try:
            self.store.sign(self.model.snapshot().to_landmark_file(), password)
        except KyphoangleError as exc:
            self.failed.emit("The read was not signed", str(exc))
            return False
        self.lock_signed()
        self.say("Read signed and locked.", 8000)
        self.refresh()
        return True

    def lock_signed(self) -> None:
        """The read was signed: lock it and forget its edits."""
        self.model.mark_signed()
        self.view.tool.select(None)
        self.undo_stack.clear()
        self.dirty = False
