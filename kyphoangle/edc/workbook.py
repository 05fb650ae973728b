"""The Excel workbook of the wide export (openpyxl): data, the REDCap dictionary, and the conventions.

Sheet `data` holds the same rows as the wide CSV, numbers as numbers; `dictionary` the REDCap data
dictionary; `conventions` the sign convention, units, visit windows, how reads were chosen and how the
derived change columns are computed, so the file explains itself when it travels without its CSV.
"""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from kyphoangle.edc.redcap import REDCAP_COLUMNS, dictionary_rows
from kyphoangle.edc.rows import WideExport
from kyphoangle.edc.variables import Validation
from kyphoangle.output_file import output_binary

CONVENTIONS: tuple[tuple[str, str], ...] = (
    ("Rows", "One row per subject and visit: the read chosen for that visit (see read_source)."),
    (
        "Reads",
        "site: the latest signed, not superseded site read of a film of the visit. central: the final "
        "read of the blinded campaign (reader 1's read, or the read the adjudicator chose).",
    ),
    (
        "Angles",
        "Degrees, signed: kyphosis positive, lordosis negative, whichever way the patient faces. "
        "Computed in millimetre space from endplate corner points (posterior and anterior).",
    ),
    (
        "ART",
        "Traumatic regional angle = regional angle minus the normal table's physiological value of the "
        "level (normal_table, normal_table_ver).",
    ),
    (
        "Heights",
        "mm between the matching corners of the vertebra's endplates; pixels when spacing_source "
        "says the film had no spacing.",
    ),
    (
        "Treated levels",
        "lvl1 to lvl3 are the subject's treated levels in the recorded order; lvlN_level "
        "names the vertebra. A level marked not evaluable has empty values and its reason.",
    ),
    (
        "_cb columns",
        "Change from baseline: value at this visit minus the value at the baseline visit "
        "(same subject, same read source, same level). Empty at baseline.",
    ),
    (
        "_cp columns",
        "Change from D2-D5 (loss of correction): value at this visit minus the value at the "
        "post-operative visit D2-D5. Empty at D2-D5 and before it is read.",
    ),
    (
        "Never mixed",
        "A change is empty when either value is missing, or when the two were measured with "
        "different global endpoints or normal tables.",
    ),
    (
        "Coded values",
        "visit, read_source, spacing_source, lvlN_level and lvlN_not_evaluable hold codes; the "
        "dictionary sheet lists each code and its label.",
    ),
    (
        "No identity",
        "No patient name, patient ID or calendar date; visit_day counts days from the procedure.",
    ),
)
"""The conventions sheet: what every column means beyond its dictionary entry."""


def _cell(value: str, numeric: bool) -> str | float | int:
    if not numeric or value == "":
        return value
    number = float(value)
    return int(number) if number.is_integer() and "." not in value else number


def write_workbook(export: WideExport, path: str | Path) -> None:
    """Write the workbook, whole or not at all."""
    book = Workbook()
    data = book.active
    assert data is not None
    data.title = "data"
    names = [v.name for v in export.variables]
    numeric = {v.name for v in export.variables if v.validation in (Validation.INTEGER, Validation.NUMBER)}
    data.append(names)
    for row in export.rows:
        data.append([_cell(row.get(name, ""), name in numeric) for name in names])
    data.freeze_panes = "B2"
    dictionary = book.create_sheet("dictionary")
    dictionary.append(list(REDCAP_COLUMNS))
    for line in dictionary_rows(export.variables):
        dictionary.append(line)
    conventions = book.create_sheet("conventions")
    conventions.append(["topic", "convention"])
    for topic, text in CONVENTIONS:
        conventions.append([topic, text])
    conventions.column_dimensions["A"].width = 16
    conventions.column_dimensions["B"].width = 120
    for sheet in (data, dictionary, conventions):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    with output_binary(path) as stream:
        stream.write(buffer.getvalue())
