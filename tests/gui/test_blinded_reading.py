"""Two central readers read their whole worklists through the blinded window by clicking; the campaign is
done. The next case is on screen as soon as a case is signed, and the window offers no way to other reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from blinded_helpers import make_blinded_window, place_all_landmarks, wait_for_case
from campaign_study import CAMPAIGN, PASSWORDS, build_campaign_study
from PySide6.QtWidgets import QDockWidget
from pytestqt.qtbot import QtBot

from kyphoangle.campaign import campaign_progress, get_campaign
from kyphoangle.errors import KyphoangleError, PermissionDeniedError
from kyphoangle.vocabulary import CampaignRole


def test_two_readers_read_their_worklists_and_the_campaign_is_done(qtbot: QtBot, tmp_path: Path) -> None:
    study = build_campaign_study(tmp_path, films=3)
    orders: dict[str, list[str]] = {}
    for login in ("central1", "central2"):
        window = make_blinded_window(qtbot, study, login, tmp_path)
        store = window.campaign_store
        seen: list[str] = []
        while window.case is not None:
            case = window.case
            assert window.reading.model.fractured_levels == case.fractured_levels == ("L1",)
            assert f"{case.position} of 3" in window.windowTitle()
            place_all_landmarks(qtbot, window, study)
            assert (
                window.reading.result is not None
                and window.reading.result.get("regional_angle", "L1") is not None
            )
            # the films after this one are decoded while the reader works
            upcoming = store.upcoming_paths(1)
            prefetcher = window.flow.prefetcher
            qtbot.waitUntil(lambda: not prefetcher.busy, timeout=20000)  # noqa: B023 (waited on at once)
            assert window.sign(PASSWORDS[login])
            seen.append(case.case_code)
            if upcoming:
                # prefetched: the next case is on screen when sign() returns, no waiting
                assert window.case is not None and window.reading.film is not None
                assert window.reading.film.sop_instance_uid == window.case.sop_instance_uid
            wait_for_case(qtbot, window)
            # a signed case is closed to its reader
            with pytest.raises(KyphoangleError):
                store.load_read(case.sop_instance_uid, login)
        orders[login] = seen
        assert "complete" in window.reading.view.message
        assert not window.actions_by_id["sign"].isEnabled()
        assert store.progress_text() == "3 of 3 cases signed"
        window.close()

    assert sorted(orders["central1"]) == sorted(orders["central2"])
    assert orders["central1"] != orders["central2"] or len(orders["central1"]) < 3  # own random orders
    with study.database.reading() as session:
        progress = campaign_progress(session, get_campaign(session, CAMPAIGN))
    assert progress.cases == 3
    assert progress.finished == 3 and progress.reading == 0 and progress.awaiting_adjudication == 0
    assert all(reader.done == 3 and reader.remaining == 0 for reader in progress.readers)


def test_the_blinded_window_offers_no_path_to_other_reads(qtbot: QtBot, tmp_path: Path) -> None:
    study = build_campaign_study(tmp_path, films=3)
    first = make_blinded_window(qtbot, study, "central1", tmp_path)
    assert first.case is not None
    place_all_landmarks(qtbot, first, study)
    assert first.sign(PASSWORDS["central1"])
    first.close()

    window = make_blinded_window(qtbot, study, "central2", tmp_path)
    store = window.campaign_store
    assert window.case is not None
    assert window.findChild(QDockWidget, "browserDock") is None
    assert not {"open", "import", "import_dicomdir"} & set(window.actions_by_id)
    assert list(store.images()) == []
    with pytest.raises(PermissionDeniedError):
        store.import_paths([str(tmp_path)], lambda *_: None, lambda: False)
    others = [uid for uid in study.films if uid != window.case.sop_instance_uid]
    for uid in others:  # other cases, including the one central1 signed
        with pytest.raises(PermissionDeniedError):
            store.load_read(uid, "central2")
    with pytest.raises(PermissionDeniedError):  # another reader's read of any film, even this one
        store.load_read(window.case.sop_instance_uid, "central1")
    # the window's own actions never name a film or a reader other than the signed-in one
    assert not any("central1" in a.text() for a in window.actions_by_id.values())


def test_a_central_reader_signing_in_gets_the_blinded_window(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings

    from app.blinded_window import BlindedReadingWindow
    from app.entry import blinded_window_for
    from kyphoangle.workstation.study_reads import StudyReadService

    study = build_campaign_study(tmp_path, films=1)
    store = StudyReadService(study.database)
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    account = store.authenticate("central2", PASSWORDS["central2"])
    window = blinded_window_for(store, account, settings, tmp_path / "recovery")
    assert isinstance(window, BlindedReadingWindow)
    qtbot.addWidget(window)
    assert window.campaign_store.campaign_code == CAMPAIGN
    adjudicator = store.authenticate("adjud", PASSWORDS["adjud"])
    assert blinded_window_for(store, adjudicator, settings, tmp_path) is None


def test_signing_in_the_background_shows_the_next_film_at_once(qtbot: QtBot, tmp_path: Path) -> None:
    study = build_campaign_study(tmp_path, films=3)
    window = make_blinded_window(qtbot, study, "central1", tmp_path)
    first = window.case
    assert first is not None
    place_all_landmarks(qtbot, window, study)
    qtbot.waitUntil(lambda: not window.flow.prefetcher.busy and bool(window.flow.upcoming), timeout=20000)
    placed = dict(window.reading.model.points)

    # a wrong password: the next film shows at once, then the case comes back with its landmarks
    window.sign_in_background("not my password")
    assert window.pending_sign is not None and window.reading.film is not None
    assert (
        window.reading.film.sop_instance_uid != first.sop_instance_uid
    )  # the next film is already on screen
    assert not window.reading.view.tool.enabled and not window.actions_by_id["sign"].isEnabled()
    qtbot.waitUntil(lambda: window.pending_sign is None, timeout=10000)
    assert window.case is not None and window.case.case_code == first.case_code
    assert window.reading.film is not None and window.reading.film.sop_instance_uid == first.sop_instance_uid
    assert dict(window.reading.model.points) == placed and not window.reading.model.signed
    assert "not signed" in window.last_error and window.reading.view.tool.enabled

    # the right password: the next film at once, editable as soon as the signature is stored
    window.sign_in_background(PASSWORDS["central1"])
    assert window.reading.film is not None and window.reading.film.sop_instance_uid != first.sop_instance_uid
    qtbot.waitUntil(lambda: window.pending_sign is None, timeout=10000)
    assert window.case is not None and window.case.case_code != first.case_code
    assert window.reading.film.sop_instance_uid == window.case.sop_instance_uid
    assert window.reading.view.tool.enabled and window.reading.model.points == {}
    with study.database.reading() as session:
        progress = campaign_progress(session, get_campaign(session, CAMPAIGN))
    assert progress.readers[0].done == 1


def test_a_finished_worklist_hands_over_to_the_next_campaign(qtbot: QtBot, tmp_path: Path) -> None:
    from test_adjudication import make_adjudication_window, read_worklist

    from kyphoangle.campaign import create_campaign
    from kyphoangle.storage.users import get_user

    study = build_campaign_study(tmp_path, films=2)
    with study.database.transaction() as session:
        second = create_campaign(
            session,
            actor=get_user(session, "manager"),
            code="ZZ-SECOND",  # after BLIND-1 by name: BLIND-1 opens first
            readers=[get_user(session, "central1"), get_user(session, "central2")],
            adjudicator=get_user(session, "adjud"),
            seed=3,
        )
        assert second.code == "ZZ-SECOND"
    window = make_blinded_window(qtbot, study, "central1", tmp_path)
    codes: list[tuple[str, str]] = []
    while window.case is not None:
        codes.append((window.campaign_store.campaign_code, window.case.case_code))
        place_all_landmarks(qtbot, window, study)
        assert window.sign(PASSWORDS["central1"])
        if len(codes) == 2:
            assert "next campaign" in window.statusBar().currentMessage()
        wait_for_case(qtbot, window)
    assert [campaign for campaign, _ in codes] == [CAMPAIGN, CAMPAIGN, "ZZ-SECOND", "ZZ-SECOND"]
    assert len({case for _, case in codes}) == 4, "every campaign has its own case codes"
    assert "complete" in window.reading.view.message
    window.close()

    # reader 2 disagrees on the first case of each campaign, reading both in one window; the
    # adjudicator moves on the same way once the first campaign's dispute is settled
    seen = read_worklist(qtbot, study, "central2", tmp_path, disagree_on=1)
    assert len(seen) == 4
    with study.database.transaction() as session:
        for code in (CAMPAIGN, "ZZ-SECOND"):
            progress = campaign_progress(session, get_campaign(session, code))
            assert (progress.finished, progress.awaiting_adjudication) == (1, 1), code
    adjudication = make_adjudication_window(qtbot, study, tmp_path)
    settled: list[str] = []
    while adjudication.adjudication_case is not None:
        settled.append(adjudication.adjudication_store.campaign_code)
        assert adjudication.choose_read(
            CampaignRole.READER_1, reason="reader 1 is right", password="adjudicate"
        )
        wait_for_case(qtbot, adjudication)  # type: ignore[arg-type]
    assert settled == [CAMPAIGN, "ZZ-SECOND"]
    assert "No case is awaiting adjudication" in adjudication.reading.view.message
