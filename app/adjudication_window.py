"""The adjudicator's window: the case's readers' reads overlaid on the film, the decision in one place.

The shell around a blinded `app.reading_view.ReadingView`, with the case flow of the central reader's
window (`app.case_flow.CaseFlow`; case code only; no patient, date, visit, site, file name or reader
login anywhere). Each reader's landmarks and angles are drawn in the reader's fixed colour with a
legend (Okabe-Ito colours and a line pattern each, faded with the panel's opacity slider, or narrowed to
the angles on which the reads differ by more than the campaign's threshold); the
adjudication panel lists why the case was sent, the values side by side and the choices:
choose one reader's read as final (reason and password), or make a third read (the placement tools
switch on; the readers' marks stay visible and can be hidden) and sign it as final (reason and
password). The next case awaiting adjudication opens afterwards.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.adjudication_panel import AdjudicationPanel, read_measurements, reader_color, reader_dashes
from app.case_flow import HIDDEN_ACTIONS, CaseFlow, case_label
from app.dialogs import ShortcutsDialog
from app.film_view import ReferenceMarks
from app.reading_view import ReadingView, fit_label
from app.window_frame import (
    WindowLayout,
    add_dock,
    build_menus,
    place_reading_view,
    show_error,
    window_actions,
)
from kyphoangle.annotation import angle_glyphs, disagreeing_angles
from kyphoangle.errors import KyphoangleError
from kyphoangle.protocol import MeasurementSet
from kyphoangle.vocabulary import CampaignRole
from kyphoangle.workstation.adjudication import AdjudicationCase, AdjudicationService
from kyphoangle.workstation.campaign_reads import BlindedCase
from kyphoangle.workstation.records import Account


class DecisionDialog(QDialog):
    """Asks for the reason of an adjudication decision and the adjudicator's password."""

    def __init__(self, title: str, summary: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        text = QLabel(summary)
        text.setWordWrap(True)
        layout.addWidget(text)
        layout.addWidget(QLabel("Reason (kept in the audit trail):"))
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setObjectName("decisionReason")
        self.reason_edit.setFixedHeight(72)
        layout.addWidget(self.reason_edit)
        layout.addWidget(QLabel("Your password, to sign the decision:"))
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("decisionPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        layout.addWidget(self.password_edit)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Record decision")
        self.ok_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reason_edit.textChanged.connect(self._update_ok)
        self.password_edit.textChanged.connect(self._update_ok)

    def _update_ok(self) -> None:
        self.ok_button.setEnabled(bool(self.reason.strip()) and bool(self.password))

    @property
    def reason(self) -> str:
        """The reason typed."""
        return self.reason_edit.toPlainText()

    @property
    def password(self) -> str:
        """The password typed."""
        return self.password_edit.text()


class AdjudicationWindow(QMainWindow):
    """The adjudicator's cases, one after the other, with every reader's read overlaid."""

    def __init__(
        self,
        store: AdjudicationService,
        reader: Account,
        settings: QSettings,
        *,
        recovery_dir: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("adjudicationWindow")
        self.adjudication_store, self.reader, self.settings = store, reader, settings
        store.use_account(reader)
        self.last_error = ""
        self.third_read_active = False
        self.reader_values: list[MeasurementSet | None] = []
        self.reading = ReadingView(store, reader, settings, recovery_dir=recovery_dir, blinded=True)
        self.reading.guidance_panel.no_film_text = "The case's film is loading\u2026"
        place_reading_view(self, self.reading)
        self.case_label = case_label(self)
        self.adjudication_panel = AdjudicationPanel()
        dock = add_dock(
            self,
            "Adjudication",
            "adjudicationDock",
            self.adjudication_panel,
            Qt.DockWidgetArea.RightDockWidgetArea,
        )
        self.guidance_dock = self.findChild(QDockWidget, "guidanceDock")
        """Placing landmarks needs the guidance; it is shown only while a third read is made."""
        measurements = self.findChild(QDockWidget, "measurementDock")
        if measurements is not None:
            measurements.hide()  # the comparison table shows the third read's values beside the readers'
        self.flow = CaseFlow(store, self.reading, parent=self)
        handlers = {
            "sign": self.sign_dialog,
            "help": lambda: ShortcutsDialog(self, hidden=HIDDEN_ACTIONS).exec(),
            "quit": self.close,
        }
        self.actions_by_id = window_actions(self, self.reading, handlers)
        self.actions_by_id["sign"].setText("Sign third read as final\u2026")
        build_menus(self, self.actions_by_id, self.reading)
        self.reading.failed.connect(self._error)
        self.reading.refreshed.connect(self._read_refreshed)
        self.reading.film_opened.connect(self._film_opened)
        self.reading.draft_failed.connect(self.flow.case_closed_meanwhile)
        self.flow.case_opening.connect(self._case_opening)
        self.flow.worklist_done.connect(self._show_done)
        panel = self.adjudication_panel
        panel.visibility_changed.connect(self.reading.refresh)
        panel.choose_requested.connect(self.choose_dialog)
        panel.third_read_requested.connect(self.start_third_read)
        panel.sign_third_requested.connect(self.sign_dialog)
        self.window_layout = WindowLayout(self, self.reading, "adjudication", str(reader.role))
        self.resizeDocks([dock], [560], Qt.Orientation.Horizontal)
        self.flow.advance()

    @property
    def case(self) -> BlindedCase | None:
        """The case on screen; None when no case is awaiting adjudication."""
        return self.reading.case

    @property
    def adjudication_case(self) -> AdjudicationCase | None:
        """The case on screen, with the readers' reads."""
        case = self.reading.case
        return case if isinstance(case, AdjudicationCase) else None

    def _error(self, title: str, message: str) -> None:
        self.last_error = show_error(self, title, message)

    # -------------------------------------------------------------------------------------- cases
    def _case_opening(self, case: BlindedCase | None) -> None:
        """A case awaiting adjudication is shown; the third read is on when one was started before."""
        self.third_read_active = isinstance(case, AdjudicationCase) and case.own_read_id is not None
        self.reading.edits_allowed = self.third_read_active
        self.reader_values = []
        where = (
            f"case {case.case_code} ({case.position} of {case.total} awaiting adjudication)"
            if case is not None
            else "no case awaiting adjudication"
        )
        fit_label(self.case_label, where[:1].upper() + where[1:])
        self.setWindowTitle(
            f"kyphoangle \u2014 adjudication \u2014 {self.reader.display_name} \u2014 {where}"
        )
        self._show_case_panel()

    def _film_opened(self) -> None:
        self._show_case_panel()
        self.reading.refresh()

    def _show_case_panel(self) -> None:
        case = self.adjudication_case
        film = self.reading.film
        if (
            case is not None
            and film is not None
            and film.sop_instance_uid == case.sop_instance_uid
            and len(self.reader_values) != len(case.reads)
        ):
            self.reader_values = [
                read_measurements(read, spacing=film.spacing, pixel_aspect_ratio=film.pixel_aspect_ratio)
                for read in case.reads
            ]
        self.adjudication_panel.show_case(
            case, values=self.reader_values, third=self.reading.result, third_active=self.third_read_active
        )

    def _show_done(self) -> None:
        self.reading.view.set_message("No case is awaiting adjudication now.\n\nThank you.")
        self.window_layout.hide_for_now(
            ("guidanceDock", "measurementDock")
        )  # nothing left to place or measure
        self.statusBar().showMessage("No case is awaiting adjudication.", 10000)
        self.adjudication_panel.show_case(None)

    # ------------------------------------------------------------------------------------- overlay
    def _read_refreshed(self) -> None:
        reading = self.reading
        case = self.adjudication_case
        reading.guidance_panel.setEnabled(self.third_read_active and not reading.model.signed)
        if self.guidance_dock is not None:
            self.guidance_dock.setVisible(self.third_read_active)
        self.actions_by_id["sign"].setEnabled(self.third_read_active)
        if case is None or reading.film is None:
            return
        panel = self.adjudication_panel
        reading.view.overlay.references = self.reference_marks(case)
        reading.view.overlay.reference_opacity = panel.opacity
        if not self.third_read_active:
            reading.view.overlay.banner = "Compare the reads: choose one as final, or make a third read"
        reading.view.update()
        if self.third_read_active:
            panel.show_case(case, values=self.reader_values, third=reading.result, third_active=True)

    def reference_marks(self, case: AdjudicationCase) -> tuple[ReferenceMarks, ...]:
        """The readers' reads drawn on the film, each in its colour and pattern, those hidden in the
        panel left out; with "only the disagreeing measurements", only the angles on which the reads
        differ by more than the campaign's threshold, with their endplates."""
        panel = self.adjudication_panel
        glyphs = [
            angle_glyphs(values, read.content.points) if values is not None else ()
            for read, values in zip(case.reads, self.reader_values, strict=False)
        ]
        glyphs += [()] * (len(case.reads) - len(glyphs))
        disagreeing = disagreeing_angles(glyphs, case.rule.threshold_deg)
        marks = []
        for index, read in enumerate(case.reads):
            if read.role not in panel.visible_roles():
                continue
            shown, points = glyphs[index], dict(read.content.points)
            if panel.only_disagreeing:
                shown = tuple(g for g in shown if (g.name, g.level) in disagreeing)
                corners = {corner for g in shown for corner in (*g.upper, *g.lower)}
                points = {key: at for key, at in points.items() if at in corners}
            marks.append(
                ReferenceMarks(
                    read.label, reader_color(index), points, dashes=reader_dashes(index), glyphs=shown
                )
            )
        return tuple(marks)

    # ----------------------------------------------------------------------------------- decisions
    def start_third_read(self) -> None:
        """Switch the placement tools on: the adjudicator's own landmarks become the third read."""
        if self.adjudication_case is None or self.reading.film is None:
            return
        self.third_read_active = True
        self.reading.edits_allowed = True
        self.statusBar().showMessage(
            "Third read: place the landmarks; the readers' marks can be hidden in the panel.", 8000
        )
        self._show_case_panel()
        self.reading.refresh()
        self.reading.view.setFocus()

    def choose_dialog(self, role: CampaignRole) -> None:
        """Ask for reason and password, then choose that reader's read as final."""
        case = self.adjudication_case
        if case is None:
            return
        label = next((r.label for r in case.reads if r.role == role), str(role))
        dialog = DecisionDialog(
            f"Choose {label} as final",
            f"<b>Choose {label}'s read as the final read of case {case.case_code}?</b><br>"
            "The decision is signed with your password and cannot be undone.",
            self,
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.choose_read(role, reason=dialog.reason, password=dialog.password)

    def choose_read(self, role: CampaignRole, *, reason: str, password: str) -> bool:
        """Record that reader's read as final (the dialog's input, or a test's); the next case opens."""
        case = self.adjudication_case
        if case is None:
            return False
        try:
            self.adjudication_store.choose_read(case.case_code, role, password, reason)
        except KyphoangleError as exc:
            self._error("The decision was not recorded", str(exc))
            return False
        self.reading.dirty = False  # an unsigned third read stays a draft; the case is closed
        self.reading.autosave_timer.stop()
        self.flow.advance(f"Case {case.case_code}: final read chosen.")
        return True

    def sign_dialog(self) -> None:
        """Ask for reason and password, then sign the third read as final."""
        case, reading = self.adjudication_case, self.reading
        if case is None or reading.film is None:
            return
        if not self.third_read_active:
            self._error(
                "No third read",
                "Choose one reader's read as final, or click 'Make a third read' and place your landmarks.",
            )
            return
        missing = [s for s in reading.steps if s.key not in reading.model.points]
        dialog = DecisionDialog(
            "Sign third read as final",
            f"<b>Sign your third read of case {case.case_code} as its final read?</b><br>"
            f"{len(reading.steps) - len(missing)} of {len(reading.steps)} landmarks placed. "
            "The read is locked once signed.",
            self,
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.sign_third_read(reason=dialog.reason, password=dialog.password)

    def sign_third_read(self, *, reason: str, password: str) -> bool:
        """Sign the third read and make it final (the dialog's input, or a test's); the next case opens."""
        case = self.adjudication_case
        if case is None or not self.third_read_active:
            return False
        try:
            self.adjudication_store.sign_third_read(
                self.reading.model.snapshot().to_landmark_file(), password, reason
            )
        except KyphoangleError as exc:
            self._error("The third read was not signed", str(exc))
            return False
        self.reading.lock_signed()
        self.flow.advance(f"Case {case.case_code}: third read signed as final.")
        return True

    def sign(self, password: str) -> bool:
        """Not used: a third read is signed with a reason (`sign_third_read`)."""
        self._error("Sign with a reason", "Use 'Sign third read as final' and give a reason.")
        return False
