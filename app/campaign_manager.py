"""The campaign manager: data managers and admins create, follow, close and export central reading campaigns.

Opened from the reading window's Campaigns menu when the study database is in use and the signed-in
role may manage campaigns (`kyphoangle.workstation.access`). Nothing here is blinded: data managers see
everything. Each button is one action on the database (`CampaignAdminService`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.agreement_view import AgreementPanel
from app.campaign_dialogs import CloseCampaignDialog, NewCampaignDialog
from app.monitoring_panel import MonitoringPanel
from app.report_export import ReportExporter
from app.save_dialog import ask_save_path
from app.tables import fill_table, fit_contents, read_only_table
from kyphoangle.errors import KyphoangleError
from kyphoangle.protocol import MEASUREMENT_DEFINITIONS
from kyphoangle.vocabulary import CampaignRole, CampaignStatus, label_of
from kyphoangle.workstation.campaign_admin import CampaignAdminService, CampaignDetails, CampaignRow
from kyphoangle.workstation.connection import DatabaseService
from kyphoangle.workstation.records import Account, ReadService

LIST_COLUMNS: tuple[str, ...] = ("Name", "Title", "Status", "Cases", "Finished", "Awaiting adjudication")
READER_COLUMNS: tuple[str, ...] = ("Reader", "Login", "Done", "Remaining", "Progress")


def campaign_manager_for(
    store: ReadService, account: Account, parent: QWidget | None = None
) -> CampaignManagerWindow:
    """The campaign manager of a signed-in data manager or admin on the study database."""
    if not isinstance(store, DatabaseService):
        raise KyphoangleError("campaigns are kept in the study database; open the workstation on it")
    return CampaignManagerWindow(CampaignAdminService(store.database, account), parent)


def _rule_text(details: CampaignDetails) -> str:
    rule = details.settings.rule
    unit = MEASUREMENT_DEFINITIONS[rule.measurement].unit
    text = f"{rule.measurement} differs by more than {rule.threshold_deg:g} {unit}"
    return text + (", or the readers disagree on the evaluable levels" if rule.level_disagreement else "")


class CampaignStatusPanel(QWidget):
    """The selected campaign's progress per reader, its cases by state and its fixed settings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("campaignStatusPanel")
        self.values: dict[str, QLabel] = {}
        progress = QGroupBox("Progress")
        progress_layout = QVBoxLayout(progress)
        progress_layout.addLayout(
            self._form(
                ("cases", "Cases"),
                ("reading", "Being read"),
                ("awaiting", "Awaiting adjudication"),
                ("adjudicated", "Adjudicated"),
                ("finished", "Finished"),
            )
        )
        progress_layout.addWidget(QLabel("Presentations read and signed, repeats included:"))
        self.reader_table = read_only_table(
            "readerProgressTable", READER_COLUMNS, stretch=len(READER_COLUMNS) - 1
        )
        self.reader_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        progress_layout.addWidget(self.reader_table)
        progress_layout.addStretch(1)
        settings = QGroupBox("Settings (fixed at creation)")
        settings_layout = QVBoxLayout(settings)
        settings_layout.addLayout(
            self._form(
                ("title", "Title"),
                ("status", "Status"),
                ("created", "Created"),
                ("adjudicator", "Adjudicator"),
                ("rule", "Adjudication rule"),
                ("measurements", "Measurements"),
                ("repeat", "Repeat fraction"),
                ("gap", "Minimum gap"),
                ("seed", "Random seed"),
                ("snapping", "Snapping"),
            )
        )
        groups = QHBoxLayout()
        groups.addWidget(progress, 1)
        groups.addWidget(settings, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(groups)
        layout.addStretch(1)
        self.show_details(None)

    def _form(self, *rows: tuple[str, str]) -> QFormLayout:
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        for key, title in rows:
            label = QLabel()
            label.setObjectName(f"status_{key}")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key] = label
            form.addRow(f"{title}:", label)
        return form

    def show_details(self, details: CampaignDetails | None) -> None:
        """Show a campaign's status (blank without one)."""
        if details is None:
            fill_table(self.reader_table, [])
            for label in self.values.values():
                label.setText("")
            return
        progress, settings = details.progress, details.settings
        fill_table(
            self.reader_table,
            [
                (
                    label_of(reader.role, CampaignRole),
                    reader.login,
                    str(reader.done),
                    str(reader.remaining),
                    "",
                )
                for reader in progress.readers
            ],
        )
        for row, reader in enumerate(progress.readers):
            bar = QProgressBar()
            bar.setRange(0, max(reader.done + reader.remaining, 1))
            bar.setValue(reader.done)
            bar.setFormat("%p %")
            self.reader_table.setCellWidget(row, len(READER_COLUMNS) - 1, bar)
        fit_contents(self.reader_table, rows=max(len(progress.readers), 2))
        gap = f"{settings.min_gap} cases"
        if settings.min_gap_days:
            gap += f" and {settings.min_gap_days} days"
        values = {
            "cases": str(progress.cases),
            "reading": str(progress.reading),
            "awaiting": str(progress.awaiting_adjudication),
            "adjudicated": str(progress.adjudicated),
            "finished": str(progress.finished),
            "title": details.title,
            "status": str(details.status),
            "created": f"{details.created_at.astimezone():%Y-%m-%d %H:%M}",
            "adjudicator": details.adjudicator,
            "rule": _rule_text(details),
            "measurements": ", ".join(str(m) for m in settings.measurements),
            "repeat": f"{100 * details.repeat_fraction:g} % of the cases read twice",
            "gap": gap,
            "seed": str(details.seed),
            "snapping": (
                "allowed (readers may accept proposals)"
                if settings.snapping
                else "off (every landmark placed by hand)"
            ),
        }
        for key, text in values.items():
            self.values[key].setText(text)


class CampaignManagerWindow(QMainWindow):
    """The list of campaigns, the selected one's status and agreement, and the campaign actions."""

    def __init__(self, store: CampaignAdminService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("campaignManagerWindow")
        self.setWindowTitle(f"kyphoangle \u2014 reading campaigns ({store.login})")
        self.store = store
        self.folder = Path.home()
        self.last_error = ""
        self.rows: list[CampaignRow] = []
        self.details: CampaignDetails | None = None

        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("refreshCampaigns")
        self.new_button = QPushButton("New campaign\u2026")
        self.new_button.setObjectName("newCampaign")
        self.close_button = QPushButton("Close campaign\u2026")
        self.close_button.setObjectName("closeCampaign")
        self.export_button = QPushButton("Export campaign CSV\u2026")
        self.export_button.setObjectName("exportCampaign")
        self.key_button = QPushButton("Export key file\u2026")
        self.key_button.setObjectName("exportKey")
        self.key_button.setToolTip(
            "Case codes to subjects and visits: un-blinds, and is recorded in the audit trail"
        )
        self.dicom_button = QPushButton("Export DICOM reports\u2026")
        self.dicom_button.setObjectName("exportDicomReports")
        self.dicom_button.setToolTip("Every signed read as a DICOM SR and a presentation state, for the PACS")
        self.dicom_exporter = ReportExporter(self.store.export_dicom_reports, self)
        self.dicom_exporter.finished.connect(self._dicom_exported)
        self.dicom_exporter.failed.connect(self._dicom_failed)
        self.dicom_button.clicked.connect(self.export_dicom_reports)
        self.refresh_button.clicked.connect(self.refresh)
        self.new_button.clicked.connect(self.new_campaign)
        self.close_button.clicked.connect(self.close_campaign)
        self.export_button.clicked.connect(self.export_csv)
        self.key_button.clicked.connect(self.export_key)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.close_button, self.export_button, self.key_button):
            buttons.addWidget(button)
        buttons.addWidget(self.dicom_button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)

        self.campaign_table = read_only_table("campaignTable", LIST_COLUMNS, stretch=1)
        self.campaign_table.itemSelectionChanged.connect(self._selection_changed)

        self.status_panel = CampaignStatusPanel()
        self.agreement_panel = AgreementPanel(self.store.agreement, self.ask_save_path)
        self.agreement_panel.failed.connect(self._error)
        self.agreement_panel.saved.connect(lambda path: self.statusBar().showMessage(f"Saved {path}", 8000))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("campaignTabs")
        self.tabs.addTab(self.status_panel, "Status")
        self.tabs.addTab(self.agreement_panel, "Agreement")
        self.monitoring_panel = MonitoringPanel(self.store.monitoring, self.ask_save_path)
        self.monitoring_panel.failed.connect(self._error)
        self.monitoring_panel.saved.connect(lambda path: self.statusBar().showMessage(f"Saved {path}", 8000))
        self.tabs.addTab(self.monitoring_panel, "Monitoring")
        self.tabs.currentChanged.connect(lambda _index: self._compute_when_shown())

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.campaign_table)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(buttons)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        screen = self.screen().availableGeometry()
        self.resize(min(1400, screen.width() * 9 // 10), min(940, screen.height() * 9 // 10))
        splitter.setSizes([170, 770])
        self.refresh()

    # ------------------------------------------------------------------------------------- listing
    @property
    def selected_code(self) -> str | None:
        """The name of the selected campaign."""
        rows = self.campaign_table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.rows):
            return None
        return self.rows[rows[0].row()].code

    def refresh(self) -> None:
        """Reload the list (keeping the selection), the selected campaign's status and its agreement."""
        keep = self.selected_code
        try:
            self.rows = self.store.campaigns()
        except KyphoangleError as exc:
            self._error("The campaigns cannot be listed", str(exc))
            return
        table = self.campaign_table
        table.blockSignals(True)
        table.clearSelection()
        fill_table(
            table,
            [
                (c.code, c.title, str(c.status), str(c.cases), str(c.finished), str(c.awaiting_adjudication))
                for c in self.rows
            ],
        )
        codes = [c.code for c in self.rows]
        if keep in codes:
            table.selectRow(codes.index(keep))
        elif codes:
            # an open campaign first: its status is what the data manager comes to see
            open_rows = [n for n, c in enumerate(self.rows) if c.status == CampaignStatus.OPEN]
            table.selectRow(open_rows[0] if open_rows else 0)
        table.blockSignals(False)
        self._show_selected()
        self.statusBar().showMessage(f"{len(self.rows)} campaign(s)", 4000)

    def select_campaign(self, code: str) -> None:
        """Select a campaign of the list by name."""
        codes = [c.code for c in self.rows]
        if code in codes:
            self.campaign_table.selectRow(codes.index(code))

    def _selection_changed(self) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        """Show the selected campaign's status; its agreement is computed again when on screen."""
        code = self.selected_code
        self.details = None
        if code is not None:
            try:
                self.details = self.store.details(code)
            except KyphoangleError as exc:
                self._error("The campaign's status cannot be read", str(exc))
        self.status_panel.show_details(self.details)
        self.agreement_panel.set_campaign(code)
        self._compute_when_shown()
        self._update_actions()

    def _compute_when_shown(self) -> None:
        if self.tabs.currentWidget() is self.monitoring_panel and self.monitoring_panel.report is None:
            self.monitoring_panel.refresh()
        panel = self.agreement_panel
        if self.tabs.currentWidget() is panel and panel.code is not None and panel.report is None:
            panel.compute()

    def _update_actions(self) -> None:
        details = self.details
        self.close_button.setEnabled(details is not None and details.status == CampaignStatus.OPEN)
        for button in (self.export_button, self.key_button):
            button.setEnabled(details is not None)

    # ------------------------------------------------------------------------------------- actions
    def new_campaign(self) -> None:
        """Ask for a new campaign's settings and create it."""
        try:
            choices = self.store.choices()
        except KyphoangleError as exc:
            self._error("A campaign cannot be set up", str(exc))
            return
        dialog = NewCampaignDialog(choices, self.store.create, self)
        if dialog.exec() != NewCampaignDialog.DialogCode.Accepted or dialog.created is None:
            return
        created = dialog.created
        self.refresh()
        self.select_campaign(created.code)
        self._inform(
            "Campaign created",
            f"Campaign {created.code} was created with {created.progress.cases} cases "
            f"(random seed {created.seed}, recorded).",
        )

    def close_campaign(self) -> None:
        """Close the selected campaign after confirmation."""
        details = self.details
        if details is None:
            return
        progress = details.progress
        summary = (
            f"{progress.finished} of {progress.cases} cases are finished, {progress.reading} are being read "
            f"and {progress.awaiting_adjudication} await adjudication."
        )
        dialog = CloseCampaignDialog(details.code, summary, self)
        if dialog.exec() != CloseCampaignDialog.DialogCode.Accepted:
            return
        try:
            self.store.close(details.code, dialog.reason)
        except KyphoangleError as exc:
            self._error("The campaign was not closed", str(exc))
            return
        self.refresh()
        self.statusBar().showMessage(f"Campaign {details.code} closed.", 8000)

    def export_csv(self) -> None:
        """Write the selected campaign's blinded CSV where the user chooses."""
        code = self.selected_code
        if code is None:
            return
        path = self.ask_save_path("Export campaign CSV", f"{code}.csv", "CSV files (*.csv)")
        if path is None:
            return
        try:
            summary = self.store.export_csv(code, path)
        except KyphoangleError as exc:
            self._error("The campaign was not exported", str(exc))
            return
        self.statusBar().showMessage(
            f"{summary.rows} rows from {summary.reads} reads written to {summary.path}", 10000
        )

    def export_key(self) -> None:
        """Write the case code key after a confirmation that it un-blinds (audited)."""
        code = self.selected_code
        if code is None:
            return
        answer = QMessageBox.question(
            self,
            "Export key file",
            f"The key file maps every case code of {code} to its subject and visit: it un-blinds the "
            "campaign. Keep it away from the readers and the statisticians' blinded data.\n\n"
            "Writing it is recorded in the audit trail under your name. Continue?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        path = self.ask_save_path("Export key file", f"{code}-key.csv", "CSV files (*.csv)")
        if path is None:
            return
        try:
            written = self.store.export_key(code, path)
        except KyphoangleError as exc:
            self._error("The key file was not written", str(exc))
            return
        self.statusBar().showMessage(f"Key file written to {written} (recorded in the audit trail)", 10000)

    # ---------------------------------------------------------------------------------------- misc
    def ask_folder(self, title: str) -> Path | None:
        """A folder to write into, starting in the last folder used."""
        chosen = QFileDialog.getExistingDirectory(self, title, str(self.folder))
        return Path(chosen) if chosen else None

    def export_dicom_reports(self) -> None:
        """Ask for a folder and export every signed read's SR and GSPS there, in the background."""
        folder = self.ask_folder("Export DICOM reports into")
        if folder is None:
            return
        self.folder = folder
        self.dicom_button.setEnabled(False)
        self.statusBar().showMessage(f"Exporting DICOM reports into {folder}\u2026")
        self.dicom_exporter.start(folder)

    def _dicom_exported(self, count: int, folder: str) -> None:
        self.dicom_button.setEnabled(True)
        self.statusBar().showMessage(
            f"{count} signed reads exported as DICOM SR and GSPS into {folder}", 10000
        )

    def _dicom_failed(self, title: str, message: str) -> None:
        self.dicom_button.setEnabled(True)
        self._error(title, message)

    def ask_save_path(self, title: str, name: str, name_filter: str) -> Path | None:
        """Where to save a file, starting in the last folder used."""
        path = ask_save_path(self, title, self.folder / name, name_filter)
        if path is not None:
            self.folder = path.parent
        return path

    def _silent(self) -> bool:
        owner = self.parent()
        flag = self.property("suppress_dialogs") or (owner is not None and owner.property("suppress_dialogs"))
        return QApplication.platformName() == "offscreen" and bool(flag)

    def _error(self, title: str, message: str) -> None:
        self.statusBar().showMessage(message.splitlines()[0], 10000)
        self.last_error = message
        if not self._silent():
            QMessageBox.warning(self, title, message)

    def _inform(self, title: str, message: str) -> None:
        self.statusBar().showMessage(message, 10000)
        if not self._silent():
            QMessageBox.information(self, title, message)
