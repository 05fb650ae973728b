"""How far and how finely snapping looks, and how sure it must be to propose anything."""

from __future__ import annotations

import math
from dataclasses import dataclass

CLIP_NOISE_UNITS = 4.0
"""Gradients are clipped at this many noise units: any clear edge counts the same, however dense."""


@dataclass(frozen=True, slots=True)
class SnapSettings:
    """How far and how finely proposals look, and how sure they must be to be shown."""

    search_radius_mm: float = 6.0
    """A proposal is at most this far from the click."""
    arm_mm: float = 4.0
    """Length of edge, from the corner into the body, that must support it."""
    blur_mm: float = 0.4
    """Gaussian denoising before gradients are taken."""
    outside_mm: tuple[float, float] = (1.0, 4.5)
    """Band outside each arm where a parallel edge counts against the candidate."""
    min_confidence: float = 0.5
    """Below this confidence no proposal is made."""
    angle_step_deg: float = 3.0
    """Step of the search over endplate directions."""
    search_step_mm: float = 0.3
    """Sampling of the local frame while candidates are compared (coarser when the film's pixels are)."""
    min_step_mm: float = 0.1
    """Sampling of the final refinement (coarser when the film's pixels are larger)."""

    def __post_init__(self) -> None:
        positive = (
            self.search_radius_mm,
            self.arm_mm,
            self.blur_mm,
            self.angle_step_deg,
            self.search_step_mm,
            self.min_step_mm,
        )
        if not all(math.isfinite(v) and v > 0 for v in positive):
            raise ValueError("snap settings must be positive")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError("min_confidence must be within [0, 1]")


DEFAULT_SETTINGS = SnapSettings()
