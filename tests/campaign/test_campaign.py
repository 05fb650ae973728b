"""Central reading campaigns: creation, blinded worklists, adjudication and status."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from campaign_helpers import (
    FILMS,
    REPEATS,
    SEED,
    People,
    content_for,
    create,
    make_people,
    make_study,
    run_campaign,
)
from conftest import Staff
from storage_helpers import PASSWORD

from kyphoangle.campaign import (
    CampaignError,
    adjudicate,
    adjudication_worklist,
    campaign_progress,
    case_reads,
    create_campaign,
    final_reads,
    get_campaign,
    get_case,
    next_case,
    save_adjudication_read,
    save_case_read,
    sign_case_read,
    worklist,
)
from kyphoangle.errors import NotFoundError, PermissionDeniedError, ReasonRequiredError
from kyphoangle.storage import Database
from kyphoangle.storage.audit import AuditEntity, list_events, verify_trail
from kyphoangle.storage.models import CampaignCase, User, utc_now
from kyphoangle.storage.reads import get_read, sign_read
from kyphoangle.storage.users import get_user
from kyphoangle.vocabulary import ReadType
from kyphoangle.worklist import WorklistError


@pytest.fixture
def people(database: Database, staff: Staff) -> People:
    make_study(database, staff.manager)
    return make_people(database, staff.admin, staff.manager)


def _orders(database: Database, code: str) -> dict[str, list[str]]:
    with database.reading() as session:
        campaign = get_campaign(session, code)
        return {
            login: [entry.case_code for entry in worklist(session, campaign, get_user(session, login))]
            for login in ("central1", "central2")
        }


def test_seeded_orders_are_reproducible(database: Database, people: People) -> None:
    create(database, people, "A")
    create(database, people, "B")
    create(database, people, "C", seed=SEED + 1)
    a, b, c = _orders(database, "A"), _orders(database, "B"), _orders(database, "C")
    assert a == b
    assert a != c
    assert a["central1"] != a["central2"]
    assert len(a["central1"]) == FILMS + REPEATS  # the hidden repeats
    with database.reading() as session:
        assert get_campaign(session, "A").random_seed == SEED
        events = list_events(session, entity=AuditEntity.WORKLIST)
        assert len(events) == 6


def test_generated_seed_is_recorded(database: Database, people: People) -> None:
    create(database, people, "G", seed=None)
    with database.reading() as session:
        campaign = get_campaign(session, "G")
        (event,) = list_events(session, entity=AuditEntity.CAMPAIGN, entity_id=campaign.id)
        assert event.new_values["random_seed"] == campaign.random_seed


def test_creation_refuses_bad_settings(database: Database, people: People) -> None:
    with database.transaction() as session:
        manager = session.get_one(User, people.manager)
        reader = session.get_one(User, people.central1)
        adjudicator = session.get_one(User, people.adjudicator)
        with pytest.raises(CampaignError, match="2 to 6 central readers, not 1"):
            create_campaign(session, actor=manager, code="X", readers=[reader], adjudicator=adjudicator)
        with pytest.raises(CampaignError, match="only one reader slot"):
            create_campaign(
                session, actor=manager, code="X", readers=[reader, reader], adjudicator=adjudicator
            )
        with pytest.raises(PermissionDeniedError):
            create_campaign(
                session, actor=reader, code="X", readers=[reader, adjudicator], adjudicator=adjudicator
            )
        with pytest.raises(WorklistError, match="cases"):
            create_campaign(
                session,
                actor=manager,
                code="X",
                readers=[reader, session.get_one(User, people.central2)],
                adjudicator=adjudicator,
                min_gap=20,
            )


def test_next_case_is_blinded(database: Database, people: People) -> None:
    create(database, people)
    with database.reading() as session:
        case = next_case(session, get_campaign(session, "CR1"), session.get_one(User, people.central1))
    assert case is not None
    assert case.fractured_levels == ("L1",)
    assert case.position == 1 and case.total == FILMS + REPEATS
    shown = {f.name for f in dataclasses.fields(case)}
    assert shown == {
        "case_code",
        "sop_instance_uid",
        "file_path",
        "fractured_levels",
        "position",
        "total",
        "read_id",
    }


def test_landmarks_of_the_blinded_copy_are_of_the_film_and_others_are_refused(
    database: Database, people: People
) -> None:
    from kyphoangle.dicom.blinded_copy import blinded_instance_uid

    create(database, people)
    with database.transaction() as session:
        campaign, reader = get_campaign(session, "CR1"), session.get_one(User, people.central1)
        case = next_case(session, campaign, reader)
        assert case is not None
        with pytest.raises(CampaignError, match=f"another film, not of case {case.case_code}"):
            save_case_read(session, campaign, reader, content_for("1.2.3.4.5.6", 0.0))
        copy_uid = blinded_instance_uid(case.sop_instance_uid, case.case_code)
        read = save_case_read(session, campaign, reader, content_for(copy_uid, 0.0))
        assert read.image.sop_instance_uid == case.sop_instance_uid


def test_full_campaign_with_repeats_and_adjudication(database: Database, people: People) -> None:
    readings = run_campaign(database, people)
    forced = readings.forced
    with database.transaction() as session:
        campaign = get_campaign(session, "CR1")
        adjudicator = session.get_one(User, people.adjudicator)
        assert adjudication_worklist(session, campaign, adjudicator) == [forced]
        progress = campaign_progress(session, campaign)
        assert progress.awaiting_adjudication == 1 and progress.finished == FILMS - 1
        assert [(r.login, r.done, r.remaining) for r in progress.readers] == [
            ("central1", FILMS + REPEATS, 0),
            ("central2", FILMS + REPEATS, 0),
        ]
        reads = case_reads(session, campaign, forced, adjudicator)
        assert sorted(r.reader.login for r in reads) == ["central1", "central2"]
        with pytest.raises(ReasonRequiredError):
            adjudicate(session, campaign, adjudicator, forced, read=reads[0], reason=" ")
        third = save_adjudication_read(
            session, campaign, adjudicator, forced, content_for(reads[0].image.sop_instance_uid, 1.0)
        )
        assert third.read_type == ReadType.ADJUDICATION
        sign_read(session, third, password=PASSWORD)
        adjudicate(
            session, campaign, adjudicator, forced, read=third, reason="reader 2 took the wrong endplate"
        )
        third_id = third.id

    with database.reading() as session:
        campaign = get_campaign(session, "CR1")
        progress = campaign_progress(session, campaign)
        assert (
            progress.finished == FILMS and progress.awaiting_adjudication == 0 and progress.adjudicated == 1
        )
        finals = final_reads(session, campaign)
        assert len(finals) == FILMS
        forced_case = get_case(session, campaign, forced)
        assert finals[forced_case.id] == third_id
        others = [get_read(session, r) for case_id, r in finals.items() if case_id != forced_case.id]
        assert {r.reader.login for r in others} == {"central1"}
        assert {r.read_type for r in others} == {ReadType.CENTRAL}
        adjudications = list_events(session, entity=AuditEntity.ADJUDICATION)
        assert sum(e.action == "create" for e in adjudications) == 1
        assert sum(e.new_values.get("adjudication_needed") is True for e in adjudications) == 1
        assert verify_trail(session).intact


def test_central_reader_sees_only_their_current_read(database: Database, people: People) -> None:
    create(database, people)
    with database.transaction() as session:
        campaign = get_campaign(session, "CR1")
        one, two = session.get_one(User, people.central1), session.get_one(User, people.central2)
        case = next_case(session, campaign, one)
        assert case is not None
        save_case_read(session, campaign, one, content_for(case.sop_instance_uid, 0.0))
        assert [r.reader_id for r in case_reads(session, campaign, case.case_code, one)] == [one.id]
        # Reader 2 cannot open reader 1's case unless it is their own current case.
        other = next_case(session, campaign, two)
        assert other is not None
        if other.case_code != case.case_code:
            with pytest.raises(PermissionDeniedError):
                case_reads(session, campaign, case.case_code, two)
        with pytest.raises(PermissionDeniedError):
            case_reads(session, campaign, case.case_code, session.get_one(User, people.adjudicator))
        sign_case_read(session, campaign, one, PASSWORD)
        # After signing, the case is no longer theirs to open.
        with pytest.raises(PermissionDeniedError):
            case_reads(session, campaign, case.case_code, one)
        with pytest.raises(PermissionDeniedError):
            adjudication_worklist(session, campaign, one)


def test_repeat_never_shows_the_earlier_read(database: Database, people: People) -> None:
    create(database, people)
    with database.reading() as session:
        codes = [c.case_code for c in session.query(CampaignCase)]
    angles = dict.fromkeys(codes, 0.0)
    with database.transaction() as session:
        campaign = get_campaign(session, "CR1")
        reader = session.get_one(User, people.central1)
        seen: set[str] = set()
        while (case := next_case(session, campaign, reader)) is not None:
            if case.case_code in seen:
                # The repeat: a fresh presentation, the first read is not reachable.
                assert case.read_id is None
                assert case_reads(session, campaign, case.case_code, reader) == []
                read = save_case_read(session, campaign, reader, content_for(case.sop_instance_uid, 0.0))
                assert read.read_type == ReadType.REPEAT
                return
            seen.add(case.case_code)
            save_case_read(
                session, campaign, reader, content_for(case.sop_instance_uid, angles[case.case_code])
            )
            sign_case_read(session, campaign, reader, PASSWORD)
    pytest.fail("no repeat was presented")


def test_filters_and_gap_in_days(database: Database, people: People) -> None:
    with database.transaction() as session:
        manager = session.get_one(User, people.manager)
        readers = [session.get_one(User, people.central1), session.get_one(User, people.central2)]
        campaign = create_campaign(
            session,
            actor=manager,
            code="F",
            readers=readers,
            adjudicator=session.get_one(User, people.adjudicator),
            subjects=["S001", "S002"],
            repeat_fraction=0.25,
            min_gap=1,
            min_gap_days=7,
            seed=5,
        )
        assert len(worklist(session, campaign, readers[0])) == 4 + 1
        with pytest.raises(NotFoundError, match="S999"):
            create_campaign(
                session,
                actor=manager,
                code="F2",
                readers=readers,
                adjudicator=session.get_one(User, people.adjudicator),
                subjects=["S999"],
            )
    # The repeat is held back until its first reading is a week old.
    with database.transaction() as session:
        campaign = get_campaign(session, "F")
        reader = session.get_one(User, people.central1)
        shown: list[str] = []
        while (case := next_case(session, campaign, reader)) is not None:
            shown.append(case.case_code)
            save_case_read(session, campaign, reader, content_for(case.sop_instance_uid, 0.0))
            sign_case_read(session, campaign, reader, PASSWORD)
        assert len(shown) == 4 and len(set(shown)) == 4
        later = next_case(session, campaign, reader, now=utc_now() + dt.timedelta(days=8))
        assert later is not None and later.case_code in shown
