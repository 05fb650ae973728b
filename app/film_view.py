"""The film view: renders only the visible region at screen scale, draws landmarks, runs the tool.

Mouse: left places/drags landmarks, right-drag sets window (horizontal: width, vertical: level),
middle-drag or Space+left-drag pans, wheel zooms about the cursor. Display rotation and flip change
only the picture: landmarks stay in image coordinates.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from app import style
from app.film import FilmLike, Region, display_aspect, render_region, render_window, resample_region
from app.geometry import ViewGeometry
from app.level_count import LevelCount, count_levels
from app.loupe_schematic import SCHEMATIC_SIZE, draw_loupe_schematic
from app.placement import Action, PlacementTool, Selected, ToolState
from app.snapping import PendingProposal
from kyphoangle.anatomy import EndplateRef, LandmarkKey
from kyphoangle.annotation import ENDPLATE_EXTENSION, AngleGlyph
from kyphoangle.dicom.radiograph import VoiFunction, VoiLut, VoiPreset
from kyphoangle.vocabulary import Corner, EndplateSide

ZOOM_LIMITS = (0.02, 40.0)
"""Smallest and largest zoom, screen pixels per image pixel."""
_BLOCK = 64
INTERACTIVE_S = 0.12
"""After a wheel notch, for this long, the film is drawn from its last rendering, scaled."""
BANNER_POINT_SIZE = 13
"""Point size of the banner (what to click next) across the top of the film."""
FOOTER_POINT_SIZE = 10
"""Point size of the footer (the spacing used) across the bottom."""
"""Visible regions are widened to multiples of this many image pixels so small pans reuse a render."""


@dataclass(frozen=True, slots=True)
class VoiWindow:
    """A display window in modality units, with its VOI LUT Function, or the file's VOI lookup table."""

    center: float
    width: float
    function: VoiFunction = VoiFunction.LINEAR
    lut: VoiLut | None = None
    """A VOI LUT from the file; it replaces the window until the reader drags one."""


@dataclass(frozen=True, slots=True)
class ReferenceMarks:
    """Another read's landmarks shown for comparison (the adjudicator's view): one fixed colour, no edits."""

    label: str
    color: str
    """A colour name Qt understands, e.g. "#7cff4f"."""
    points: Mapping[str, tuple[float, float]]
    dashes: tuple[float, ...] = (5.0, 3.0)
    """The line pattern (Qt dash pattern; (1, 0) is solid), so reads differ by more than colour."""
    glyphs: tuple[AngleGlyph, ...] = ()
    """The read's angles, drawn in its colour and pattern (with the film's angles shown)."""


@dataclass(slots=True)
class Overlay:
    """What the view draws over the film; set by the window from the model."""

    points: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    target: str | None = None
    banner: str = ""
    footer: str = ""
    show_labels: bool = True
    references: tuple[ReferenceMarks, ...] = ()
    """Reads drawn under the editable landmarks, each in its colour, with a legend."""
    glyphs: tuple[AngleGlyph, ...] = ()
    """The read's computed angles, drawn as rays, an arc and the signed value with its name."""
    show_measurements: bool = True
    """Whether the angles are drawn (the endplate lines always are)."""
    reference_opacity: float = 1.0
    """Opacity of the reference reads (the adjudicator fades them to see the film)."""


class FilmView(QWidget):
    """Shows one film with its landmarks; emits the placement tool's actions (`tool_acted`)."""

    tool_acted = Signal(object)
    """A placement tool action (`app.placement.Action`) the window turns into an undo command."""
    view_changed = Signal()
    """Zoom, pan, rotation, flip or window changed."""
    preview_moved = Signal(object)
    """A point being placed or dragged moved: `(key, (column, row))`, or None when it ended."""
    proposal_answered = Signal(bool)
    """The reader answered the snapping proposal shown: True accepts it (Enter or a click on it),
    False keeps the reader's own point (Esc)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filmView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setAutoFillBackground(False)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.film: FilmLike | None = None
        self.view_geometry = ViewGeometry(viewport=(float(self.width()), float(self.height())))
        self.voi = VoiWindow(0.0, 1.0)
        self.inverted = False
        self.keep_fitted = False
        """Fitted and not zoomed or panned since: a resize fits the film again."""
        self.overlay = Overlay()
        self.message = (
            "Open a film: File > Open film (Ctrl+O), or double-click an image in the study browser."
        )
        self.tool = PlacementTool(
            lambda: self.overlay.points,
            lambda: self.overlay.target,
            lambda: (float(self.film.columns), float(self.film.rows)) if self.film is not None else None,
        )
        self._drag_mode: str | None = None
        self._drag_start = QPointF()
        self._drag_geometry = self.view_geometry
        self._drag_voi = self.voi
        self._space_held = False
        self._cursor: QPointF | None = None
        self._sample_key: tuple[Any, ...] | None = None
        self._sample: npt.NDArray[Any] | None = None
        self._image_key: tuple[Any, ...] | None = None
        self._image: QImage | None = None
        self.render_count = 0
        self._interactive_until = 0.0
        self._refine_timer = QTimer(self)
        self._refine_timer.setSingleShot(True)
        self._refine_timer.setInterval(int(1000 * INTERACTIVE_S) + 20)
        self._refine_timer.timeout.connect(self.update)
        self.label_rects: list[tuple[str, QRectF]] = []
        """Where the endplate labels were drawn at the last paint (endplate key, rectangle)."""
        self.label_avoid: list[QRectF] = []
        """Other places labels must leave free (e.g. the values drawn on the film)."""
        self.proposal: PendingProposal | None = None
        """A snapping proposal waiting for the reader's answer, drawn next to the click."""
        self.loupe_schematic: tuple[str, QRectF, QPointF] | None = None
        """The loupe's vertebra at the last paint: (landmark being placed, where the vertebra was drawn,
        where its highlighted point was drawn), on screen; None without a loupe."""
        self.show_level_count = False
        """Whether the level count (`app.level_count`) is drawn: C shows or hides it."""
        self.level_marks: list[tuple[str, QLineF, QRectF]] = []
        """The counted levels drawn at the last paint: (text, tick, text rectangle), on screen."""
        self.level_caption: QRectF | None = None
        """Where the level count's caption (counted, to confirm) was drawn at the last paint."""
        self.drawn_reference_glyphs: list[tuple[str, AngleGlyph]] = []
        """The reference reads' angles drawn at the last paint (the read's label, the glyph)."""

    # ----------------------------------------------------------------------------------- film and view
    def set_film(self, film: FilmLike | None) -> None:
        """Show a film fitted to the view with its first window preset."""
        self.film = film
        self._sample_key = self._image_key = None
        self._sample = None
        self._image = None
        self.tool.cancel()
        self.tool.select(None)
        if film is not None:
            # The core gives every film at least one preset (a computed window when the file has none).
            preset = film.voi_presets[0]
            self.voi = VoiWindow(preset.center, preset.width, preset.function, preset.lut)
            self.view_geometry = replace(
                self.view_geometry, aspect=display_aspect(film), rotation=0, flipped=False
            )
            self.view_geometry = self._fitted(self.view_geometry)
            self.inverted = False
            self.keep_fitted = True
        self.update()
        self.view_changed.emit()

    def set_message(self, text: str) -> None:
        """Text shown in the middle of the view when no film is shown (e.g. while loading)."""
        self.message = text
        self.update()

    def set_proposal(self, proposal: PendingProposal | None) -> None:
        """Show (or clear) a snapping proposal next to the reader's click."""
        self.proposal = proposal
        self.update()

    def set_overlay(self, overlay: Overlay) -> None:
        """Replace what is drawn over the film."""
        self.overlay = overlay
        self.update()

    def set_geometry(self, geometry: ViewGeometry) -> None:
        """Apply a new zoom/pan/rotation (the viewport size is kept)."""
        self.view_geometry = replace(geometry, viewport=(float(self.width()), float(self.height())))
        self.keep_fitted = False
        self.update()
        self.view_changed.emit()

    def set_window(self, center: float, width: float) -> None:
        """Apply a display window (with the VOI LUT Function in use; a file's lookup table is left)."""
        self.voi = VoiWindow(center, max(1.0, width), self.voi.function)
        self.update()
        self.view_changed.emit()

    def set_preset(self, preset: VoiPreset) -> None:
        """Apply one of the film's VOI presets as stored: window and function, or lookup table."""
        self.voi = VoiWindow(preset.center, preset.width, preset.function, preset.lut)
        self.update()
        self.view_changed.emit()

    def fit(self) -> None:
        """Show the whole film."""
        if self.film is not None:
            self.set_geometry(self._fitted(self.view_geometry))
            self.keep_fitted = True

    def _fitted(self, geometry: ViewGeometry) -> ViewGeometry:
        """`geometry` showing the whole film between the banner and the footer."""
        assert self.film is not None
        top, bottom = self.banner_rect().height(), self.footer_rect().height()
        return geometry.fitted(self.film.rows, self.film.columns, insets=(top, bottom))

    def _text_font(self, point_size: int, *, bold: bool) -> QFont:
        font = QFont(self.font())
        font.setPointSize(point_size)
        font.setBold(bold)
        return font

    def banner_rect(self) -> QRectF:
        """Where the banner (what to click next) is drawn: a strip across the top."""
        metrics = QFontMetricsF(self._text_font(BANNER_POINT_SIZE, bold=True))
        return QRectF(0, 0, self.width(), metrics.height() + 14)

    def footer_rect(self) -> QRectF:
        """Where the footer (the spacing used) is drawn: a strip across the bottom."""
        metrics = QFontMetricsF(self._text_font(FOOTER_POINT_SIZE, bold=False))
        height = metrics.height() + 10
        return QRectF(0, self.height() - height, self.width(), height)

    def actual_pixels(self) -> None:
        """One image pixel per screen pixel, about the view centre."""
        self.zoom_by(1.0 / self.view_geometry.zoom)

    def zoom_by(self, factor: float, about: QPointF | None = None, *, interactive: bool = False) -> None:
        """Zoom keeping the image point under `about` (default: the centre) in place; `interactive`
        (the wheel) shows the last rendering scaled until the wheel rests."""
        if interactive:
            self._interactive_until = time.perf_counter() + INTERACTIVE_S
            self._refine_timer.start()
        point = about if about is not None else QPointF(self.width() / 2, self.height() / 2)
        self.set_geometry(self.view_geometry.zoomed_about((point.x(), point.y()), factor, ZOOM_LIMITS))

    def rotate(self, degrees: int) -> None:
        """Rotate the display by a multiple of 90 degrees clockwise."""
        self.set_geometry(self.view_geometry.rotated(degrees))

    def flip(self) -> None:
        """Mirror the display left-right."""
        self.set_geometry(replace(self.view_geometry, flipped=not self.view_geometry.flipped))

    def invert(self) -> None:
        """Swap black and white."""
        self.inverted = not self.inverted
        self.update()
        self.view_changed.emit()

    def widget_point(self, image_point: tuple[float, float]) -> QPointF:
        """Where an image point is on screen."""
        x, y = self.view_geometry.to_widget(image_point)
        return QPointF(x, y)

    def image_point(self, widget_point: QPointF) -> tuple[float, float]:
        """The image point under a widget position."""
        return self.view_geometry.to_image((widget_point.x(), widget_point.y()))

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        """Preferred size."""
        return QSize(900, 800)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        """Keep the whole film in view while it is fitted, else the same image point in the middle."""
        self.view_geometry = self.view_geometry.with_viewport(event.size().width(), event.size().height())
        if self.keep_fitted and self.film is not None:
            self.view_geometry = self._fitted(self.view_geometry)
        super().resizeEvent(event)

    # ----------------------------------------------------------------------------------------- render
    def _display_invert(self) -> bool:
        return bool(self.film is not None and self.film.invert_display) != self.inverted

    def _visible_region(self) -> Region:
        assert self.film is not None
        r0, c0, r1, c1 = self.view_geometry.visible_region(self.film.rows, self.film.columns)
        block = max(8, int(_BLOCK / max(1.0, self.view_geometry.zoom)))
        r0, c0 = (r0 // block) * block, (c0 // block) * block
        r1, c1 = -((-r1) // block) * block, -((-c1) // block) * block
        return r0, c0, min(r1, self.film.rows), min(c1, self.film.columns)

    def rendered_image(self) -> tuple[QImage, Region] | None:
        """The visible region rendered at screen scale (cached: resampling per view, window per drag)."""
        if self.film is None:
            return None
        region = self._visible_region()
        if region[2] <= region[0] or region[3] <= region[1]:
            return None
        scale = self.view_geometry.zoom * self.devicePixelRatioF()
        sample_key = (id(self.film), region, round(scale, 6))
        if (
            sample_key != self._sample_key
            and time.perf_counter() < self._interactive_until
            and self._image is not None
            and self._image_key is not None
            and self._image_key[1:] == (self.voi, self._display_invert())
            and _covers(self._image_key[0][1], region)
        ):
            # While the wheel turns, the last rendering is scaled on screen; the film is rendered
            # again at the new scale once the wheel rests (`_refine_timer`).
            return self._image, self._image_key[0][1]
        if sample_key != self._sample_key or self._sample is None:
            self._sample = resample_region(self.film.pixels, region, scale)
            self._sample_key = sample_key
        image_key = (sample_key, self.voi, self._display_invert())
        if image_key != self._image_key or self._image is None:
            out = render_window(
                self._sample,
                center=self.voi.center,
                width=self.voi.width,
                invert=self._display_invert(),
                function=self.voi.function,
                lut=self.voi.lut,
            )
            self._image = _to_qimage(out)
            self._image_key = image_key
            self.render_count += 1
        return self._image, region

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        """Film, then landmarks and lines, then the loupe and the text overlays."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#101010"))
        rendered = self.rendered_image()
        if rendered is None:
            painter.setPen(QColor("#d0d0d0"))
            font = painter.font()
            font.setPointSize(13)
            painter.setFont(font)
            painter.drawText(
                self.rect().adjusted(40, 40, -40, -40),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.message,
            )
            painter.end()
            return
        image, region = rendered
        self._draw_film(painter, self.view_geometry, image, region)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.label_avoid = []
        self.drawn_reference_glyphs = []
        painter.setOpacity(self.overlay.reference_opacity)
        for reference in self.overlay.references:
            self._draw_reference(painter, self.view_geometry, reference)
            if not self.overlay.show_measurements:
                continue
            color = QColor(reference.color)
            for glyph in reference.glyphs:
                if QRectF(self.rect()).contains(self.widget_point(glyph.vertex)):
                    self.label_avoid.append(
                        self._draw_glyph(painter, self.view_geometry, glyph, color, reference.dashes)
                    )
                    self.drawn_reference_glyphs.append((reference.label, glyph))
        painter.setOpacity(1.0)
        if self.overlay.show_measurements:
            for glyph in self.overlay.glyphs:
                if not QRectF(self.rect()).contains(self.widget_point(glyph.vertex)):
                    continue  # its endplates are off screen: the panel has the value
                self.label_avoid.append(self._draw_glyph(painter, self.view_geometry, glyph))
        self._draw_landmarks(painter, self.view_geometry, labels=self.overlay.show_labels)
        self.level_marks, self.level_caption = [], None
        if self.show_level_count:
            count = count_levels(self.overlay.points)
            if count is not None:
                self._draw_level_count(painter, self.view_geometry, count)
        if self.proposal is not None:
            self._draw_proposal(painter, self.view_geometry, self.proposal)
        self.loupe_schematic = None
        if self.tool.state is not ToolState.IDLE and self.tool.position is not None:
            self._draw_loupe(painter, self.tool.position)
        self._draw_texts(painter)
        painter.end()

    @staticmethod
    def _draw_film(painter: QPainter, geometry: ViewGeometry, image: QImage, region: Region) -> None:
        a, b, c, d = geometry.matrix
        ox, oy = geometry.offset
        r0, c0, r1, c1 = region
        if b == 0 and c == 0 and a > 0 and d > 0:
            # Upright and not mirrored: when the rendered image already has the size it takes on
            # screen, copy it at whole pixels (a plain blit, several times faster than a transformed
            # draw; the film moves by whole screen pixels, which a drag does anyway).
            ratio = image.devicePixelRatio()
            width, height = (c1 - c0) * a, (r1 - r0) * d
            if abs(width - image.width() / ratio) < 1.0 and abs(height - image.height() / ratio) < 1.0:
                painter.drawImage(QPointF(round(c0 * a + ox), round(r0 * d + oy)), image)
                return
        painter.save()
        painter.setTransform(QTransform(a, c, b, d, ox, oy))
        painter.drawImage(QRectF(c0, r0, c1 - c0, r1 - r0), image)
        painter.restore()

    def _display_points(self) -> dict[str, tuple[float, float]]:
        points = dict(self.overlay.points)
        if self.tool.state is not ToolState.IDLE and self.tool.active and self.tool.position:
            points[self.tool.active] = self.tool.position
        return points

    @staticmethod
    def _draw_reference(painter: QPainter, geometry: ViewGeometry, reference: ReferenceMarks) -> None:
        """Endplate lines and crosses of another read, in its colour over a dark halo."""
        color = QColor(reference.color)
        endplates: dict[EndplateRef, dict[Corner, QPointF]] = {}
        for key, position in reference.points.items():
            parsed = LandmarkKey.parse(key)
            x, y = geometry.to_widget(position)
            endplates.setdefault(parsed.endplate, {})[parsed.corner] = QPointF(x, y)
        size = style.POINT_RADIUS_PX
        for corners in endplates.values():
            if Corner.POSTERIOR in corners and Corner.ANTERIOR in corners:
                p, a = corners[Corner.POSTERIOR], corners[Corner.ANTERIOR]
                extension = (a - p) * ENDPLATE_EXTENSION
                dashed = QPen(color, 2.0, Qt.PenStyle.CustomDashLine, Qt.PenCapStyle.FlatCap)
                dashed.setDashPattern(list(reference.dashes))
                for pen in (QPen(style.HALO_COLOR, 4.0), dashed):
                    painter.setPen(pen)
                    painter.drawLine(p - extension, a + extension)
            for at in corners.values():
                for pen in (QPen(style.HALO_COLOR, 3.5), QPen(color, 1.8)):
                    painter.setPen(pen)
                    painter.drawLine(at + QPointF(-size, -size), at + QPointF(size, size))
                    painter.drawLine(at + QPointF(-size, size), at + QPointF(size, -size))

    def _draw_glyph(
        self,
        painter: QPainter,
        geometry: ViewGeometry,
        glyph: AngleGlyph,
        reader_color: QColor | None = None,
        dashes: tuple[float, ...] | None = None,
    ) -> QRectF:
        """One angle: two rays parallel to its endplates from a vertex in front of the spine, the arc
        between them, and its name and signed value; returns where the text went. Another read's angle
        is drawn in that read's colour and line pattern."""
        color = reader_color or style.ANGLE_COLORS.get(glyph.name, QColor("#ffffff"))
        vertex = QPointF(*geometry.to_widget(glyph.vertex))
        a, b, c, d = geometry.matrix
        rays = []
        for dx, dy in (glyph.upper_ray, glyph.lower_ray):
            sx, sy = a * dx + b * dy, c * dx + d * dy
            length = math.hypot(sx, sy) or 1.0
            rays.append(QPointF(sx / length, sy / length))
        arc = QPainterPath()
        start = math.degrees(math.atan2(-rays[0].y(), rays[0].x()))
        sweep = (math.degrees(math.atan2(-rays[1].y(), rays[1].x())) - start + 180.0) % 360.0 - 180.0
        radius = style.ANGLE_ARC_PX
        arc.arcMoveTo(QRectF(vertex.x() - radius, vertex.y() - radius, 2 * radius, 2 * radius), start)
        arc.arcTo(QRectF(vertex.x() - radius, vertex.y() - radius, 2 * radius, 2 * radius), start, sweep)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        line = QPen(color, 2.0)
        if dashes is not None:
            line = QPen(color, 2.0, Qt.PenStyle.CustomDashLine, Qt.PenCapStyle.FlatCap)
            line.setDashPattern(list(dashes))
        for pen in (QPen(style.HALO_COLOR, 4.5), line):
            painter.setPen(pen)
            for ray in rays:
                painter.drawLine(vertex, vertex + ray * style.ANGLE_RAY_PX)
            painter.drawPath(arc)
        font = QFont(painter.font())
        font.setPointSize(style.LABEL_POINT_SIZE)
        font.setBold(True)
        metrics = QFontMetricsF(font)
        text = glyph.text
        width, height = metrics.horizontalAdvance(text) + 4, metrics.height()
        away = -(rays[0] + rays[1])
        norm = math.hypot(away.x(), away.y()) or 1.0
        away /= norm
        anchor = vertex + away * 8.0
        left = anchor.x() if away.x() >= 0 else anchor.x() - width
        rect = QRectF(left, anchor.y() - height / 2, width, height)
        bounds = QRectF(self.rect()).adjusted(
            4, self.banner_rect().height() + 2, -4, -self.footer_rect().height() - 2
        )
        rect.moveLeft(min(max(rect.left(), bounds.left()), bounds.right() - width))
        rect.moveTop(min(max(rect.top(), bounds.top()), bounds.bottom() - height))
        for shift in (0.0, height, -height, 2 * height, -2 * height, 3 * height, -3 * height):
            moved = rect.translated(0.0, shift)
            if not any(moved.intersects(other) for other in self.label_avoid):
                rect = moved
                break
        _draw_label(painter, rect, text, color, font)
        return rect

    def toggle_level_count(self) -> None:
        """Show or hide the level count (C)."""
        self.show_level_count = not self.show_level_count
        self.update()

    def _draw_level_count(self, painter: QPainter, geometry: ViewGeometry, count: LevelCount) -> None:
        """The levels counted from S1: a dashed tick across each predicted centre and its name with a
        question mark, and a caption saying they are counted and must be confirmed on the film."""
        font = QFont(painter.font())
        font.setPointSize(style.LABEL_POINT_SIZE)
        font.setBold(True)
        font.setItalic(True)
        metrics = QFontMetricsF(font)
        for level in count.levels:
            color = style.COUNT_DISAGREE_COLOR if level.disagrees else style.COUNT_COLOR
            start, end = (QPointF(*geometry.to_widget(point)) for point in level.tick)
            dashed = QPen(color, 2.5, Qt.PenStyle.CustomDashLine, Qt.PenCapStyle.FlatCap)
            dashed.setDashPattern([3.0, 1.5])
            for pen in (
                QPen(style.HALO_COLOR, 4.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap),
                dashed,
            ):
                painter.setPen(pen)
                painter.drawLine(start, end)
            # The name goes past the tick's end nearer the screen's right, so it reads the same way
            # whichever way the film faces.
            tip = end if end.x() >= start.x() else start
            width, height = metrics.horizontalAdvance(level.text) + 4, metrics.height()
            rect = QRectF(tip.x() + 4, tip.y() - height / 2, width, height)
            _draw_label(painter, rect, level.text, color, font)
            self.level_marks.append((level.text, QLineF(start, end), rect))
        caption = f"{count.caption} (C hides)"
        plain = self._text_font(FOOTER_POINT_SIZE, bold=True)
        width = QFontMetricsF(plain).horizontalAdvance(caption) + 16
        box = QRectF(8, self.footer_rect().top() - QFontMetricsF(plain).height() - 14, width, 0)
        box.setHeight(QFontMetricsF(plain).height() + 8)
        painter.fillRect(box, QColor(0, 0, 0, 170))
        painter.setFont(plain)
        painter.setPen(style.COUNT_COLOR)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, caption)
        self.level_caption = box

    def _draw_legend(self, painter: QPainter) -> None:
        """The reference reads' names in their colours, top right under the banner."""
        font = QFont(painter.font())
        font.setPointSize(11)
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        line = metrics.height() + 6
        width = max(metrics.horizontalAdvance(r.label) for r in self.overlay.references) + 44
        top = self.banner_rect().bottom() + 10 if self.overlay.banner else 10
        box = QRectF(self.width() - width - 10, top, width, line * len(self.overlay.references) + 8)
        painter.fillRect(box, QColor(0, 0, 0, 170))
        for index, reference in enumerate(self.overlay.references):
            y = box.top() + 4 + index * line
            legend_pen = QPen(QColor(reference.color), 2.0, Qt.PenStyle.CustomDashLine)
            legend_pen.setDashPattern(list(reference.dashes))
            painter.setPen(legend_pen)
            painter.drawLine(QPointF(box.left() + 8, y + line / 2), QPointF(box.left() + 30, y + line / 2))
            painter.setPen(QColor(reference.color))
            painter.drawText(
                QRectF(box.left() + 36, y, width - 40, line), Qt.AlignmentFlag.AlignVCenter, reference.label
            )

    def _draw_landmarks(self, painter: QPainter, geometry: ViewGeometry, *, labels: bool) -> None:
        points = self._display_points()
        endplates: dict[EndplateRef, dict[Corner, QPointF]] = {}
        for key, position in points.items():
            parsed = LandmarkKey.parse(key)
            x, y = geometry.to_widget(position)
            endplates.setdefault(parsed.endplate, {})[parsed.corner] = QPointF(x, y)
        lines: dict[EndplateRef, tuple[QPointF, QPointF]] = {}
        for ref, corners in endplates.items():
            if Corner.POSTERIOR in corners and Corner.ANTERIOR in corners:
                p, a = corners[Corner.POSTERIOR], corners[Corner.ANTERIOR]
                extension = (a - p) * ENDPLATE_EXTENSION
                lines[ref] = (p - extension, a + extension)
        for ref, (start, end) in sorted(lines.items(), key=lambda item: item[0].sort_key):
            for pen in (
                QPen(style.HALO_COLOR, 4.0),
                QPen(style.side_color(ref.side), 2.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap),
            ):
                painter.setPen(pen)
                painter.drawLine(start, end)
        if labels:
            radius = style.POINT_RADIUS_PX + 3
            markers = [
                QRectF(at.x() - radius, at.y() - radius, 2 * radius, 2 * radius)
                for corners in endplates.values()
                for at in corners.values()
            ]
            taken: list[QRectF] = [self.banner_rect(), self.footer_rect(), *self.label_avoid]
            self.label_rects = []
            for ref, corners in sorted(endplates.items(), key=lambda item: item[0].sort_key):
                others = [segment for other, segment in lines.items() if other != ref]
                rect = _endplate_label(
                    painter, ref, corners, style.side_color(ref.side), taken + markers, others, self.rect()
                )
                if rect is not None:
                    taken.append(rect)
                    self.label_rects.append((ref.key(Corner.POSTERIOR).rsplit(".", 1)[0], rect))
        for key, position in points.items():
            parsed = LandmarkKey.parse(key)
            x, y = geometry.to_widget(position)
            self._draw_point(painter, QPointF(x, y), parsed, key)

    def _draw_point(self, painter: QPainter, at: QPointF, parsed: LandmarkKey, key: str) -> None:
        """A cross-hair with an open centre (the corner itself stays visible), a short tick for a
        middle point; the selected landmark gets a dashed ring."""
        color = style.side_color(parsed.endplate.side)
        active = self.tool.state is not ToolState.IDLE and key == self.tool.active
        if active:
            color = style.TARGET_COLOR
        outer = style.POINT_RADIUS_PX * (0.8 if parsed.corner is Corner.MIDDLE else 1.0) + 3.0
        inner = style.MARKER_GAP_PX
        arms = [
            (at + QPointF(dx * inner, dy * inner), at + QPointF(dx * outer, dy * outer))
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
        ]
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for pen in (
            QPen(style.HALO_COLOR, 4.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap),
            QPen(color, 2.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap),
        ):
            painter.setPen(pen)
            for start, end in arms:
                painter.drawLine(start, end)
        if key == self.tool.selected:
            painter.setPen(QPen(style.SELECTED_COLOR, 1.5, Qt.PenStyle.DashLine))
            painter.drawEllipse(at, outer + 3, outer + 3)

    @staticmethod
    def _draw_proposal(painter: QPainter, geometry: ViewGeometry, proposal: PendingProposal) -> None:
        """A dashed link from each point to a cross-hair ring where the proposal puts it (and the line)."""
        radius = style.POINT_RADIUS_PX + 3.0
        ends = {move.key: QPointF(*geometry.to_widget(move.end)) for move in proposal.moves}
        for pen in (QPen(style.HALO_COLOR, 4.0), QPen(style.PROPOSAL_COLOR, 2.0, Qt.PenStyle.DashLine)):
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for move in proposal.moves:
                at = ends[move.key]
                painter.drawLine(QPointF(*geometry.to_widget(move.start)), at)
                painter.drawEllipse(at, radius, radius)
                painter.drawLine(at - QPointF(radius + 4, 0), at + QPointF(radius + 4, 0))
                painter.drawLine(at - QPointF(0, radius + 4), at + QPointF(0, radius + 4))
            corners = [at for key, at in ends.items() if not key.endswith(".middle")]
            if proposal.line and len(corners) == 2:
                painter.drawLine(corners[0], corners[1])

    def _loupe_geometry(self, position: tuple[float, float]) -> tuple[ViewGeometry, QPointF, float]:
        radius = 90.0
        cursor = self.widget_point(position)
        cx = cursor.x() + 130 if cursor.x() + 130 + radius < self.width() else cursor.x() - 130
        cy = cursor.y() - 130 if cursor.y() - 130 - radius > 0 else cursor.y() + 130
        zoom = min(ZOOM_LIMITS[1], max(4.0 * self.view_geometry.zoom, 3.0))
        geometry = replace(self.view_geometry, zoom=zoom, center=position, viewport=(2 * radius, 2 * radius))
        return geometry, QPointF(cx, cy), radius

    def _anterior_left(self) -> bool:
        """Whether the film's anterior side is on the left of the screen (from the endplates placed;
        left when none is)."""
        total = 0.0
        points = self.overlay.points
        for key in points:
            parsed = LandmarkKey.parse(key)
            if parsed.corner is not Corner.POSTERIOR:
                continue
            anterior = points.get(parsed.endplate.key(Corner.ANTERIOR))
            if anterior is not None:
                total += self.widget_point(anterior).x() - self.widget_point(points[key]).x()
        return total <= 0.0

    def _draw_loupe(self, painter: QPainter, position: tuple[float, float]) -> None:
        """A magnified disc beside the pointer while a landmark is placed or dragged, with the name of
        the point and a small vertebra showing which of its six points it is."""
        assert self.film is not None
        geometry, center, radius = self._loupe_geometry(position)
        region = geometry.visible_region(self.film.rows, self.film.columns, margin=1)
        painter.save()
        painter.translate(center.x() - radius, center.y() - radius)
        path = QPainterPath()
        path.addEllipse(QRectF(0, 0, 2 * radius, 2 * radius))
        painter.fillPath(path, QColor("#000000"))
        painter.setClipPath(path)
        if region[2] > region[0] and region[3] > region[1]:
            out = render_region(
                self.film.pixels,
                center=self.voi.center,
                width=self.voi.width,
                invert=self._display_invert(),
                region=region,
                scale=geometry.zoom,
                function=self.voi.function,
                lut=self.voi.lut,
            )
            base = painter.transform()
            a, b, c, d = geometry.matrix
            ox, oy = geometry.offset
            painter.setTransform(QTransform(a, c, b, d, ox, oy) * base)
            r0, c0, r1, c1 = region
            painter.drawImage(QRectF(c0, r0, c1 - c0, r1 - r0), _to_qimage(out))
            painter.setTransform(base)
        self._draw_landmarks(painter, geometry, labels=False)
        painter.setPen(QPen(style.TARGET_COLOR, 1.0))
        painter.drawLine(QPointF(radius, radius - 22), QPointF(radius, radius - 6))
        painter.drawLine(QPointF(radius, radius + 6), QPointF(radius, radius + 22))
        painter.drawLine(QPointF(radius - 22, radius), QPointF(radius - 6, radius))
        painter.drawLine(QPointF(radius + 6, radius), QPointF(radius + 22, radius))
        painter.setClipping(False)
        painter.setPen(QPen(QColor("#ffffff"), 2.0))
        painter.drawEllipse(QRectF(0, 0, 2 * radius, 2 * radius))
        if self.tool.active:
            # Which corner this is, under the loupe: the reader need not look away to the panel.
            font = self._text_font(style.LABEL_POINT_SIZE, bold=True)
            text = loupe_caption(self.tool.active)
            width = QFontMetricsF(font).horizontalAdvance(text) + 6
            box = QRectF(radius - width / 2, 2 * radius + 4, width, QFontMetricsF(font).height())
            painter.fillRect(box.adjusted(-3, -1, 3, 1), QColor(0, 0, 0, 190))
            _draw_label(painter, box, text, style.TARGET_COLOR, font)
            # And which of the six points it is, on a small vertebra beside the disc.
            width, height = SCHEMATIC_SIZE
            left = 2 * radius + 6 if center.x() + radius + 6 + width <= self.width() else -width - 6
            schematic = QRectF(left, radius - height / 2, width, height)
            pending = draw_loupe_schematic(
                painter, schematic, self.tool.active, anterior_left=self._anterior_left()
            )
            self.loupe_schematic = (
                self.tool.active,
                painter.transform().mapRect(schematic),
                painter.transform().map(pending),
            )
        painter.restore()

    def _draw_texts(self, painter: QPainter) -> None:
        if self.overlay.references:
            self._draw_legend(painter)
        if self.overlay.banner:
            font = self._text_font(BANNER_POINT_SIZE, bold=True)
            rect = self.banner_rect()
            metrics = QFontMetricsF(font)
            while font.pointSize() > 8 and metrics.horizontalAdvance(self.overlay.banner) > rect.width() - 16:
                font.setPointSize(font.pointSize() - 1)  # a narrow view: smaller, never cut
                metrics = QFontMetricsF(font)
            painter.setFont(font)
            text = metrics.elidedText(self.overlay.banner, Qt.TextElideMode.ElideRight, rect.width() - 16)
            painter.fillRect(rect, QColor(0, 0, 0, 170))
            painter.setPen(style.TARGET_COLOR if self.overlay.target else QColor("#a5d6a7"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        if self.overlay.footer:
            font = self._text_font(FOOTER_POINT_SIZE, bold=False)
            painter.setFont(font)
            rect = self.footer_rect()
            text = QFontMetricsF(font).elidedText(
                self.overlay.footer, Qt.TextElideMode.ElideRight, rect.width() - 16
            )
            painter.fillRect(rect, QColor(0, 0, 0, 150))
            painter.setPen(QColor("#e0e0e0"))
            painter.drawText(rect.adjusted(8, 0, -8, 0), Qt.AlignmentFlag.AlignVCenter, text)

    # ------------------------------------------------------------------------------------------ input
    def _emit(self, actions: list[Action]) -> None:
        for action in actions:
            self.tool_acted.emit(action)
        self.update()

    def _pick_radius(self) -> float:
        return self.view_geometry.image_radius(style.PICK_RADIUS_PX)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        """Start placing/dragging (left), panning (middle, Space+left) or windowing (right)."""
        self.setFocus()
        button = event.button()
        if self.film is None:
            return
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self._space_held
        ):
            self._start_drag("pan", event)
        elif button == Qt.MouseButton.RightButton:
            self._start_drag("window", event)
        elif button == Qt.MouseButton.LeftButton:
            position = self.image_point(event.position())
            if self.proposal is not None and any(
                math.dist(position, move.end) <= self._pick_radius() for move in self.proposal.moves
            ):
                self.proposal_answered.emit(True)
                return
            self._emit(self.tool.press(position, self._pick_radius()))
            if self.tool.state is not ToolState.IDLE:
                self.preview_moved.emit((self.tool.active, self.tool.position))

    def _start_drag(self, mode: str, event: QMouseEvent) -> None:
        self._drag_mode = mode
        self._drag_start = event.position()
        self._drag_geometry = self.view_geometry
        self._drag_voi = self.voi
        self.setCursor(Qt.CursorShape.ClosedHandCursor if mode == "pan" else Qt.CursorShape.SizeAllCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        """Follow the pointer in whatever drag is under way."""
        self._cursor = event.position()
        delta = event.position() - self._drag_start
        if self._drag_mode == "pan":
            self.set_geometry(self._drag_geometry.panned(delta.x(), delta.y()))
        elif self._drag_mode == "window":
            self.apply_window_drag(delta.x(), delta.y())
        elif self.tool.state is not ToolState.IDLE:
            self._emit(self.tool.move(self.image_point(event.position())))
            self.preview_moved.emit((self.tool.active, self.tool.position))

    def apply_window_drag(self, dx: float, dy: float) -> None:
        """Window/level from a right-drag of (dx, dy) screen pixels since the press."""
        start = self._drag_voi
        sensitivity = max(start.width, 1.0) / 300.0
        self.set_window(start.center + dy * sensitivity, max(1.0, start.width + dx * sensitivity))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        """Finish the drag; a placement or move becomes one undoable edit."""
        if (self._drag_mode is not None and event.button() != Qt.MouseButton.LeftButton) or (
            self._drag_mode == "pan" and event.button() == Qt.MouseButton.LeftButton
        ):
            self._drag_mode = None
            self.unsetCursor()
            return
        if event.button() == Qt.MouseButton.LeftButton and self.tool.state is not ToolState.IDLE:
            self._emit(self.tool.release(self.image_point(event.position())))
            self.preview_moved.emit(None)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt API)
        """Zoom about the cursor, 15% per notch."""
        steps = event.angleDelta().y() / 120.0
        if steps and self.film is not None:
            self.zoom_by(1.15**steps, event.position(), interactive=True)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        """Space (hold) pans; arrows nudge the selected landmark by one screen pixel; Esc cancels;
        C shows or hides the level count."""
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            return
        arrows = {
            Qt.Key.Key_Left: (-1.0, 0.0),
            Qt.Key.Key_Right: (1.0, 0.0),
            Qt.Key.Key_Up: (0.0, -1.0),
            Qt.Key.Key_Down: (0.0, 1.0),
        }
        if key in arrows and self.tool.selected is not None:
            dx, dy = arrows[Qt.Key(key)]
            factor = 10.0 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1.0
            self._emit(self.tool.nudge(self.view_geometry.screen_step_in_image(dx * factor, dy * factor)))
            return
        if self.proposal is not None and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape):
            self.proposal_answered.emit(key != Qt.Key.Key_Escape)
            return
        if key == Qt.Key.Key_Escape:
            was_active = self.tool.state is not ToolState.IDLE
            self._emit(self.tool.cancel())
            if was_active:
                self.preview_moved.emit(None)
            return
        if key in (Qt.Key.Key_BracketRight, Qt.Key.Key_BracketLeft) and self.overlay.points:
            # ] and [ select the next and previous landmark, cranial to caudal, for the arrows to nudge.
            order = sorted(self.overlay.points, key=_reading_order)
            step = 1 if key == Qt.Key.Key_BracketRight else -1
            current = order.index(self.tool.selected) if self.tool.selected in order else -step
            chosen = order[(current + step) % len(order)]
            self.tool.select(chosen)
            self.tool_acted.emit(Selected(chosen))
            self.update()
            return
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self._emit(self.tool.delete())
            return
        if key == Qt.Key.Key_C and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.toggle_level_count()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        """Releasing Space ends pan mode."""
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.unsetCursor()
            return
        super().keyReleaseEvent(event)


def _covers(outer: Region, inner: Region) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] and outer[3] >= inner[3]


def _to_qimage(array: npt.NDArray[np.uint8]) -> QImage:
    """An 8-bit grey QImage owning a copy of the array."""
    data = np.ascontiguousarray(array)
    rows, columns = data.shape
    return QImage(data.data, columns, rows, data.strides[0], QImage.Format.Format_Grayscale8).copy()


def _reading_order(key: str) -> tuple[int, int, int]:
    parsed = LandmarkKey.parse(key)
    order, side = parsed.endplate.sort_key
    return order, side, (Corner.POSTERIOR, Corner.MIDDLE, Corner.ANTERIOR).index(parsed.corner)


def loupe_caption(key: str) -> str:
    """The loupe's caption: `L1 superior, posterior corner`."""
    parsed = LandmarkKey.parse(key)
    what = "middle point" if parsed.corner is Corner.MIDDLE else f"{parsed.corner} corner"
    return f"{parsed.endplate.vertebra} {parsed.endplate.side}, {what}"


def segment_meets_rect(start: QPointF, end: QPointF, rect: QRectF) -> bool:
    """Whether a line segment crosses or touches a rectangle (Liang-Barsky clipping)."""
    x0, y0 = start.x(), start.y()
    dx, dy = end.x() - x0, end.y() - y0
    low, high = 0.0, 1.0
    for p, q in (
        (-dx, x0 - rect.left()),
        (dx, rect.right() - x0),
        (-dy, y0 - rect.top()),
        (dy, rect.bottom() - y0),
    ):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


def _endplate_label(
    painter: QPainter,
    ref: EndplateRef,
    corners: Mapping[Corner, QPointF],
    color: QColor,
    taken: list[QRectF],
    lines: list[tuple[QPointF, QPointF]],
    bounds: QRect,
) -> QRectF | None:
    """Label an endplate beyond one end of its line, where it covers no landmark, no other endplate's
    line and no other label; None when nothing fits.

    Superior endplates are labelled past the anterior corner and inferior ones past the posterior
    corner, so the two endplates of a disc (close together at low zoom) are labelled on opposite sides;
    further out, then a line higher or lower, when that place is taken.
    """
    font = QFont(painter.font())
    font.setPointSize(style.LABEL_POINT_SIZE)
    font.setBold(True)
    metrics = QFontMetricsF(font)
    text = f"{ref.vertebra} {'sup' if ref.side is EndplateSide.SUPERIOR else 'inf'}"
    width, height = metrics.horizontalAdvance(text) + 4, metrics.height()
    anterior, posterior = corners.get(Corner.ANTERIOR), corners.get(Corner.POSTERIOR)
    ends: list[tuple[QPointF, QPointF]] = []
    if anterior is not None and posterior is not None:
        past_anterior, past_posterior = (anterior, anterior - posterior), (posterior, posterior - anterior)
        superior = ref.side is EndplateSide.SUPERIOR
        ends = [past_anterior, past_posterior] if superior else [past_posterior, past_anterior]
    else:
        point = next(iter(corners.values()))
        ends = [(point, QPointF(1, 0)), (point, QPointF(-1, 0))]
    area = QRectF(bounds)
    for extra in (0.0, 24.0, 56.0):
        for end, direction in ends:
            length = math.hypot(direction.x(), direction.y()) or 1.0
            unit = direction / length
            full = anterior is not None and posterior is not None
            reach = (0.25 * length + 10 if full else 12) + extra
            tip = end + unit * reach
            for shift in (0.0, -height, height, -2 * height, 2 * height):
                left = tip.x() if unit.x() >= 0 else tip.x() - width
                rect = QRectF(left, tip.y() - height / 2 + shift, width, height)
                if not area.contains(rect) or any(rect.intersects(other) for other in taken):
                    continue
                if any(segment_meets_rect(a, b, rect.adjusted(-2, -2, 2, 2)) for a, b in lines):
                    continue
                _draw_label(painter, rect, text, color, font)
                return rect
    return None


_LABEL_CACHE: dict[tuple[str, int, str, float], QImage] = {}
"""Labels drawn once, then copied: stroking a text's halo costs about a millisecond each time."""
_LABEL_CACHE_SIZE = 256


def _label_image(text: str, color: QColor, font: QFont, ratio: float) -> QImage:
    key = (text, color.rgba(), font.toString(), ratio)
    cached = _LABEL_CACHE.get(key)
    if cached is not None:
        return cached
    metrics = QFontMetricsF(font)
    width, height = metrics.horizontalAdvance(text) + 8, metrics.height() + 4
    image = QImage(
        math.ceil(width * ratio), math.ceil(height * ratio), QImage.Format.Format_ARGB32_Premultiplied
    )
    image.setDevicePixelRatio(ratio)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addText(QPointF(4, 2 + metrics.ascent()), font, text)
    painter.setPen(
        QPen(style.HALO_COLOR, 3.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    )
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(path)
    painter.fillPath(path, QBrush(color))
    painter.end()
    if len(_LABEL_CACHE) >= _LABEL_CACHE_SIZE:
        _LABEL_CACHE.clear()
    _LABEL_CACHE[key] = image
    return image


def _draw_label(painter: QPainter, rect: QRectF, text: str, color: QColor, font: QFont) -> None:
    """Bold text with a dark halo inside `rect`."""
    device = painter.device()
    ratio = device.devicePixelRatioF() if device is not None else 1.0
    painter.drawImage(QPointF(rect.left() - 2, rect.top() - 2), _label_image(text, color, font, ratio))
