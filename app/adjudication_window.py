"""The adjudicator's window: the case's readers' reads overlaid on the film, the decision in one place.

A blinded window like the central reader's (case code only; no patient, date, visit, site, file name
or reader login anywhere). Each reader's landmarks are drawn in the reader's fixed colour with a
legend (Okabe-Ito colours and a line pattern each, faded with the panel's opacity slider); the
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
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.adjudication_panel import AdjudicationPanel, read_measurements, reader_color, reader_dashes
from app.blinded_window import BlindedReadingWindow
from app.film_view import ReferenceMarks
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


class AdjudicationWindow(BlindedReadingWindow):
    """The adjudicator's cases, one after the other, with every reader's read overlaid."""

    LAYOUT_NAME = "adjudication"

    def __init__(
        self,
        store: AdjudicationService,
        reader: Account,
        settings: QSettings,
        *,
        recovery_dir: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        self.adjudication_store = store
        self.third_read_active = False
        self.reader_values: list[MeasurementSet | None] = []
        self.adjudication_panel: AdjudicationPanel | None = None
        super().__init__(store, reader, settings, recovery_dir=recovery_dir, parent=parent)
        self.setObjectName("adjudicationWindow")
        dock = self._dock("Adjudication", "adjudicationDock", Qt.DockWidgetArea.RightDockWidgetArea)
        panel = AdjudicationPanel()
        dock.setWidget(panel)
        self.tool_docks = [d for d in self.findChildren(QDockWidget) if d.objectName() == "guidanceDock"]
        """Placing landmarks needs the guidance; it is shown only while a third read is made."""
        for other in self.findChildren(QDockWidget):
            if other.objectName() == "measurementDock":
                other.hide()  # the comparison table shows the third read's values beside the readers'
        self.resizeDocks([dock], [560], Qt.Orientation.Horizontal)
        self.adjudication_panel = panel
        panel.visibility_changed.connect(self._refresh)
        panel.choose_requested.connect(self.choose_dialog)
        panel.third_read_requested.connect(self.start_third_read)
        panel.sign_third_requested.connect(self.sign_dialog)
        self.actions_by_id["sign"].setText("Sign third read as final\u2026")
        self._show_case_panel()
        self._refresh()

    @property
    def adjudication_case(self) -> AdjudicationCase | None:
        """The case on screen, with the readers' reads."""
        case = getattr(self, "case", None)  # not yet set while the base window is being built
        return case if isinstance(case, AdjudicationCase) else None

    # -------------------------------------------------------------------------------------- cases
    def open_case(self, case: BlindedCase | None) -> None:
        """Show a case awaiting adjudication; the third read is on when one was started before."""
        self.third_read_active = isinstance(case, AdjudicationCase) and case.own_read_id is not None
        self.reader_values = []
        super().open_case(case)
        self._show_case_panel()

    def _film_loaded(self, path: Path, film: object) -> None:
        super()._film_loaded(path, film)  # type: ignore[arg-type]
        self._show_case_panel()
        self._refresh()

    def _show_case_panel(self) -> None:
        if self.adjudication_panel is None:
            return
        case = self.adjudication_case
        film = self.film
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
            case, values=self.reader_values, third=self.result, third_active=self.third_read_active
        )

    def _update_title(self) -> None:
        case = self.case
        where = (
            f"case {case.case_code} ({case.position} of {case.total} awaiting adjudication)"
            if case is not None
            else "no case awaiting adjudication"
        )
        self._set_label(self.case_label, where[:1].upper() + where[1:])
        name = self.reader.display_name
        self.setWindowTitle(f"kyphoangle \u2014 adjudication \u2014 {name} \u2014 {where}")

    def _show_done(self) -> None:
        super()._show_done()
        self.view.set_message("No case is awaiting adjudication now.\n\nThank you.")
        self.statusBar().showMessage("No case is awaiting adjudication.", 10000)
        if self.adjudication_panel is not None:
            self.adjudication_panel.show_case(None)

    # ------------------------------------------------------------------------------------- overlay
    def _refresh(self) -> None:
        super()._refresh()
        case = self.adjudication_case
        active = self.third_read_active and not self.model.signed
        self.view.tool.enabled = active
        for dock in getattr(self, "tool_docks", ()):
            dock.setVisible(self.third_read_active)
        self.guidance_panel.setEnabled(active)
        if case is None or self.film is None or self.adjudication_panel is None:
            return
        visible = self.adjudication_panel.visible_roles()
        self.view.overlay.references = tuple(
            ReferenceMarks(
                read.label, reader_color(index), dict(read.content.points), dashes=reader_dashes(index)
            )
            for index, read in enumerate(case.reads)
            if read.role in visible
        )
        self.view.overlay.reference_opacity = self.adjudication_panel.opacity
        if not self.third_read_active:
            self.view.overlay.banner = "Compare the reads: choose one as final, or make a third read"
            self.view.overlay.target = None
        self.view.update()
        if self.third_read_active:
            self.adjudication_panel.show_case(
                case, values=self.reader_values, third=self.result, third_active=True
            )
        self.actions_by_id["sign"].setEnabled(self.third_read_active)

    # ----------------------------------------------------------------------------------- decisions
    def start_third_read(self) -> None:
        """Switch the placement tools on: the adjudicator's own landmarks become the third read."""
        if self.adjudication_case is None or self.film is None:
            return
        self.third_read_active = True
        self.statusBar().showMessage(
            "Third read: place the landmarks; the readers' marks can be hidden in the panel.", 8000
        )
        self._show_case_panel()
        self._refresh()
        self.view.setFocus()

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
        if self._dirty:
            self._dirty = False  # an unsigned third read stays a draft; the case is closed
        self.autosave_timer.stop()
        self.advance(f"Case {case.case_code}: final read chosen.")
        return True

    def sign_dialog(self) -> None:
        """Ask for reason and password, then sign the third read as final."""
        case = self.adjudication_case
        if case is None or self.film is None:
            return
        if not self.third_read_active:
            self._error(
                "No third read",
                "Choose one reader's read as final, or click 'Make a third read' and place your landmarks.",
            )
            return
        missing = [s for s in self.steps if s.key not in self.model.points]
        dialog = DecisionDialog(
            "Sign third read as final",
            f"<b>Sign your third read of case {case.case_code} as its final read?</b><br>"
            f"{len(self.steps) - len(missing)} of {len(self.steps)} landmarks placed. "
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
                self.model.snapshot().to_landmark_file(), password, reason
            )
        except KyphoangleError as exc:
            self._error("The third read was not signed", str(exc))
            return False
        self.model.mark_signed()
        self.undo_stack.clear()
        self._dirty = False
        self.advance(f"Case {case.case_code}: third read signed as final.")
        return True

    def sign(self, password: str) -> bool:
        """Not used: a third read is signed with a reason (`sign_third_read`)."""
        self._error("Sign with a reason", "Use 'Sign third read as final' and give a reason.")
        return False
