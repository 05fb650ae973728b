"""`kyphoangle reads import|export|list|sign`: reads as `kyphoangle.landmarks/1` files, and signing.

Who may do what:

- `reads import FILE...` saves each file as a new draft read by the file's `reader` (who must exist
  and whose role makes that read type) on the film with the file's SOP Instance UID. `--user` is who
  saves it: the reader themself, or a data manager/admin importing on readers' behalf (the audit
  trail names both). A file identical to a current read of the same reader is skipped.
- `--sign` signs the imported reads. A signature is personal: it needs the reader's own password, so
  only files whose `reader` is `--user` can be signed (with `--user`'s password, from
  KYPHOANGLE_PASSWORD in scripts); a data manager cannot sign for a reader. Readers sign drafts
  imported for them later with `reads sign READ_ID`.
- `reads export DIR` writes every read (data managers and admins), one file per read
  (`read-000042.json`); importing them into another database with the same films and users
  reproduces the same measurements.
- `reads list` shows everybody's reads to data managers and admins and a site reader their own; a
  central reader or adjudicator sees their own campaign reads by campaign and case code with the
  blinded image UID (never the subject, visit, day or original UID). Central readers import and sign
  through `kyphoangle campaign read`. Who may do what is `kyphoangle.workstation.access`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, print_table, signed_in
from kyphoangle.errors import KyphoangleError
from kyphoangle.vocabulary import ReadStatus
from kyphoangle.workstation.access import Action, Field, visible_fields
from kyphoangle.workstation.reads import export_reads, import_read, list_reads, sign_reads


def register(subparsers: SubParsers) -> None:
    """Add the `reads` command group."""
    group = add_group(subparsers, "reads", "reads (landmarks and measurements)")
    importing = add_command(
        group,
        "import",
        "import landmark files as draft reads",
        __doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    importing.add_argument("files", nargs="+", metavar="FILE.json")
    importing.add_argument(
        "--sign", action="store_true", help="sign the reads (only your own: your password)"
    )
    importing.set_defaults(run=run_import)
    exporting = add_command(group, "export", "write every read as a landmark file into a folder")
    exporting.add_argument("folder", metavar="DIR")
    exporting.set_defaults(run=run_export)
    listing = add_command(group, "list", "list reads")
    listing.add_argument("--subject", help="study code")
    listing.add_argument("--reader", help="reader login")
    listing.add_argument("--status", choices=[s.value for s in ReadStatus])
    listing.set_defaults(run=run_list)
    signing = add_command(group, "sign", "sign your draft reads (your password)")
    signing.add_argument("read_ids", nargs="+", type=int, metavar="READ_ID")
    signing.set_defaults(run=run_sign)


def run_import(args: argparse.Namespace) -> int:
    """Import each file in its own transaction; exit 1 when any file failed."""
    actor, password = signed_in(args)
    failures = 0
    try:
        actor.check(Action.IMPORT_READS)
        if args.sign:
            actor.check(Action.SIGN)
        for path in args.files:
            try:
                result = import_read(actor, path, sign_with=password if args.sign else None)
            except KyphoangleError as exc:
                failures += 1
                print(f"kyphoangle: {path}: {exc}", file=sys.stderr)
                continue
            if result.already_imported:
                print(f"{path}: already imported as read {result.read_id} ({result.status})")
            else:
                print(f"{path}: read {result.read_id} ({result.status}) by {result.reader}")
    finally:
        actor.close()
    return 1 if failures else 0


def run_export(args: argparse.Namespace) -> int:
    """Write one landmark file per read."""
    actor, _ = signed_in(args)
    try:
        count = export_reads(actor, args.folder)
    finally:
        actor.close()
    print(f"{count} reads written to {Path(args.folder)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print reads (a central reader's own campaign reads by campaign and case code, blinded)."""
    actor, _ = signed_in(args)
    try:
        rows = list_reads(actor, subject=args.subject, reader=args.reader, status=args.status)
    finally:
        actor.close()
    blinded = visible_fields(actor.account.role).isdisjoint({Field.ORIGINAL_UID})
    if blinded:
        print_table(
            ("read_id", "campaign", "case_code", "image_uid", "type", "status", "version"),
            (
                (r.read_id, r.campaign, r.case_code, r.sop_instance_uid, r.read_type, r.status, r.version)
                for r in rows
            ),
        )
        return 0
    print_table(
        ("read_id", "subject", "visit", "day", "sop_instance_uid", "reader", "type", "status", "version"),
        (
            (
                r.read_id,
                r.subject,
                r.visit,
                r.study_day,
                r.sop_instance_uid,
                r.reader,
                r.read_type,
                r.status,
                r.version,
            )
            for r in rows
        ),
    )
    return 0


def run_sign(args: argparse.Namespace) -> int:
    """Sign drafts of the signed-in reader."""
    actor, password = signed_in(args)
    try:
        signed = sign_reads(actor, args.read_ids, password)
    finally:
        actor.close()
    for read_id in signed:
        print(f"read {read_id} signed by {actor.account.login}")
    return 0
