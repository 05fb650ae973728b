"""Semi-automatic endplate snapping: proposals of exact corners and endplate lines near a reader's clicks.

Nothing here moves a landmark: every function returns a proposal (or None when the film gives no clear
answer) for the reader to accept or not.
"""

from kyphoangle.snapping.corner import CornerProposal, propose_corner
from kyphoangle.snapping.endplate import EndplateProposal, propose_endplate
from kyphoangle.snapping.film import NOMINAL_SPACING_MM, SnapFilm
from kyphoangle.snapping.settings import DEFAULT_SETTINGS, SnapSettings

__all__ = [
    "DEFAULT_SETTINGS",
    "NOMINAL_SPACING_MM",
    "CornerProposal",
    "EndplateProposal",
    "SnapFilm",
    "SnapSettings",
    "propose_corner",
    "propose_endplate",
]
