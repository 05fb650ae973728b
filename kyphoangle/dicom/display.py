"""Display transform: pixel values after the Modality LUT to 8-bit grey, only for the region on screen.

Order of operations (DICOM PS3.3 C.11 and PS3.14 grayscale pipeline), for `render_8bit`:

1. Modality LUT (Rescale Slope/Intercept or Modality LUT Sequence): already applied at load, so
   `pixels` hold modality values.
2. Spatial step (not a DICOM LUT): crop to `region`, then resample by `scale` — area averaging
   (``cv2.INTER_AREA``) when shrinking, nearest neighbour when enlarging, so zoomed pixels keep
   their exact values. It comes before the point transforms so that only the pixels shown go
   through them (as in PACS viewers; averaging before a non-linear window differs negligibly from
   averaging the grey levels).
3. VOI LUT: a window (C.11.2.1.2: LINEAR with the ``c - 0.5`` and ``w - 1`` formula, LINEAR_EXACT,
   SIGMOID) or a VOI lookup table from the file (C.11.2.1.1), scaled to 0-255.
4. Presentation LUT: inversion for MONOCHROME1 (``invert=True``: 255 - y), C.11.6.
5. Rounding to the nearest integer (halves up) gives the 8-bit output.

Steps 3-5 are one lookup table for 8- and 16-bit integer pixels (indexed by the raw bit pattern, so
no offset pass is needed), built by `display_lut` and cached: a window/level drag rebuilds one
65,536-entry table (well under a millisecond). Other pixel types (32-bit integers, floats) go through
the same formulas computed on the displayed pixels.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from kyphoangle.dicom.radiograph import VoiFunction, VoiLut

Region = tuple[int, int, int, int]
"""(row0, col0, row1, col1) in image pixels, half-open: rows row0..row1-1, columns col0..col1-1."""

_TABLE_DTYPES = frozenset({np.dtype(np.uint8), np.dtype(np.int8), np.dtype(np.uint16), np.dtype(np.int16)})
_CV_RESIZE_DTYPES = frozenset(
    {np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.int16), np.dtype(np.float32), np.dtype(np.float64)}
)


@dataclass(frozen=True, slots=True, eq=False)
class DisplayLut:
    """The VOI and presentation steps for one pixel dtype, as a table when the dtype is 8 or 16 bits."""

    dtype: np.dtype[Any]
    center: float
    width: float
    function: VoiFunction
    invert: bool
    lut: VoiLut | None
    table: npt.NDArray[np.uint8] | None
    """256 or 65,536 grey levels indexed by the raw (unsigned) bit pattern of a pixel; None otherwise."""

    def apply(self, values: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
        """Map pixel values of `dtype` to 8-bit grey levels."""
        if values.dtype != self.dtype:
            raise ValueError(f"this table is for {self.dtype} pixels, not {values.dtype}")
        if self.table is not None:
            if self.dtype.itemsize == 1:
                index8 = np.ascontiguousarray(values).view(np.uint8)
                return np.asarray(cv2.LUT(index8, self.table), dtype=np.uint8).reshape(values.shape)
            return np.take(self.table, values.view(np.uint16))
        grey = voi_to_grey(values, center=self.center, width=self.width, function=self.function, lut=self.lut)
        return _to_uint8(grey, invert=self.invert)


def voi_to_grey(
    values: npt.NDArray[Any],
    *,
    center: float,
    width: float,
    function: VoiFunction = VoiFunction.LINEAR,
    lut: VoiLut | None = None,
) -> npt.NDArray[np.floating[Any]]:
    """Apply the VOI step to modality values: continuous grey levels in [0, 255], before rounding."""
    x = values if np.issubdtype(values.dtype, np.floating) else values.astype(np.float32)
    if lut is not None:
        index = np.clip(np.floor(x + 0.5) - lut.first_mapped_value, 0, lut.entry_count - 1).astype(np.intp)
        mapped: npt.NDArray[np.float32] = lut.data[index].astype(np.float32)
        return mapped * np.float32(255.0 / lut.max_output)
    function = VoiFunction(function)
    if function is VoiFunction.SIGMOID:
        if width <= 0:
            raise ValueError(f"a SIGMOID window needs a positive width, got {width}")
        exponent = np.clip(-4.0 * (x - center) / width, -80.0, 80.0)  # beyond, exp overflows float32
        sigmoid: npt.NDArray[np.floating[Any]] = 255.0 / (1.0 + np.exp(exponent))
        return sigmoid.astype(x.dtype)
    if function is VoiFunction.LINEAR:
        if width < 1:
            raise ValueError(f"a LINEAR window needs a width of at least 1, got {width}")
        if width == 1:  # the formula degenerates into a threshold
            return np.where(x <= center - 0.5, np.float32(0), np.float32(255)).astype(np.float32)
        low, gain = center - 0.5 - (width - 1) / 2, 255.0 / (width - 1)
    else:
        if width <= 0:
            raise ValueError(f"a LINEAR_EXACT window needs a positive width, got {width}")
        low, gain = center - width / 2, 255.0 / width
    grey = x - x.dtype.type(low)
    grey *= x.dtype.type(gain)
    return np.clip(grey, 0, 255, out=grey)


def _to_uint8(grey: npt.NDArray[np.floating[Any]], *, invert: bool) -> npt.NDArray[np.uint8]:
    grey = grey + grey.dtype.type(0.5)  # halves round up, the same in tables and direct paths
    out = np.clip(grey, 0, 255.99, out=grey).astype(np.uint8)
    return np.subtract(np.uint8(255), out, out=out) if invert else out


@functools.lru_cache(maxsize=32)
def display_lut(
    dtype: np.dtype[Any] | type,
    *,
    center: float,
    width: float,
    function: VoiFunction = VoiFunction.LINEAR,
    invert: bool = False,
    lut: VoiLut | None = None,
) -> DisplayLut:
    """Return the (cached) display mapping for pixels of `dtype`; a table for 8/16-bit integers."""
    kind = np.dtype(dtype)
    function = VoiFunction(function)
    table = None
    if kind in _TABLE_DTYPES:
        unsigned = np.dtype(f"u{kind.itemsize}")
        every_value = np.arange(2 ** (8 * kind.itemsize), dtype=np.int64).astype(unsigned).view(kind)
        grey = voi_to_grey(
            every_value.astype(np.float64), center=center, width=width, function=function, lut=lut
        )
        table = _to_uint8(grey, invert=invert)
        table.flags.writeable = False
    return DisplayLut(kind, float(center), float(width), function, bool(invert), lut, table)


def output_shape(region: Region, scale: float) -> tuple[int, int]:
    """Return the (rows, columns) `render_8bit` produces for a region at `scale` screen px per image px."""
    row0, col0, row1, col1 = region
    return max(1, round((row1 - row0) * scale)), max(1, round((col1 - col0) * scale))


def clamp_region(region: Region | None, shape: tuple[int, ...]) -> Region:
    """Clip a region to the image; the whole image when None. Raises ValueError when nothing is left."""
    rows, columns = int(shape[0]), int(shape[1])
    if region is None:
        return 0, 0, rows, columns
    row0, col0, row1, col1 = (int(v) for v in region)
    row0, row1 = max(0, row0), min(rows, row1)
    col0, col1 = max(0, col0), min(columns, col1)
    if row1 <= row0 or col1 <= col0:
        raise ValueError(f"region {region} does not overlap the {rows} x {columns} image")
    return row0, col0, row1, col1


def resample(
    pixels: npt.NDArray[Any], *, region: Region | None = None, scale: float = 1.0
) -> npt.NDArray[Any]:
    """Crop `pixels` to `region` and resample to `output_shape(region, scale)`.

    Enlarging uses the nearest pixel (centre-exact). Shrinking by an exact integer factor is a box
    average (``cv2.INTER_AREA``'s fast path). Any other shrink is a box average by the largest power of
    two k <= 1/scale (successive halvings, as a mipmap) followed by bilinear interpolation (a factor
    below 2) with an exact affine map from output pixel centres to image pixel centres: two to three
    times faster than a full ``INTER_AREA`` at fit-to-window sizes, with the same geometry.
    """
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale}")
    area = clamp_region(region, pixels.shape)
    row0, col0, row1, col1 = area
    view = pixels[row0:row1, col0:col1]
    rows, columns = output_shape(area, scale)
    height, width = view.shape
    if (rows, columns) == (height, width):
        return view
    if view.dtype not in _CV_RESIZE_DTYPES:
        view = view.astype(np.int16 if view.dtype in (np.int8, np.bool_) else np.float32)
    if rows >= height and columns >= width:
        return np.asarray(cv2.resize(view, (columns, rows), interpolation=cv2.INTER_NEAREST_EXACT))
    if height % rows == 0 and width % columns == 0 and height // rows == width // columns:
        return np.asarray(cv2.resize(view, (columns, rows), interpolation=cv2.INTER_AREA))
    step_rows, step_cols = height / rows, width / columns  # image pixels per output pixel
    k = 1
    while 2 * k <= min(step_rows, step_cols):
        k *= 2
    if k >= 2:  # halvings are OpenCV's fastest box average; crop to whole boxes first
        view = view[: height // k * k, : width // k * k]
        for _ in range(k.bit_length() - 1):
            view = cv2.resize(view, (view.shape[1] // 2, view.shape[0] // 2), interpolation=cv2.INTER_AREA)
    # Output pixel i has its centre at image index (i + 0.5) * step - 0.5; a box of k pixels j has its
    # centre at image index (j + 0.5) * k - 0.5. Rows dropped to make whole boxes (< k) are replicated.
    matrix = np.array(
        [[step_cols / k, 0.0, 0.5 * step_cols / k - 0.5], [0.0, step_rows / k, 0.5 * step_rows / k - 0.5]]
    )
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return np.asarray(
        cv2.warpAffine(view, matrix, (columns, rows), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    )


def render_8bit(
    pixels: npt.NDArray[Any],
    *,
    center: float | None = None,
    width: float | None = None,
    function: VoiFunction = VoiFunction.LINEAR,
    invert: bool = False,
    region: Region | None = None,
    scale: float = 1.0,
    lut: VoiLut | None = None,
) -> npt.NDArray[np.uint8]:
    """Render `region` of a 2-D image of modality values as 8-bit grey at `scale` screen px per image px.

    The window is `center`/`width` with `function`, or the VOI lookup table `lut` (which then wins; the
    window may be omitted). `invert` is the MONOCHROME1 presentation step. See the module docstring
    for the order of operations. Returns a C-contiguous (rows, columns) uint8 array.
    """
    if pixels.ndim != 2:
        raise ValueError(f"pixels must be a 2-D image, got shape {pixels.shape}")
    if lut is None and (center is None or width is None):
        raise ValueError("give a window (center and width) or a VOI LUT")
    shown = resample(pixels, region=region, scale=scale)
    mapping = display_lut(
        shown.dtype,
        center=float(center if center is not None else lut.first_mapped_value if lut else 0),
        width=float(width if width is not None else lut.entry_count if lut else 1),
        function=VoiFunction(function),
        invert=invert,
        lut=lut,
    )
    return np.ascontiguousarray(mapping.apply(shown))
