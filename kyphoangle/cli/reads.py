"""`kyphoangle reads import|export|list|sign|amend`: reads as `kyphoangle.landmarks/1` files, and signing.

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
- A signed read is never changed: signing again what is already signed (the same film, reader, read
  type and campaign case) is refused, and `reads amend READ_ID FILE.json --reason TEXT [--sign]`
  makes a new version linked to the one it supersedes.
- `reads list` shows everybody's reads to data managers and admins and a site reader their own, with
  the signer, time and meaning of each signature; a central reader or adjudicator sees their own
  campaign reads by campaign and case code with the blinded image UID (never the subject, visit, day
  or original UID). Central readers import and sign through `kyphoangle campaign read`. Who may do
  what is `kyphoangle.workstation.access`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, print_table, signed_in
from kyphoangle.errors import KyphoangleError
from kyphoangle.text_safety import terminal_safe
from kyphoangle.vocabulary import ReadStatus
from kyphoangle.workstation.access import Action, Field, visible_fields
from kyphoangle.workstation.reads import amend_read, export_reads, import_read, list_reads, sign_reads


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
    amending = add_command(
        group,
        "amend",
        "amend your signed read: a new version from a landmark file, with a reason",
        "A signed read is never changed. An amendment is a new read of the same film, reader, read type "
        "and campaign case, linked to the version it supersedes, with a reason (kept in the audit trail). "
        "With --sign it is signed at once (your password); the amended read then becomes 'superseded' "
        "and the exports carry the new version.",
    )
    amending.add_argument("read_id", type=int, metavar="READ_ID", help="the signed read to amend")
    amending.add_argument("file", metavar="FILE.json", help="the corrected landmarks")
    amending.add_argument("--reason", required=True, help="why the signed read is amended")
    amending.add_argument("--sign", action="store_true", help="sign the amendment (your password)")
    amending.set_defaults(run=run_amend)


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
    """Print reads (a central reader's own campaign reads by campaign and case code, blinded), with the
    signer, time and meaning of each signature."""
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
        (
            "read_id",
            "subject",
            "visit",
            "day",
            "sop_instance_uid",
            "reader",
            "type",
            "status",
            "version",
            "read_version",
            "amends",
            "signed_by",
            "signed_at_utc",
            "meaning",
        ),
        (
            (
                r.read_id,
                terminal_safe(r.subject),
                r.visit,
                r.study_day,
                r.sop_instance_uid,
                terminal_safe(r.reader),
                r.read_type,
                r.status,
                r.version,
                r.read_version,
                r.amends_read_id,
                terminal_safe(r.signed_by) if r.signed_by else None,
                r.signed_at.strftime("%Y-%m-%d %H:%M:%S") if r.signed_at else None,
                r.signature_meaning.replace("_", " ") if r.signature_meaning else None,
            )
            for r in rows
        ),
    )
    return 0


def run_sign(args: argparse.Namespace) -> int:
    """Sign drafts of the signed-in reader; "signed" is printed only after the commit."""
    actor, password = signed_in(args)
    try:
        signed = sign_reads(actor, args.read_ids, password)
    finally:
        actor.close()
    for read_id, meaning in signed:
        print(f"read {read_id} signed by {terminal_safe(actor.account.login)} ({meaning})")
    return 0


def run_amend(args: argparse.Namespace) -> int:
    """Amend a signed read of the signed-in reader; printed only after the commit."""
    actor, password = signed_in(args)
    try:
        amended = amend_read(
            actor, args.read_id, args.file, reason=args.reason, sign_with=password if args.sign else None
        )
    finally:
        actor.close()
    print(
        f"read {amended.read_id} (version {amended.read_version}, {amended.status}) "
        f"amends read {args.read_id}"
    )
    return 0
