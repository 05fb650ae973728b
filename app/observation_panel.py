"""The observations panel: Genant grade per level (T4 to L5) and cement leakage per treated level."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kyphoangle.errors import LandmarkError
from kyphoangle.observations import OBSERVATION_LEVELS, LevelObservation
from kyphoangle.vocabulary import CementLeakage, YeomType

NOT_GRADED = "\u2014"
"""The grade choice meaning "not graded"."""

GRADE_TEXT = {0: "0 normal", 1: "1 mild", 2: "2 moderate", 3: "3 severe"}
"""Genant grades as offered."""

LEAKAGE_CAVEAT = "As seen on the lateral radiograph, which misses most leaks that CT shows."


class ObservationPanel(QWidget):
    """Lets the reader grade every level and record cement leakage at the treated levels."""

    observation_edited = Signal(str, object)
    """The reader changed what they saw at a level: (level, LevelObservation or None)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("observationPanel")
        self._updating = False
        self._observations: dict[str, LevelObservation] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        layout = QVBoxLayout(body)
        scroll.setWidget(body)
        outer.addWidget(scroll)

        grades_box = QGroupBox("Genant grade per level (new and adjacent fractures)")
        grid = QGridLayout(grades_box)
        self.grade_combos: dict[str, QComboBox] = {}
        for index, level in enumerate(OBSERVATION_LEVELS):
            combo = QComboBox()
            combo.addItem(NOT_GRADED, None)
            for grade, text in GRADE_TEXT.items():
                combo.addItem(text, grade)
            combo.setToolTip(f"Semi-quantitative grade of {level} (Genant 1993)")
            combo.currentIndexChanged.connect(lambda _i, lv=level: self._edited(lv))
            grid.addWidget(QLabel(level), index % 7, 2 * (index // 7))
            grid.addWidget(combo, index % 7, 2 * (index // 7) + 1)
            self.grade_combos[level] = combo
        layout.addWidget(grades_box)

        self.leakage_box = QGroupBox("Cement leakage at the treated levels")
        self.leakage_box.setToolTip(LEAKAGE_CAVEAT)
        self.leakage_layout = QGridLayout(self.leakage_box)
        self.leakage_checks: dict[str, dict[str, QCheckBox]] = {}
        layout.addWidget(self.leakage_box)
        caveat = QLabel(LEAKAGE_CAVEAT)
        caveat.setWordWrap(True)
        layout.addWidget(caveat)
        layout.addStretch(1)

    def show_state(
        self, *, observations: Mapping[str, LevelObservation], treated: Sequence[str], locked: bool
    ) -> None:
        """Show the read's observations; leakage rows for the treated (fractured) levels."""
        self._updating = True
        try:
            self._observations = dict(observations)
            for level, combo in self.grade_combos.items():
                grade = observations[level].genant_grade if level in observations else None
                combo.setCurrentIndex(combo.findData(grade) if grade is not None else 0)
                combo.setEnabled(not locked)
            if tuple(self.leakage_checks) != tuple(treated):
                self._rebuild_leakage(treated)
            for level, checks in self.leakage_checks.items():
                observation = observations.get(level, LevelObservation())
                chosen = {*map(str, observation.cement_leakage), *map(str, observation.yeom_types)}
                for value, box in checks.items():
                    box.setChecked(value in chosen)
                    box.setEnabled(not locked)
        finally:
            self._updating = False

    def _rebuild_leakage(self, treated: Sequence[str]) -> None:
        while self.leakage_layout.count():
            item = self.leakage_layout.takeAt(0)
            if item is not None and (widget := item.widget()) is not None:
                widget.deleteLater()
        self.leakage_checks = {}
        for row, level in enumerate(treated):
            self.leakage_layout.addWidget(QLabel(level), row, 0)
            checks: dict[str, QCheckBox] = {}
            for column, value in enumerate((*CementLeakage, *YeomType), start=1):
                box = QCheckBox(str(value) if isinstance(value, CementLeakage) else f"Yeom {value}")
                box.toggled.connect(lambda _on, lv=level: self._edited(lv))
                self.leakage_layout.addWidget(box, row, column)
                checks[str(value)] = box
            self.leakage_checks[level] = checks
        self.leakage_box.setVisible(bool(treated))

    def observation_at(self, level: str) -> LevelObservation:
        """What the controls say about a level (raises LandmarkError for an impossible combination)."""
        grade = self.grade_combos[level].currentData()
        checks = self.leakage_checks.get(level, {})
        leakage = tuple(
            CementLeakage(v) for v in CementLeakage if checks.get(str(v)) and checks[str(v)].isChecked()
        )
        types = tuple(YeomType(v) for v in YeomType if checks.get(str(v)) and checks[str(v)].isChecked())
        return LevelObservation(grade, leakage, types)

    def _edited(self, level: str) -> None:
        if self._updating:
            return
        try:
            observation: LevelObservation | None = self.observation_at(level)
        except LandmarkError:
            return  # e.g. a Yeom type ticked before its site: wait for the rest of the choice
        self.observation_edited.emit(level, observation)
