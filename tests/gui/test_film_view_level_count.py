"""The level count on the film: the reader clicks S1 to L3 on a demo film, presses C, and the view draws
a dashed tick and a `L2?` at each counted centre with the caption saying it is to be confirmed; C
again hides it. The F1 table lists the key."""

from __future__ import annotations

import math
import os
from pathlib import Path

from drawn import near, shown_film_view
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from app import style
from app.dialogs import ShortcutsDialog
from app.film_view import FilmView, Overlay
from app.placement import Placed
from app.sample_film import write_sample_film
from kyphoangle.anatomy import LandmarkKey

PLACED = ("S1", "L5", "L4", "L3")


def _centre(truth: dict[str, tuple[float, float]], vertebra: str) -> tuple[float, float]:
    corners = [v for k, v in truth.items() if k.startswith(f"{vertebra}.") and not k.endswith("middle")]
    return sum(c[0] for c in corners) / len(corners), sum(c[1] for c in corners) / len(corners)


def test_the_level_count_is_drawn_at_the_counted_centres_and_toggled_with_c(
    qtbot: QtBot, tmp_path: Path
) -> None:
    sample = write_sample_film(tmp_path / "film.dcm")
    view = shown_film_view(qtbot, sample.path)
    points: dict[str, tuple[float, float]] = {}

    def apply(action: object) -> None:
        if isinstance(action, Placed):
            points[action.key] = action.position

    view.tool_acted.connect(apply)
    keys = [
        k
        for k in sample.truth
        if LandmarkKey.parse(k).endplate.vertebra.value in PLACED and not k.endswith("middle")
    ]
    for key in keys:  # click each corner where the film shows it, as the reader does
        view.set_overlay(Overlay(points=dict(points), target=key))
        at = view.widget_point(sample.truth[key])
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(round(at.x()), round(at.y())))
    assert set(points) == set(keys)
    view.set_overlay(Overlay(points=dict(points)))

    view.grab()
    assert view.level_marks == []  # off until asked for
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_C)
    assert view.show_level_count
    image = view.grab().toImage()
    if os.environ.get("KYPHOANGLE_SCREENSHOTS"):
        image.save(str(Path(os.environ["KYPHOANGLE_SCREENSHOTS"]) / "level-count.png"))
    texts = [text for text, _, _ in view.level_marks]
    assert texts[0] == "count from S1"
    assert texts[1:5] == ["L5?", "L4?", "L3?", "L2?"]  # L2: one level past the bodies placed
    assert view.level_caption is not None and view.level_caption.bottom() < view.footer_rect().top()
    ratio = image.devicePixelRatio()
    for text, tick, rect in view.level_marks[1:5]:
        centre = tick.center()
        vertebra = text.rstrip("?")
        expected = view.widget_point(_centre(sample.truth, vertebra))
        # the tick crosses the body where the count puts it: on the placed bodies, on L2 within a
        # fifth of a body (the film's L2 is never clicked)
        tolerance = 1.0 if vertebra != "L2" else 0.2 * _body_px(view, sample.truth)
        assert math.dist((centre.x(), centre.y()), (expected.x(), expected.y())) <= tolerance, text
        assert rect.left() > centre.x()  # its name beside it
        # the name is drawn in the count's colour
        inside = [
            image.pixelColor(round(x * ratio), round(rect.center().y() * ratio))
            for x in range(int(rect.left()), int(rect.right()))
        ]
        assert near(inside, style.COUNT_COLOR, 30), text
    # the dashed tick is painted across the counted L2 (not a clicked body)
    l2 = view.level_marks[4][1]
    along = [l2.pointAt(t / 20) for t in range(21)]
    painted = [image.pixelColor(round(p.x() * ratio), round(p.y() * ratio)) for p in along]
    assert sum(near([color], style.COUNT_COLOR, 40) for color in painted) >= 8

    qtbot.keyClick(view, Qt.Key.Key_C)
    view.grab()
    assert not view.show_level_count and view.level_marks == [] and view.level_caption is None


def _body_px(view: FilmView, truth: dict[str, tuple[float, float]]) -> float:
    top, bottom = (
        view.widget_point(truth["L4.superior.posterior"]),
        view.widget_point(truth["L4.inferior.posterior"]),
    )
    return math.dist((top.x(), top.y()), (bottom.x(), bottom.y()))


def test_the_f1_table_lists_the_level_count_key(qtbot: QtBot) -> None:
    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    rows = [
        [dialog.table.item(row, column).text() for column in range(3)]
        for row in range(dialog.table.rowCount())
    ]
    assert any(keys == "C" and "level count" in action for _, action, keys in rows)
