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
- `reads list` shows everybody's reads to data managers and admins, and readers their own (central,
  repeat and adjudication reads without subject, visit or day: central reading is blinded).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, login, open_db, print_table
from kyphoangle.errors import KyphoangleError, LandmarkFileError, PermissionDeniedError
from kyphoangle.landmark_file import LandmarkFile, read_landmark_file, write_landmark_file
from kyphoangle.protocol import GlobalEndpoints
from kyphoangle.storage.images import get_image
from kyphoangle.storage.models import Image, Read, User
from kyphoangle.storage.reads import (
    create_read,
    get_read,
    iter_reads,
    list_reads,
    read_content,
    reads_of_image,
    sign_read,
)
from kyphoangle.storage.study import get_study
from kyphoangle.storage.users import Permission, get_user, has_permission, require_permission
from kyphoangle.vocabulary import ReadStatus, ReadType

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
                    print(f"{path}: read {read.id} ({read.status}) by {reader.login}")
            except KyphoangleError as exc:
                failures += 1
                print(f"kyphoangle: {path}: {exc}", file=sys.stderr)
    finally:
        database.dispose()
    return 1 if failures else 0


def run_export(args: argparse.Namespace) -> int:
    """Write one landmark file per read."""
    database = open_db(args)
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
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
    """Print reads."""
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
                    "version",
                ),
                (
                    (
                        s.read_id,
                        s.subject,
                        s.visit,
                        s.study_day,
                        s.sop_instance_uid,
                        s.reader,
                        s.read_type,
                        s.display_status,
                        s.version,
                    )
                    for s in summaries
                ),
            )
    finally:
        database.dispose()
    return 0


def run_sign(args: argparse.Namespace) -> int:
    """Sign drafts of the logged-in reader."""
    database = open_db(args)
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
                print(f"read {read_id} signed by {user.login}")
    finally:
        database.dispose()
    return 0
