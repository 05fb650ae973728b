"""A reader's side of a campaign: the next case (blinded), the worklist, saving and signing case reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from kyphoangle.campaign.errors import CampaignError
from kyphoangle.campaign.members import (
    _case_codes,
    _case_items,
    _current_item,
    _fractured_levels,
    _is_done,
    _item_read,
    _items,
    _membership,
    _reader_membership,
    _require_open,
    get_case,
)
from kyphoangle.campaign.state import evaluate_case, evaluate_rule_for_case
from kyphoangle.dicom.blinded_copy import blinded_instance_uid
from kyphoangle.errors import (
    PermissionDeniedError,
)
from kyphoangle.landmark_file import LandmarkFile
from kyphoangle.storage.audit import AuditAction, AuditEntity, record
from kyphoangle.storage.models import (
    Campaign,
    CampaignCase,
    Image,
    Read,
    User,
)
from kyphoangle.storage.reads import (
    create_read,
    sign_read,
    update_draft,
)
from kyphoangle.storage.users import (
    Permission,
    has_permission,
)
from kyphoangle.vocabulary import CampaignRole, ReadType


@dataclass(frozen=True, slots=True)
class CaseView:
    """What a blinded reader is shown of a case: nothing about the patient, the date, visit or site."""

    case_code: str
    sop_instance_uid: str
    file_path: str
    fractured_levels: tuple[str, ...]
    position: int
    """1-based place in the reader's worklist."""
    total: int
    read_id: int | None
    """The reader's own draft for this presentation, when they have started it."""


@dataclass(frozen=True, slots=True)
class WorklistEntry:
    """One line of a reader's worklist as the reader may see it: the case code and whether it is done."""

    position: int
    case_code: str
    done: bool


def next_case(
    session: Session, campaign: Campaign, reader: User, *, now: dt.datetime | None = None
) -> CaseView | None:
    """The reader's next unread case (or the one in progress), blinded; None when nothing is left."""
    member = _reader_membership(session, campaign, reader)
    found = _current_item(session, campaign, member, now=now)
    if found is None:
        return None
    item, position, total = found
    case = session.get_one(CampaignCase, item.case_id)
    image = session.get_one(Image, case.image_id)
    read = _item_read(session, item)
    return CaseView(
        case_code=case.case_code,
        sop_instance_uid=image.sop_instance_uid,
        file_path=image.file_path,
        fractured_levels=_fractured_levels(session, image),
        position=position,
        total=total,
        read_id=read.id if read is not None else None,
    )


def worklist(session: Session, campaign: Campaign, reader: User) -> list[WorklistEntry]:
    """The reader's own worklist: case codes and done flags, in reading order (repeats not marked)."""
    member = _reader_membership(session, campaign, reader)
    codes = _case_codes(session, campaign)
    return [
        WorklistEntry(item.order_position + 1, codes[item.case_id], _is_done(session, item))
        for item in _items(session, member)
    ]


def save_case_read(
    session: Session,
    campaign: Campaign,
    reader: User,
    content: LandmarkFile,
    *,
    expected_version: int | None = None,
) -> Read:
    """Save the reader's landmarks for their current case: a new draft linked to it, or its update.

    The read type is `central` for a first presentation and `repeat` for a re-presentation.
    """
    _require_open(campaign)
    member = _reader_membership(session, campaign, reader)
    found = _current_item(session, campaign, member)
    if found is None:
        raise CampaignError(f"{reader.login} has no case left to read in campaign {campaign.code!r}")
    item = found[0]
    case = session.get_one(CampaignCase, item.case_id)
    image = session.get_one(Image, case.image_id)
    kind = ReadType.REPEAT if item.is_repeat else ReadType.CENTRAL
    named = content.sop_instance_uid
    if named and named not in (
        image.sop_instance_uid,
        blinded_instance_uid(image.sop_instance_uid, case.case_code),
    ):
        raise CampaignError(f"these landmarks are of another film, not of case {case.case_code}")
    # A landmark file of the case's blinded copy names the copy's UID: the read is of the film itself.
    content = replace(content, sop_instance_uid=image.sop_instance_uid, reader=reader.login, read_type=kind)
    existing = _item_read(session, item)
    if existing is not None:
        if expected_version is None:
            expected_version = existing.version
        return update_draft(
            session, existing, content=content, expected_version=expected_version, actor=reader
        )
    read = create_read(session, image=image, reader=reader, content=content, read_type=kind, actor=reader)
    item.read_id = read.id
    record(
        session,
        actor=reader,
        entity=AuditEntity.WORKLIST,
        entity_id=f"{campaign.id}/{reader.login}/{item.order_position}",
        action=AuditAction.ASSIGN,
        old={"read_id": None},
        new={"read_id": read.id, "case_code": case.case_code, "read_type": kind},
    )
    return read


def sign_case_read(session: Session, campaign: Campaign, reader: User, password: str) -> Read:
    """Sign the reader's draft of their current case (their password); evaluates the adjudication rule."""
    _require_open(campaign)
    member = _reader_membership(session, campaign, reader)
    found = _current_item(session, campaign, member)
    read = _item_read(session, found[0]) if found is not None else None
    if found is None or read is None:
        raise CampaignError(f"{reader.login} has no draft to sign in campaign {campaign.code!r}")
    sign_read(session, read, password=password)
    if not found[0].is_repeat:
        evaluate_case(session, campaign, session.get_one(CampaignCase, found[0].case_id), actor=reader)
    return read


def case_reads(session: Session, campaign: Campaign, case_code: str, actor: User) -> list[Read]:
    """The reads of a case that `actor` may see (current reads, never superseded ones).

    Data managers and admins see all; the adjudicator sees the readers' first reads (and their own)
    of cases that need adjudication; a central reader sees only their own read of the presentation
    they are working on now. Anything else raises PermissionDeniedError.
    """
    case = get_case(session, campaign, case_code)
    rows = _case_items(session, case)
    if has_permission(actor, Permission.MANAGE_CAMPAIGNS):
        return [read for _, _, read in rows if read is not None]
    member = _membership(session, campaign, actor)
    if member.role == CampaignRole.ADJUDICATOR:
        if evaluate_rule_for_case(session, campaign, case) is None:
            raise PermissionDeniedError(
                f"case {case_code} does not need adjudication: the readers' reads stay blinded"
            )
        return [
            read
            for item, role, read in rows
            if read is not None and (not item.is_repeat or role == CampaignRole.ADJUDICATOR)
        ]
    found = _current_item(session, campaign, member)
    if found is None or found[0].case_id != case.id:
        raise PermissionDeniedError(
            f"{actor.login} may open only the case they are reading now, not case {case_code}"
        )
    own = _item_read(session, found[0])
    return [own] if own is not None else []
