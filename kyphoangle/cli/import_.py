"""`kyphoangle import PATH...`: import films from files, folders (recursive) and DICOMDIRs."""

from __future__ import annotations

import argparse
import sys

from kyphoangle.cli.db_common import SubParsers, add_command, signed_in
from kyphoangle.importer import ImportProgress
from kyphoangle.workstation.films import import_films


def register(subparsers: SubParsers) -> None:
    """Add the `import` command."""
    command = add_command(
        subparsers,
        "import",
        "import DICOM films into the study database (data managers and admins)",
        "Reads headers only; a film already imported is skipped; the same SOP Instance UID with "
        "different content is reported as a conflict; unreadable files are listed and never stop the "
        "import. Subjects are created from the DICOM patient ID with the next study code.",
    )
    command.add_argument("paths", nargs="+", metavar="PATH")
    command.add_argument("--quiet", action="store_true", help="no progress on stderr")
    command.set_defaults(run=run)


def _progress(report: ImportProgress) -> None:
    line = (
        f"{report.files_done} files: {report.new} new, {report.already_known} known, "
        f"{report.conflicts} conflicts, {report.unreadable} unreadable"
    )
    if sys.stderr.isatty():
        print(f"\r{line}", end="", file=sys.stderr, flush=True)
    elif report.files_done % 100 == 0:
        print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Import and print the summary; exit 1 when there were conflicts or unreadable files."""
    actor, _ = signed_in(args)
    try:
        summary = import_films(actor, args.paths, progress=None if args.quiet else _progress)
    finally:
        actor.close()
    if not args.quiet and sys.stderr.isatty():
        print(file=sys.stderr)
    for line in summary.lines():
        print(line)
    return 1 if summary.conflicts or summary.unreadable else 0
