"""Pixel spacing and pixel aspect ratio of a projection radiograph, from its DICOM attributes.

Rules (DOMAIN.md, calibration): Pixel Spacing (0028,0030) is at the patient and wins; else Imager
Pixel Spacing (0018,1164), at the detector, divided by the Estimated Radiographic Magnification Factor
(0018,1114) when that is present and positive; else raw Imager Pixel Spacing; else no spacing.
Malformed values (wrong count, zero, negative, non-numeric) are ignored with a warning.
"""

from __future__ import annotations

import math

from pydicom.dataset import Dataset

from kyphoangle.dicom.attributes import decimals, find_in_groups, raw_strings, tag_label
from kyphoangle.spacing import PixelSpacing
from kyphoangle.vocabulary import SpacingSource

PIXEL_SPACING = 0x00280030
IMAGER_PIXEL_SPACING = 0x00181164
ESTIMATED_RADIOGRAPHIC_MAGNIFICATION_FACTOR = 0x00181114
PIXEL_ASPECT_RATIO = 0x00280034


def _pair_mm(ds: Dataset, tag: int, warnings: list[str]) -> tuple[float, float] | None:
    values = decimals(ds, tag)
    if values is None:
        return None
    problem = ""
    if isinstance(values, str):
        problem = values
    elif len(values) != 2:
        problem = f"{len(values)} value(s) instead of 2 (row\\column)"
    elif not all(math.isfinite(v) and v > 0 for v in values):
        problem = "values must be positive"
    if problem:
        warnings.append(f"{tag_label(tag)} is malformed ({problem}); ignored")
        return None
    assert not isinstance(values, str)
    return values[0], values[1]


def read_spacing(ds: Dataset, warnings: list[str], *, frame: int = 0) -> PixelSpacing:
    """Return the film's pixel spacing and its source, appending to `warnings` what was ignored."""
    found = find_in_groups(ds, frame, "PixelMeasuresSequence", PIXEL_SPACING)
    if found is not None:
        pair = _pair_mm(found[0], PIXEL_SPACING, warnings)
        if pair is not None:
            return PixelSpacing(pair[0], pair[1], SpacingSource.PIXEL_SPACING)
    imager = _pair_mm(ds, IMAGER_PIXEL_SPACING, warnings)
    if imager is None:
        return PixelSpacing.none()
    factor = _magnification(ds, warnings)
    if factor is None:
        return PixelSpacing(imager[0], imager[1], SpacingSource.IMAGER_PIXEL_SPACING)
    return PixelSpacing(imager[0] / factor, imager[1] / factor, SpacingSource.IMAGER_PIXEL_SPACING_ERMF)


def _magnification(ds: Dataset, warnings: list[str]) -> float | None:
    tag = ESTIMATED_RADIOGRAPHIC_MAGNIFICATION_FACTOR
    values = decimals(ds, tag)
    if values is None:
        return None
    if isinstance(values, str) or len(values) != 1 or not (math.isfinite(values[0]) and values[0] > 0):
        shown = values if isinstance(values, str) else "\\".join(f"{v:g}" for v in values)
        warnings.append(f"{tag_label(tag)} is malformed ({shown}); imager spacing used uncorrected")
        return None
    return values[0]


def read_pixel_aspect_ratio(ds: Dataset, warnings: list[str]) -> tuple[int, int] | None:
    """Return Pixel Aspect Ratio (0028,0034) as (row, column) integers, None when absent or malformed."""
    strings = raw_strings(ds, PIXEL_ASPECT_RATIO)
    if strings is None:
        return None
    try:
        values = [int(item) for item in strings]
    except ValueError:
        values = []
    if len(values) != 2 or min(values) <= 0:
        warnings.append(f"{tag_label(PIXEL_ASPECT_RATIO)} is malformed ({'/'.join(strings)[:30]}); ignored")
        return None
    return values[0], values[1]
