"""CSV cells that would run as spreadsheet formulas are neutralised; names lose control characters."""

from __future__ import annotations

import pytest

from kyphoangle.text_safety import csv_cell, csv_record, csv_row, terminal_safe


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-5.25", "-5.25"),
        ("+3", "+3"),
        ("-1e-05", "-1e-05"),
        ("-inf", "-inf"),
        ("CR-1", "CR-1"),
        ("", ""),
    ],
)
def test_csv_cells(cell: str, written: str) -> None:
    assert csv_cell(cell) == written


def test_rows_records_and_numbers() -> None:
    assert csv_row(["=1", -2.5, 3, None]) == ["'=1", -2.5, 3, None]
    assert csv_record({"campaign": "=X", "value": "-0.5"}) == {"campaign": "'=X", "value": "-0.5"}


def test_terminal_safe_removes_controls_and_bidi_overrides() -> None:
    assert terminal_safe("Do\x1b[31me\x00\x07^J\u202eane\u2066\n\t\x9b") == "Do[31me^Jane"
    assert terminal_safe("Müller-Łukasz O'Brien") == "Müller-Łukasz O'Brien"
