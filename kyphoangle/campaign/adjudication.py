"""The adjudicator's side of a campaign: the cases waiting, a case's reader reads, the decision."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyphoangle.campaign.errors import CampaignError
from kyphoangle.campaign.members import (
    _case_items,
    _fractured_levels,
    _item_read,
    _items,
    _membership,
    _require_open,
    get_case,
    settings_of,
)
from kyphoangle.campaign.rule import AdjudicationRule
from kyphoangle.campaign.slots import reader_label, reader_name
from kyphoangle.campaign.state import CaseState, _first_reads, case_state, evaluate_rule_for_case
from kyphoangle.errors import (
    AuthenticationError,
    PermissionDeniedError,
    ReasonRequiredError,
)
from kyphoangle.landmark_file import LandmarkFile
from kyphoangle.storage.audit import AuditAction, AuditEntity, record
from kyphoangle.storage.models import (
    Adjudication,
    Campaign,
    CampaignCase,
    CampaignReader,
    Image,
    Read,
    User,
    utc_now,
)
from kyphoangle.storage.models import WorklistItem as WorklistItemRow
from kyphoangle.storage.reads import (
    create_read,
    delete_draft,
    read_content,
    sign_read,
    update_draft,
)
from kyphoangle.storage.users import (
    verify_signature,
)
from kyphoangle.vocabulary import CampaignRole, ReadStatus, ReadType


def adjudication_worklist(session: Session, campaign: Campaign, adjudicator: User) -> list[str]:
    """Case codes waiting for the adjudicator's decision."""
    member = _membership(session, campaign, adjudicator)
    if member.role != CampaignRole.ADJUDICATOR:
        raise PermissionDeniedError(f"{adjudicator.login} is not the adjudicator of {campaign.code!r}")
    cases = session.scalars(
        select(CampaignCase).where(CampaignCase.campaign_id == campaign.id).order_by(CampaignCase.case_code)
    )
    return [
        case.case_code
        for case in cases
        if case_state(session, campaign, case) is CaseState.AWAITING_ADJUDICATION
    ]


def _require_adjudicator(session: Session, campaign: Campaign, adjudicator: User) -> CampaignReader:
    member = _membership(session, campaign, adjudicator)
    if member.role != CampaignRole.ADJUDICATOR:
        raise PermissionDeniedError(f"{adjudicator.login} is not the adjudicator of {campaign.code!r}")
    return member


def _awaiting(session: Session, campaign: Campaign, case_code: str) -> CampaignCase:
    case = get_case(session, campaign, case_code)
    state = case_state(session, campaign, case)
    if state is not CaseState.AWAITING_ADJUDICATION:
        raise CampaignError(f"case {case_code} is not awaiting adjudication (it is {state})")
    return case


def save_adjudication_read(
    session: Session, campaign: Campaign, adjudicator: User, case_code: str, content: LandmarkFile
) -> Read:
    """The adjudicator's own (third) read of a case awaiting adjudication: a new draft, or its update."""
    _require_open(campaign)
    member = _require_adjudicator(session, campaign, adjudicator)
    case = _awaiting(session, campaign, case_code)
    content = replace(content, reader=adjudicator.login, read_type=ReadType.ADJUDICATION)
    item = session.scalar(
        select(WorklistItemRow).where(
            WorklistItemRow.campaign_reader_id == member.id, WorklistItemRow.case_id == case.id
        )
    )
    existing = _item_read(session, item) if item is not None else None
    if existing is not None:
        return update_draft(
            session, existing, content=content, expected_version=existing.version, actor=adjudicator
        )
    image = session.get_one(Image, case.image_id)
    read = create_read(
        session, image=image, reader=adjudicator, content=content, read_type=ReadType.ADJUDICATION
    )
    position = max((i.order_position for i in _items(session, member)), default=-1) + 1
    session.add(
        WorklistItemRow(
            campaign_reader_id=member.id,
            case_id=case.id,
            order_position=position,
            is_repeat=False,
            read_id=read.id,
        )
    )
    record(
        session,
        actor=adjudicator,
        entity=AuditEntity.WORKLIST,
        entity_id=f"{campaign.id}/{adjudicator.login}/{position}",
        action=AuditAction.ASSIGN,
        new={"read_id": read.id, "case_code": case.case_code, "read_type": ReadType.ADJUDICATION},
    )
    return read


def adjudicate(
    session: Session, campaign: Campaign, adjudicator: User, case_code: str, *, read: Read, reason: str
) -> Adjudication:
    """Select `read` (one of the readers' first reads, or the adjudicator's own signed read) as final."""
    _require_open(campaign)
    _require_adjudicator(session, campaign, adjudicator)
    if not reason.strip():
        raise ReasonRequiredError("an adjudication needs a reason")
    case = _awaiting(session, campaign, case_code)
    reads, third = _first_reads(session, case)
    allowed = {r.id: role for role, r in reads.items()}
    if third is not None:
        allowed[third.id] = CampaignRole.ADJUDICATOR
    if read.id not in allowed:
        raise CampaignError(
            f"read {read.id} cannot be chosen for case {case_code}: choose one of the readers' first reads "
            f"({', '.join(reader_name(role) for role in reads)}) or your own signed adjudication read"
        )
    decision = Adjudication(
        case_id=case.id,
        adjudicator_id=adjudicator.id,
        chosen_read_id=read.id,
        reason=reason,
        decided_at=utc_now(),
    )
    session.add(decision)
    session.flush()
    record(
        session,
        actor=adjudicator,
        entity=AuditEntity.ADJUDICATION,
        entity_id=f"{campaign.id}/{case.case_code}",
        action=AuditAction.CREATE,
        new={"case_code": case.case_code, "chosen_read_id": read.id, "chosen": allowed[read.id]},
        reason=reason,
    )
    return decision


@dataclass(frozen=True, slots=True)
class ReaderRead:
    """One reader's signed first read as the adjudicator sees it: by slot ("Reader 1"), never by login."""

    role: CampaignRole
    label: str
    read_id: int
    content: LandmarkFile
    """Landmarks, levels and not-evaluable reasons; the reader's login is left out."""


@dataclass(frozen=True, slots=True)
class AdjudicationCase:
    """A case awaiting adjudication as the adjudicator is shown it: blinded to patient, date and reader."""

    case_code: str
    sop_instance_uid: str
    file_path: str
    fractured_levels: tuple[str, ...]
    position: int
    """1-based place among the cases awaiting adjudication."""
    total: int
    reads: tuple[ReaderRead, ...]
    """The readers' signed first reads, in reader order."""
    triggers: tuple[str, ...]
    """Why the case met the campaign's adjudication rule."""
    own_read_id: int | None
    """The adjudicator's own third read of the case (a draft), when started."""
    rule: AdjudicationRule
    """The campaign's adjudication rule (its measurement and threshold)."""


def adjudication_case(
    session: Session, campaign: Campaign, adjudicator: User, case_code: str | None = None
) -> AdjudicationCase | None:
    """The case `case_code` (or the first one waiting) for the adjudicator; None when none is waiting."""
    _require_adjudicator(session, campaign, adjudicator)
    waiting = adjudication_worklist(session, campaign, adjudicator)
    if case_code is None:
        if not waiting:
            return None
        case_code = waiting[0]
    case = _awaiting(session, campaign, case_code)
    image = session.get_one(Image, case.image_id)
    reads, _ = _first_reads(session, case)
    own: Read | None = None
    for _item, role, read in _case_items(session, case):
        if role == CampaignRole.ADJUDICATOR and read is not None:
            own = read
    return AdjudicationCase(
        case_code=case.case_code,
        sop_instance_uid=image.sop_instance_uid,
        file_path=image.file_path,
        fractured_levels=_fractured_levels(session, image),
        position=waiting.index(case.case_code) + 1,
        total=len(waiting),
        reads=tuple(
            ReaderRead(role, reader_label(role), read.id, replace(read_content(read), reader=None))
            for role, read in sorted(reads.items())
        ),
        triggers=tuple(evaluate_rule_for_case(session, campaign, case) or ()),
        own_read_id=own.id if own is not None else None,
        rule=settings_of(campaign).rule,
    )


def _verify_decision_password(adjudicator: User, password: str) -> None:
    try:
        verify_signature(adjudicator, password)
    except AuthenticationError:
        raise AuthenticationError(
            f"wrong password for {adjudicator.login}: the decision was not recorded"
        ) from None


def choose_reader_read(
    session: Session,
    campaign: Campaign,
    adjudicator: User,
    case_code: str,
    *,
    role: CampaignRole,
    reason: str,
    password: str,
) -> Adjudication:
    """Select one reader's first read as the case's final read, signed with the adjudicator's password."""
    _require_adjudicator(session, campaign, adjudicator)
    _verify_decision_password(adjudicator, password)
    case = _awaiting(session, campaign, case_code)
    reads, _ = _first_reads(session, case)
    if role not in reads:
        raise CampaignError(f"case {case_code} has no signed read of {reader_label(role).lower()}")
    decision = adjudicate(session, campaign, adjudicator, case_code, read=reads[role], reason=reason)
    _discard_third_draft(session, campaign, adjudicator, case)
    return decision


def _discard_third_draft(session: Session, campaign: Campaign, adjudicator: User, case: CampaignCase) -> None:
    """Delete the adjudicator's unsigned third read of a decided case (its content stays in the audit)."""
    member = _require_adjudicator(session, campaign, adjudicator)
    item = session.scalar(
        select(WorklistItemRow).where(
            WorklistItemRow.campaign_reader_id == member.id, WorklistItemRow.case_id == case.id
        )
    )
    read = _item_read(session, item) if item is not None else None
    if item is None or read is None or read.status == ReadStatus.SIGNED:
        return
    session.delete(item)
    session.flush()
    delete_draft(
        session, read, actor=adjudicator, reason=f"case {case.case_code} decided with a reader's read"
    )


def sign_adjudication_read(
    session: Session, campaign: Campaign, adjudicator: User, case_code: str, *, password: str, reason: str
) -> Adjudication:
    """Sign the adjudicator's own third read of the case and select it as final, in one step."""
    _require_open(campaign)
    member = _require_adjudicator(session, campaign, adjudicator)
    if not reason.strip():
        raise ReasonRequiredError("an adjudication needs a reason")
    case = _awaiting(session, campaign, case_code)
    item = session.scalar(
        select(WorklistItemRow).where(
            WorklistItemRow.campaign_reader_id == member.id, WorklistItemRow.case_id == case.id
        )
    )
    read = _item_read(session, item) if item is not None else None
    if read is None:
        raise CampaignError(f"there is no third read of case {case_code} to sign: place its landmarks first")
    if read.status != ReadStatus.SIGNED:
        sign_read(session, read, password=password)
    else:
        _verify_decision_password(adjudicator, password)
    return adjudicate(session, campaign, adjudicator, case_code, read=read, reason=reason)
