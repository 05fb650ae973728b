"""The loupe's small vertebra: while a corner is being placed, the point it is is highlighted beside the
loupe, on the side and endplate it belongs to, facing the way the film does."""

from __future__ import annotations

from pathlib import Path

import pytest
from drawn import near, shown_film_view
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from app import style
from app.film_view import Overlay
from app.sample_film import write_sample_film


@pytest.mark.parametrize("flipped", [False, True])
def test_the_loupe_shows_the_pending_corner_on_a_vertebra(
    qtbot: QtBot, tmp_path: Path, flipped: bool
) -> None:
    sample = write_sample_film(tmp_path / "film.dcm")
    view = shown_film_view(qtbot, sample.path)
    if flipped:
        view.flip()
    placed = {k: sample.truth[k] for k in ("L1.superior.posterior", "L1.superior.anterior")}
    seen = {}
    for key in ("L1.inferior.posterior", "L1.inferior.anterior", "T12.superior.middle"):
        view.set_overlay(Overlay(points=placed, target=key))
        at = view.widget_point(sample.truth[key])
        qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(round(at.x()), round(at.y())))
        image = view.grab().toImage()  # the button is held: the loupe is up
        assert view.loupe_schematic is not None
        drawn_key, rect, pending = view.loupe_schematic
        assert drawn_key == key and rect.contains(pending)
        ratio = image.devicePixelRatio()
        assert near(
            [image.pixelColor(round(pending.x() * ratio), round(pending.y() * ratio))], style.TARGET_COLOR
        )
        seen[key] = (pending.x() - rect.left(), pending.y() - rect.top())
        qtbot.keyClick(view, Qt.Key.Key_Escape)  # cancel: nothing placed
        view.grab()
        assert view.loupe_schematic is None
    posterior, anterior = seen["L1.inferior.posterior"], seen["L1.inferior.anterior"]
    middle = seen["T12.superior.middle"]
    assert posterior[1] == anterior[1] > middle[1]  # the inferior endplate under the superior one
    assert posterior[0] < middle[0] < anterior[0] or anterior[0] < middle[0] < posterior[0]
    # it faces the film as shown: anterior on the side of the screen where the film's anterior corners are
    film_anterior_right = (
        view.widget_point(placed["L1.superior.anterior"]).x()
        > view.widget_point(placed["L1.superior.posterior"]).x()
    )
    assert (anterior[0] > posterior[0]) == film_anterior_right
