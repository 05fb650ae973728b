"""Colours and sizes shared by the film overlay, the loupe and the schematic (legible on grey film)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from kyphoangle import annotation
from kyphoangle.protocol import MeasurementName
from kyphoangle.vocabulary import EndplateSide

OKABE_ITO = annotation.OKABE_ITO
"""The Okabe-Ito palette (Okabe and Ito, "Color Universal Design", 2008; `kyphoangle.annotation`, so the
film view and the presentation states draw in the same colours): told apart with every common
colour-vision deficiency. Every colour drawn on the film except the transient pink target is one of
these, over a dark halo."""
SUPERIOR_COLOR = QColor(annotation.SIDE_COLORS[EndplateSide.SUPERIOR])
"""Superior endplates: sky blue."""
INFERIOR_COLOR = QColor(annotation.SIDE_COLORS[EndplateSide.INFERIOR])
"""Inferior endplates: orange."""
TARGET_COLOR = QColor("#ff4081")
"""The landmark to place next, and the point being placed: pink."""
PROPOSAL_COLOR = QColor("#69f0ae")
"""A snapping proposal waiting for the reader's answer: mint green (no reader colour)."""
SELECTED_COLOR = QColor("#ffffff")
"""Ring around the selected landmark."""
HALO_COLOR = QColor(0, 0, 0, 200)
"""Dark outline behind every mark and label, so they read on white bone and black air alike."""
READER_COLORS: tuple[str, ...] = (
    OKABE_ITO["yellow"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["bluish green"],
    OKABE_ITO["reddish purple"],
    "#ffffff",
    OKABE_ITO["blue"],
)
"""Fixed colours of reader 1, 2, 3, ... when reads are compared (Okabe-Ito yellow, vermillion, bluish
green, reddish purple, then white and blue): none is the sky blue or orange of one's own endplates."""
READER_DASHES: tuple[tuple[float, ...], ...] = ((1.0, 0.0), (5.0, 3.0), (2.0, 2.0), (8.0, 3.0, 2.0, 3.0))
"""Each reader's line pattern too, so the reads differ by more than colour (solid, dashed, dotted...)."""
ANGLE_COLORS: dict[MeasurementName, QColor] = {
    name: QColor(color) for name, color in annotation.ANGLE_COLORS.items()
}
"""The colour of each angle drawn on the film (its rays, arc and value)."""
ANGLE_RAY_PX = 46.0
"""Length on screen of an angle glyph's rays."""
ANGLE_ARC_PX = 30.0
"""Radius on screen of an angle glyph's arc."""
POINT_RADIUS_PX = 5.0
"""Drawn radius of a landmark on screen."""
MARKER_GAP_PX = 3.0
"""Open centre of a landmark's cross-hair: the clicked corner itself is never covered."""
PICK_RADIUS_PX = 7.0
"""A press within this many screen pixels of a landmark grabs it instead of placing a new one."""
LABEL_POINT_SIZE = 11
"""Point size of on-film labels."""


def side_color(side: EndplateSide) -> QColor:
    """The colour of an endplate side."""
    return SUPERIOR_COLOR if side is EndplateSide.SUPERIOR else INFERIOR_COLOR


COUNT_COLOR = QColor("#ffffff")
"""The level count (ticks and names counted from S1, to confirm): white, dashed."""
COUNT_DISAGREE_COLOR = QColor(OKABE_ITO["yellow"])
"""A counted level where the reader placed a body of another name: yellow."""
