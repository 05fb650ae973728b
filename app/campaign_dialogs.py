"""Dialogs of the campaign manager: setting up a new campaign, closing one.

The dialogs collect what the user chose and hand it to the campaign store; the core checks it. A refused
entry is explained in the dialog, which stays open with everything as typed, and nothing is created.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import QRegularExpressionValidator, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kyphoangle.campaign import (
    DEFAULT_MIN_GAP,
    DEFAULT_REPEAT_FRACTION,
    DEFAULT_THRESHOLD_DEG,
    MAX_READERS,
    MIN_READERS,
    AdjudicationRule,
    CampaignError,
)
from kyphoangle.errors import KyphoangleError
from kyphoangle.protocol import MEASUREMENT_DEFINITIONS, MeasurementName
from kyphoangle.workstation.campaign_admin import (
    CampaignChoices,
    CampaignDetails,
    CampaignRequest,
    Choice,
    Person,
)

ERROR_STYLE = "color: #c62828;"


def _code_list(choices: Sequence[Choice], name: str) -> QListWidget:
    widget = QListWidget()
    widget.setObjectName(name)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
    for choice in choices:
        item = QListWidgetItem(choice.label)
        item.setData(Qt.ItemDataRole.UserRole, choice.code)
        widget.addItem(item)
    return widget


def _person_item(person: Person) -> QListWidgetItem:
    item = QListWidgetItem(person.label)
    item.setData(Qt.ItemDataRole.UserRole, person.login)
    return item


def _selected_codes(widget: QListWidget) -> tuple[str, ...]:
    return tuple(
        str(widget.item(row).data(Qt.ItemDataRole.UserRole))
        for row in range(widget.count())
        if widget.item(row).isSelected()
    )


class NewCampaignDialog(QDialog):
    """Name, films, readers, adjudication rule, repeats, seed and snapping of a new campaign."""

    def __init__(
        self,
        choices: CampaignChoices,
        create: Callable[[CampaignRequest], CampaignDetails],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("newCampaignDialog")
        self.setWindowTitle("New reading campaign")
        self._create = create
        self.created: CampaignDetails | None = None
        self.people = {p.login: p for p in (*choices.readers, *choices.adjudicators)}

        grid = QGridLayout()
        grid.addWidget(self._name_box(), 0, 0)
        grid.addWidget(self._repeats_box(), 0, 1)
        grid.addWidget(self._films_box(choices), 1, 0, 1, 2)
        grid.addWidget(self._readers_box(choices), 2, 0)
        grid.addWidget(self._rule_box(), 2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(1, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(grid, 1)
        self.error_label = QLabel()
        self.error_label.setObjectName("campaignError")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setWordWrap(True)
        layout.addWidget(self.error_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.create_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.create_button.setText("Create campaign")
        self.create_button.setObjectName("createCampaignButton")
        self.buttons.accepted.connect(self.try_create)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._films_mode_changed()
        self._readers_changed()
        self._measurements_changed()
        self.resize(1120, 760)
        self.name_edit.setFocus()

    # ------------------------------------------------------------------------------------ building
    def _name_box(self) -> QGroupBox:
        box = QGroupBox("Campaign")
        form = QFormLayout(box)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("campaignName")
        self.name_edit.setPlaceholderText("a short name, e.g. CR-2025-1")
        self.name_edit.setMaxLength(64)
        self.title_edit = QLineEdit()
        self.title_edit.setObjectName("campaignTitle")
        self.title_edit.setPlaceholderText("the name when left empty")
        self.title_edit.setMaxLength(200)
        self.seed_edit = QLineEdit()
        self.seed_edit.setObjectName("seed")
        self.seed_edit.setPlaceholderText("generated when empty, and recorded")
        self.seed_edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,10}"), self))
        self.seed_edit.setToolTip("Decides the case codes and every reader's order; kept with the campaign")
        form.addRow("Name:", self.name_edit)
        form.addRow("Title:", self.title_edit)
        self.snapping_box = QCheckBox("Snapping allowed")
        self.snapping_box.setObjectName("snappingAllowed")
        self.snapping_box.setChecked(True)
        self.snapping_box.setToolTip(
            "Readers may accept the positions snapping proposes; untick to have every landmark placed "
            "by hand (for comparability with reads made without snapping)"
        )
        form.addRow("Random seed:", self.seed_edit)
        form.addRow(self.snapping_box)
        return box

    def _films_box(self, choices: CampaignChoices) -> QGroupBox:
        box = QGroupBox("Films")
        layout = QVBoxLayout(box)
        self.all_films = QRadioButton("All films of the study")
        self.all_films.setObjectName("allFilms")
        self.some_films = QRadioButton(
            "Only the films of the selected subjects, visits and sites (a list left empty does not filter)"
        )
        self.some_films.setObjectName("someFilms")
        group = QButtonGroup(self)
        group.addButton(self.all_films)
        group.addButton(self.some_films)
        self.all_films.setChecked(True)
        self.all_films.toggled.connect(lambda _on: self._films_mode_changed())
        layout.addWidget(self.all_films)
        layout.addWidget(self.some_films)
        self.subject_list = _code_list(choices.subjects, "subjectList")
        self.visit_list = _code_list(choices.visits, "visitList")
        self.site_list = _code_list(choices.sites, "siteList")
        grid = QGridLayout()
        for column, (title, widget) in enumerate(
            (("Subjects", self.subject_list), ("Visits", self.visit_list), ("Sites", self.site_list))
        ):
            grid.addWidget(QLabel(title), 0, column)
            grid.addWidget(widget, 1, column)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(2, 2)
        layout.addLayout(grid, 1)
        return box

    def _readers_box(self, choices: CampaignChoices) -> QGroupBox:
        box = QGroupBox("Readers")
        layout = QVBoxLayout(box)
        note = QLabel(
            f"Choose {MIN_READERS} to {MAX_READERS} central readers. Their order counts: without "
            "adjudication, reader 1's read is the final one."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        lists = QGridLayout()
        self.available_list = QListWidget()
        self.available_list.setObjectName("availableReaders")
        for person in choices.readers:
            self.available_list.addItem(_person_item(person))
        self.chosen_list = QListWidget()
        self.chosen_list.setObjectName("chosenReaders")
        self.add_reader_button = QPushButton("Add \u2192")
        self.add_reader_button.setObjectName("addReader")
        self.remove_reader_button = QPushButton("\u2190 Remove")
        self.remove_reader_button.setObjectName("removeReader")
        self.up_button = QPushButton("Up")
        self.up_button.setObjectName("readerUp")
        self.down_button = QPushButton("Down")
        self.down_button.setObjectName("readerDown")
        buttons = QVBoxLayout()
        buttons.addStretch(1)
        for button in (self.add_reader_button, self.remove_reader_button, self.up_button, self.down_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        lists.addWidget(QLabel("Central readers"), 0, 0)
        lists.addWidget(QLabel("Chosen, reader 1 first"), 0, 2)
        lists.addWidget(self.available_list, 1, 0)
        lists.addLayout(buttons, 1, 1)
        lists.addWidget(self.chosen_list, 1, 2)
        layout.addLayout(lists, 1)
        self.add_reader_button.clicked.connect(self.add_reader)
        self.remove_reader_button.clicked.connect(self.remove_reader)
        self.up_button.clicked.connect(lambda: self._move_reader(-1))
        self.down_button.clicked.connect(lambda: self._move_reader(1))
        self.available_list.itemDoubleClicked.connect(lambda _item: self.add_reader())
        self.chosen_list.itemDoubleClicked.connect(lambda _item: self.remove_reader())
        self.available_list.currentRowChanged.connect(lambda _row: self._readers_changed())
        self.chosen_list.currentRowChanged.connect(lambda _row: self._readers_changed())
        form = QFormLayout()
        self.adjudicator_combo = QComboBox()
        self.adjudicator_combo.setObjectName("adjudicator")
        for person in choices.adjudicators:
            self.adjudicator_combo.addItem(person.label, person.login)
        self.adjudicator_combo.currentIndexChanged.connect(lambda _index: self._readers_changed())
        form.addRow("Adjudicator:", self.adjudicator_combo)
        layout.addLayout(form)
        return box

    def _rule_box(self) -> QGroupBox:
        box = QGroupBox("Measurements and adjudication rule")
        layout = QVBoxLayout(box)
        layout.addWidget(QLabel("Measurements whose agreement is reported:"))
        self.measurement_list = QListWidget()
        self.measurement_list.setObjectName("measurementList")
        # Ticks flow down, then into the next column: every measurement visible without scrolling.
        self.measurement_list.setFlow(QListView.Flow.TopToBottom)
        self.measurement_list.setWrapping(True)
        self.measurement_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.measurement_list.setSpacing(1)
        first = MeasurementName.REGIONAL_ANGLE
        order = [first, *(m for m in MeasurementName if m is not first)]
        for name in order:
            item = QListWidgetItem(MEASUREMENT_DEFINITIONS[name].label)
            item.setData(Qt.ItemDataRole.UserRole, str(name))
            item.setToolTip(MEASUREMENT_DEFINITIONS[name].description)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name is first else Qt.CheckState.Unchecked)
            self.measurement_list.addItem(item)
        rows = (len(order) + 1) // 2
        self.measurement_list.setFixedHeight(
            rows * (self.measurement_list.sizeHintForRow(0) + 2) + 2 * self.measurement_list.frameWidth() + 4
        )
        self.measurement_list.itemChanged.connect(lambda _item: self._measurements_changed())
        layout.addWidget(self.measurement_list)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.rule_combo = QComboBox()
        self.rule_combo.setObjectName("ruleMeasurement")
        self.rule_combo.currentIndexChanged.connect(lambda _index: self._rule_measurement_changed())
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setObjectName("threshold")
        self.threshold_spin.setRange(0.1, 90.0)
        self.threshold_spin.setDecimals(1)
        self.threshold_spin.setSingleStep(0.5)
        self.threshold_spin.setValue(DEFAULT_THRESHOLD_DEG)
        self.level_rule_box = QCheckBox("Also when the readers disagree on the evaluable levels")
        self.level_rule_box.setObjectName("levelRule")
        self.level_rule_box.setChecked(True)
        form.addRow("Adjudicate on:", self.rule_combo)
        form.addRow("When they differ by more than:", self.threshold_spin)
        form.addRow(self.level_rule_box)
        layout.addLayout(form)
        layout.addStretch(1)
        return box

    def _repeats_box(self) -> QGroupBox:
        box = QGroupBox("Repeats (intra-reader reliability)")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.repeat_spin = QSpinBox()
        self.repeat_spin.setObjectName("repeatPercent")
        self.repeat_spin.setRange(0, 100)
        self.repeat_spin.setSuffix(" %")
        self.repeat_spin.setValue(round(DEFAULT_REPEAT_FRACTION * 100))
        self.gap_spin = QSpinBox()
        self.gap_spin.setObjectName("minGap")
        self.gap_spin.setRange(0, 100_000)
        self.gap_spin.setSuffix(" cases")
        self.gap_spin.setValue(DEFAULT_MIN_GAP)
        self.gap_days_spin = QSpinBox()
        self.gap_days_spin.setObjectName("minGapDays")
        self.gap_days_spin.setRange(0, 3650)
        self.gap_days_spin.setSuffix(" days")
        self.gap_days_spin.setSpecialValueText("no minimum in days")
        form.addRow("Cases read twice:", self.repeat_spin)
        form.addRow("Repeat at least:", self.gap_spin)
        form.addRow("and at least:", self.gap_days_spin)
        return box

    # -------------------------------------------------------------------------------------- editing
    def _films_mode_changed(self) -> None:
        for widget in (self.subject_list, self.visit_list, self.site_list):
            widget.setEnabled(self.some_films.isChecked())

    def _chosen_logins(self) -> set[str]:
        return {
            str(self.chosen_list.item(row).data(Qt.ItemDataRole.UserRole))
            for row in range(self.chosen_list.count())
        }

    def _keep_roles_apart(self) -> None:
        """The adjudicator cannot be chosen as a reader of the campaign, nor a reader as its adjudicator."""
        adjudicator = self.adjudicator_combo.currentData()
        for row in range(self.available_list.count()):
            item = self.available_list.item(row)
            taken = item.data(Qt.ItemDataRole.UserRole) == adjudicator
            flags = item.flags()
            enabled = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            item.setFlags(flags & ~enabled if taken else flags | enabled)
            item.setToolTip("The campaign's adjudicator: choose another adjudicator first" if taken else "")
        chosen = self._chosen_logins()
        model = self.adjudicator_combo.model()
        if isinstance(model, QStandardItemModel):
            for row in range(self.adjudicator_combo.count()):
                entry = model.item(row)
                if entry is not None:
                    entry.setEnabled(self.adjudicator_combo.itemData(row) not in chosen)

    def _readers_changed(self) -> None:
        self._keep_roles_apart()
        count = self.chosen_list.count()
        for row in range(count):
            item = self.chosen_list.item(row)
            person = self.people[str(item.data(Qt.ItemDataRole.UserRole))]
            item.setText(f"{row + 1}. {person.label}")
        current = self.chosen_list.currentRow()
        available = self.available_list.currentItem()
        self.add_reader_button.setEnabled(
            available is not None
            and bool(available.flags() & Qt.ItemFlag.ItemIsEnabled)
            and count < MAX_READERS
        )
        self.remove_reader_button.setEnabled(current >= 0)
        self.up_button.setEnabled(current > 0)
        self.down_button.setEnabled(0 <= current < count - 1)

    def add_reader(self) -> None:
        """Move the reader selected on the left to the end of the chosen readers."""
        row = self.available_list.currentRow()
        if row < 0 or self.chosen_list.count() >= MAX_READERS:
            return
        if not self.available_list.item(row).flags() & Qt.ItemFlag.ItemIsEnabled:
            return  # the campaign's adjudicator
        item = self.available_list.takeItem(row)
        self.chosen_list.addItem(item)
        self.chosen_list.setCurrentItem(item)
        self._readers_changed()

    def remove_reader(self) -> None:
        """Give the selected chosen reader back to the list of central readers."""
        row = self.chosen_list.currentRow()
        if row < 0:
            return
        item = self.chosen_list.takeItem(row)
        item.setText(self.people[str(item.data(Qt.ItemDataRole.UserRole))].label)
        self.available_list.addItem(item)
        self.available_list.sortItems()
        self._readers_changed()

    def _move_reader(self, step: int) -> None:
        row = self.chosen_list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.chosen_list.count():
            return
        item = self.chosen_list.takeItem(row)
        self.chosen_list.insertItem(target, item)
        self.chosen_list.setCurrentItem(item)
        self._readers_changed()

    def checked_measurements(self) -> tuple[MeasurementName, ...]:
        """The ticked measurements, in list order."""
        return tuple(
            MeasurementName(str(self.measurement_list.item(row).data(Qt.ItemDataRole.UserRole)))
            for row in range(self.measurement_list.count())
            if self.measurement_list.item(row).checkState() == Qt.CheckState.Checked
        )

    def _measurements_changed(self) -> None:
        current = self.rule_combo.currentData()
        self.rule_combo.blockSignals(True)
        self.rule_combo.clear()
        for name in self.checked_measurements():
            self.rule_combo.addItem(MEASUREMENT_DEFINITIONS[name].label, str(name))
        index = self.rule_combo.findData(current)
        self.rule_combo.setCurrentIndex(max(index, 0))
        self.rule_combo.blockSignals(False)
        self._rule_measurement_changed()

    def _rule_measurement_changed(self) -> None:
        data = self.rule_combo.currentData()
        unit = MEASUREMENT_DEFINITIONS[MeasurementName(data)].unit if data else "deg"
        self.threshold_spin.setSuffix(f" {unit}")

    # ------------------------------------------------------------------------------------- creating
    def request(self) -> CampaignRequest:
        """The campaign as entered (CampaignError when something cannot be read at all)."""
        measurements = self.checked_measurements()
        if not measurements:
            raise CampaignError("tick at least one measurement")
        if self.adjudicator_combo.currentIndex() < 0:
            raise CampaignError("there is no user who may adjudicate: ask an admin to add one")
        subjects = visits = sites = None
        if self.some_films.isChecked():
            subjects = _selected_codes(self.subject_list) or None
            visits = _selected_codes(self.visit_list) or None
            sites = _selected_codes(self.site_list) or None
            if subjects is None and visits is None and sites is None:
                raise CampaignError("select subjects, visits or sites, or take all films of the study")
        seed_text = self.seed_edit.text().strip()
        return CampaignRequest(
            code=self.name_edit.text().strip(),
            title=self.title_edit.text().strip(),
            readers=tuple(
                str(self.chosen_list.item(row).data(Qt.ItemDataRole.UserRole))
                for row in range(self.chosen_list.count())
            ),
            adjudicator=str(self.adjudicator_combo.currentData()),
            subjects=subjects,
            visits=visits,
            sites=sites,
            measurements=measurements,
            rule=AdjudicationRule(
                MeasurementName(str(self.rule_combo.currentData())),
                self.threshold_spin.value(),
                self.level_rule_box.isChecked(),
            ),
            repeat_fraction=self.repeat_spin.value() / 100,
            min_gap=self.gap_spin.value(),
            min_gap_days=self.gap_days_spin.value() or None,
            seed=int(seed_text) if seed_text else None,
            snapping=self.snapping_box.isChecked(),
        )

    def try_create(self) -> None:
        """Create the campaign; on success close, else say why and keep everything as entered."""
        try:
            self.created = self._create(self.request())
        except KyphoangleError as exc:
            message = str(exc)
            self.error_label.setText(message[:1].upper() + message[1:])
            return
        self.accept()


class CloseCampaignDialog(QDialog):
    """Confirms closing a campaign, with an optional reason for the audit trail."""

    def __init__(self, code: str, summary: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("closeCampaignDialog")
        self.setWindowTitle("Close campaign")
        layout = QVBoxLayout(self)
        self.message = QLabel(
            f"<b>Close campaign {code}?</b><br>{summary}<br><br>"
            "A closed campaign takes no more reads or adjudications. Its reads, the export and the "
            "agreement report stay available. Closing is recorded in the audit trail."
        )
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        form = QFormLayout()
        self.reason_edit = QLineEdit()
        self.reason_edit.setObjectName("closeReason")
        self.reason_edit.setPlaceholderText("optional")
        form.addRow("Reason:", self.reason_edit)
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.close_button.setText("Close campaign")
        self.close_button.setObjectName("confirmClose")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(480, self.sizeHint().height())

    @property
    def reason(self) -> str:
        """The reason typed (may be empty)."""
        return self.reason_edit.text().strip()
