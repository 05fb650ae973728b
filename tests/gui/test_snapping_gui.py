"""Snapping in the reading window: the reader clicks near a corner, sees the proposal next to the click,
accepts it with Enter (one undoable edit) or keeps the click with Esc; nothing moves unasked."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from blinded_helpers import assert_no_proposals, make_blinded_window, wait_for_case
from campaign_study import CAMPAIGN, build_campaign_study
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot
from test_main_window import click_image, make_window, open_film, tick

from app.sample_film import SampleFilm
from app.snapping import SETTING_PREFIX
from kyphoangle.campaign import get_campaign, settings_of
from kyphoangle.landmark_file import PointProvenance
from kyphoangle.workstation.records import Account
from kyphoangle.workstation.study_reads import StudyReadService


def _mm(a: tuple[float, float], b: tuple[float, float], film: SampleFilm) -> float:
    row_mm, col_mm = film.spacing_mm
    return math.hypot((a[0] - b[0]) * col_mm, (a[1] - b[1]) * row_mm)


def test_click_see_proposal_accept_with_enter_or_keep_with_esc(
    qtbot: QtBot,
    tmp_path: Path,
    store: StudyReadService,
    settings: QSettings,
    demo_reader: Account,
    sample_film: SampleFilm,
) -> None:
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    open_film(qtbot, window, sample_film.path)
    view = window.reading.view
    tick(qtbot, window, "L1")
    assert not window.reading.snapping_enabled  # opt-in
    window.actions_by_id["snapping"].trigger()
    assert window.reading.snapping_enabled
    assert settings.value(SETTING_PREFIX + demo_reader.login, type=bool) is True
    row_mm, col_mm = sample_film.spacing_mm

    # The first landmark, clicked 2 mm off the true corner: the proposal is shown, the point stays.
    key = window.reading.target_key
    assert key is not None and key.endswith(".posterior")
    truth = sample_film.truth[key]
    first_click = click_image(qtbot, view, (truth[0] + 1.4 / col_mm, truth[1] + 1.4 / row_mm))
    proposal = view.proposal
    assert proposal is not None and not proposal.line
    (move,) = proposal.moves
    assert move.key == key and move.start == first_click
    assert window.reading.model.points[key] == first_click
    assert _mm(move.end, truth, sample_film) < 1.0 < _mm(first_click, truth, sample_film)
    assert "Enter" in window.statusBar().currentMessage()

    count = window.reading.undo_stack.count()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert view.proposal is None  # one corner placed: no line yet
    assert window.reading.model.points[key] == move.end
    assert window.reading.model.provenance[key] == PointProvenance(True, True, first_click)
    assert window.reading.undo_stack.count() == count + 1
    assert window.reading.undo_stack.undoText().startswith("Snap")
    window.reading.undo_stack.undo()
    assert window.reading.model.points[key] == first_click
    assert key not in window.reading.model.provenance
    window.reading.undo_stack.redo()
    assert window.reading.model.points[key] == move.end

    # The other corner: the reader keeps the click with Esc (recorded), then the endplate line is proposed.
    second = window.reading.target_key
    assert second is not None and second.endswith(".anterior")
    truth = sample_film.truth[second]
    second_click = click_image(qtbot, view, (truth[0] - 1.4 / col_mm, truth[1] + 1.4 / row_mm))
    assert view.proposal is not None and view.proposal.moves[0].key == second
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert window.reading.model.points[second] == second_click
    assert window.reading.model.provenance[second] == PointProvenance(True, False, second_click)
    line = view.proposal
    assert line is not None and line.line and {m.key for m in line.moves} == {key, second}
    assert "endplate line" in window.statusBar().currentMessage()
    count = window.reading.undo_stack.count()
    qtbot.keyClick(view, Qt.Key.Key_Enter)
    assert view.proposal is None
    assert window.reading.undo_stack.count() == count + 1  # both corners in one undoable edit
    for m in line.moves:
        assert window.reading.model.points[m.key] == m.end
        assert window.reading.model.provenance[m.key].accepted
    # Each point keeps the reader's own click, whatever was accepted since.
    assert window.reading.model.provenance[key].click == first_click
    assert window.reading.model.provenance[second].click == second_click
    assert abs(line.moves[1].end[1] - sample_film.truth[second][1]) * row_mm < 1.0

    # The third: a click on the proposal accepts it too.
    third = window.reading.target_key
    assert third is not None
    truth = sample_film.truth[third]
    click_image(qtbot, view, (truth[0] + 1.4 / col_mm, truth[1] - 1.4 / row_mm))
    proposal = view.proposal
    assert proposal is not None
    click_image(qtbot, view, proposal.moves[0].end)
    assert window.reading.model.points[third] == proposal.moves[0].end
    assert window.reading.model.provenance[third].accepted

    # What is saved carries the provenance.
    saved = window.reading.model.snapshot().to_landmark_file()
    assert saved.provenance[key].click == first_click and saved.provenance[third].accepted

    # Turned off: clicks are placed as they are, with no proposal.
    window.actions_by_id["snapping"].trigger()
    assert not window.reading.snapping_enabled
    fourth = window.reading.target_key
    assert fourth is not None
    truth = sample_film.truth[fourth]
    click_image(qtbot, view, (truth[0] + 1.4 / col_mm, truth[1] + 1.4 / row_mm))
    assert view.proposal is None
    assert fourth not in window.reading.model.provenance


def test_the_choice_is_remembered_per_reader(
    qtbot: QtBot,
    tmp_path: Path,
    store: StudyReadService,
    settings: QSettings,
    demo_reader: Account,
) -> None:
    settings.setValue(SETTING_PREFIX + demo_reader.login, True)
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    assert window.reading.snapping_enabled
    settings.setValue(SETTING_PREFIX + demo_reader.login, False)
    other = make_window(qtbot, store, settings, demo_reader, tmp_path)
    assert not other.reading.snapping_enabled


def test_a_campaign_may_keep_snapping_off(qtbot: QtBot, tmp_path: Path) -> None:
    study = build_campaign_study(tmp_path, films=1)
    settings = QSettings(str(tmp_path / "settings-central1.ini"), QSettings.Format.IniFormat)
    settings.setValue(SETTING_PREFIX + "central1", True)
    settings.sync()
    window = make_blinded_window(qtbot, study, "central1", tmp_path)
    wait_for_case(qtbot, window)
    assert window.reading.snapping_enabled  # the reader's choice, and the campaign allows it
    window.close()

    with study.database.transaction() as session:
        campaign = get_campaign(session, CAMPAIGN)
        campaign.adjudication_rule = dataclasses.replace(settings_of(campaign), snapping=False).to_json()
    window = make_blinded_window(qtbot, study, "central1", tmp_path)
    wait_for_case(qtbot, window)
    assert_no_proposals(qtbot, window, study)
    settings.sync()
    assert settings.value(SETTING_PREFIX + "central1", type=bool) is True  # the reader's choice is kept
