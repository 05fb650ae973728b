"""The guidance panel: fractured levels, not-evaluable marks, the schematic and the list of steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app import style
from app.guidance import Step
from app.schematic_view import ALL_PLACED_TEXT, NO_FILM_TEXT, SchematicView
from kyphoangle.protocol import NotEvaluable
from kyphoangle.vocabulary import FRACTURE_LEVELS, NotEvaluableReason

REASON_TEXT: dict[NotEvaluableReason, str] = {r: f"Not evaluable: {r.label}" for r in NotEvaluableReason}
"""Choices offered for a level, after "Evaluable"."""

KEY_ROLE = Qt.ItemDataRole.UserRole


class GuidancePanel(QWidget):
    """Lets the reader choose levels and shows which landmark to place next."""

    levels_edited = Signal(tuple)
    """The reader ticked or unticked a fractured level: the new tuple of levels."""
    not_evaluable_edited = Signal(str, object)
    """The reader changed a level's evaluability: (level, NotEvaluable or None)."""
    step_chosen = Signal(str)
    neighbours_edited = Signal(bool)
    """The reader asked for (True) or left out the neighbours' points of the height loss and Genant grade."""
    """The reader picked a landmark in the list (to place or re-place it next)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("guidancePanel")
        self._updating = False
        self.no_film_text = "No film is open. Open a film to place its landmarks."
        """What the next-landmark line says while no film is on screen."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)

        levels_box = QGroupBox("1. Fractured levels")
        grid = QGridLayout(levels_box)
        self.level_boxes: dict[str, QCheckBox] = {}
        for index, level in enumerate(FRACTURE_LEVELS):
            box = QCheckBox(level)
            box.setToolTip(f"Tick if {level} is a treated (fractured) level")
            box.toggled.connect(self._levels_toggled)
            grid.addWidget(box, index // 4, index % 4)
            self.level_boxes[level] = box
        self.neighbours_box = QCheckBox("Height loss and Genant grade (neighbours' points)")
        self.neighbours_box.setObjectName("neighboursBox")
        self.neighbours_box.setToolTip(
            "Ask for every point of the vertebrae above and below each fractured level, which the "
            "anterior height loss and the Genant grade need"
        )
        self.neighbours_box.toggled.connect(self._neighbours_toggled)
        grid.addWidget(self.neighbours_box, 2, 0, 1, 4)
        layout.addWidget(levels_box)

        self.evaluable_box = QGroupBox("Evaluability of the fractured levels")
        self.evaluable_layout = QGridLayout(self.evaluable_box)
        self.evaluable_combos: dict[str, QComboBox] = {}
        layout.addWidget(self.evaluable_box)

        next_box = QGroupBox("2. Next landmark")
        next_layout = QHBoxLayout(next_box)
        self.schematic = SchematicView()
        next_layout.addWidget(self.schematic)
        text_column = QVBoxLayout()
        self.next_label = QLabel()
        self.next_label.setObjectName("nextLabel")
        self.next_label.setWordWrap(True)
        self.next_label.setMinimumWidth(150)
        font = QFont(self.next_label.font())
        font.setPointSize(font.pointSize() + 2)
        font.setBold(True)
        self.next_label.setFont(font)
        text_column.addWidget(self.next_label, 1)
        self.progress_label = QLabel()
        self.progress_label.setWordWrap(True)
        text_column.addWidget(self.progress_label)
        for label in (self.next_label, self.progress_label):
            # Texts that change with every click must not widen the panel: a wider panel would move
            # the film under the reader's cursor.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        next_layout.addLayout(text_column, 1)
        layout.addWidget(next_box)

        steps_box = QGroupBox("3. All landmarks (click one to place or re-place it)")
        steps_layout = QVBoxLayout(steps_box)
        self.step_list = QListWidget()
        self.step_list.setObjectName("stepList")
        self.step_list.itemClicked.connect(self._item_clicked)
        steps_layout.addWidget(self.step_list)
        layout.addWidget(steps_box, 1)

    def _levels_toggled(self) -> None:
        if self._updating:
            return
        levels = tuple(level for level, box in self.level_boxes.items() if box.isChecked())
        self.levels_edited.emit(levels)

    def _neighbours_toggled(self, checked: bool) -> None:
        if not self._updating:
            self.neighbours_edited.emit(checked)

    def _item_clicked(self, item: QListWidgetItem) -> None:
        self.step_chosen.emit(str(item.data(KEY_ROLE)))

    def _reason_chosen(self, level: str, index: int) -> None:
        if self._updating:
            return
        reasons = list(REASON_TEXT)
        value = None if index <= 0 else NotEvaluable(reasons[index - 1])
        self.not_evaluable_edited.emit(level, value)

    def show_state(
        self,
        *,
        levels: Sequence[str],
        not_evaluable: Mapping[str, NotEvaluable],
        steps: Sequence[Step],
        placed: Mapping[str, object],
        target: str | None,
        anterior_left: bool | None,
        locked: bool,
        film_open: bool = True,
        neighbours: bool = True,
    ) -> None:
        """Show the model's state (signals blocked so nothing loops back); without a film, say so."""
        self._updating = True
        try:
            for level, box in self.level_boxes.items():
                box.setChecked(level in levels)
                box.setEnabled(not locked)
            self.neighbours_box.setChecked(neighbours)
            self._show_evaluability(levels, not_evaluable, locked)
            self._show_steps(steps, placed, target)
        finally:
            self._updating = False
        done = sum(1 for step in steps if step.key in placed)
        self.progress_label.setText(f"{done} of {len(steps)} landmarks placed")
        if not film_open:
            self.next_label.setText(self.no_film_text)
        elif locked:
            self.next_label.setText("Signed: this read is locked.")
        elif target is None:
            self.next_label.setText("All landmarks are placed. Check them, then sign (Ctrl+Shift+S).")
        else:
            step = next((s for s in steps if s.key == target), None)
            label = step.label if step else target
            self.next_label.setText(f"Click: {label}")
        self.next_label.setStyleSheet(f"color: {style.TARGET_COLOR.name()};" if target and not locked else "")
        self.schematic.show_target(
            None if locked else target,
            frozenset(placed),
            anterior_left=anterior_left,
            idle_text=ALL_PLACED_TEXT if film_open else NO_FILM_TEXT,
        )

    def _show_evaluability(
        self, levels: Sequence[str], not_evaluable: Mapping[str, NotEvaluable], locked: bool
    ) -> None:
        if list(self.evaluable_combos) != list(levels):
            while self.evaluable_layout.count():
                taken = self.evaluable_layout.takeAt(0)
                widget = taken.widget() if taken is not None else None
                if widget is not None:
                    widget.deleteLater()
            self.evaluable_combos = {}
            for row, level in enumerate(levels):
                combo = QComboBox()
                combo.setObjectName(f"evaluable_{level}")
                combo.addItem("Evaluable")
                for text in REASON_TEXT.values():
                    combo.addItem(text)
                combo.currentIndexChanged.connect(lambda index, lv=level: self._reason_chosen(lv, index))
                self.evaluable_layout.addWidget(QLabel(level), row, 0)
                self.evaluable_layout.addWidget(combo, row, 1)
                self.evaluable_combos[level] = combo
        self.evaluable_box.setVisible(bool(levels))
        reasons = list(REASON_TEXT)
        for level, combo in self.evaluable_combos.items():
            mark = not_evaluable.get(level)
            combo.setCurrentIndex(0 if mark is None else reasons.index(mark.reason) + 1)
            combo.setEnabled(not locked)

    def _show_steps(self, steps: Sequence[Step], placed: Mapping[str, object], target: str | None) -> None:
        self.step_list.clear()
        for step in steps:
            done = step.key in placed
            mark = "\u2714" if done else ("\u25b6" if step.key == target else "\u25cb")
            item = QListWidgetItem(f"{mark}  {step.label}")
            item.setData(KEY_ROLE, step.key)
            item.setToolTip("Used for: " + ", ".join(step.purposes))
            if step.key == target:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                item.setForeground(QBrush(style.TARGET_COLOR))
            elif done:
                item.setForeground(QBrush(style.side_color(step.endplate.side)))
            else:
                item.setForeground(QBrush(QColor("#9e9e9e")))
            self.step_list.addItem(item)
            if step.key == target:
                self.step_list.scrollToItem(item)
