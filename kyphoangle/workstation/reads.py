"""Reads as landmark files: importing, exporting, listing and signing them, as the access policy allows.

- Importing saves each file as a new draft read by the file's `reader` on the film with the file's SOP
  Instance UID, on behalf of the signed-in user (the reader themself, or a data manager/admin importing
  for readers; the audit trail names both). A file identical to a current read of the same reader is
  skipped. Signing on import is personal: only the reader's own files, with their own password.
- Listing shows everybody's reads to data managers and admins, a site reader their own, and a central
  reader or adjudicator their own campaign reads by campaign and case code with the blinded image UID,
  never the subject, visit, day or original UID.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from kyphoangle import campaign as campaigns
from kyphoangle.dicom.blinded_copy import blinded_instance_uid
from kyphoangle.errors import KyphoangleError, LandmarkFileError, PermissionDeniedError
from kyphoangle.landmark_file import LandmarkFile, read_landmark_file, write_landmark_file
from kyphoangle.protocol import GlobalEndpoints
from kyphoangle.storage import reads as read_repo
from kyphoangle.storage import users as user_repo
from kyphoangle.storage.images import get_image
from kyphoangle.storage.models import Image, Read, User
from kyphoangle.storage.study import get_study
from kyphoangle.vocabulary import ReadStatus, ReadType
from kyphoangle.workstation.access import Action, Scope
from kyphoangle.workstation.connection import SignedIn

__all__ = [
    "ImportedRead",
    "ReadRow",
    "amend_read",
    "export_reads",
    "import_read",
    "list_reads",
    "sign_reads",
]


@dataclass(frozen=True, slots=True)
class ImportedRead:
    """What importing one landmark file did."""

    read_id: int
    status: ReadStatus
    reader: str
    already_imported: bool


@dataclass(frozen=True, slots=True)
class ReadRow:
    """One read as listed. Blinded rows carry the campaign and case code and no subject, visit or day."""

    read_id: int
    subject: str
    visit: str
    study_day: int | None
    sop_instance_uid: str
    reader: str
    read_type: ReadType
    status: str
    version: int
    campaign: str = ""
    case_code: str = ""


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
    for read in read_repo.reads_of_image(session, image):
        if read.reader_id != reader.id or read.superseded_by_id is not None:
            continue
        if _normalised(read_repo.read_content(read), session) == wanted:
            return read
    return None


def import_read(actor: SignedIn, path: str | Path, *, sign_with: str | None = None) -> ImportedRead:
    """Import one landmark file as a draft read (one transaction); signed when `sign_with` is the
    signed-in reader's password and the file is theirs."""
    scope = actor.check(Action.IMPORT_READS)
    if sign_with is not None:
        actor.check(Action.SIGN)
    content = read_landmark_file(path)
    if content.reader is None:
        raise LandmarkFileError(path, "names no reader (field 'reader')")
    if content.reader != actor.account.login:
        if scope is not Scope.ALL:
            raise PermissionDeniedError(f"{Path(path).name}: you may import only your own reads")
        actor.check(Action.IMPORT_READS_FOR_OTHERS)
    with actor.writing() as (session, acting):
        reader = user_repo.get_user(session, content.reader)
        if sign_with is not None and reader.id != acting.id:
            raise PermissionDeniedError(
                f"{Path(path).name}: only {reader.login} can sign their read "
                f"(import it unsigned, or run with --user {reader.login})"
            )
        image = get_image(session, content.sop_instance_uid)
        existing = _same_read(session, image, reader, content)
        if existing is not None:
            return ImportedRead(existing.id, existing.status, reader.login, True)
        read = read_repo.create_read(session, image=image, reader=reader, content=content, actor=acting)
        if sign_with is not None:
            read_repo.sign_read(session, read, password=sign_with)
        return ImportedRead(read.id, read.status, reader.login, False)


def export_reads(actor: SignedIn, folder: str | Path) -> int:
    """Write every read the user may export as `read-NNNNNN.json` into `folder`; how many."""
    scope = actor.check(Action.EXPORT_READS)
    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KyphoangleError(f"{target} cannot be created: {exc.strerror or exc}") from None
    count = 0
    with actor.reading() as (session, user):
        for read in read_repo.iter_reads(session):
            if scope is not Scope.ALL and read.reader_id != user.id:
                continue
            write_landmark_file(target / f"read-{read.id:06d}.json", read_repo.read_content(read))
            count += 1
    return count


def list_reads(
    actor: SignedIn,
    *,
    subject: str | None = None,
    reader: str | None = None,
    status: ReadStatus | str | None = None,
) -> list[ReadRow]:
    """The reads the user may list (see the module's description)."""
    scope = actor.check(Action.LIST_READS)
    login = actor.account.login
    if scope is not Scope.ALL:
        if reader not in (None, login):
            raise PermissionDeniedError(f"{login} may list only their own reads")
        reader = login
    if scope is Scope.ASSIGNED:
        return _blinded_reads(actor, status)
    with actor.reading() as (session, _user):
        return [
            ReadRow(
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
            for s in read_repo.list_reads(session, subject_code=subject, reader_login=reader, status=status)
        ]


def _blinded_reads(actor: SignedIn, status: ReadStatus | str | None) -> list[ReadRow]:
    """A central reader's or adjudicator's own campaign reads, by campaign and case code."""
    rows: list[ReadRow] = []
    with actor.reading() as (session, user):
        for campaign in campaigns.list_campaigns(session):
            members = campaigns.members_of(session, campaign)
            if not any(member[1].id == user.id for member in members.values()):
                continue
            for case_code, _role, _repeat, read in campaigns.campaign_reads(session, campaign):
                if read.reader_id != user.id or (status is not None and read.status != status):
                    continue
                rows.append(
                    ReadRow(
                        read.id,
                        "",
                        "",
                        None,
                        blinded_instance_uid(read.image.sop_instance_uid, case_code),
                        user.login,
                        read.read_type,
                        "superseded" if read.superseded_by_id is not None else str(read.status),
                        read.version,
                        campaign.code,
                        case_code,
                    )
                )
    return rows


def sign_reads(actor: SignedIn, read_ids: list[int], password: str) -> list[int]:
    """Sign the user's own draft reads with their password (one transaction); the ids signed."""
    scope = actor.check(Action.SIGN)
    if scope is Scope.ASSIGNED:
        raise PermissionDeniedError(
            f"{actor.account.role.plural} sign their campaign cases with `campaign read NAME FILE --sign`"
        )
    with actor.writing() as (session, user):
        for read_id in read_ids:
            read = read_repo.get_read(session, read_id)
            if read.reader_id != user.id:
                raise PermissionDeniedError(f"read {read_id} is {read.reader.login}'s: only they can sign it")
            read_repo.sign_read(session, read, password=password)
    return list(read_ids)


def amend_read(
    actor: SignedIn, read_id: int, path: str | Path, *, reason: str, sign_with: str | None = None
) -> ImportedRead:
    """Amend the user's own signed read with a landmark file: a new version linked to it, with the reason
    (signed too when `sign_with` is the reader's password; one transaction)."""
    scope = actor.check(Action.AMEND)
    if scope is Scope.ASSIGNED:
        raise PermissionDeniedError(
            f"{actor.account.role.plural} amend campaign reads through the data manager"
        )
    content = read_landmark_file(path)
    with actor.writing() as (session, user):
        read = read_repo.get_read(session, read_id)
        if read.reader_id != user.id:
            raise PermissionDeniedError(f"read {read_id} is {read.reader.login}'s: only they can amend it")
        amended = read_repo.amend_read(session, read, content=content, reason=reason, actor=user)
        if sign_with is not None:
            read_repo.sign_read(session, amended, password=sign_with)
        return ImportedRead(amended.id, amended.status, user.login, False)
