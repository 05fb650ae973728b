"""Read-only tables as the campaign manager shows them: built, filled and sized the same way everywhere."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

COLUMN_PADDING_PX = 14
"""Room added to a column sized to its contents, so neighbouring values do not touch."""
ROW_PADDING_PX = 10
"""Room above and below a row's text."""


def read_only_table(name: str, headers: Sequence[str], *, stretch: int | None = None) -> QTableWidget:
    """A table of whole rows, not editable, without row numbers; column `stretch` takes the spare width."""
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    rows = table.verticalHeader()
    rows.setVisible(False)
    # Rows of one fixed height, known before the table is first shown, so tables can be fitted to them.
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(table.fontMetrics().height() + ROW_PADDING_PX)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    if stretch is None:
        header.setStretchLastSection(True)
    else:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


def _is_number(text: str) -> bool:
    return bool(text) and (text[0].isdigit() or (text[0] in "+-" and text[1:2].isdigit()))


def fill_table(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    """Put the rows in the table (numbers right-aligned) and size the columns to their contents."""
    table.setRowCount(len(rows))
    for row, cells in enumerate(rows):
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if _is_number(text):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(row, column, item)
    table.resizeColumnsToContents()
    header = table.horizontalHeader()
    last = table.columnCount() - 1
    for column in range(table.columnCount()):
        if column == last and header.stretchLastSection():
            continue  # it takes the spare width anyway; padding it would only add a scroll bar
        if header.sectionResizeMode(column) == QHeaderView.ResizeMode.Interactive:
            table.setColumnWidth(column, table.columnWidth(column) + COLUMN_PADDING_PX)


def fit_contents(table: QTableWidget, *, rows: int | None = None) -> None:
    """Make the table at least as wide as its columns and exactly as tall as its header and `rows` rows
    (default: the rows it has), so it never needs a scroll bar."""
    shown = table.rowCount() if rows is None else rows
    header = table.horizontalHeader()
    header.ensurePolished()  # the header's height depends on the style, known once polished
    frame = 2 * table.frameWidth()
    widths = [
        max(header.sectionSizeHint(c), table.sizeHintForColumn(c)) + COLUMN_PADDING_PX
        if header.sectionResizeMode(c) == QHeaderView.ResizeMode.Stretch
        or (c == table.columnCount() - 1 and header.stretchLastSection())
        else table.columnWidth(c)
        for c in range(table.columnCount())
    ]
    table.setMinimumWidth(sum(widths) + frame)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    row_height = table.verticalHeader().defaultSectionSize()
    table.setFixedHeight(header.sizeHint().height() + shown * row_height + frame)
