"""Loading films and rendering regions of them for display: the application's one door to `kyphoangle.dicom`.

Films are decoded by the core in a worker process (`kyphoangle.dicom.decoder_pool`): a film that makes
a decoder abort, panic, hang or run out of memory is reported as "This film cannot be decoded: ..." and
the workstation stays usable. The display transform is the core's (`kyphoangle.dicom.display`), the same
for the view, the loupe, screenshots and reports:

stored values -> Modality LUT (done at load) -> resample the visible region to screen scale
(`resample_region`) -> VOI LUT (window with its VOI LUT Function, or the file's VOI LUT Sequence) ->
presentation LUT (MONOCHROME1 inverted) -> 8 bits (`render_window`). The view caches the resampling
so a window/level drag only repeats the last, cheap step. The automatic window of a film without one
is computed once, when the film is loaded (its first VOI preset).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from kyphoangle.dicom import Radiograph
from kyphoangle.dicom.decoder_pool import load_radiograph_safely
from kyphoangle.dicom.display import output_shape, render_8bit, resample
from kyphoangle.dicom.radiograph import VoiFunction, VoiLut
from kyphoangle.spacing import PixelSpacing
from kyphoangle.vocabulary import SpacingSource

Region = tuple[int, int, int, int]
"""An image region `(row0, col0, row1, col1)`, end-exclusive, in whole pixels."""

FilmLike: TypeAlias = Radiograph
"""A loaded film: the core's `Radiograph` (grey values after the Modality LUT, presets, spacing)."""


def load_film(path: str | Path, frame: int = 0) -> Radiograph:
    """Load one frame of a radiograph in a decoder worker; raises `RadiographError` subclasses only."""
    return load_radiograph_safely(path, frame=frame)


def clamp_region(region: Region, rows: int, columns: int) -> Region:
    """The part of a region inside the image (possibly empty)."""
    r0, c0, r1, c1 = region
    r0, c0 = max(0, min(rows, r0)), max(0, min(columns, c0))
    return r0, c0, max(r0, min(rows, r1)), max(c0, min(columns, c1))


def output_size(region: Region, scale: float) -> tuple[int, int]:
    """Rows and columns of a region rendered at `scale` screen pixels per image pixel."""
    return output_shape(region, scale)


def resample_region(pixels: npt.NDArray[Any], region: Region, scale: float) -> npt.NDArray[Any]:
    """The region resampled to `scale` by the core (area average shrinking, nearest pixel enlarging)."""
    return resample(pixels, region=region, scale=scale)


def render_window(
    pixels: npt.NDArray[Any],
    *,
    center: float,
    width: float,
    invert: bool,
    function: VoiFunction = VoiFunction.LINEAR,
    lut: VoiLut | None = None,
) -> npt.NDArray[np.uint8]:
    """The 8-bit display of already-resampled pixels: VOI LUT (window or table), presentation LUT."""
    return render_8bit(pixels, center=center, width=width, function=function, invert=invert, lut=lut)


def render_region(
    pixels: npt.NDArray[Any],
    *,
    center: float,
    width: float,
    invert: bool,
    region: Region,
    scale: float,
    function: VoiFunction = VoiFunction.LINEAR,
    lut: VoiLut | None = None,
) -> npt.NDArray[np.uint8]:
    """One region rendered at a scale in one call (used by the loupe and the screenshots)."""
    return render_8bit(
        pixels,
        center=center,
        width=width,
        function=function,
        invert=invert,
        region=region,
        scale=scale,
        lut=lut,
    )


def display_aspect(film: FilmLike) -> float:
    """Displayed height of a pixel over its width, so anatomy keeps its shape (1 for square pixels)."""
    spacing = film.spacing
    if spacing.row_mm is not None and spacing.col_mm is not None:
        return spacing.row_mm / spacing.col_mm
    ratio = film.pixel_aspect_ratio
    if ratio is not None and ratio[0] > 0 and ratio[1] > 0:
        return ratio[0] / ratio[1]
    return 1.0


SPACING_SOURCE_TEXT: dict[SpacingSource, str] = {
    SpacingSource.PIXEL_SPACING: "Pixel Spacing, calibrated at the patient",
    SpacingSource.IMAGER_PIXEL_SPACING: "Imager Pixel Spacing, at the detector, not magnification-corrected",
    SpacingSource.IMAGER_PIXEL_SPACING_ERMF: "Imager Pixel Spacing corrected by the magnification factor",
    SpacingSource.MANUAL: "manual calibration",
    SpacingSource.NONE: "no spacing in the file: heights in pixels",
}
"""How each spacing source is named to the reader."""


def spacing_text(spacing: PixelSpacing) -> str:
    """E.g. `0.150 x 0.150 mm/px (Pixel Spacing, calibrated at the patient)`."""
    if spacing.row_mm is None or spacing.col_mm is None:
        return f"Spacing: none ({SPACING_SOURCE_TEXT[spacing.source]})"
    return (
        f"Spacing: {spacing.row_mm:.3f} x {spacing.col_mm:.3f} mm/px "
        f"({SPACING_SOURCE_TEXT.get(spacing.source, str(spacing.source))})"
    )
