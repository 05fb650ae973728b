"""Header sanity of a film offered for import: every attribute the display and the measurements rely on
is within what a radiograph can be, before any pixel is decoded.

A film fails when its image size, bit depth, photometric interpretation, samples per pixel or encoding
is not one kyphoangle reads, when its native (uncompressed) pixel data is longer than the header
describes (beyond the one padding byte of an odd length), or when a pixel spacing (Pixel Spacing,
Imager Pixel Spacing) lies outside 0.01-10 mm or the Estimated Radiographic Magnification Factor outside
1-3. Each problem is one sentence a data manager can act on; `header_problems` lists them all.
"""

from __future__ import annotations

import math

from pydicom import uid
from pydicom.dataset import Dataset

from kyphoangle.dicom.attributes import decimals, integer, tag_label, text
from kyphoangle.dicom.pixels import (
    READABLE_TRANSFER_SYNTAXES,
    excess_pixel_data,
    native_pixel_data_length,
    stated_pixel_bytes,
    transfer_syntax,
)
from kyphoangle.dicom.spacing import (
    ERMF_RANGE,
    ESTIMATED_RADIOGRAPHIC_MAGNIFICATION_FACTOR,
    IMAGER_PIXEL_SPACING,
    PIXEL_SPACING,
    SPACING_RANGE_MM,
)

MAX_ROWS_OR_COLUMNS = 20_000
"""Largest image side accepted for import (a 43 cm detector at 0.05 mm is 8,600 pixels)."""

BITS_ALLOCATED = (8, 16)
"""Bits Allocated of the radiographs kyphoangle imports."""

GREY = ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR")
COLOUR = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT", "YBR_PARTIAL_420")


def header_problems(ds: Dataset) -> list[str]:
    """Every reason the header refuses import; empty when the film may be decoded and imported."""
    warnings: list[str] = []
    problems: list[str] = []
    rows, columns = integer(ds, 0x00280010, warnings), integer(ds, 0x00280011, warnings)
    if not (1 <= rows <= MAX_ROWS_OR_COLUMNS and 1 <= columns <= MAX_ROWS_OR_COLUMNS):
        problems.append(
            f"the image size {rows} x {columns} is outside 1-{MAX_ROWS_OR_COLUMNS:,} rows and columns"
        )
    allocated = integer(ds, 0x00280100, warnings)
    stored = integer(ds, 0x00280101, warnings, default=allocated)
    if allocated not in BITS_ALLOCATED:
        problems.append(f"Bits Allocated is {allocated}; a radiograph has 8 or 16")
    elif not 1 <= stored <= allocated:
        problems.append(f"Bits Stored {stored} does not fit in Bits Allocated {allocated}")
    samples = integer(ds, 0x00280002, warnings, default=1)
    photometric = text(ds, "PhotometricInterpretation", warnings).upper()
    expected = GREY if samples == 1 else COLOUR if samples == 3 else ()
    if not expected:
        problems.append(f"Samples per Pixel is {samples}; a film has 1 (grey) or 3 (colour)")
    elif photometric not in expected:
        problems.append(
            f"Photometric Interpretation {photometric[:20] or '(missing)'!r} does not match"
            f" {samples} sample(s) per pixel"
        )
    syntax = transfer_syntax(ds)
    if syntax not in READABLE_TRANSFER_SYNTAXES:
        name = uid.UID(syntax).name if syntax else "(not stated)"
        problems.append(f"its encoding {name} is not one kyphoangle decodes")
    elif not uid.UID(syntax).is_compressed and not problems:
        present = native_pixel_data_length(ds)
        frames = integer(ds, 0x00280008, warnings, default=1) if "NumberOfFrames" in ds else 1
        stated = stated_pixel_bytes(rows, columns, max(frames, 1), samples, allocated, photometric)
        excess = excess_pixel_data(present, stated) if present is not None else None
        if excess is not None:
            problems.append(excess)
    for tag in (PIXEL_SPACING, IMAGER_PIXEL_SPACING):
        values = decimals(ds, tag)
        low, high = SPACING_RANGE_MM
        if values is not None and (
            isinstance(values, str) or not all(math.isfinite(v) and low <= v <= high for v in values)
        ):
            problems.append(f"{tag_label(tag)} is outside {low:g}-{high:g} mm or malformed")
    ermf = decimals(ds, ESTIMATED_RADIOGRAPHIC_MAGNIFICATION_FACTOR)
    low, high = ERMF_RANGE
    if ermf is not None and (
        isinstance(ermf, str) or len(ermf) != 1 or not (math.isfinite(ermf[0]) and low <= ermf[0] <= high)
    ):
        label = tag_label(ESTIMATED_RADIOGRAPHIC_MAGNIFICATION_FACTOR)
        problems.append(f"{label} is outside {low:g}-{high:g} or malformed")
    return problems
