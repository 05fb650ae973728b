"""`kyphoangle sr export|import`: signed reads as DICOM structured reports and presentation states.

`sr export FOLDER` writes, for every signed read that is not superseded (or the `--read` ones), its
Measurement Report (`read-000042.sr.dcm`) and, unless `--no-gsps`, its Grayscale Softcopy
Presentation State (`read-000042.gsps.dcm`), to send to the PACS next to the film. Blinded reads
carry their reader's pseudonym in the campaign, never a name or a login.

`sr import FILE...` stores the read each report holds as a draft read of its film by the reader the
report names (`--reader LOGIN` for a blinded report), after checking that its values are those
computed from its landmarks. (`kyphoangle import` is the import of films.)
"""

from __future__ import annotations

import argparse
import sys

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, signed_in
from kyphoangle.exit_status import ExitStatus
from kyphoangle.workstation.exchange import export_dicom_reports, import_dicom_reports


def register(subparsers: SubParsers) -> None:
    """Add the `sr` command group."""
    group = add_group(subparsers, "sr", "signed reads as DICOM structured reports and presentation states")
    exporting = add_command(
        group, "export", "write signed reads as DICOM SR (TID 1500) and GSPS files", __doc__.split("\n\n")[1]
    )
    exporting.add_argument("folder", metavar="FOLDER")
    exporting.add_argument("--read", type=int, action="append", metavar="READ_ID", help="only this read")
    exporting.add_argument("--no-gsps", action="store_true", help="structured reports only")
    exporting.set_defaults(run=run_export)
    importing = add_command(
        group, "import", "store the reads of kyphoangle DICOM SR files as drafts", __doc__.split("\n\n")[2]
    )
    importing.add_argument("files", nargs="+", metavar="FILE")
    importing.add_argument("--reader", metavar="LOGIN", help="whose read it is (blinded reports name nobody)")
    importing.set_defaults(run=run_import)


def run_export(args: argparse.Namespace) -> int:
    """Write the files and list them."""
    actor, _ = signed_in(args)
    try:
        written = export_dicom_reports(actor, args.folder, read_ids=args.read, gsps=not args.no_gsps)
    finally:
        actor.close()
    for item in written:
        extra = f" and {item.presentation.name}" if item.presentation is not None else ""
        print(f"read {item.read_id}: {item.report.name}{extra}")
    print(f"{len(written)} signed reads written to {args.folder}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Import each report in its own transaction; exit 4 when some failed and others were stored."""
    actor, _ = signed_in(args)
    try:
        outcomes = import_dicom_reports(actor, args.files, reader=args.reader)
    finally:
        actor.close()
    failures = 0
    for outcome in outcomes:
        if outcome.error is not None:
            failures += 1
            print(f"kyphoangle: {outcome.path}: {outcome.error}", file=sys.stderr)
        else:
            print(f"{outcome.path}: draft read {outcome.read_id} by {outcome.reader}")
    if failures == len(args.files):
        return ExitStatus.BAD_INPUT
    return ExitStatus.PARTLY_DONE if failures else ExitStatus.OK
