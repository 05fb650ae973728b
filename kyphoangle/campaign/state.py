"""A case's state, derived in one place: first reads, the rule's outcome, adjudication, the final read."""

from __future__ import annotations

import enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyphoangle.campaign.members import _case_items, current_read, reader_roles, settings_of
from kyphoangle.campaign.rule import evaluate_rule_for_reads
from kyphoangle.campaign.slots import READER_ROLES
from kyphoangle.storage.audit import AuditAction, AuditEntity, record
from kyphoangle.storage.models import (
    Adjudication,
    Campaign,
    CampaignCase,
    Read,
    User,
)
from kyphoangle.storage.reads import (
    get_read,
)
from kyphoangle.vocabulary import CampaignRole, ReadStatus


class CaseState(enum.StrEnum):
    """Where a case is: being read, waiting for the adjudicator, or finished (a final read exists)."""

    READING = "reading"
    AWAITING_ADJUDICATION = "awaiting_adjudication"
    FINISHED = "finished"


def _first_reads(session: Session, case: CampaignCase) -> tuple[dict[CampaignRole, Read], Read | None]:
    """The readers' signed first reads by role (reader order), and the adjudicator's signed read."""
    reads: dict[CampaignRole, Read] = {}
    third: Read | None = None
    for item, role, read in _case_items(session, case):
        if read is None or read.status != ReadStatus.SIGNED or item.is_repeat:
            continue
        if role == CampaignRole.ADJUDICATOR:
            third = read
        else:
            reads[role] = read
    return {role: reads[role] for role in READER_ROLES if role in reads}, third


def _all_first_reads(
    session: Session, campaign: Campaign, case: CampaignCase
) -> dict[CampaignRole, Read] | None:
    """Every reader's signed first read of the case by role, or None while one is missing."""
    reads, _ = _first_reads(session, case)
    if not reads or any(role not in reads for role in reader_roles(session, campaign)):
        return None
    return reads


def evaluate_rule_for_case(session: Session, campaign: Campaign, case: CampaignCase) -> list[str] | None:
    """The rule's triggers once all readers' first reads are signed (None before that, or if none)."""
    reads = _all_first_reads(session, campaign, case)
    if reads is None:
        return None
    return evaluate_rule_for_reads(settings_of(campaign).rule, reads) or None


def evaluate_case(
    session: Session, campaign: Campaign, case: CampaignCase, *, actor: User
) -> list[str] | None:
    """Evaluate the rule when all readers' first reads are signed; record the outcome in the audit trail."""
    reads = _all_first_reads(session, campaign, case)
    if reads is None:
        return None
    triggers = evaluate_rule_for_reads(settings_of(campaign).rule, reads) or None
    record(
        session,
        actor=actor,
        entity=AuditEntity.ADJUDICATION,
        entity_id=f"{campaign.id}/{case.case_code}",
        action=AuditAction.UPDATE,
        new={
            "case_code": case.case_code,
            "reads": {str(role): read.id for role, read in reads.items()},
            "adjudication_needed": triggers is not None,
            "triggers": triggers or [],
        },
    )
    return triggers


def case_state(session: Session, campaign: Campaign, case: CampaignCase) -> CaseState:
    """Reading (a reader's first read is not signed yet), awaiting adjudication or finished."""
    if _all_first_reads(session, campaign, case) is None:
        return CaseState.READING
    if evaluate_rule_for_case(session, campaign, case) is None:
        return CaseState.FINISHED
    decided = session.scalar(select(Adjudication.id).where(Adjudication.case_id == case.id))
    return CaseState.FINISHED if decided is not None else CaseState.AWAITING_ADJUDICATION


def final_reads(session: Session, campaign: Campaign) -> dict[int, int]:
    """The final read id of each finished case, by case id.

    Without adjudication the final read is reader 1's first read, whatever the number of readers; with
    adjudication it is the read the adjudicator chose (following amendments to the current read).
    """
    finals: dict[int, int] = {}
    query = (
        select(Adjudication.case_id, Adjudication.chosen_read_id)
        .join(CampaignCase, CampaignCase.id == Adjudication.case_id)
        .where(CampaignCase.campaign_id == campaign.id)
    )
    decisions = {case_id: read_id for case_id, read_id in session.execute(query)}
    for case in session.scalars(select(CampaignCase).where(CampaignCase.campaign_id == campaign.id)):
        state = case_state(session, campaign, case)
        if state is not CaseState.FINISHED:
            continue
        if case.id in decisions:
            finals[case.id] = current_read(get_read(session, decisions[case.id])).id
        else:
            reads, _ = _first_reads(session, case)
            finals[case.id] = reads[CampaignRole.READER_1].id
    return finals
