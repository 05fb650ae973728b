"""What the screenshot tests check on screen: the colours drawn at an image position, on a film view
shown as a reader sees it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from app.film import load_film
from app.film_view import FilmView


def shown_film_view(qtbot: QtBot, film_path: Path, width: int = 900, height: int = 1000) -> FilmView:
    """A film view of `width` x `height` on screen, showing the film at `film_path` fitted."""
    view = FilmView()
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    view.set_film(load_film(film_path))
    return view


def drawn_colors(view: FilmView, position: tuple[float, float]) -> list[QColor]:
    """The colours drawn on the screen at an image position and its 8 neighbours, and on the four arms
    of a landmark's cross-hair there (its centre is open), with the view as it is now."""
    image = view.grab().toImage()
    at = view.widget_point(position)
    ratio = image.devicePixelRatio()
    x, y = int(at.x() * ratio), int(at.y() * ratio)
    around = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    arms = [(dx * r, dy * r) for r in (5, 6) for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))]
    return [image.pixelColor(x + int(dx * ratio), y + int(dy * ratio)) for dx, dy in around + arms]


def near(colors: list[QColor], wanted: QColor, tolerance: int = 40) -> bool:
    """Whether one of the colours matches within a tolerance on each channel (antialiasing blends)."""
    return any(
        all(abs(a - b) <= tolerance for a, b in zip(c.getRgb()[:3], wanted.getRgb()[:3], strict=True))
        for c in colors
    )
