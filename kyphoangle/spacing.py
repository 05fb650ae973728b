"""Pixel spacing of a radiograph and where it came from (DOMAIN.md, "Calibration")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SpacingSource(StrEnum):
    """Which attribute (or action) gave the pixel spacing used for a measurement."""

    PIXEL_SPACING = "pixel_spacing"
    IMAGER_PIXEL_SPACING = "imager_pixel_spacing"
    IMAGER_PIXEL_SPACING_ERMF = "imager_pixel_spacing_ermf"
    MANUAL = "manual"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class PixelSpacing:
    """Physical size of one pixel, `(row_mm, col_mm)`, with its source; both None when unknown."""

    row_mm: float | None
    col_mm: float | None
    source: SpacingSource

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", SpacingSource(self.source))
        known = self.row_mm is not None and self.col_mm is not None
        if known != (self.source is not SpacingSource.NONE):
            raise ValueError(f"spacing source {self.source} does not match row/column spacing")
        if known and not (self.row_mm > 0 and self.col_mm > 0):  # type: ignore[operator]
            raise ValueError("pixel spacing must be positive")

    @classmethod
    def unknown(cls) -> PixelSpacing:
        """No spacing at all: angles assume square pixels, heights are in pixels."""
        return cls(None, None, SpacingSource.NONE)

    @property
    def is_known(self) -> bool:
        """True when the spacing gives millimetres."""
        return self.source is not SpacingSource.NONE
