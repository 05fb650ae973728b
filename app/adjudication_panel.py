"""The adjudicator's panel: why the case was sent, every reader's values side by side, the decisions.

Readers are named by slot ("Reader 1", ...) and drawn in their fixed colour (`style.READER_COLORS`),
the same in the table, the buttons and on the film. Values are recomputed from each read's landmarks
with the film's spacing (or the read's own calibration) and the read's normal table, as when it was
signed.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import style
from app.measurement_panel import format_value
from kyphoangle.campaign import AdjudicationCase, ReaderRead
from kyphoangle.errors import KyphoangleError
from kyphoangle.normal_table import DEFAULT_NORMAL_TABLE, load_normal_table
from kyphoangle.protocol import MEASUREMENT_DEFINITIONS, MeasurementName, MeasurementSet, compute_measurements
from kyphoangle.spacing import PixelSpacing
from kyphoangle.vocabulary import CampaignRole

PER_LEVEL_ROWS: tuple[MeasurementName, ...] = (
    MeasurementName.REGIONAL_ANGLE,
    MeasurementName.TRAUMATIC_REGIONAL_ANGLE,
    MeasurementName.VERTEBRAL_KYPHOSIS,
    MeasurementName.ANTERIOR_HEIGHT,
    MeasurementName.POSTERIOR_HEIGHT,
)
"""The per-level values compared, for each fractured level."""
GLOBAL_ROWS: tuple[MeasurementName, ...] = (
    MeasurementName.THORACIC_KYPHOSIS,
    MeasurementName.LUMBAR_LORDOSIS,
)
"""The film-wide values compared."""


def reader_pattern(index: int) -> str:
    """How reader `index`'s lines are drawn, in words: their colour and pattern."""
    colours = ("yellow", "vermillion", "green", "purple", "white", "blue")
    patterns = ("solid", "dashed", "dotted", "dash-dot")
    return f"{colours[index % len(colours)]}, {patterns[index % len(patterns)]}"


def reader_dashes(index: int) -> tuple[float, ...]:
    """Reader `index`'s line pattern."""
    return style.READER_DASHES[index % len(style.READER_DASHES)]


def reader_color(index: int) -> str:
    """The fixed colour of the reader in slot `index` (0 for reader 1)."""
    return style.READER_COLORS[index % len(style.READER_COLORS)]


def read_measurements(
    read: ReaderRead, *, spacing: PixelSpacing, pixel_aspect_ratio: tuple[int, int] | None
) -> MeasurementSet | None:
    """A read's values as its reader saw them; None when they cannot be computed."""
    content = read.content
    try:
        return compute_measurements(
            content.points,
            spacing=content.calibration or spacing,
            fractured_levels=content.fractured_levels,
            normal_table=load_normal_table(content.normal_table or DEFAULT_NORMAL_TABLE),
            endpoints=content.endpoints,
            not_evaluable=content.not_evaluable,
            pixel_aspect_ratio=pixel_aspect_ratio,
        )
    except KyphoangleError:
        return None


class AdjudicationPanel(QWidget):
    """Triggers, a side-by-side table of values and the adjudicator's buttons."""

    visibility_changed = Signal()
    """A reader's overlay was shown or hidden, faded, or narrowed to the disagreeing measurements."""
    choose_requested = Signal(object)
    """The adjudicator asked to choose a reader's read: the `CampaignRole`."""
    third_read_requested = Signal()
    """The adjudicator asked to make a third read."""
    sign_third_requested = Signal()
    """The adjudicator asked to sign the third read as final."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("adjudicationPanel")
        layout = QVBoxLayout(self)
        self.case_label = QLabel()
        self.case_label.setObjectName("adjudicationCaseLabel")
        bold = QFont(self.case_label.font())
        bold.setBold(True)
        bold.setPointSize(bold.pointSize() + 1)
        self.case_label.setFont(bold)
        layout.addWidget(self.case_label)
        self.trigger_label = QLabel()
        self.trigger_label.setObjectName("triggerLabel")
        self.trigger_label.setWordWrap(True)
        self.trigger_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.trigger_label)
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("comparisonTable")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        self.reader_grid = QGridLayout()
        layout.addLayout(self.reader_grid)
        opacity_row = QHBoxLayout()
        opacity_row.addWidget(QLabel("Readers' marks, opacity:"))
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setObjectName("readerOpacity")
        self.opacity_slider.setRange(15, 100)
        self.opacity_slider.setValue(100)
        self.opacity_slider.setToolTip("Fade the readers' marks to see the film under them")
        self.opacity_slider.valueChanged.connect(lambda _value: self.visibility_changed.emit())
        opacity_row.addWidget(self.opacity_slider, 1)
        layout.addLayout(opacity_row)
        self.only_disagreeing_box = QCheckBox("Show only the disagreeing measurements")
        self.only_disagreeing_box.setObjectName("onlyDisagreeing")
        self.only_disagreeing_box.setToolTip(
            "Hide the readers' angles (and their endplate lines) where the reads agree within the "
            "campaign's adjudication threshold"
        )
        self.only_disagreeing_box.toggled.connect(lambda _on: self.visibility_changed.emit())
        layout.addWidget(self.only_disagreeing_box)
        self.show_boxes: dict[CampaignRole, QCheckBox] = {}
        self.choose_buttons: dict[CampaignRole, QPushButton] = {}
        third = QHBoxLayout()
        self.third_button = QPushButton("Make a third read")
        self.third_button.setObjectName("thirdReadButton")
        self.third_button.setToolTip("Place your own landmarks on the film; they become the final read")
        self.third_button.clicked.connect(self.third_read_requested)
        self.sign_third_button = QPushButton("Sign third read as final\u2026")
        self.sign_third_button.setObjectName("signThirdButton")
        self.sign_third_button.clicked.connect(self.sign_third_requested)
        third.addWidget(self.third_button)
        third.addWidget(self.sign_third_button)
        layout.addLayout(third)
        self.case: AdjudicationCase | None = None

    # --------------------------------------------------------------------------------------- state
    @property
    def opacity(self) -> float:
        """Opacity of the readers' marks on the film, 0.15 to 1."""
        return self.opacity_slider.value() / 100.0

    @property
    def only_disagreeing(self) -> bool:
        """Whether the readers' angles are drawn only where the reads disagree."""
        return self.only_disagreeing_box.isChecked()

    def visible_roles(self) -> set[CampaignRole]:
        """The readers whose landmarks are drawn on the film."""
        return {role for role, box in self.show_boxes.items() if box.isChecked()}

    def show_case(
        self,
        case: AdjudicationCase | None,
        *,
        values: Sequence[MeasurementSet | None] = (),
        third: MeasurementSet | None = None,
        third_active: bool = False,
    ) -> None:
        """Show a case: its triggers, each reader's values (and the third read's), the buttons."""
        same_case = self.case is not None and case is not None and self.case.case_code == case.case_code
        self.case = case
        if not same_case:
            self._clear_reader_rows()
        if case is None:
            self.case_label.setText("No case is awaiting adjudication")
            self.trigger_label.setText("")
            self.table.setRowCount(0)
            self.table.setColumnCount(0)
            self.third_button.setEnabled(False)
            self.sign_third_button.setEnabled(False)
            return
        self.case_label.setText(
            f"Case {case.case_code} \u2014 adjudication ({case.position} of {case.total})"
        )
        reasons = "".join(f"<li>{text}</li>" for text in case.triggers)
        self.trigger_label.setText(f"<b>Sent to adjudication because</b><ul>{reasons}</ul>")
        if not same_case:
            self._add_reader_rows(case)
        self.third_button.setEnabled(not third_active)
        self.sign_third_button.setEnabled(third_active)
        self._fill_table(case, values, third if third_active else None, third_active)

    def _add_reader_rows(self, case: AdjudicationCase) -> None:
        for index, read in enumerate(case.reads):
            color = reader_color(index)
            box = QCheckBox(f"Show {read.label} ({reader_pattern(index)})")
            box.setObjectName(f"show_{read.role}")
            box.setStyleSheet(
                f"QCheckBox {{ color: {QColor(color).darker(170).name()}; font-weight: bold; }}"
            )
            box.setChecked(True)
            box.toggled.connect(lambda _on: self.visibility_changed.emit())
            button = QPushButton(f"Choose {read.label} as final\u2026")
            button.setObjectName(f"choose_{read.role}")
            button.clicked.connect(lambda _checked=False, role=read.role: self.choose_requested.emit(role))
            self.reader_grid.addWidget(box, index, 0)
            self.reader_grid.addWidget(button, index, 1)
            self.show_boxes[read.role] = box
            self.choose_buttons[read.role] = button

    def _clear_reader_rows(self) -> None:
        for widget in (*self.show_boxes.values(), *self.choose_buttons.values()):
            self.reader_grid.removeWidget(widget)
            widget.setParent(None)
            widget.deleteLater()
        self.show_boxes.clear()
        self.choose_buttons.clear()

    def _fill_table(
        self,
        case: AdjudicationCase,
        values: Sequence[MeasurementSet | None],
        third: MeasurementSet | None,
        third_active: bool,
    ) -> None:
        columns = [read.label for read in case.reads] + (["Third read"] if third_active else []) + ["Spread"]
        rows: list[tuple[str, MeasurementName, str | None]] = []
        for level in case.fractured_levels:
            for name in PER_LEVEL_ROWS:
                rows.append((f"{MEASUREMENT_DEFINITIONS[name].label} {level}", name, level))
        for name in GLOBAL_ROWS:
            rows.append((MEASUREMENT_DEFINITIONS[name].label, name, None))
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels(columns)
        self.table.setVerticalHeaderLabels([label for label, _, _ in rows])
        sets = [*values, *([third] if third_active else [])]
        for row, (_label, measurement_name, at_level) in enumerate(rows):
            readers: list[float] = []
            for column, result in enumerate(sets):
                item = QTableWidgetItem("\u2014")
                measurement = result.get(measurement_name, at_level) if result is not None else None
                if measurement is not None:
                    text, meaning = format_value(measurement)
                    item.setText(text)
                    item.setToolTip(meaning)
                    if column < len(values):
                        readers.append(measurement.value)
                elif result is not None and at_level in result_levels_not_evaluable(case, column):
                    item.setText("not evaluable")
                if column < len(case.reads):
                    item.setForeground(QColor(reader_color(column)).darker(160))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
            spread_value = max(readers) - min(readers) if len(readers) > 1 else None
            spread = QTableWidgetItem(f"{spread_value:.1f}" if spread_value is not None else "")
            if (
                spread_value is not None
                and measurement_name == case.rule.measurement
                and spread_value > case.rule.threshold_deg
            ):
                spread.setForeground(QColor("#c62828"))
                font = QFont(spread.font())
                font.setBold(True)
                spread.setFont(font)
                spread.setToolTip(f"more than the campaign's {case.rule.threshold_deg:g} deg")
            spread.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, len(columns) - 1, spread)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)


def result_levels_not_evaluable(case: AdjudicationCase, column: int) -> set[str]:
    """The levels a reader (by column) marked not evaluable; none for the third read's column."""
    if column >= len(case.reads):
        return set()
    return set(case.reads[column].content.not_evaluable)
