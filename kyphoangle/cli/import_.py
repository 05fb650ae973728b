"""`kyphoangle import PATH...`: import films from files, folders (recursive) and DICOMDIRs."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys

from kyphoangle.cli.db_common import SubParsers, add_command, signed_in
from kyphoangle.exit_status import ExitStatus
from kyphoangle.importer import ImportProgress, ImportSummary
from kyphoangle.output_file import STANDARD_OUTPUT, output_text
from kyphoangle.workstation.films import import_films

SKIPPED_COLUMNS = ("path", "reason")
"""Columns of the CSV of skipped files."""


def register(subparsers: SubParsers) -> None:
    """Add the `import` command."""
    command = add_command(
        subparsers,
        "import",
        "import DICOM films into the study database (data managers and admins)",
        "Each file is checked on its own (header sanity and a decode probe in a separate process); "
        "good films are imported, bad ones skipped with the reason, listed in a CSV and recorded in "
        "the audit trail. A film already imported is counted as known; the same SOP Instance UID with "
        "different content is a conflict, skipped. Subjects are created from the DICOM patient ID with "
        "the next study code. Exit status 0 when every film was imported (or already known), 4 when "
        "some files were skipped.",
    )
    command.add_argument("paths", nargs="+", metavar="PATH")
    command.add_argument("--quiet", action="store_true", help="no progress on stderr")
    command.add_argument(
        "--skipped-csv",
        metavar="CSV",
        help="where to write the list of skipped files and why ('-' for standard output; default: "
        "import-skipped-DATE-TIME.csv in the current folder, written only when files were skipped)",
    )
    command.set_defaults(run=run)


def _progress(report: ImportProgress) -> None:
    line = (
        f"{report.files_done} files: {report.new} new, {report.already_known} known, "
        f"{report.conflicts} conflicts, {report.unreadable} skipped"
    )
    if sys.stderr.isatty():
        print(f"\r{line}", end="", file=sys.stderr, flush=True)
    elif report.files_done % 100 == 0:
        print(line, file=sys.stderr, flush=True)


def write_skipped_csv(path: str, summary: ImportSummary) -> None:
    """The CSV of every skipped file and why (private, written whole or not at all)."""
    with output_text(path, newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(SKIPPED_COLUMNS)
        for file, reason in summary.skipped:
            writer.writerow((file, reason))


def run(args: argparse.Namespace) -> int:
    """Import, print the summary and write the CSV of skipped files; exit 4 when some were skipped."""
    actor, _ = signed_in(args)
    try:
        summary = import_films(actor, args.paths, progress=None if args.quiet else _progress)
    finally:
        actor.close()
    if not args.quiet and sys.stderr.isatty():
        print(file=sys.stderr)
    skipped = summary.skipped
    csv_path = args.skipped_csv
    if skipped and csv_path is None:
        csv_path = f"import-skipped-{dt.datetime.now():%Y%m%d-%H%M%S}.csv"
    if csv_path is not None:
        write_skipped_csv(csv_path, summary)
    for line in summary.lines():
        print(line)
    if csv_path is not None and csv_path != STANDARD_OUTPUT:
        print(f"skipped files listed in {csv_path}")
    return ExitStatus.PARTLY_DONE if skipped else ExitStatus.OK
