"""The REDCap data dictionary of the wide export, and REDCap's rules for one.

The dictionary has REDCap's 18 columns in REDCap's order, so it uploads into a project unchanged
(Project Setup > Data Dictionary); the wide CSV then imports as data (raw coded values). The rules
checked by `dictionary_problems` are those REDCap's upload applies: field names of lower-case letters,
digits and underscores starting with a letter, at most 100 characters (26 recommended; ours keep to
26), unique, not one of REDCap's reserved names; form names of the same characters; the record
identifier first; a known field type; `code, label | ...` choices with unique codes for radio and
dropdown fields and none for text; a known validation type only on text fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from kyphoangle.edc.variables import FieldType, Variable

REDCAP_COLUMNS: tuple[str, ...] = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
"""The columns of a REDCap data dictionary, in the order REDCap writes and expects them."""

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
FIELD_NAME_MAX = 100
FIELD_NAME_RECOMMENDED = 26
FIELD_TYPES = frozenset(
    {
        "text",
        "notes",
        "dropdown",
        "radio",
        "checkbox",
        "yesno",
        "truefalse",
        "calc",
        "file",
        "slider",
        "descriptive",
        "sql",
    }
)
VALIDATION_TYPES = frozenset(
    {
        "",
        "integer",
        "number",
        "number_1dp",
        "number_2dp",
        "date_ymd",
        "date_dmy",
        "date_mdy",
        "datetime_ymd",
        "time",
        "email",
        "phone",
        "alpha_only",
        "zipcode",
    }
)
RESERVED_NAMES = frozenset(
    {
        "redcap_event_name",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
        "redcap_data_access_group",
        "redcap_survey_identifier",
        "redcap_arm",
        "event_id",
        "arm",
        "event",
        "record",
        "project_id",
        "instance",
        "field_name",
        "form_name",
    }
)
"""Names REDCap uses itself (`redcap_*` is refused by prefix too)."""
CHOICE = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*,\s*(.+?)\s*$")


def dictionary_rows(variables: Sequence[Variable]) -> list[list[str]]:
    """The dictionary's rows (without the header), one per variable."""
    rows = []
    previous_form = None
    for variable in variables:
        section = ""
        if variable.form != previous_form:
            section = {
                "radiograph_read": "Film and read",
                "measurements": "Measurements",
                "changes": "Change from baseline and from D2-D5",
            }.get(str(variable.form), "")
            previous_form = variable.form
        rows.append(
            [
                variable.name,
                str(variable.form),
                section,
                str(variable.field_type),
                variable.label,
                variable.choices_text(),
                variable.note,
                str(variable.validation),
                "",
                "",
                "",
                "",
                "y" if variable.name == "record_id" else "",
                "",
                "",
                "",
                "",
                "",
            ]
        )
    return rows


def dictionary_problems(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """What REDCap would refuse (or warn about) in a dictionary; empty when it uploads cleanly."""
    problems = []
    if tuple(header) != REDCAP_COLUMNS:
        problems.append("the columns are not REDCap's 18 dictionary columns in REDCap's order")
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        if len(row) != len(REDCAP_COLUMNS):
            problems.append(f"row {number}: {len(row)} cells instead of {len(REDCAP_COLUMNS)}")
            continue
        name, form, _, field_type, label, choices, _, validation = row[:8]
        where = f"row {number} ({name})"
        if not FIELD_NAME.match(name):
            problems.append(
                f"{where}: field names are lower-case letters, digits and _, starting with a letter"
            )
        if len(name) > FIELD_NAME_MAX:
            problems.append(f"{where}: field name longer than {FIELD_NAME_MAX} characters")
        elif len(name) > FIELD_NAME_RECOMMENDED:
            problems.append(
                f"{where}: field name longer than the recommended {FIELD_NAME_RECOMMENDED} characters"
            )
        if name in seen:
            problems.append(f"{where}: duplicate field name")
        seen.add(name)
        if name in RESERVED_NAMES or name.startswith("redcap_") or name.endswith("_complete"):
            problems.append(f"{where}: reserved field name")
        if not FIELD_NAME.match(form):
            problems.append(f"{where}: form names are lower-case letters, digits and _")
        if field_type not in FIELD_TYPES:
            problems.append(f"{where}: unknown field type {field_type!r}")
        if not label.strip():
            problems.append(f"{where}: empty field label")
        if field_type in (FieldType.RADIO, FieldType.DROPDOWN, "checkbox"):
            codes = [CHOICE.match(part) for part in choices.split("|")]
            if not choices or any(code is None for code in codes):
                problems.append(f"{where}: choices must read 'code, label | code, label'")
            else:
                values = [code.group(1) for code in codes if code is not None]
                if len(set(values)) != len(values):
                    problems.append(f"{where}: duplicate choice codes")
        elif choices and field_type not in ("calc", "slider", "sql"):
            problems.append(f"{where}: choices on a {field_type} field")
        if validation not in VALIDATION_TYPES:
            problems.append(f"{where}: unknown validation type {validation!r}")
        elif validation and field_type != FieldType.TEXT:
            problems.append(f"{where}: validation on a {field_type} field")
        if number == 1 and name != "record_id":
            problems.append("the first field must be the record identifier")
    return problems
