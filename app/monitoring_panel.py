"""The data manager's monitoring view: per site, subject and visit, what is done, pending and overdue.

The lines come from `kyphoangle.workstation.exchange` (the same as `kyphoangle monitoring`); this panel
shows them with the overdue lines highlighted, refreshes on request and saves the report as CSV or HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.tables import fill_table, read_only_table
from kyphoangle.errors import KyphoangleError
from kyphoangle.workstation.exchange import (
    MONITORING_COLUMNS,
    MonitoringReport,
    write_monitoring_csv,
    write_monitoring_html,
)

OVERDUE_COLOUR = QColor("#fde2e1")
"""Background of a line with something overdue (the HTML report's colour)."""


class MonitoringPanel(QWidget):
    """The monitoring report as a table; Refresh computes it again, the buttons save it."""

    failed = Signal(str, str)
    """(title, message) when computing or saving went wrong."""
    saved = Signal(str)
    """The path the report was saved to."""

    def __init__(
        self,
        compute: Callable[[], MonitoringReport],
        ask_path: Callable[[str, str, str], Path | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("monitoringPanel")
        self._compute = compute
        self._ask_path = ask_path
        self.report: MonitoringReport | None = None
        self.summary = QLabel("Refresh to see which visits have films, reads and overdue items.")
        self.summary.setObjectName("monitoringSummary")
        self.table = read_only_table("monitoringTable", [c.replace("_", " ") for c in MONITORING_COLUMNS])
        refresh = QPushButton("Refresh")
        refresh.setObjectName("refreshMonitoring")
        refresh.clicked.connect(self.refresh)
        self.csv_button = QPushButton("Save CSV\u2026")
        self.csv_button.setObjectName("saveMonitoringCsv")
        self.csv_button.clicked.connect(lambda: self._save(".csv", "CSV files (*.csv)", write_monitoring_csv))
        self.html_button = QPushButton("Save HTML\u2026")
        self.html_button.setObjectName("saveMonitoringHtml")
        self.html_button.clicked.connect(
            lambda: self._save(".html", "HTML files (*.html)", write_monitoring_html)
        )
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        for button in (refresh, self.csv_button, self.html_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        self._enable()

    def _enable(self) -> None:
        self.csv_button.setEnabled(self.report is not None)
        self.html_button.setEnabled(self.report is not None)

    def refresh(self) -> None:
        """Compute the report again and show it."""
        try:
            report = self._compute()
        except KyphoangleError as exc:
            self.failed.emit("The monitoring report cannot be made", str(exc))
            return
        self.report = report
        fill_table(self.table, [[str(cell) for cell in astuple(line)] for line in report.lines])
        for row, line in enumerate(report.lines):
            if line.overdue:
                for column in range(self.table.columnCount()):
                    item = self.table.item(row, column)
                    if item is not None:
                        item.setBackground(QBrush(OVERDUE_COLOUR))
        self.summary.setText(
            f"As of {report.made_on.isoformat()}: {len(report.lines)} subject visits, "
            f"{report.overdue_count} with overdue items (highlighted)."
        )
        self._enable()

    def _save(self, suffix: str, name_filter: str, write: Callable[[MonitoringReport, Path], None]) -> None:
        if self.report is None:
            return
        path = self._ask_path("Save monitoring report", f"monitoring{suffix}", name_filter)
        if path is None:
            return
        try:
            write(self.report, path)
        except (KyphoangleError, OSError) as exc:
            self.failed.emit("The monitoring report was not saved", f"{path}: {exc}")
            return
        self.saved.emit(str(path))
