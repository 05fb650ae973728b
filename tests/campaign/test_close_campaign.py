"""Closing a campaign: who may, what is audited, and that nothing can be read or decided afterwards."""

from __future__ import annotations

import pytest
from campaign_helpers import FILMS, People, content_for, create, make_people, make_study, run_campaign
from conftest import Staff
from storage_helpers import PASSWORD

from kyphoangle.campaign import (
    CampaignError,
    adjudicate,
    campaign_progress,
    case_reads,
    close_campaign,
    get_campaign,
    next_case,
    save_adjudication_read,
    save_case_read,
    sign_case_read,
)
from kyphoangle.errors import PermissionDeniedError
from kyphoangle.storage import Database
from kyphoangle.storage.audit import AuditAction, AuditEntity, list_events, verify_trail
from kyphoangle.storage.models import User
from kyphoangle.vocabulary import CampaignStatus


@pytest.fixture
def people(database: Database, staff: Staff) -> People:
    make_study(database, staff.manager)
    return make_people(database, staff.admin, staff.manager)


def test_close_is_audited_and_happens_once(database: Database, people: People) -> None:
    run_campaign(database, people)
    with database.transaction() as session:
        campaign = get_campaign(session, "CR1")
        with pytest.raises(PermissionDeniedError):
            close_campaign(session, campaign, actor=session.get_one(User, people.central1))
        with pytest.raises(PermissionDeniedError):
            close_campaign(session, campaign, actor=session.get_one(User, people.adjudicator))
        closed = close_campaign(
            session, campaign, actor=session.get_one(User, people.manager), reason="reading period over"
        )
        assert closed is campaign and campaign.status == CampaignStatus.CLOSED
    with database.transaction() as session:
        campaign = get_campaign(session, "CR1")
        assert campaign.status == CampaignStatus.CLOSED
        assert campaign_progress(session, campaign).status is CampaignStatus.CLOSED
        with pytest.raises(CampaignError, match="already closed"):
            close_campaign(session, campaign, actor=session.get_one(User, people.manager))
    with database.reading() as session:
        campaign = get_campaign(session, "CR1")
        events = list_events(session, entity=AuditEntity.CAMPAIGN, entity_id=campaign.id)
        (event,) = [e for e in events if e.action == AuditAction.UPDATE]
        assert event.actor_login == "manager"
        assert event.old_values == {"status": "open"}
        # The forced case still awaits adjudication.
        assert event.new_values == {"status": "closed", "unfinished_cases": 1}
        assert event.reason == "reading period over"
        assert verify_trail(session).intact


def test_nothing_can_be_read_or_decided_once_closed(database: Database, people: People) -> None:
    readings = run_campaign(database, people)
    create(database, people, "CR2")
    with database.transaction() as session:
        second = get_campaign(session, "CR2")
        reader = session.get_one(User, people.central1)
        case = next_case(session, second, reader)
        assert case is not None
        save_case_read(session, second, reader, content_for(case.sop_instance_uid, 0.0))
        manager = session.get_one(User, people.manager)
        close_campaign(session, get_campaign(session, "CR1"), actor=manager)
        close_campaign(session, second, actor=manager)
    with database.transaction() as session:
        first, second = get_campaign(session, "CR1"), get_campaign(session, "CR2")
        reader = session.get_one(User, people.central1)
        adjudicator = session.get_one(User, people.adjudicator)
        with pytest.raises(CampaignError, match="closed, not open"):
            save_case_read(session, second, reader, content_for(case.sop_instance_uid, 1.0))
        with pytest.raises(CampaignError, match="closed, not open"):
            sign_case_read(session, second, reader, PASSWORD)
        reads = case_reads(session, first, readings.forced, adjudicator)
        with pytest.raises(CampaignError, match="closed, not open"):
            save_adjudication_read(
                session,
                first,
                adjudicator,
                readings.forced,
                content_for(reads[0].image.sop_instance_uid, 1.0),
            )
        with pytest.raises(CampaignError, match="closed, not open"):
            adjudicate(session, first, adjudicator, readings.forced, read=reads[0], reason="too late")
    with database.reading() as session:
        progress = campaign_progress(session, get_campaign(session, "CR1"))
        assert progress.awaiting_adjudication == 1 and progress.finished == FILMS - 1
        assert progress.adjudicated == 0
