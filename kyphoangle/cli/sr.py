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

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, login, open_db
from kyphoangle.errors import KyphoangleError
from kyphoangle.exit_status import ExitStatus
from kyphoangle.sr.archive import export_reports, import_report
from kyphoangle.storage.models import User
from kyphoangle.storage.users import Permission, require_permission


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
    database = open_db(args)
    try:
        with database.reading() as session:
            user, _ = login(args, session)
            written = export_reports(
                session, args.folder, actor=user, read_ids=args.read, gsps=not args.no_gsps
            )
    finally:
        database.dispose()
    for item in written:
        extra = f" and {item.presentation.name}" if item.presentation is not None else ""
        print(f"read {item.read_id}: {item.report.name}{extra}")
    print(f"{len(written)} signed reads written to {args.folder}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Import each report in its own transaction; exit 4 when some failed and others were stored."""
    database = open_db(args)
    failures = 0
    try:
        with database.reading() as session:
            actor, _ = login(args, session)
            require_permission(actor, Permission.IMPORT_READS_FOR_OTHERS)
        for path in args.files:
            try:
                with database.transaction() as session:
                    read = import_report(
                        session, path, actor=session.get_one(User, actor.id), reader_login=args.reader
                    )
                    print(f"{path}: draft read {read.id} by {read.reader.login}")
            except KyphoangleError as exc:
                failures += 1
                print(f"kyphoangle: {path}: {exc}", file=sys.stderr)
    finally:
        database.dispose()
    if failures == len(args.files):
        return ExitStatus.BAD_INPUT
    return ExitStatus.PARTLY_DONE if failures else ExitStatus.OK
