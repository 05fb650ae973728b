"""Screenshots of the blinded window under offscreen rendering (to `$KYPHOANGLE_SCREENSHOTS` when set)."""

from __future__ import annotations

import os
from pathlib import Path

from blinded_helpers import make_blinded_window, place_all_landmarks, wait_for_case
from campaign_study import PASSWORDS, build_campaign_study
from drawn import drawn_colors, near
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot
from test_adjudication import make_adjudication_window, read_worklist

from app import style
from kyphoangle.anatomy import LandmarkKey


def test_blinded_screenshots(qtbot: QtBot, tmp_path: Path) -> None:
    target = Path(os.environ.get("KYPHOANGLE_SCREENSHOTS") or tmp_path / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    study = build_campaign_study(tmp_path, films=3)
    window = make_blinded_window(qtbot, study, "central1", tmp_path)
    qtbot.wait(60)
    assert window.grab().save(str(target / "blinded-1-case.png"))
    place_all_landmarks(qtbot, window, study)
    qtbot.wait(60)
    assert window.grab().save(str(target / "blinded-2-placed.png"))
    window.reading.view.fit()
    for key, position in window.reading.model.points.items():
        wanted = style.side_color(LandmarkKey.parse(key).endplate.side)
        assert near(drawn_colors(window.reading.view, position), wanted), key
    qtbot.waitUntil(lambda: not window.flow.prefetcher.busy and bool(window.flow.upcoming), timeout=20000)
    window.sign_in_background(PASSWORDS["central1"])
    window.reading.view.repaint()
    assert window.grab().save(str(target / "blinded-3-signing.png"))
    qtbot.waitUntil(lambda: window.pending_sign is None, timeout=10000)
    while window.case is not None:
        wait_for_case(qtbot, window)
        place_all_landmarks(qtbot, window, study)
        assert window.sign(PASSWORDS["central1"])
    qtbot.wait(60)
    assert window.grab().save(str(target / "blinded-4-complete.png"))


def test_adjudication_screenshots(qtbot: QtBot, tmp_path: Path) -> None:
    target = Path(os.environ.get("KYPHOANGLE_SCREENSHOTS") or tmp_path / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    study = build_campaign_study(tmp_path, films=2)
    read_worklist(qtbot, study, "central1", tmp_path)
    read_worklist(qtbot, study, "central2", tmp_path, disagree_on=1)
    window = make_adjudication_window(qtbot, study, tmp_path)
    assert window.adjudication_case is not None
    window.reading.view.fit()
    qtbot.wait(60)
    assert window.grab().save(str(target / "adjudication-1-compare.png"))
    # every reader's read is drawn where its landmarks lie, in a reader's colour
    references = window.reading.view.overlay.references
    colors = [QColor(reference.color) for reference in references]
    assert len(references) == 2
    for reference in references:
        for key, position in reference.points.items():
            drawn = drawn_colors(window.reading.view, position)
            assert any(near(drawn, color) for color in colors), (reference.label, key)
    # two colour-blind-safe colours and two line patterns; the marks fade with the opacity slider
    assert {reference.color for reference in references} <= set(style.OKABE_ITO.values())
    assert len({reference.dashes for reference in references}) == 2
    panel = window.adjudication_panel
    assert panel is not None
    panel.opacity_slider.setValue(30)
    assert window.reading.view.overlay.reference_opacity == 0.3
    faded = window.reading.view.grab().toImage()
    assert faded.save(str(target / "adjudication-faded.png"))
    panel.opacity_slider.setValue(100)
    window.start_third_read()
    place_all_landmarks(qtbot, window, study)  # type: ignore[arg-type]
    qtbot.wait(60)
    assert window.grab().save(str(target / "adjudication-2-third-read.png"))
