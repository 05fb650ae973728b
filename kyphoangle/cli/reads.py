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
- `reads list` shows everybody's reads to data managers and admins, and readers their own (central,
  repeat and adjudication reads without subject, visit or day: central reading is blinded).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, login, open_db, print_table
from kyphoangle.errors import KyphoangleError, LandmarkFileError, PermissionDeniedError
from kyphoangle.landmark_file import LandmarkFile, ReadType, read_landmark_file, write_landmark_file
from kyphoangle.output_file import private_folder
from kyphoangle.protocol import GlobalEndpoints
from kyphoangle.storage.images import get_image
from kyphoangle.storage.models import CampaignCase, Image, Read, ReadStatus, User
from kyphoangle.storage.reads import (
    amend_read,
    create_read,
    get_read,
    iter_reads,
    list_reads,
    read_content,
    reads_of_image,
    sign_read,
    signature_of,
)
from kyphoangle.storage.study import get_study
from kyphoangle.storage.users import Permission, get_user, has_permission, require_permission
from kyphoangle.text_safety import terminal_safe

BLINDED = "(blinded)"
BLINDED_READ_TYPES = frozenset({ReadType.CENTRAL, ReadType.REPEAT, ReadType.ADJUDICATION})
"""Read types made blinded: readers listing their own reads do not see the subject or visit."""


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


def _normalised(content: LandmarkFile, session: Session) -> dict[str, Any]:
    """The content with defaults made explicit, to compare a file with a stored read."""
    document = content.to_document()
    document["normal_table"] = content.normal_table or get_study(session).default_normal_table
    endpoints = content.endpoints or GlobalEndpoints()
    document["endpoints"] = {
        "kyphosis": GlobalEndpoints.label(endpoints.kyphosis),
        "lordosis": GlobalEndpoints.label(endpoints.lordosis),
    }
    return document


def _same_read(session: Session, image: Image, reader: User, content: LandmarkFile) -> Read | None:
    wanted = _normalised(content, session)
    for read in reads_of_image(session, image):
        if read.reader_id != reader.id or read.superseded_by_id is not None:
            continue
        if _normalised(read_content(read), session) == wanted:
            return read
    return None


def run_import(args: argparse.Namespace) -> int:
    """Import each file in its own transaction; exit 1 when any file failed."""
    database = open_db(args)
    failures = 0
    try:
        with database.reading() as session:
            actor, password = login(args, session)
        for path in args.files:
            try:
                content = read_landmark_file(path)
                if content.reader is None:
                    raise LandmarkFileError(path, "names no reader (field 'reader')")
                with database.transaction() as session:
                    acting = session.get_one(User, actor.id)
                    reader = get_user(session, content.reader)
                    if args.sign and reader.id != acting.id:
                        raise PermissionDeniedError(
                            f"{Path(path).name}: only {reader.login} can sign their read "
                            f"(import it unsigned, or run with --user {reader.login})"
                        )
                    image = get_image(session, content.sop_instance_uid)
                    existing = _same_read(session, image, reader, content)
                    if existing is not None:
                        print(f"{path}: already imported as read {existing.id} ({existing.status})")
                        continue
                    read = create_read(session, image=image, reader=reader, content=content, actor=acting)
                    if args.sign:
                        sign_read(session, read, password=password)
                    done = f"{path}: read {read.id} ({read.status}) by {reader.login}"
                # Said only once the transaction is committed.
                print(done)
            except KyphoangleError as exc:
                failures += 1
                print(f"kyphoangle: {path}: {exc}", file=sys.stderr)
    finally:
        database.dispose()
    return 1 if failures else 0


def run_export(args: argparse.Namespace) -> int:
    """Write one landmark file per read (private files in a private folder)."""
    database = open_db(args)
    folder = private_folder(args.folder)
    count = 0
    try:
        with database.reading() as session:
            user, _ = login(args, session)
            require_permission(user, Permission.EXPORT)
            for read in iter_reads(session):
                write_landmark_file(folder / f"read-{read.id:06d}.json", read_content(read))
                count += 1
    finally:
        database.dispose()
    print(f"{count} reads written to {folder}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print reads, with the signer, time and meaning of each signature."""
    database = open_db(args)
    try:
        with database.reading() as session:
            user, _ = login(args, session)
            reader = args.reader
            if not has_permission(user, Permission.EXPORT):
                if reader not in (None, user.login):
                    raise PermissionDeniedError(f"{user.login} may list only their own reads")
                reader = user.login
            summaries = list_reads(
                session, subject_code=args.subject, reader_login=reader, status=args.status
            )
            if not has_permission(user, Permission.EXPORT):
                # Central reading is blinded: no subject, visit or study day, even of one's own reads.
                summaries = [
                    s._replace(subject=BLINDED, visit=BLINDED, study_day=None)
                    if s.read_type in BLINDED_READ_TYPES
                    else s
                    for s in summaries
                ]
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
                    "read_version",
                    "amends",
                    "signed_by",
                    "signed_at_utc",
                    "meaning",
                ),
                (
                    (
                        s.read_id,
                        terminal_safe(s.subject),
                        s.visit,
                        s.study_day,
                        s.sop_instance_uid,
                        terminal_safe(s.reader),
                        s.read_type,
                        s.display_status,
                        s.read_version,
                        s.amends_read_id,
                        terminal_safe(s.signed_by) if s.signed_by else None,
                        s.signed_at.strftime("%Y-%m-%d %H:%M:%S") if s.signed_at else None,
                        s.signature_meaning.replace("_", " ") if s.signature_meaning else None,
                    )
                    for s in summaries
                ),
            )
    finally:
        database.dispose()
    return 0


def run_sign(args: argparse.Namespace) -> int:
    """Sign drafts of the logged-in reader; "signed" is printed only after the commit."""
    database = open_db(args)
    signed: list[str] = []
    try:
        with database.transaction() as session:
            user, password = login(args, session)
            for read_id in args.read_ids:
                read = get_read(session, read_id)
                if read.reader_id != user.id:
                    raise PermissionDeniedError(
                        f"read {read_id} is {read.reader.login}'s: only they can sign it"
                    )
                sign_read(session, read, password=password)
                signature = signature_of(session, read)
                meaning = signature.meaning.label if signature is not None else ""
                signed.append(f"read {read_id} signed by {user.login} ({meaning})")
    finally:
        database.dispose()
    for line in signed:
        print(line)
    return 0


def run_amend(args: argparse.Namespace) -> int:
    """Amend a signed read of the logged-in reader; printed only after the commit."""
    content = read_landmark_file(args.file)
    database = open_db(args)
    try:
        with database.transaction() as session:
            user, password = login(args, session)
            read = get_read(session, args.read_id)
            if read.reader_id != user.id:
                raise PermissionDeniedError(
                    f"read {args.read_id} is {read.reader.login}'s: only they can amend it"
                )
            if read.campaign_case_id is not None:
                from kyphoangle.dicom.blinded_copy import blinded_instance_uid  # pydicom: only when needed

                # A landmark file of the case's blinded copy names the copy's UID: the read is of the film.
                case = session.get_one(CampaignCase, read.campaign_case_id)
                if content.sop_instance_uid == blinded_instance_uid(
                    read.image.sop_instance_uid, case.case_code
                ):
                    content = replace(content, sop_instance_uid=read.image.sop_instance_uid)
            content = replace(content, reader=user.login, read_type=ReadType(read.read_type))
            amendment = amend_read(session, read, content=content, reason=args.reason, actor=user)
            if args.sign:
                sign_read(session, amendment, password=password)
            done = (
                f"read {amendment.id} (version {amendment.read_version}, {amendment.status}) amends read "
                f"{read.id}"
            )
    finally:
        database.dispose()
    print(done)
    return 0
