"""Colours and sizes shared by the film overlay, the loupe and the schematic (legible on grey film)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from kyphoangle.vocabulary import EndplateSide

SUPERIOR_COLOR = QColor("#00e5ff")
"""Superior endplates: cyan."""
INFERIOR_COLOR = QColor("#ffb300")
"""Inferior endplates: amber."""
TARGET_COLOR = QColor("#ff4081")
"""The landmark to place next, and the point being placed: pink."""
PROPOSAL_COLOR = QColor("#69f0ae")
"""A snapping proposal waiting for the reader's answer: mint green (no reader colour)."""
SELECTED_COLOR = QColor("#ffffff")
"""Ring around the selected landmark."""
HALO_COLOR = QColor(0, 0, 0, 200)
"""Dark outline behind every mark and label, so they read on white bone and black air alike."""
READER_COLORS: tuple[str, ...] = ("#76ff03", "#e040fb", "#ff6e40", "#82b1ff", "#ffff00", "#ffffff")
"""Fixed colours of reader 1, 2, 3, ... when reads are compared (green, violet, orange, blue, yellow,
white): none is the cyan, amber or pink of the reader's own landmarks."""
POINT_RADIUS_PX = 5.0
"""Drawn radius of a landmark on screen."""
PICK_RADIUS_PX = 7.0
"""A press within this many screen pixels of a landmark grabs it instead of placing a new one."""
LABEL_POINT_SIZE = 11
"""Point size of on-film labels."""


def side_color(side: EndplateSide) -> QColor:
    """The colour of an endplate side."""
    return SUPERIOR_COLOR if side is EndplateSide.SUPERIOR else INFERIOR_COLOR
