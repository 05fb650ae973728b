"""Text that leaves kyphoangle safely: CSV cells no spreadsheet runs as formulas, names fit for a terminal.

- `csv_cell` neutralises a text cell that a spreadsheet would take for a formula or a command (one
  that begins with `=`, `+`, `-`, `@`, a tab or a carriage return) by putting an apostrophe before it,
  as OWASP recommends for CSV injection. Numbers are never touched: `-5.2` stays a negative number.
- `terminal_safe` removes control characters (C0, DEL, C1) and the Unicode bidirectional overrides
  from a name (subject, campaign, user) before it is printed or put into a report, so a crafted name
  cannot move the cursor, clear the screen or reorder what a reader sees.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a cell as a formula or command."""

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|nan)$", re.IGNORECASE)


def csv_cell(value: Any) -> Any:
    """The cell as written to a CSV: a text that could run as a formula gets a leading apostrophe."""
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    if _NUMBER.match(value):
        return value
    return "'" + value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row through `csv_cell`."""
    return [csv_cell(value) for value in values]


def csv_record(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every value of a `csv.DictWriter` record through `csv_cell`."""
    return {key: csv_cell(value) for key, value in values.items()}


def terminal_safe(text: str) -> str:
    """The text without control characters or bidirectional overrides (tabs and newlines included)."""
    return _CONTROL.sub("", text)
