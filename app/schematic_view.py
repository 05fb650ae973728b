"""A drawn vertebra showing which corner to click next, facing the way the film does."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app import style
from kyphoangle.anatomy import LandmarkKey
from kyphoangle.vocabulary import Corner, EndplateSide

ALL_PLACED_TEXT = "All landmarks placed"
"""What the schematic shows once every landmark is placed."""
NO_FILM_TEXT = "No film open"
"""What it shows while no film is on screen."""


class SchematicView(QWidget):
    """A lateral vertebral body with its six points; the next one ringed in pink, placed ones filled."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("schematicView")
        self.setMinimumSize(200, 140)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.target: str | None = None
        self.placed: frozenset[str] = frozenset()
        self.idle_text = ALL_PLACED_TEXT
        """What is drawn when there is no landmark to place."""
        self.anterior_left = True
        self.facing_known = False

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        """Preferred size."""
        return QSize(210, 150)

    def show_target(
        self,
        target: str | None,
        placed: frozenset[str],
        *,
        anterior_left: bool | None,
        idle_text: str = ALL_PLACED_TEXT,
    ) -> None:
        """Draw the vertebra of `target` with that corner highlighted (None: facing not known yet);
        without a target, `idle_text`."""
        self.target, self.placed = target, placed
        self.idle_text = idle_text
        self.facing_known = anterior_left is not None
        self.anterior_left = True if anterior_left is None else anterior_left
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        """Draw the body, the endplates and the six points."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#1e1e1e"))
        if self.target is None:
            painter.setPen(QColor("#a5d6a7"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.idle_text)
            painter.end()
            return
        target = LandmarkKey.parse(self.target)
        vertebra = target.endplate.vertebra
        w, h = float(self.width()), float(self.height())
        left_margin = 0.12 if self.anterior_left else 0.3
        body = QRectF(w * left_margin, h * 0.1, w * 0.58, h * 0.62)
        # a body slightly taller posteriorly, as in a wedge fracture, so anterior and posterior differ
        left_drop = 0.10 * body.height() if self.anterior_left else 0.0
        right_drop = 0.0 if self.anterior_left else 0.10 * body.height()
        top_left = QPointF(body.left(), body.top() + left_drop)
        top_right = QPointF(body.right(), body.top() + right_drop)
        bottom_left, bottom_right = QPointF(body.left(), body.bottom()), QPointF(body.right(), body.bottom())
        path = QPainterPath(top_left)
        for corner in (top_right, bottom_right, bottom_left, top_left):
            path.lineTo(corner)
        painter.fillPath(path, QColor("#4a4a4a"))
        painter.setPen(QPen(QColor("#9e9e9e"), 1.5))
        painter.drawPath(path)
        for y, side in ((0.0, EndplateSide.SUPERIOR), (1.0, EndplateSide.INFERIOR)):
            start = top_left if y == 0.0 else bottom_left
            end = top_right if y == 0.0 else bottom_right
            pen_width = 4.0 if side is target.endplate.side else 2.0
            painter.setPen(QPen(style.side_color(side), pen_width))
            painter.drawLine(start, end)
        # the pedicle and spinous process mark the posterior side whatever way the film faces
        posterior_x = body.right() if self.anterior_left else body.left()
        outward = 1.0 if self.anterior_left else -1.0
        arch = QPainterPath(QPointF(posterior_x, body.top() + body.height() * 0.3))
        arch.lineTo(QPointF(posterior_x + outward * w * 0.12, body.top() + body.height() * 0.4))
        arch.lineTo(QPointF(posterior_x + outward * w * 0.2, body.top() + body.height() * 0.75))
        arch.lineTo(QPointF(posterior_x + outward * w * 0.08, body.top() + body.height() * 0.7))
        arch.lineTo(QPointF(posterior_x, body.top() + body.height() * 0.6))
        painter.fillPath(arch, QColor("#3a3a3a"))
        painter.setPen(QPen(QColor("#7a7a7a"), 1.0))
        painter.drawPath(arch)
        if not self.facing_known:
            note = QFont(self.font())
            note.setPointSize(8)
            painter.setFont(note)
            painter.setPen(QColor("#ffcc80"))
            painter.drawText(
                QRectF(0, h * 0.87, w, h * 0.13),
                Qt.AlignmentFlag.AlignCenter,
                "facing unknown: posterior = spinal canal side",
            )
        font = QFont(self.font())
        font.setPointSize(16)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#e0e0e0"))
        painter.drawText(body, Qt.AlignmentFlag.AlignCenter, str(vertebra))
        small = QFont(self.font())
        small.setPointSize(9)
        small.setBold(True)
        painter.setFont(small)
        painter.setPen(QColor("#bdbdbd"))
        left_text, right_text = ("ANTERIOR", "POSTERIOR") if self.anterior_left else ("POSTERIOR", "ANTERIOR")
        for x, text in ((body.left(), left_text), (body.right(), right_text)):
            text_left = min(max(2.0, x - 45), w - 92)
            painter.drawText(QRectF(text_left, body.bottom() + 6, 90, 16), Qt.AlignmentFlag.AlignCenter, text)
        for side, (left, right) in (
            (EndplateSide.SUPERIOR, (top_left, top_right)),
            (EndplateSide.INFERIOR, (bottom_left, bottom_right)),
        ):
            anterior, posterior = (left, right) if self.anterior_left else (right, left)
            positions = {
                Corner.ANTERIOR: anterior,
                Corner.POSTERIOR: posterior,
                Corner.MIDDLE: (anterior + posterior) / 2,
            }
            for point_corner, at in positions.items():
                key = f"{vertebra}.{side}.{point_corner}"
                is_target = key == self.target
                color = style.side_color(side)
                if is_target:
                    painter.setPen(QPen(style.TARGET_COLOR, 3.0))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawEllipse(at, 13, 13)
                    painter.setBrush(style.TARGET_COLOR)
                    painter.drawEllipse(at, 5, 5)
                elif key in self.placed:
                    painter.setPen(QPen(color, 1.5))
                    painter.setBrush(color)
                    painter.drawEllipse(at, 5, 5)
                else:
                    painter.setPen(QPen(QColor("#8a8a8a"), 1.5))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawEllipse(at, 4, 4)
        painter.end()
