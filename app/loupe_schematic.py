"""The small vertebra drawn beside the loupe: which of the six points is being placed, at a glance.

A lateral vertebral body (a rounded box), its superior endplate sky blue and inferior orange as on the
film, its six points as small dots, and the point being placed ringed and filled in the target's pink.
It faces the way the film does on screen (anterior to the left or right), so the reader never looks
away to the guidance panel while the button is held.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen

from app import style
from kyphoangle.anatomy import LandmarkKey
from kyphoangle.vocabulary import Corner, EndplateSide

SCHEMATIC_SIZE = (64.0, 52.0)
"""Width and height of the schematic on screen, including its dark backing."""
_FRACTION = {Corner.POSTERIOR: 0.0, Corner.MIDDLE: 0.5, Corner.ANTERIOR: 1.0}


def corner_positions(rect: QRectF, *, anterior_left: bool) -> dict[tuple[EndplateSide, Corner], QPointF]:
    """Where each of the six points is drawn in `rect` (superior endplate on top)."""
    body = rect.adjusted(10, 9, -10, -9)
    positions: dict[tuple[EndplateSide, Corner], QPointF] = {}
    for side, y in ((EndplateSide.SUPERIOR, body.top()), (EndplateSide.INFERIOR, body.bottom())):
        for corner, fraction in _FRACTION.items():
            share = 1.0 - fraction if anterior_left else fraction
            positions[(side, corner)] = QPointF(body.left() + share * body.width(), y)
    return positions


def draw_loupe_schematic(painter: QPainter, rect: QRectF, key: str, *, anterior_left: bool) -> QPointF:
    """Draw the vertebra in `rect` with the point of landmark `key` highlighted; returns where that
    point is drawn."""
    parsed = LandmarkKey.parse(key)
    positions = corner_positions(rect, anterior_left=anterior_left)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.fillRect(rect, QColor(0, 0, 0, 190))
    body = rect.adjusted(10, 9, -10, -9)
    painter.setPen(QPen(QColor("#9e9e9e"), 1.2))
    painter.setBrush(QBrush(QColor(255, 255, 255, 40)))
    painter.drawRoundedRect(body, 4, 4)
    for side in EndplateSide:
        color = style.side_color(side)
        width = 3.0 if side is parsed.endplate.side else 1.5
        painter.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLine(positions[(side, Corner.POSTERIOR)], positions[(side, Corner.ANTERIOR)])
    # "A" marks the anterior wall, as on the guidance panel's schematic.
    painter.setPen(QColor("#e0e0e0"))
    font = painter.font()
    font.setPointSize(7)
    painter.setFont(font)
    side_rect = QRectF(rect.left(), body.top(), 10, body.height())
    if not anterior_left:
        side_rect.moveRight(rect.right())
    painter.drawText(side_rect, Qt.AlignmentFlag.AlignCenter, "A")
    painter.setBrush(QBrush(QColor("#e0e0e0")))
    painter.setPen(Qt.PenStyle.NoPen)
    for at in positions.values():
        painter.drawEllipse(at, 1.8, 1.8)
    pending = positions[(parsed.endplate.side, parsed.corner)]
    painter.setBrush(QBrush(style.TARGET_COLOR))
    painter.setPen(QPen(QColor("#ffffff"), 1.2))
    painter.drawEllipse(pending, 4.5, 4.5)
    painter.restore()
    return pending
