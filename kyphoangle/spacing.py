"""Pixel spacing of a film and where it came from, shared by geometry, storage and file reading."""

from __future__ import annotations

import math
from dataclasses import dataclass

from kyphoangle.vocabulary import SpacingSource

__all__ = ["PixelSpacing", "SpacingSource"]


@dataclass(frozen=True, slots=True)
class PixelSpacing:
    """Physical size of a pixel: row spacing (between rows, vertical) and column spacing, in mm.

    The DICOM order is kept: `row_mm` is the first value of Pixel Spacing, the distance between the
    centres of adjacent rows; `col_mm` is the second value, the distance between adjacent columns.
    With `source` NONE both are None; otherwise both are finite and positive.
    """

    row_mm: float | None
    col_mm: float | None
    source: SpacingSource

    def __post_init__(self) -> None:
        source = SpacingSource(self.source)
        object.__setattr__(self, "source", source)
        if source is SpacingSource.NONE:
            if self.row_mm is not None or self.col_mm is not None:
                raise ValueError("a spacing whose source is 'none' cannot have values")
            return
        for name, value in (("row_mm", self.row_mm), ("col_mm", self.col_mm)):
            if value is None or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive finite number of mm, got {value!r}")
        object.__setattr__(self, "row_mm", float(self.row_mm))  # type: ignore[arg-type]
        object.__setattr__(self, "col_mm", float(self.col_mm))  # type: ignore[arg-type]

    @classmethod
    def none(cls) -> PixelSpacing:
        """Return the spacing of a film with no calibration at all."""
        return cls(None, None, SpacingSource.NONE)

    @classmethod
    def manual(cls, row_mm: float, col_mm: float) -> PixelSpacing:
        """Return a spacing calibrated by hand (two points of known distance)."""
        return cls(row_mm, col_mm, SpacingSource.MANUAL)

    @property
    def is_known(self) -> bool:
        """Whether distances can be given in mm."""
        return self.source is not SpacingSource.NONE

    @property
    def row_to_col_ratio(self) -> float | None:
        """Row spacing over column spacing (what angles need), or None without spacing."""
        if self.row_mm is None or self.col_mm is None:
            return None
        return self.row_mm / self.col_mm
