"""Query and retrieve: data managers and admins search a configured PACS node and bring studies into the
regular import.

The dialog picks a node, searches its studies by patient ID, name, study date range and modality (C-FIND,
or QIDO-RS for a DICOMweb node) and retrieves the selected studies one by one (C-GET or WADO-RS), each
imported with the import's checks as soon as it has arrived whole. Searching and retrieving run on the
Qt thread pool; the progress bar counts studies, and Cancel stops before the next study, keeping the
studies imported so far. At the end the dialog shows the import report (new films, films already
imported, files skipped and why). Failures (a node that cannot be reached, refuses us or does not answer)
are shown in the dialog as one line.

Everything goes through `kyphoangle.workstation.pacs`, which checks the access policy again; the menu
entry is only offered to roles allowed to query and retrieve (`pacs_allowed`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDate, QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.error_report import logged_unexpected_error
from app.tables import fill_table, read_only_table
from kyphoangle.errors import KyphoangleError
from kyphoangle.vocabulary import UserRole
from kyphoangle.workstation import access
from kyphoangle.workstation.connection import DatabaseService, SignedIn
from kyphoangle.workstation.pacs import (
    QueryLevel,
    QueryMatch,
    RetrieveProgress,
    StudiesRetrieved,
    find_on_node,
    list_pacs_nodes,
    retrieve_studies,
)
from kyphoangle.workstation.records import Account, ReadService

RESULT_COLUMNS: tuple[str, ...] = (
    "Patient ID",
    "Patient name",
    "Study date",
    "Description",
    "Modality",
    "Images",
)
"""The columns of the search results, one row per study."""

MODALITIES: tuple[str, ...] = ("", "DX", "CR")
"""The modalities offered (any other can be typed; empty: any modality)."""

PACS_ACTIONS: tuple[access.Action, ...] = (access.Action.QUERY_PACS, access.Action.RETRIEVE_FROM_PACS)
"""What the dialog does; its menu entry is shown only to roles allowed both."""


def pacs_allowed(role: UserRole) -> bool:
    """Whether the role may query and retrieve (data managers and admins)."""
    return all(access.allowed(role, action) for action in PACS_ACTIONS)


def pacs_action(parent: QObject, role: UserRole) -> QAction | None:
    """The "Query and retrieve from PACS…" menu action, or None for a role that may not use it."""
    if not pacs_allowed(role):
        return None
    action = QAction("Query and retrieve from PACS\u2026", parent)
    action.setObjectName("action_pacs")
    action.setToolTip("Search a configured PACS node and import the studies chosen")
    return action


def pacs_dialog_for(store: ReadService, account: Account, parent: QWidget | None = None) -> PacsDialog:
    """The dialog of a signed-in data manager or admin on the study database."""
    if not isinstance(store, DatabaseService):
        raise KyphoangleError("PACS nodes are kept in the study database; open the workstation on it")
    return PacsDialog(SignedIn(store.database, account), parent)


def study_filters(
    patient_id: str, patient_name: str, dates: tuple[QDate, QDate] | None, modality: str
) -> dict[str, str]:
    """The C-FIND (QIDO-RS) filters by DICOM keyword for the dialog's fields; empty ones are left out."""
    filters = {"PatientID": patient_id.strip(), "PatientName": patient_name.strip()}
    if dates is not None:
        first, last = sorted(dates, key=lambda d: d.toJulianDay())
        filters["StudyDate"] = f"{first.toString('yyyyMMdd')}-{last.toString('yyyyMMdd')}"
    filters["ModalitiesInStudy"] = modality.strip().upper()
    return {keyword: value for keyword, value in filters.items() if value}


def _date_text(value: str) -> str:
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 and value.isdigit() else value


def result_row(match: QueryMatch) -> list[str]:
    """One study as the results table shows it."""
    return [
        match.get("PatientID"),
        match.get("PatientName").replace("^", " ").strip(),
        _date_text(match.get("StudyDate")),
        match.get("StudyDescription"),
        match.get("ModalitiesInStudy").replace("\\", ", "),
        match.get("NumberOfStudyRelatedInstances"),
    ]


class _Signals(QObject):
    done = Signal(object)
    refused = Signal(str)
    progressed = Signal(object)


class _Job(QRunnable):
    """Runs `work(report_progress)` on the thread pool and reports its end by signals."""

    def __init__(self, work: Callable[[Callable[[object], None]], object], signals: _Signals) -> None:
        super().__init__()
        self.work, self.signals = work, signals

    def run(self) -> None:
        try:
            result = self.work(self.signals.progressed.emit)
        except KyphoangleError as exc:
            self.signals.refused.emit(str(exc))
        except Exception as exc:
            # An unexpected failure must reach the user (and the log), not leave the dialog busy for good.
            self.signals.refused.emit(logged_unexpected_error(exc, "PACS query or retrieve"))
        else:
            self.signals.done.emit(result)


class PacsDialog(QDialog):
    """Search a PACS node, select studies, retrieve them into the import with progress and cancel."""

    search_finished = Signal(int)
    """The number of studies found."""
    retrieve_finished = Signal(object)
    """The `StudiesRetrieved` of a retrieve that ran (cancelled or stopped early included)."""
    failed = Signal(str)
    """The message of a search or retrieve that could not be done."""

    def __init__(self, actor: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pacsDialog")
        self.setWindowTitle("Query and retrieve from PACS")
        self.actor = actor
        self.matches: list[QueryMatch] = []
        self.last_error = ""
        self.busy = False
        self.retrieving = False
        self._cancel = threading.Event()
        self._signals: _Signals | None = None

        self.node_combo = QComboBox()
        self.node_combo.setObjectName("pacsNode")
        self.patient_id = QLineEdit()
        self.patient_id.setObjectName("pacsPatientId")
        self.patient_name = QLineEdit()
        self.patient_name.setObjectName("pacsPatientName")
        self.patient_name.setPlaceholderText("DICOM wildcards: DOE^J*")
        self.date_check = QCheckBox("between")
        self.date_check.setObjectName("pacsDateRange")
        self.date_from = QDateEdit(QDate.currentDate().addYears(-1))
        self.date_to = QDateEdit(QDate.currentDate())
        for edit, name in ((self.date_from, "pacsDateFrom"), (self.date_to, "pacsDateTo")):
            edit.setObjectName(name)
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            self.date_check.toggled.connect(edit.setEnabled)
        self.modality = QComboBox()
        self.modality.setObjectName("pacsModality")
        self.modality.setEditable(True)
        self.modality.addItems(list(MODALITIES))
        self.modality.setToolTip("Empty: any modality")

        dates = QHBoxLayout()
        dates.addWidget(self.date_check)
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("and"))
        dates.addWidget(self.date_to)
        dates.addStretch(1)
        form = QFormLayout()
        form.addRow("PACS node", self.node_combo)
        form.addRow("Patient ID", self.patient_id)
        form.addRow("Patient name", self.patient_name)
        form.addRow("Study date", dates)
        form.addRow("Modality", self.modality)

        self.search_button = QPushButton("Search")
        self.search_button.setObjectName("pacsSearch")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.search)
        self.results = read_only_table("pacsResults", RESULT_COLUMNS, stretch=3)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.results.itemSelectionChanged.connect(self._update_buttons)

        self.retrieve_button = QPushButton("Retrieve selected studies")
        self.retrieve_button.setObjectName("pacsRetrieve")
        self.retrieve_button.clicked.connect(self.retrieve)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("pacsCancel")
        self.cancel_button.setToolTip("Stop before the next study; the studies imported are kept")
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("pacsClose")
        self.close_button.clicked.connect(self.close)
        self.progress = QProgressBar()
        self.progress.setObjectName("pacsProgress")
        self.progress.setFormat("%v of %m studies")
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setObjectName("pacsStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QPlainTextEdit()
        self.summary.setObjectName("pacsSummary")
        self.summary.setReadOnly(True)
        self.summary.setPlaceholderText("The import report of the retrieved studies appears here.")
        self.summary.setMaximumHeight(160)

        search_row = QHBoxLayout()
        search_row.addStretch(1)
        search_row.addWidget(self.search_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.retrieve_button)
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(search_row)
        layout.addWidget(self.results, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.summary)
        self.resize(900, 620)
        self.load_nodes()

    # ------------------------------------------------------------------------------------ nodes
    def load_nodes(self) -> None:
        """Fill the node list from the configured nodes (a message when there is none)."""
        self.node_combo.clear()
        try:
            nodes = list_pacs_nodes(self.actor)
        except KyphoangleError as exc:
            self._fail(str(exc))
            nodes = []
        for node in nodes:
            self.node_combo.addItem(f"{node.name} \u2014 {node.address}", node.name)
        if not nodes and not self.last_error:
            self._say("No PACS node is configured: an admin adds one (kyphoangle pacs add).")
        self._update_buttons()

    @property
    def node(self) -> str:
        """The name of the chosen node ('' when none)."""
        return str(self.node_combo.currentData() or "")

    # ----------------------------------------------------------------------------------- search
    def filters(self) -> dict[str, str]:
        """The search filters of the fields, by DICOM keyword."""
        dates = (self.date_from.date(), self.date_to.date()) if self.date_check.isChecked() else None
        return study_filters(
            self.patient_id.text(), self.patient_name.text(), dates, self.modality.currentText()
        )

    def search(self) -> None:
        """Search the chosen node's studies in the background."""
        if self.busy or not self.node:
            return
        node, filters, actor = self.node, self.filters(), self.actor
        self._say(f"Searching {node}\u2026")
        self._start(lambda _report: find_on_node(actor, node, QueryLevel.STUDY, **filters), self._found)

    def _found(self, result: object) -> None:
        matches = [m for m in result if isinstance(m, QueryMatch)] if isinstance(result, list) else []
        matches.sort(key=lambda m: (m.get("PatientID"), m.get("StudyDate"), m.get("StudyInstanceUID")))
        self.matches = matches
        fill_table(self.results, [result_row(m) for m in matches])
        self._say(f"{len(matches)} studies found" if matches else "No study matches the search.")
        self._finish()
        self.search_finished.emit(len(matches))

    # --------------------------------------------------------------------------------- retrieve
    def selected_studies(self) -> list[str]:
        """The Study Instance UIDs of the selected rows, in the table's order."""
        rows = sorted({index.row() for index in self.results.selectionModel().selectedRows()})
        return [self.matches[row].get("StudyInstanceUID") for row in rows if row < len(self.matches)]

    def retrieve(self) -> None:
        """Retrieve the selected studies into the import in the background."""
        studies = [uid for uid in self.selected_studies() if uid]
        if self.busy or not studies or not self.node:
            return
        node, actor, cancel = self.node, self.actor, self._cancel
        cancel.clear()
        self.retrieving = True
        self.summary.clear()
        self.progress.setRange(0, len(studies))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self._say(f"Retrieving {len(studies)} studies from {node}\u2026")

        def work(report: Callable[[object], None]) -> StudiesRetrieved:
            return retrieve_studies(actor, node, studies, progress=report, cancel=cancel.is_set)

        self._start(work, self._retrieved)

    def cancel(self) -> None:
        """Stop the retrieve before its next study (the studies imported so far are kept)."""
        if self.retrieving and not self._cancel.is_set():
            self._cancel.set()
            self._say("Cancelling: the study being retrieved is finished first\u2026")
            self.cancel_button.setEnabled(False)

    def _progressed(self, update: object) -> None:
        if not isinstance(update, RetrieveProgress):
            return
        self.progress.setValue(update.done)
        if update.study_uid and not self._cancel.is_set():
            self._say(f"Retrieving study {update.done + 1} of {update.total} ({update.study_uid})\u2026")

    def _retrieved(self, result: object) -> None:
        self._finish()
        if not isinstance(result, StudiesRetrieved):
            return
        self.progress.setValue(len(result.studies))
        self.summary.setPlainText("\n".join(result.lines()))
        if result.failure:
            self._fail(result.failure)
        elif result.cancelled:
            self._say(f"Cancelled: {len(result.studies)} of {len(result.requested)} studies imported.")
        else:
            self._say(f"{len(result.studies)} studies retrieved and imported.")
        self.retrieve_finished.emit(result)

    # ------------------------------------------------------------------------------------ common
    def _start(self, work: Callable[[Callable[[object], None]], object], done: Callable[[Any], None]) -> None:
        self.busy = True
        self.last_error = ""
        # Not the dialog's child: a job still running when the dialog is gone emits into nothing.
        signals = _Signals()
        signals.done.connect(done)
        signals.refused.connect(self._refused)
        signals.progressed.connect(self._progressed)
        self._signals = signals
        self._update_buttons()
        QThreadPool.globalInstance().start(_Job(work, signals))

    def _finish(self) -> None:
        self.busy = self.retrieving = False
        self._update_buttons()

    def _refused(self, message: str) -> None:
        self._finish()
        self._fail(message)
        self.failed.emit(message)

    def _update_buttons(self) -> None:
        idle = not self.busy
        for widget in (self.node_combo, self.search_button, self.close_button):
            widget.setEnabled(idle)
        self.search_button.setEnabled(idle and bool(self.node))
        self.retrieve_button.setEnabled(idle and bool(self.node) and bool(self.selected_studies()))
        self.cancel_button.setEnabled(self.retrieving and not self._cancel.is_set())

    def _say(self, message: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(message)

    def _fail(self, message: str) -> None:
        self.last_error = message
        self.status.setStyleSheet("color: #b00020;")
        self.status.setText(message)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """A running search or retrieve keeps the dialog open: a retrieve is asked to stop instead."""
        if self.busy:
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)

    def reject(self) -> None:
        """Escape while busy cancels the retrieve instead of closing the dialog."""
        if self.busy:
            self.cancel()
            return
        super().reject()
