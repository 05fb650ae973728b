"""A film as the snapping tools see it: grey values after the Modality LUT with bone bright, and its spacing.

Regions are read on demand (a few hundred pixels around a click), so a proposal never copies or
converts the whole film.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from kyphoangle.geometry import Scale
from kyphoangle.spacing import PixelSpacing

NOMINAL_SPACING_MM = 0.15
"""Pixel size assumed when a film has no spacing at all, so that the search region still has a size."""

GRADIENT_FLOOR_SHARE = 0.005
"""Share of the film's value range, per mm, below which gradient spread counts as no noise at all."""


class FilmPixels(Protocol):
    """What snapping reads of a loaded film (a `kyphoangle.dicom.Radiograph` has all of it)."""

    @property
    def pixels(self) -> npt.NDArray[Any]:
        """Grey values after the Modality LUT, (rows, columns)."""

    @property
    def invert_display(self) -> bool:
        """True for MONOCHROME1 (low values are dense)."""

    @property
    def spacing(self) -> PixelSpacing:
        """The film's pixel spacing and its source."""

    @property
    def pixel_aspect_ratio(self) -> tuple[int, int] | None:
        """Pixel Aspect Ratio (row, column), when the film gives one."""


Grey = npt.NDArray[np.float32]
"""A region of the film as float32 grey values, bone bright."""


@dataclass(frozen=True, slots=True, eq=False)
class SnapFilm:
    """The pixels of one film (after the Modality LUT), which way is dense, and the size of a pixel in mm.

    `bone_is_dark` is True for MONOCHROME1 films, whose low values are dense. `spacing_assumed` is True
    when the film had no spacing and `NOMINAL_SPACING_MM` (times the pixel aspect ratio) stands in.
    """

    pixels: npt.NDArray[Any]
    row_mm: float
    col_mm: float
    bone_is_dark: bool = False
    spacing_assumed: bool = False
    value_range: float = field(init=False, default=0.0)
    """Largest minus smallest value of the film (computed once)."""

    def __post_init__(self) -> None:
        if self.pixels.ndim != 2 or 0 in self.pixels.shape:
            raise ValueError(f"a film must be a non-empty 2-D array, got shape {self.pixels.shape}")
        if not (self.row_mm > 0 and self.col_mm > 0 and math.isfinite(self.row_mm * self.col_mm)):
            raise ValueError("row_mm and col_mm must be positive and finite")
        values = np.asarray(self.pixels)
        object.__setattr__(self, "value_range", float(values.max()) - float(values.min()))

    @property
    def gradient_floor(self) -> float:
        """Smallest gradient spread (grey per mm) a region is credited with: 0.5 % of the range per mm."""
        return GRADIENT_FLOOR_SHARE * self.value_range

    @classmethod
    def from_radiograph(cls, radiograph: FilmPixels) -> SnapFilm:
        """The film of a loaded radiograph with its spacing (else a nominal size and its pixel aspect)."""
        spacing = radiograph.spacing
        if spacing.row_mm is not None and spacing.col_mm is not None:
            return cls(radiograph.pixels, spacing.row_mm, spacing.col_mm, radiograph.invert_display)
        row_mm = col_mm = NOMINAL_SPACING_MM
        ratio = radiograph.pixel_aspect_ratio
        if ratio is not None and ratio[0] > 0 and ratio[1] > 0:
            row_mm = NOMINAL_SPACING_MM * ratio[0] / ratio[1]
        return cls(radiograph.pixels, row_mm, col_mm, radiograph.invert_display, spacing_assumed=True)

    @property
    def rows(self) -> int:
        """Number of rows of the film."""
        return int(self.pixels.shape[0])

    @property
    def columns(self) -> int:
        """Number of columns of the film."""
        return int(self.pixels.shape[1])

    @property
    def scale(self) -> Scale:
        """Millimetres per pixel along rows and columns."""
        return Scale(self.row_mm, self.col_mm)

    def region(self, top: int, bottom: int, left: int, right: int) -> Grey:
        """Rows `top:bottom` and columns `left:right` (clipped to the film) as float32, bone bright."""
        top, left = max(0, top), max(0, left)
        bottom, right = min(self.rows, bottom), min(self.columns, right)
        grey = np.asarray(self.pixels[top:bottom, left:right], dtype=np.float32)
        if self.bone_is_dark:
            grey = -grey
        return grey
