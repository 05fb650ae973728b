"""The variables of the statisticians' wide export, as the trial's EDC (REDCap) knows them.

One row per subject and visit. Names are REDCap field names (lower case, `[a-z][a-z0-9_]*`, at most 26
characters). A subject's treated levels are slots `lvl1` to `lvl3` in the order recorded for the subject
(`lvl1_level` says which vertebra), so the columns are the same for every subject. Every measured
variable has two derived variables: `<name>_cb`, change from baseline (value minus the baseline visit's
value), and `<name>_cp`, change from the post-operative visit D2-D5 (value minus that visit's value:
the loss of correction). A change is empty when either value is missing, or when the two values were
measured with different global endpoints or normal tables (they are never mixed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from kyphoangle.anatomy import FRACTURE_LEVELS
from kyphoangle.protocol import MEASUREMENT_DEFINITIONS, MeasurementName, Unit
from kyphoangle.spacing import SpacingSource
from kyphoangle.vocabulary import NotEvaluableReason

LEVEL_SLOTS = 3
"""Treated levels per subject (1 to 3 in the study)."""

SHORT_NAMES: Mapping[MeasurementName, str] = {
    MeasurementName.THORACIC_KYPHOSIS: "tk",
    MeasurementName.LUMBAR_LORDOSIS: "ll",
    MeasurementName.REGIONAL_ANGLE: "ra",
    MeasurementName.TRAUMATIC_REGIONAL_ANGLE: "art",
    MeasurementName.VERTEBRAL_KYPHOSIS: "vk",
    MeasurementName.SEGMENTAL_KYPHOSIS: "sk",
    MeasurementName.ANTERIOR_HEIGHT: "ha",
    MeasurementName.MIDDLE_HEIGHT: "hm",
    MeasurementName.POSTERIOR_HEIGHT: "hp",
    MeasurementName.BECK_INDEX: "beck",
    MeasurementName.ANTERIOR_HEIGHT_LOSS: "ahl",
    MeasurementName.MIDDLE_HEIGHT_LOSS: "mhl",
    MeasurementName.POSTERIOR_HEIGHT_LOSS: "phl",
    MeasurementName.GENANT_GRADE: "genant",
}
"""The EDC's short name of each measurement."""

CHANGE_FROM_BASELINE = "cb"
CHANGE_FROM_POSTOP = "cp"


class FieldType(StrEnum):
    """REDCap field types used by the export."""

    TEXT = "text"
    RADIO = "radio"
    DROPDOWN = "dropdown"


class Validation(StrEnum):
    """REDCap text validation types used by the export."""

    NONE = ""
    INTEGER = "integer"
    NUMBER = "number"


class Form(StrEnum):
    """REDCap instruments (forms) of the export."""

    READ = "radiograph_read"
    MEASUREMENTS = "measurements"
    CHANGES = "changes"


@dataclass(frozen=True, slots=True)
class Variable:
    """One column of the wide export and one field of the REDCap dictionary."""

    name: str
    form: Form
    label: str
    field_type: FieldType = FieldType.TEXT
    validation: Validation = Validation.NONE
    choices: tuple[tuple[str, str], ...] = ()
    """(raw code, label) pairs of a radio or dropdown field."""
    note: str = ""
    measurement: MeasurementName | None = None
    slot: int | None = None
    """Treated level slot (1 to 3) of a per-level variable."""
    change: str | None = None
    """`cb` or `cp` for a derived change, else None."""

    def choices_text(self) -> str:
        """REDCap's `code, label | code, label` form."""
        return " | ".join(f"{code}, {label}" for code, label in self.choices)


def _coded(values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    return tuple((str(n), value) for n, value in enumerate(values, start=1))


LEVEL_CHOICES = _coded(FRACTURE_LEVELS)
NOT_EVALUABLE_CHOICES = _coded([str(r) for r in NotEvaluableReason])
SPACING_CHOICES = _coded([str(s) for s in SpacingSource])
READ_SOURCE_CHOICES = (("1", "site"), ("2", "central"))


def _unit_note(unit: Unit) -> str:
    return {
        Unit.DEG: "degrees; kyphosis positive, lordosis negative",
        Unit.MM: "mm (pixels when the film has no spacing: see spacing_source)",
        Unit.RATIO: "ratio",
        Unit.PERCENT: "percent",
        Unit.GRADE: "Genant grade 0-3",
    }.get(unit, str(unit))


def _measured(name: MeasurementName, slot: int | None) -> list[Variable]:
    definition = MEASUREMENT_DEFINITIONS[name]
    short = SHORT_NAMES[name]
    base = f"lvl{slot}_{short}" if slot is not None else short
    where = f" (treated level {slot})" if slot is not None else ""
    validation = Validation.INTEGER if definition.unit is Unit.GRADE else Validation.NUMBER
    note = _unit_note(definition.unit)
    variables = [
        Variable(
            base,
            Form.MEASUREMENTS,
            f"{definition.label}{where}",
            validation=validation,
            note=note,
            measurement=name,
            slot=slot,
        ),
        Variable(
            f"{base}_{CHANGE_FROM_BASELINE}",
            Form.CHANGES,
            f"{definition.label}{where}: change from baseline",
            validation=Validation.NUMBER,
            note=note,
            measurement=name,
            slot=slot,
            change=CHANGE_FROM_BASELINE,
        ),
        Variable(
            f"{base}_{CHANGE_FROM_POSTOP}",
            Form.CHANGES,
            f"{definition.label}{where}: change from D2-D5 (loss of correction)",
            validation=Validation.NUMBER,
            note=note,
            measurement=name,
            slot=slot,
            change=CHANGE_FROM_POSTOP,
        ),
    ]
    return variables


def edc_variables(visit_choices: Sequence[tuple[str, str]]) -> list[Variable]:
    """Every variable in column order; `visit_choices` are the study's (code, label) visits."""
    read = [
        Variable("record_id", Form.READ, "Record (subject and visit)", note="subject code, '-', visit"),
        Variable("subject", Form.READ, "Subject study code", note="never the patient's name or ID"),
        Variable("site", Form.READ, "Site code"),
        Variable("visit", Form.READ, "Visit", FieldType.RADIO, choices=tuple(visit_choices)),
        Variable(
            "visit_day",
            Form.READ,
            "Day of the film from the procedure (D0)",
            validation=Validation.INTEGER,
            note="days; negative before the procedure",
        ),
        Variable(
            "read_source",
            Form.READ,
            "Reads used",
            FieldType.RADIO,
            choices=READ_SOURCE_CHOICES,
            note="site: latest signed site read; central: final read of the blinded campaign",
        ),
        Variable("read_id", Form.READ, "Read identifier in kyphoangle", validation=Validation.INTEGER),
        Variable(
            "spacing_source", Form.READ, "Calibration source", FieldType.DROPDOWN, choices=SPACING_CHOICES
        ),
        Variable("normal_table", Form.READ, "Normal table of ART"),
        Variable("normal_table_ver", Form.READ, "Normal table version"),
        Variable(
            "tk_endpoints", Form.READ, "Thoracic kyphosis endpoints", note="e.g. T4.superior-T12.inferior"
        ),
        Variable("ll_endpoints", Form.READ, "Lumbar lordosis endpoints", note="e.g. L1.superior-S1.superior"),
    ]
    measured: list[Variable] = []
    for name, definition in MEASUREMENT_DEFINITIONS.items():
        if not definition.per_level:
            measured += _measured(name, None)
    for slot in range(1, LEVEL_SLOTS + 1):
        measured.append(
            Variable(
                f"lvl{slot}_level",
                Form.MEASUREMENTS,
                f"Treated level {slot}",
                FieldType.DROPDOWN,
                choices=LEVEL_CHOICES,
            )
        )
        measured.append(
            Variable(
                f"lvl{slot}_not_evaluable",
                Form.MEASUREMENTS,
                f"Treated level {slot}: not evaluable because",
                FieldType.DROPDOWN,
                choices=NOT_EVALUABLE_CHOICES,
                note="empty when the level was measured",
            )
        )
        for name, definition in MEASUREMENT_DEFINITIONS.items():
            if definition.per_level:
                measured += _measured(name, slot)
    values = [v for v in measured if v.change is None]
    changes = [v for v in measured if v.change is not None]
    return [*read, *values, *changes]
