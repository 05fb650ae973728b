"""Where the film sits on screen: zoom, pan, display rotation and flip, as a pure 2-D affine map.

Image coordinates are DICOM image-relative `(column, row)`: the top-left corner of the first pixel is
(0, 0) and its centre (0.5, 0.5). Rotation and flip change only the display; landmarks always stay in
image coordinates. `aspect` stretches rows so non-square pixels show anatomy in its true shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

Vec = tuple[float, float]


@dataclass(frozen=True, slots=True)
class ViewGeometry:
    """Maps image points to widget points: `widget = viewport_center + R F S (image - center)`.

    `zoom` is screen pixels per image column, `rotation` a multiple of 90 degrees clockwise on screen,
    `flipped` mirrors left-right on screen (applied before the rotation), `center` the image point
    shown at the middle of the viewport.
    """

    zoom: float = 1.0
    center: Vec = (0.0, 0.0)
    rotation: int = 0
    flipped: bool = False
    aspect: float = 1.0
    viewport: Vec = (1.0, 1.0)

    def __post_init__(self) -> None:
        if self.rotation % 90:
            raise ValueError("display rotation must be a multiple of 90 degrees")
        object.__setattr__(self, "rotation", self.rotation % 360)
        if not (self.zoom > 0 and math.isfinite(self.zoom)):
            raise ValueError("zoom must be positive")

    @property
    def matrix(self) -> tuple[float, float, float, float]:
        """The linear part `(a, b, c, d)`: `dx' = a dx + b dy`, `dy' = c dx + d dy`."""
        sx = -self.zoom if self.flipped else self.zoom
        sy = self.zoom * self.aspect
        cos, sin = _ROTATIONS[self.rotation]
        # screen rotation clockwise (y grows downward): x' = cos x - sin y, y' = sin x + cos y
        return cos * sx, -sin * sy, sin * sx, cos * sy

    @property
    def offset(self) -> Vec:
        """Translation of the affine map (widget position of image point (0, 0))."""
        a, b, c, d = self.matrix
        cx, cy = self.center
        vx, vy = self.viewport[0] / 2, self.viewport[1] / 2
        return vx - (a * cx + b * cy), vy - (c * cx + d * cy)

    def to_widget(self, point: Vec) -> Vec:
        """Widget position of an image point."""
        a, b, c, d = self.matrix
        ox, oy = self.offset
        x, y = point
        return a * x + b * y + ox, c * x + d * y + oy

    def to_image(self, point: Vec) -> Vec:
        """Image position under a widget point."""
        a, b, c, d = self.matrix
        ox, oy = self.offset
        det = a * d - b * c
        x, y = point[0] - ox, point[1] - oy
        return (d * x - b * y) / det, (-c * x + a * y) / det

    def screen_step_in_image(self, dx: float, dy: float) -> Vec:
        """The image displacement that moves a point by (dx, dy) screen pixels."""
        a, b, c, d = self.matrix
        det = a * d - b * c
        return (d * dx - b * dy) / det, (-c * dx + a * dy) / det

    def image_radius(self, screen_pixels: float) -> float:
        """An image distance (in columns) that spans about `screen_pixels` on screen."""
        return screen_pixels / (self.zoom * min(1.0, self.aspect))

    def visible_region(self, rows: int, columns: int, margin: int = 0) -> tuple[int, int, int, int]:
        """The image region `(row0, col0, row1, col1)` covering the viewport, clamped to the image."""
        w, h = self.viewport
        corners = [self.to_image(p) for p in ((0.0, 0.0), (w, 0.0), (0.0, h), (w, h))]
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        c0 = max(0, math.floor(min(xs)) - margin)
        c1 = min(columns, math.ceil(max(xs)) + margin)
        r0 = max(0, math.floor(min(ys)) - margin)
        r1 = min(rows, math.ceil(max(ys)) + margin)
        return r0, c0, max(r0, r1), max(c0, c1)

    def fitted(
        self, rows: int, columns: int, border: float = 0.97, *, insets: tuple[float, float] = (0.0, 0.0)
    ) -> ViewGeometry:
        """The whole image centred in the viewport, between `insets` (top, bottom) screen pixels kept
        free for the texts drawn over the film."""
        w, h = self.viewport
        top, bottom = insets
        free = max(1.0, h - top - bottom)
        img_w, img_h = float(columns), float(rows) * self.aspect
        if self.rotation in (90, 270):
            img_w, img_h = img_h, img_w
        zoom = border * min(w / max(img_w, 1e-9), free / max(img_h, 1e-9))
        fitted = replace(self, zoom=max(zoom, 1e-4), center=(columns / 2, rows / 2))
        return fitted.panned(0.0, (top - bottom) / 2.0) if top != bottom and free > 1.0 else fitted

    def zoomed_about(self, widget_point: Vec, factor: float, limits: tuple[float, float]) -> ViewGeometry:
        """Zoom by `factor` keeping the image point under `widget_point` where it is."""
        before = self.to_image(widget_point)
        zoom = min(limits[1], max(limits[0], self.zoom * factor))
        zoomed = replace(self, zoom=zoom)
        after = zoomed.to_image(widget_point)
        return replace(
            zoomed, center=(self.center[0] + before[0] - after[0], self.center[1] + before[1] - after[1])
        )

    def panned(self, dx: float, dy: float) -> ViewGeometry:
        """Move the film by (dx, dy) screen pixels."""
        ix, iy = self.screen_step_in_image(dx, dy)
        return replace(self, center=(self.center[0] - ix, self.center[1] - iy))

    def rotated(self, degrees: int) -> ViewGeometry:
        """Rotate the display (keeps the centre)."""
        return replace(self, rotation=(self.rotation + degrees) % 360)

    def with_viewport(self, width: float, height: float) -> ViewGeometry:
        """Same view in a resized widget."""
        return replace(self, viewport=(max(1.0, width), max(1.0, height)))


_ROTATIONS: dict[int, tuple[float, float]] = {
    0: (1.0, 0.0),
    90: (0.0, 1.0),
    180: (-1.0, 0.0),
    270: (0.0, -1.0),
}
