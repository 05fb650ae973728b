"""The measurement panel: every value with unit and meaning, and what each missing value lacks."""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QLabel, QSizePolicy, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from app.film import spacing_text
from app.guidance import short_label
from kyphoangle.normal_table import NormalTable
from kyphoangle.protocol import (
    MEASUREMENT_DEFINITIONS,
    Measurement,
    MeasurementName,
    MeasurementSet,
    NotComputed,
    Unit,
)
from kyphoangle.spacing import PixelSpacing


def format_value(measurement: Measurement) -> tuple[str, str]:
    """Value text and meaning, e.g. (`+12.3°`, `kyphosis`)."""
    value, unit = measurement.value, measurement.unit
    if measurement.name is MeasurementName.TRAUMATIC_REGIONAL_ANGLE:
        meaning = (
            "more kyphotic than normal"
            if value > 0.05
            else "less kyphotic than normal"
            if value < -0.05
            else "normal"
        )
        return f"{value:+.1f}\u00b0", meaning
    if unit is Unit.DEG:
        meaning = "kyphosis" if value > 0.05 else "lordosis" if value < -0.05 else "straight"
        return f"{value:+.1f}\u00b0", meaning
    if unit is Unit.MM:
        return f"{value:.1f} mm", ""
    if unit is Unit.PX:
        return f"{value:.1f} px", "no spacing: pixels"
    if unit is Unit.RATIO:
        return f"{value:.2f}", ""
    if unit is Unit.PERCENT:
        return f"{value:.1f} %", ""
    if unit is Unit.GRADE:
        return f"grade {int(value)}", ""
    return f"{value:g} {unit}", ""


def missing_text(entry: NotComputed) -> str:
    """What a value lacks, in the reader's words."""
    if entry.missing:
        shown = ", ".join(short_label(key) for key in entry.missing[:6])
        more = f" and {len(entry.missing) - 6} more" if len(entry.missing) > 6 else ""
        return f"needs {shown}{more}"
    return entry.reason


def unverified_table_text(table: NormalTable) -> str:
    """The warning shown while a normal table with unverified values is in use (levels in the tooltip)."""
    return f"Caution: {table.name} values unverified"


class MeasurementPanel(QWidget):
    """Shows a MeasurementSet: global curves first, then each fractured level."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("measurementPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.spacing_label = QLabel()
        self.spacing_label.setObjectName("measurementSpacing")
        self.spacing_label.setWordWrap(True)
        self.spacing_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.tree = QTreeWidget()
        self.tree.setObjectName("measurementTree")
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Measurement", "Value", "Meaning / missing"])
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(10)
        self.tree.setAlternatingRowColors(True)
        self.tree.setMinimumHeight(110)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.spacing_label)
        self.rows: dict[tuple[str, str | None], QTreeWidgetItem] = {}

    def show_measurements(
        self,
        result: MeasurementSet | None,
        *,
        spacing: PixelSpacing | None,
        table: NormalTable | None,
        levels: tuple[str, ...] = (),
    ) -> None:
        """Replace the shown values."""
        self.tree.clear()
        self.rows = {}
        parts, tips = [], []
        if spacing is not None:
            parts.append(
                f"Spacing {spacing.row_mm:.3f} x {spacing.col_mm:.3f} mm/px ({spacing.source})"
                if spacing.row_mm is not None and spacing.col_mm is not None
                else "No pixel spacing: heights in pixels"
            )
            tips.append(spacing_text(spacing))
        if table is not None:
            parts.append(f"ART normal table: {table.name} v{table.version}")
            tips.append(f"{table.title} (v{table.version}): {table.source}")
            if not table.verified:
                parts.append(unverified_table_text(table))
                unverified = ", ".join(table.unverified_levels)
                tips.append(f"Values at {unverified} were not checked against their source.")
                tips.append(table.description)
        self.spacing_label.setText("\n".join(parts))
        self.spacing_label.setToolTip("\n".join(tips))
        if result is None:
            return
        groups: list[tuple[str, str | None]] = [("Global curves", None)]
        groups += [(f"Fractured level {level}", level) for level in levels]
        for title, level in groups:
            header = QTreeWidgetItem([title, "", ""])
            font = QFont(header.font(0))
            font.setBold(True)
            header.setFont(0, font)
            header.setFirstColumnSpanned(True)
            self.tree.addTopLevelItem(header)
            entries: list[Measurement | NotComputed] = [
                *(m for m in result.measurements if m.level == level),
                *(n for n in result.not_computed if n.level == level),
            ]
            order = list(MeasurementName)
            entries.sort(key=lambda e: order.index(e.name))
            for entry in entries:
                self._add_row(entry)
        self.tree.expandAll()
        for column in range(3):
            self.tree.resizeColumnToContents(column)

    def _add_row(self, entry: Measurement | NotComputed) -> None:
        definition = MEASUREMENT_DEFINITIONS[entry.name]
        label = definition.label
        if isinstance(entry, Measurement) and entry.endpoints:
            label += f"  ({entry.endpoints.replace('.superior', ' sup').replace('.inferior', ' inf')})"
        if isinstance(entry, Measurement):
            value, meaning = format_value(entry)
            item = QTreeWidgetItem([label, value, meaning])
            tip = (
                f"{definition.description}\nLandmarks: {', '.join(entry.landmarks)}"
                f"\nSpacing: {entry.spacing_source}"
            )
            bold = QFont(item.font(1))
            bold.setBold(True)
            item.setFont(1, bold)
        else:
            item = QTreeWidgetItem([label, "\u2014", missing_text(entry)])
            for column in range(3):
                item.setForeground(column, QBrush(QColor("#8a8a8a")))
            tip = f"{definition.description}\nNot computed: {entry.reason}"
            if entry.missing:
                tip += "\nMissing: " + ", ".join(entry.missing)
        for column in range(3):
            item.setToolTip(column, tip)
        self.tree.addTopLevelItem(item)
        self.rows[(str(entry.name), entry.level)] = item

    def value_text(self, name: str, level: str | None = None) -> str | None:
        """The shown value of one measurement (for tests), or None when absent."""
        item = self.rows.get((name, level))
        return item.text(1) if item is not None else None
