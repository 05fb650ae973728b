"""Campaigns, their members and their worklist items: the lookups the other campaign modules share."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from kyphoangle.campaign.errors import CampaignError
from kyphoangle.campaign.settings import CampaignSettings
from kyphoangle.campaign.slots import READER_ROLES
from kyphoangle.errors import (
    NotFoundError,
    PermissionDeniedError,
)
from kyphoangle.storage.models import (
    Campaign,
    CampaignCase,
    CampaignReader,
    Image,
    Read,
    TreatedLevel,
    User,
    utc_now,
)
from kyphoangle.storage.models import WorklistItem as WorklistItemRow
from kyphoangle.storage.reads import (
    get_read,
)
from kyphoangle.vocabulary import CampaignRole, CampaignStatus, ReadStatus


def get_campaign(session: Session, code: str) -> Campaign:
    """The campaign with that name; NotFoundError otherwise."""
    campaign = session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        raise NotFoundError(f"there is no campaign {code!r}")
    return campaign


def list_campaigns(session: Session) -> list[Campaign]:
    """Every campaign, by name."""
    return list(session.scalars(select(Campaign).order_by(Campaign.code)))


def settings_of(campaign: Campaign) -> CampaignSettings:
    """The campaign's rule, measurements and gaps."""
    return CampaignSettings.from_json(campaign.adjudication_rule)


def members_of(session: Session, campaign: Campaign) -> dict[CampaignRole, tuple[CampaignReader, User]]:
    """The campaign's readers (reader 1 first) and adjudicator (last) by role."""
    rows = session.execute(
        select(CampaignReader, User)
        .join(User, User.id == CampaignReader.user_id)
        .where(CampaignReader.campaign_id == campaign.id)
    ).all()
    members = {CampaignRole(member.role): (member, user) for member, user in rows}
    order = [*READER_ROLES, CampaignRole.ADJUDICATOR]
    return {role: members[role] for role in sorted(members, key=order.index)}


def reader_roles(session: Session, campaign: Campaign) -> tuple[CampaignRole, ...]:
    """The reader slots the campaign uses, in order (reader 1, reader 2, ...; two to six)."""
    query = select(CampaignReader.role).where(CampaignReader.campaign_id == campaign.id)
    used = set(session.scalars(query))
    return tuple(role for role in READER_ROLES if role in used)


def _membership(session: Session, campaign: Campaign, user: User) -> CampaignReader:
    member = session.scalar(
        select(CampaignReader).where(
            CampaignReader.campaign_id == campaign.id, CampaignReader.user_id == user.id
        )
    )
    if member is None:
        raise PermissionDeniedError(f"{user.login} takes no part in campaign {campaign.code!r}")
    return member


def _reader_membership(session: Session, campaign: Campaign, user: User) -> CampaignReader:
    member = _membership(session, campaign, user)
    if member.role not in READER_ROLES:
        raise PermissionDeniedError(f"{user.login} is not a reader of campaign {campaign.code!r}")
    return member


def _items(session: Session, member: CampaignReader) -> list[WorklistItemRow]:
    return list(
        session.scalars(
            select(WorklistItemRow)
            .where(WorklistItemRow.campaign_reader_id == member.id)
            .order_by(WorklistItemRow.order_position)
        )
    )


def current_read(read: Read) -> Read:
    """The read that replaces `read` when it was amended (following the chain), else `read` itself."""
    seen = {read.id}
    while read.superseded_by_id is not None and read.superseded_by_id not in seen:
        session = object_session(read)
        if session is None:
            raise CampaignError(f"read {read.id} is not attached to a database session")
        read = get_read(session, read.superseded_by_id)
        seen.add(read.id)
    return read


def _item_read(session: Session, item: WorklistItemRow) -> Read | None:
    return current_read(get_read(session, item.read_id)) if item.read_id is not None else None


def _is_done(session: Session, item: WorklistItemRow) -> bool:
    read = _item_read(session, item)
    return read is not None and read.status == ReadStatus.SIGNED


def _fractured_levels(session: Session, image: Image) -> tuple[str, ...]:
    return tuple(
        session.scalars(
            select(TreatedLevel.level)
            .where(TreatedLevel.subject_id == image.subject_id)
            .order_by(TreatedLevel.position)
        )
    )


def _first_reading_signed(session: Session, member: CampaignReader, case_id: int) -> dt.datetime | None:
    first = session.scalar(
        select(WorklistItemRow).where(
            WorklistItemRow.campaign_reader_id == member.id,
            WorklistItemRow.case_id == case_id,
            WorklistItemRow.is_repeat.is_(False),
        )
    )
    read = _item_read(session, first) if first is not None else None
    return read.signed_at if read is not None and read.status == ReadStatus.SIGNED else None


def _current_item(
    session: Session, campaign: Campaign, member: CampaignReader, *, now: dt.datetime | None = None
) -> tuple[WorklistItemRow, int, int] | None:
    """The reader's next presentation (1-based position, total), honouring the gap in days of repeats."""
    items = _items(session, member)
    gap_days = settings_of(campaign).min_gap_days
    now = now or utc_now()
    for index, item in enumerate(items):
        if _is_done(session, item):
            continue
        if item.is_repeat and gap_days:
            signed = _first_reading_signed(session, member, item.case_id)
            if signed is None or now - signed < dt.timedelta(days=gap_days):
                continue  # held back: shown once the first reading is old enough
        return item, index + 1, len(items)
    return None


def _require_open(campaign: Campaign) -> None:
    if campaign.status != CampaignStatus.OPEN:
        raise CampaignError(f"campaign {campaign.code!r} is {campaign.status}, not open")


def _case_codes(session: Session, campaign: Campaign) -> dict[int, str]:
    query = select(CampaignCase.id, CampaignCase.case_code).where(CampaignCase.campaign_id == campaign.id)
    return {case_id: code for case_id, code in session.execute(query)}


def get_case(session: Session, campaign: Campaign, case_code: str) -> CampaignCase:
    """The campaign's case with that code; NotFoundError otherwise."""
    case = session.scalar(
        select(CampaignCase).where(
            CampaignCase.campaign_id == campaign.id, CampaignCase.case_code == case_code
        )
    )
    if case is None:
        raise NotFoundError(f"campaign {campaign.code!r} has no case {case_code}")
    return case


def _case_items(
    session: Session, case: CampaignCase
) -> list[tuple[WorklistItemRow, CampaignRole, Read | None]]:
    rows = session.execute(
        select(WorklistItemRow, CampaignReader.role)
        .join(CampaignReader, CampaignReader.id == WorklistItemRow.campaign_reader_id)
        .where(WorklistItemRow.case_id == case.id)
        .order_by(CampaignReader.role, WorklistItemRow.order_position)
    ).all()
    return [(item, CampaignRole(role), _item_read(session, item)) for item, role in rows]
