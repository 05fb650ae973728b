"""A campaign's progress: cases read, awaiting adjudication and finished, per reader and overall."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kyphoangle.campaign.members import _case_codes, _is_done, _item_read, _items, members_of
from kyphoangle.campaign.slots import READER_ROLES
from kyphoangle.campaign.state import CaseState, case_state
from kyphoangle.storage.models import (
    Adjudication,
    Campaign,
    CampaignCase,
    CampaignReader,
    Read,
)
from kyphoangle.storage.models import WorklistItem as WorklistItemRow
from kyphoangle.vocabulary import CampaignRole, CampaignStatus


@dataclass(frozen=True, slots=True)
class ReaderProgress:
    """A reader's done and remaining presentations."""

    login: str
    role: CampaignRole
    done: int
    remaining: int


@dataclass(frozen=True, slots=True)
class CampaignProgress:
    """The campaign's status: per reader progress and the cases by state."""

    code: str
    status: CampaignStatus
    cases: int
    readers: tuple[ReaderProgress, ...]
    reading: int
    awaiting_adjudication: int
    adjudicated: int
    finished: int


def campaign_progress(session: Session, campaign: Campaign) -> CampaignProgress:
    """Each reader's done/remaining (reader 1 first) and the cases by state (reading, awaiting, ...)."""
    members = members_of(session, campaign)
    readers = []
    for role in (role for role in READER_ROLES if role in members):
        member, user = members[role]
        items = _items(session, member)
        done = sum(_is_done(session, item) for item in items)
        readers.append(ReaderProgress(user.login, role, done, len(items) - done))
    states = [
        case_state(session, campaign, case)
        for case in session.scalars(select(CampaignCase).where(CampaignCase.campaign_id == campaign.id))
    ]
    adjudicated_count = int(
        session.scalar(
            select(func.count(Adjudication.id))
            .join(CampaignCase, CampaignCase.id == Adjudication.case_id)
            .where(CampaignCase.campaign_id == campaign.id)
        )
        or 0
    )
    return CampaignProgress(
        code=campaign.code,
        status=CampaignStatus(campaign.status),
        cases=len(states),
        readers=tuple(readers),
        reading=states.count(CaseState.READING),
        awaiting_adjudication=states.count(CaseState.AWAITING_ADJUDICATION),
        adjudicated=adjudicated_count,
        finished=states.count(CaseState.FINISHED),
    )


def campaign_reads(session: Session, campaign: Campaign) -> Iterable[tuple[str, CampaignRole, bool, Read]]:
    """Every current read of the campaign: (case code, role, is repeat, read), by case and role."""
    codes = _case_codes(session, campaign)
    rows = session.execute(
        select(WorklistItemRow, CampaignReader.role)
        .join(CampaignReader, CampaignReader.id == WorklistItemRow.campaign_reader_id)
        .where(CampaignReader.campaign_id == campaign.id, WorklistItemRow.read_id.is_not(None))
        .order_by(WorklistItemRow.case_id, CampaignReader.role, WorklistItemRow.order_position)
    ).all()
    for item, role in rows:
        read = _item_read(session, item)
        if read is not None:
            yield codes[item.case_id], CampaignRole(role), item.is_repeat, read
