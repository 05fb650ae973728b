"""What the screenshot tests check on screen: the colours drawn at an image position."""

from __future__ import annotations

from PySide6.QtGui import QColor

from app.film_view import FilmView


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
