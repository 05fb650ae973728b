"""Creating a campaign with its readers' worklists (audited), and closing it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyphoangle.campaign.drawing import select_images, worklist_item
from kyphoangle.campaign.errors import CampaignError
from kyphoangle.campaign.rule import AdjudicationRule
from kyphoangle.campaign.settings import DEFAULT_MIN_GAP, DEFAULT_REPEAT_FRACTION, CampaignSettings
from kyphoangle.campaign.slots import MAX_READERS, MIN_READERS, READER_ROLES
from kyphoangle.campaign.state import CaseState, case_state
from kyphoangle.protocol import MeasurementName
from kyphoangle.storage.audit import AuditAction, AuditEntity, record
from kyphoangle.storage.models import (
    Campaign,
    CampaignCase,
    CampaignReader,
    User,
    utc_now,
)
from kyphoangle.storage.study import get_study
from kyphoangle.storage.users import (
    READ_TYPES_BY_ROLE,
    Permission,
    require_permission,
)
from kyphoangle.vocabulary import CampaignRole, CampaignStatus, ReadType
from kyphoangle.worklist import case_codes, draw_worklist


def create_campaign(
    session: Session,
    *,
    actor: User,
    code: str,
    readers: Sequence[User],
    adjudicator: User,
    title: str = "",
    subjects: Sequence[str] | None = None,
    visits: Sequence[str] | None = None,
    sites: Sequence[str] | None = None,
    measurements: Sequence[MeasurementName | str] = (MeasurementName.REGIONAL_ANGLE,),
    rule: AdjudicationRule | None = None,
    repeat_fraction: float = DEFAULT_REPEAT_FRACTION,
    min_gap: int = DEFAULT_MIN_GAP,
    min_gap_days: int | None = None,
    seed: int | None = None,
    snapping: bool = True,
) -> Campaign:
    """Create an open campaign: random case codes, each reader's worklist, all audited (data managers).

    `readers` are two to six different central readers; they become reader 1, reader 2, ... in the
    order given (reader 1's read is the final one when a case needs no adjudication). Images are every
    film, or those of the listed subjects, visits and sites. `seed` is generated when not given and
    recorded either way, so the orders can be drawn again.
    """
    require_permission(actor, Permission.MANAGE_CAMPAIGNS)
    if not code.strip():
        raise CampaignError("a campaign needs a name")
    if session.scalar(select(Campaign.id).where(Campaign.code == code)) is not None:
        raise CampaignError(f"there is already a campaign {code!r}")
    if not MIN_READERS <= len(readers) <= MAX_READERS:
        raise CampaignError(
            f"a campaign has {MIN_READERS} to {MAX_READERS} central readers, not {len(readers)}"
        )
    if len({user.id for user in readers}) != len(readers):
        raise CampaignError("each central reader can hold only one reader slot of a campaign")
    people = [*readers, adjudicator]
    if len({user.id for user in people}) != len(people):
        raise CampaignError("the readers and the adjudicator must be different people")
    for user in readers:
        if not user.active or ReadType.CENTRAL not in READ_TYPES_BY_ROLE[user.role]:
            raise CampaignError(f"{user.login} ({user.role}) cannot be a central reader")
    if not adjudicator.active or ReadType.ADJUDICATION not in READ_TYPES_BY_ROLE[adjudicator.role]:
        raise CampaignError(f"{adjudicator.login} ({adjudicator.role}) cannot adjudicate")
    chosen = tuple(MeasurementName(m) for m in measurements)
    settings = CampaignSettings(
        rule=rule or AdjudicationRule(),
        measurements=chosen or (MeasurementName.REGIONAL_ANGLE,),
        min_gap=min_gap,
        min_gap_days=min_gap_days,
        snapping=snapping,
    )
    if min_gap_days is not None and min_gap_days < 0:
        raise CampaignError("the minimum gap in days must not be negative")
    images = select_images(session, subjects, visits, sites)
    if not images:
        raise CampaignError("no film matches the campaign's subjects, visits and sites")
    if seed is None:
        seed = secrets.randbelow(2**31 - 1)
    if not 0 <= seed < 2**31:
        raise CampaignError("the random seed must be between 0 and 2147483647")
    # Draw every order first: a gap that cannot be kept stops the creation before anything is written.
    orders = {
        user.login: draw_worklist(
            len(images), reader=user.login, seed=seed, repeat_fraction=repeat_fraction, min_gap=min_gap
        )
        for user in readers
    }
    campaign = Campaign(
        study_id=get_study(session).id,
        code=code,
        title=title or code,
        status=CampaignStatus.OPEN,
        random_seed=seed,
        repeat_fraction=repeat_fraction,
        adjudication_rule=settings.to_json(),
        created_at=utc_now(),
    )
    session.add(campaign)
    session.flush()
    # Which film gets which code is shuffled too, so code order says nothing about import order.
    codes = case_codes(len(images))
    cases = [
        CampaignCase(campaign_id=campaign.id, case_code=case_code, image_id=image.id)
        for case_code, image in zip(codes, images, strict=True)
    ]
    session.add_all(cases)
    members = [
        CampaignReader(campaign_id=campaign.id, user_id=user.id, role=role)
        for user, role in zip(readers, READER_ROLES[: len(readers)], strict=True)
    ]
    members.append(
        CampaignReader(campaign_id=campaign.id, user_id=adjudicator.id, role=CampaignRole.ADJUDICATOR)
    )
    session.add_all(members)
    session.flush()
    record(
        session,
        actor=actor,
        entity=AuditEntity.CAMPAIGN,
        entity_id=campaign.id,
        action=AuditAction.CREATE,
        new={
            "code": code,
            "title": campaign.title,
            "random_seed": seed,
            "repeat_fraction": repeat_fraction,
            "settings": json.loads(settings.to_json()),
            "readers": {str(m.role): u.login for m, u in zip(members, people, strict=True)},
            "filters": {"subjects": subjects or [], "visits": visits or [], "sites": sites or []},
            "cases": {case.case_code: case.image_id for case in cases},
        },
    )
    for member, user in zip(members[: len(readers)], readers, strict=True):
        items = [
            worklist_item(member, cases[item.case_index], item.position, item.is_repeat)
            for item in orders[user.login]
        ]
        session.add_all(items)
        session.flush()
        record(
            session,
            actor=actor,
            entity=AuditEntity.WORKLIST,
            entity_id=f"{campaign.id}/{user.login}",
            action=AuditAction.CREATE,
            new={
                "campaign": code,
                "reader": user.login,
                "role": member.role,
                "order": [[cases[i.case_index].case_code, i.is_repeat] for i in orders[user.login]],
            },
        )
    return campaign


def close_campaign(session: Session, campaign: Campaign, *, actor: User, reason: str = "") -> Campaign:
    """Close the campaign (data managers and admins): nothing can be read or adjudicated in it any more.

    Cases not finished stay as they are (reported in the audit event); closing twice is refused.
    """
    require_permission(actor, Permission.MANAGE_CAMPAIGNS)
    old = CampaignStatus(campaign.status)
    if old == CampaignStatus.CLOSED:
        raise CampaignError(f"campaign {campaign.code!r} is already closed")
    cases = session.scalars(select(CampaignCase).where(CampaignCase.campaign_id == campaign.id))
    unfinished = sum(case_state(session, campaign, case) is not CaseState.FINISHED for case in cases)
    campaign.status = CampaignStatus.CLOSED
    record(
        session,
        actor=actor,
        entity=AuditEntity.CAMPAIGN,
        entity_id=campaign.id,
        action=AuditAction.UPDATE,
        old={"status": old},
        new={"status": CampaignStatus.CLOSED, "unfinished_cases": unfinished},
        reason=reason.strip() or None,
    )
    return campaign
