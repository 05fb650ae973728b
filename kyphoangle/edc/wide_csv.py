"""The wide CSV (REDCap import format: raw coded values) and its REDCap data dictionary, as files."""

from __future__ import annotations

import csv
from pathlib import Path

from kyphoangle.edc.redcap import REDCAP_COLUMNS, dictionary_problems, dictionary_rows
from kyphoangle.edc.rows import WideExport
from kyphoangle.errors import KyphoangleError
from kyphoangle.output_file import output_text


def dictionary_path_for(out: Path) -> Path:
    """`OUT.redcap.csv` beside `OUT.csv`."""
    stem = out.name[: -len(out.suffix)] if out.suffix else out.name
    return out.with_name(f"{stem}.redcap.csv")


def write_dictionary(export: WideExport, path: str | Path) -> None:
    """Write the REDCap data dictionary; refuses one REDCap would not take."""
    rows = dictionary_rows(export.variables)
    problems = dictionary_problems(REDCAP_COLUMNS, rows)
    if problems:
        raise KyphoangleError("the REDCap dictionary would be refused: " + "; ".join(problems[:3]))
    with output_text(path, newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(REDCAP_COLUMNS)
        writer.writerows(rows)


def write_wide_csv(export: WideExport, path: str | Path) -> Path | None:
    """Write the data (one row per subject and visit) and, beside a file, its dictionary."""
    names = [v.name for v in export.variables]
    with output_text(path, newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(names)
        for row in export.rows:
            writer.writerow([row.get(name, "") for name in names])
    if str(path) == "-":
        return None
    dictionary = dictionary_path_for(Path(path))
    write_dictionary(export, dictionary)
    return dictionary
