"""The campaign manager's agreement panel: reliability statistics, adjudication rates, Bland-Altman plots.

Everything shown is computed by `kyphoangle.agreement_report` (the same numbers and plots as the HTML
report); this panel only lays them out and saves the report as HTML, PDF or CSV. The report holds no
patient identity.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.tables import fill_table, fit_contents, read_only_table
from kyphoangle.agreement_report import (
    AgreementLine,
    AgreementReport,
    AgreementScope,
    draw_bland_altman,
    icc_text,
    rate_cells,
    write_csv,
    write_html,
    write_pdf,
)
from kyphoangle.errors import KyphoangleError

STATISTICS_COLUMNS: tuple[str, ...] = (
    "Scope", "Readers", "Measurement", "Level", "n", "ICC [95% CI]", "Bias", "Limits of agreement", "SEM",
    "MDC", "Note",
)  # fmt: skip
RATE_COLUMNS: tuple[str, ...] = ("Reader", "Compared", "Adjudicated", "Rate", "Chosen", "Overruled")
PLOT_SIZE_IN = (5.0, 3.6)
"""Size of a Bland-Altman plot, as in the saved reports."""
PLOT_DPI = 76
"""Screen pixels per inch of the plots (times the screen's pixel ratio): 380 x 274 on screen."""
RATES_WIDTH_PX = 480
"""Initial width of the adjudication table beside the plots."""

AskPath = Callable[[str, str, str], Path | None]
"""Asks where to save: (dialog title, suggested file name, name filter) -> path, or None."""


def _number(value: float | None, digits: int = 2, *, signed: bool = False) -> str:
    if value is None:
        return ""
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _readers(line: AgreementLine) -> str:
    if line.scope is AgreementScope.INTER:
        return line.readers
    return f"{line.reader} ({line.readers})" if line.readers else line.reader


def statistics_cells(line: AgreementLine) -> tuple[str, ...]:
    """One row of the statistics table (`STATISTICS_COLUMNS`)."""
    unit = f" {line.unit}" if line.unit else ""
    icc = icc_text(line)
    limits = (
        f"{line.loa_low:+.2f} to {line.loa_high:+.2f}{unit}"
        if line.loa_low is not None and line.loa_high is not None
        else ""
    )
    return (
        "inter-reader" if line.scope is AgreementScope.INTER else "intra-reader",
        _readers(line),
        line.measurement,
        line.level,
        str(line.n),
        icc,
        _number(line.bias, signed=True) + (unit if line.bias is not None else ""),
        limits,
        _number(line.sem) + (unit if line.sem is not None else ""),
        _number(line.mdc) + (unit if line.mdc is not None else ""),
        line.note,
    )


def bland_altman_png(line: AgreementLine, *, dpi: float = PLOT_DPI) -> bytes:
    """The line's Bland-Altman plot as PNG, drawn by the report's own `draw_bland_altman` with Agg."""
    # matplotlib's Agg canvas, never pyplot: no GUI backend is chosen or imported.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=PLOT_SIZE_IN, dpi=dpi)
    FigureCanvasAgg(figure)
    draw_bland_altman(figure.subplots(), line)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def bland_altman_pixmap(line: AgreementLine, *, pixel_ratio: float = 1.0) -> QPixmap:
    """The line's Bland-Altman plot as a pixmap, sharp on a screen of that device pixel ratio."""
    pixmap = QPixmap()
    pixmap.loadFromData(bland_altman_png(line, dpi=PLOT_DPI * pixel_ratio), "PNG")
    pixmap.setDevicePixelRatio(pixel_ratio)
    return pixmap


class AgreementPanel(QWidget):
    """Computes a campaign's agreement report on request and shows it; saves it as HTML, PDF or CSV."""

    failed = Signal(str, str)
    """(title, message) when computing or saving went wrong."""
    saved = Signal(str)
    """The path a report was saved to."""

    def __init__(
        self,
        compute: Callable[[str], AgreementReport],
        ask_path: AskPath,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("agreementPanel")
        self._compute = compute
        self._ask_path = ask_path
        self.code: str | None = None
        self.report: AgreementReport | None = None
        self.plot_labels: list[QLabel] = []
        self.plot_columns = 1

        self.heading = QLabel()
        self.heading.setObjectName("agreementHeading")
        self.compute_button = QPushButton("Compute")
        self.compute_button.setObjectName("computeAgreement")
        self.compute_button.setToolTip("Compute the statistics again from the signed reads")
        self.html_button = QPushButton("Save HTML\u2026")
        self.html_button.setObjectName("saveHtml")
        self.pdf_button = QPushButton("Save PDF\u2026")
        self.pdf_button.setObjectName("savePdf")
        self.csv_button = QPushButton("Save CSV\u2026")
        self.csv_button.setObjectName("saveCsv")
        self.compute_button.clicked.connect(self.compute)
        self.html_button.clicked.connect(self.save_html)
        self.pdf_button.clicked.connect(self.save_pdf)
        self.csv_button.clicked.connect(self.save_csv)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        for button in (self.compute_button, self.html_button, self.pdf_button, self.csv_button):
            top.addWidget(button)

        self.statistics_table = read_only_table("agreementTable", STATISTICS_COLUMNS)
        self.rate_table = read_only_table("adjudicationRateTable", RATE_COLUMNS, stretch=0)
        rates = QGroupBox("Adjudication per reader")
        rates_layout = QVBoxLayout(rates)
        rates_layout.addWidget(self.rate_table)
        explanation = QLabel(
            "Adjudicated: cases both readers signed that met the rule. Chosen / overruled: how often "
            "the reader's read became final after adjudication."
        )
        explanation.setWordWrap(True)
        rates_layout.addWidget(explanation)
        rates_layout.addStretch(1)
        self.plot_area = QScrollArea()
        self.plot_area.setObjectName("plotArea")
        self.plot_area.setWidgetResizable(True)
        self.plot_holder = QWidget()
        self.plot_grid = QGridLayout(self.plot_holder)
        self.plot_grid.setContentsMargins(4, 4, 4, 4)
        self.plot_grid.setSpacing(8)
        self.plot_grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.plot_area.setWidget(self.plot_holder)
        self.plot_area.viewport().installEventFilter(self)
        plots = QGroupBox("Bland-Altman plots")
        plots_layout = QVBoxLayout(plots)
        plots_layout.addWidget(self.plot_area)

        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(rates)
        lower.addWidget(plots)
        lower.setStretchFactor(0, 0)
        lower.setStretchFactor(1, 1)
        lower.setSizes([RATES_WIDTH_PX, 4 * RATES_WIDTH_PX])
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.statistics_table)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([2, 3])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.set_campaign(None)

    def set_campaign(self, code: str | None) -> None:
        """Forget the shown report; the next `compute` is for this campaign."""
        self.code = code
        self.show_report(None)
        self.compute_button.setEnabled(code is not None)
        self.heading.setText(
            "Select a campaign." if code is None else f"Campaign {code}: press Compute (signed reads only)."
        )

    def compute(self) -> None:
        """Compute the selected campaign's report from the signed reads and show it."""
        if self.code is None:
            return
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            report = self._compute(self.code)
            self.show_report(report)
        except KyphoangleError as exc:
            self.show_report(None)
            self.failed.emit("The agreement report cannot be computed", str(exc))
        finally:
            QGuiApplication.restoreOverrideCursor()

    def show_report(self, report: AgreementReport | None) -> None:
        """Fill the tables and draw the plots (empty without a report)."""
        self.report = report
        for button in (self.html_button, self.pdf_button, self.csv_button):
            button.setEnabled(report is not None)
        lines = report.lines if report is not None else ()
        fill_table(self.statistics_table, [statistics_cells(line) for line in lines])
        fill_table(self.rate_table, [rate_cells(rate) for rate in (report.adjudication if report else ())])
        fit_contents(self.rate_table, rows=max(self.rate_table.rowCount(), 2))
        for label in self.plot_labels:
            self.plot_grid.removeWidget(label)
            label.deleteLater()
        self.plot_labels = []
        if report is None:
            return
        plotted = [line for line in lines if line.bias is not None]
        for line in plotted:
            label = QLabel()
            label.setObjectName("blandAltmanPlot")
            label.setPixmap(bland_altman_pixmap(line, pixel_ratio=self.devicePixelRatioF()))
            label.setToolTip(f"{line.measurement} {line.level}: {line.scope}-reader, {_readers(line)}")
            self.plot_labels.append(label)
        self._place_plots()
        self.heading.setText(
            f"Campaign {report.campaign}: {len(lines)} statistics lines, {len(plotted)} Bland-Altman plots "
            "(signed reads only)"
        )

    def _place_plots(self) -> None:
        """As many plots side by side as the visible width holds, the rest in rows below."""
        columns = self._plot_columns()
        for label in self.plot_labels:
            self.plot_grid.removeWidget(label)
        for index, label in enumerate(self.plot_labels):
            self.plot_grid.addWidget(label, index // columns, index % columns)
        self.plot_columns = columns

    def _plot_columns(self) -> int:
        """How many plots fit side by side in the plot area's visible width."""
        margins = self.plot_grid.contentsMargins()
        spacing = self.plot_grid.horizontalSpacing()
        room = self.plot_area.viewport().width() - margins.left() - margins.right() + spacing
        step = round(PLOT_SIZE_IN[0] * PLOT_DPI) + spacing
        return max(1, room // step)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        """Re-flow the plots when the plot area changes width."""
        resized = watched is self.plot_area.viewport() and event.type() == QEvent.Type.Resize
        if resized and self._plot_columns() != self.plot_columns:
            self._place_plots()
        return super().eventFilter(watched, event)

    # --------------------------------------------------------------------------------------- saving
    def _save(
        self, title: str, suffix: str, name_filter: str, write: Callable[[AgreementReport, Path], None]
    ) -> None:
        if self.report is None:
            return
        path = self._ask_path(title, f"{self.report.campaign}-agreement{suffix}", name_filter)
        if path is None:
            return
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            write(self.report, path)
        except (KyphoangleError, OSError) as exc:
            self.failed.emit("The report was not saved", f"{path}: {exc}")
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.saved.emit(str(path))

    def save_html(self) -> None:
        """Save the HTML report (statistics, adjudication rates and plots)."""
        self._save("Save agreement report", ".html", "HTML files (*.html)", write_html)

    def save_pdf(self) -> None:
        """Save the report as PDF (statistics, adjudication rates and plots)."""
        self._save("Save agreement report as PDF", ".pdf", "PDF files (*.pdf)", write_pdf)

    def save_csv(self) -> None:
        """Save the statistics as CSV."""
        self._save("Save agreement statistics", ".csv", "CSV files (*.csv)", write_csv)
