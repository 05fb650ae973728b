"""Decoding one frame of a dataset into grey values after the Modality LUT, with errors a reader understands.

Order of operations (PS3.3 C.7.6.3, C.11.1): stored values are decoded by the transfer syntax's
plugin; colour (RGB, YBR, palette) is reduced to its luminance (ITU-R BT.601 weights, the Y of
YBR_FULL); grey values go through the Modality LUT (Rescale Slope/Intercept, at the top level or in a
functional group, or the Modality LUT Sequence). The VOI LUT and the presentation LUT are display
steps (see `display`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom import uid
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.pixels.decoders.base import get_decoder
from pydicom.pixels.processing import apply_color_lut, apply_modality_lut
from pydicom.pixels.utils import pixel_array

from kyphoangle.dicom import jpeg12
from kyphoangle.dicom.attributes import decimals, find_in_groups, integer, text
from kyphoangle.errors import (
    CorruptPixelDataError,
    NotAnImageError,
    RadiographError,
    UnsupportedEncodingError,
)

jpeg12.register()

MAX_PIXELS = 200_000_000
"""Largest rows x columns x frames accepted: beyond it a file is damaged or not a radiograph."""

MAX_DIMENSION = 65535
"""Rows and Columns are 16-bit values in DICOM."""

PIXEL_DATA_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
"""Pixel Data, Float Pixel Data, Double Float Pixel Data."""

RESCALE_INTERCEPT = 0x00281052
RESCALE_SLOPE = 0x00281053

_GREY = ("MONOCHROME1", "MONOCHROME2")
_COLOUR = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT", "YBR_PARTIAL_420", "YBR_PARTIAL_422")
_LUMA_WEIGHTS = (0.299, 0.587, 0.114)

_ENCODINGS: dict[str, tuple[str, str]] = {
    uid.JPEGBaseline8Bit: ("JPEG Baseline", "python-gdcm or pillow"),
    uid.JPEGExtended12Bit: ("JPEG Extended", "imagecodecs"),
    uid.JPEGLossless: ("JPEG Lossless", "python-gdcm"),
    uid.JPEGLosslessSV1: ("JPEG Lossless", "python-gdcm"),
    uid.JPEGLSLossless: ("JPEG-LS Lossless", "pyjpegls"),
    uid.JPEGLSNearLossless: ("JPEG-LS Near-Lossless", "pyjpegls"),
    uid.JPEG2000Lossless: ("JPEG 2000 Lossless", "pylibjpeg-openjpeg"),
    uid.JPEG2000: ("JPEG 2000", "pylibjpeg-openjpeg"),
    uid.HTJ2KLossless: ("High-Throughput JPEG 2000 Lossless", "pylibjpeg-openjpeg"),
    uid.HTJ2KLosslessRPCL: ("High-Throughput JPEG 2000 Lossless", "pylibjpeg-openjpeg"),
    uid.HTJ2K: ("High-Throughput JPEG 2000", "pylibjpeg-openjpeg"),
    uid.RLELossless: ("RLE Lossless", "pylibjpeg-rle"),
}
"""Compressed transfer syntaxes we read: the name a user knows and the package that decodes it."""

PREFERRED_PLUGINS: dict[str, tuple[str, ...]] = {
    uid.JPEGLSLossless: ("pyjpegls", "gdcm"),
    uid.JPEGLSNearLossless: ("pyjpegls", "gdcm"),
    uid.JPEG2000Lossless: ("pylibjpeg", "gdcm"),
    uid.JPEG2000: ("pylibjpeg", "gdcm"),
    uid.RLELossless: ("pylibjpeg", "pydicom"),
    uid.JPEGBaseline8Bit: ("gdcm", "pillow"),
    uid.JPEGExtended12Bit: ("imagecodecs", "pylibjpeg", "gdcm", "pillow"),
}
"""pydicom decoding plugins tried in order, per transfer syntax: the fastest, most tolerant decoder
first (CharLS for JPEG-LS, OpenJPEG for JPEG 2000: GDCM's JPEG 2000 codec aborts the process on some
damaged films), then the others. Syntaxes not listed use pydicom's default order."""

READABLE_TRANSFER_SYNTAXES = frozenset(
    {
        str(uid.ImplicitVRLittleEndian),
        str(uid.ExplicitVRLittleEndian),
        str(uid.ExplicitVRBigEndian),
        str(uid.DeflatedExplicitVRLittleEndian),
        *_ENCODINGS,
    }
)
"""Every transfer syntax kyphoangle reads (uncompressed, deflated, and the compressed ones above)."""

_TWELVE_BIT_JPEG = "imagecodecs package"


@dataclass(frozen=True, slots=True)
class ImageLayout:
    """The attributes that say how the pixel data is laid out, checked for sanity."""

    rows: int
    columns: int
    number_of_frames: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    photometric_interpretation: str


def has_pixel_data(ds: Dataset) -> bool:
    """Whether the dataset holds (integer or float) pixel data."""
    return any(tag in ds for tag in PIXEL_DATA_TAGS)


def read_layout(ds: Dataset, warnings: list[str]) -> tuple[int, int, int, int, int, int, str]:
    """Return (rows, columns, frames, samples, bits allocated, bits stored, photometric), unchecked."""
    rows = integer(ds, 0x00280010, warnings)
    columns = integer(ds, 0x00280011, warnings)
    frames = integer(ds, 0x00280008, warnings, default=1) if "NumberOfFrames" in ds else 1
    samples = integer(ds, 0x00280002, warnings, default=1)
    allocated = integer(ds, 0x00280100, warnings)
    stored = integer(ds, 0x00280101, warnings, default=allocated)
    photometric = text(ds, "PhotometricInterpretation", warnings).upper()
    return rows, columns, frames, samples, allocated, stored, photometric


def check_layout(ds: Dataset, path: Path, warnings: list[str]) -> ImageLayout:
    """Check the image attributes before decoding; repair harmless omissions in `ds`, refuse the rest."""
    rows, columns, frames, samples, allocated, stored, photometric = read_layout(ds, warnings)
    if "Rows" not in ds or "Columns" not in ds:
        raise NotAnImageError(
            path, "the file has image data but does not give the image size (rows, columns)"
        )
    if rows <= 0 or columns <= 0 or rows > MAX_DIMENSION or columns > MAX_DIMENSION:
        raise NotAnImageError(path, f"the image has an impossible size ({rows} rows x {columns} columns)")
    if frames < 1:
        warnings.append(f"Number of Frames is {frames}; read as 1")
        frames = 1
    if "NumberOfFrames" in ds:
        ds.NumberOfFrames = frames  # replaces a malformed value by the one we read
    total = rows * columns * frames
    if total > MAX_PIXELS:
        raise NotAnImageError(
            path,
            f"the image is implausibly large ({rows} x {columns} pixels x {frames} frames"
            f" = {total / 1e6:.0f} megapixels; the limit is {MAX_PIXELS / 1e6:.0f})",
        )
    if allocated not in (1, 8, 16, 32, 64):
        raise NotAnImageError(path, f"the image has an invalid bit depth (Bits Allocated {allocated})")
    if not 1 <= stored <= allocated:
        warnings.append(
            f"Bits Stored {stored} is impossible with Bits Allocated {allocated}; {allocated} used"
        )
        stored = allocated
        ds.BitsStored = allocated
        ds.HighBit = allocated - 1
    if "BitsStored" not in ds:
        ds.BitsStored = stored
    if "PixelRepresentation" not in ds:
        warnings.append("Pixel Representation is missing; read as unsigned")
        ds.PixelRepresentation = 0
    if samples not in (1, 3):
        raise NotAnImageError(
            path, f"the image has {samples} channels per pixel; only grey or colour images can be shown"
        )
    if "SamplesPerPixel" not in ds:
        ds.SamplesPerPixel = samples
    if samples == 1 and photometric not in (*_GREY, "PALETTE COLOR"):
        warnings.append(f"Photometric Interpretation {photometric[:20]!r} is unusable; MONOCHROME2 used")
        photometric = "MONOCHROME2"
        ds.PhotometricInterpretation = photometric
    elif samples == 3 and photometric not in _COLOUR:
        warnings.append(f"Photometric Interpretation {photometric[:20]!r} is unusable; RGB used")
        photometric = "RGB"
        ds.PhotometricInterpretation = photometric
    if samples == 3 and "PlanarConfiguration" not in ds:
        ds.PlanarConfiguration = 0
    layout = ImageLayout(rows, columns, frames, samples, allocated, stored, photometric)
    _check_native_length(ds, path, layout)
    return layout


def transfer_syntax(ds: Dataset) -> str:
    """Return the dataset's transfer syntax UID, inferring it for files that lack one (uncompressed)."""
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax:
        return str(syntax)
    implicit, little = getattr(ds, "original_encoding", (None, None))
    if implicit is None or little is None:
        return ""
    if not little:
        return str(uid.ExplicitVRBigEndian)
    return str(uid.ImplicitVRLittleEndian if implicit else uid.ExplicitVRLittleEndian)


def _is_encapsulated(ds: Dataset) -> bool:
    elem = ds.get_item(0x7FE00010)
    if elem is None:
        return False
    if isinstance(elem, RawDataElement):
        return bool(elem.length == 0xFFFFFFFF)
    return bool(elem.is_undefined_length)


def stated_pixel_bytes(
    rows: int, columns: int, frames: int, samples: int, bits_allocated: int, photometric: str
) -> int:
    """Bytes of native (uncompressed) pixel data the header describes, before the padding byte an odd
    length needs (PS3.5 8.1.1; YBR_FULL_422 holds two luminance and two chrominance values per pair)."""
    bits = rows * columns * frames * samples * bits_allocated
    if photometric == "YBR_FULL_422":
        bits = bits * 2 // 3
    return math.ceil(bits / 8)


def excess_pixel_data(present: int, expected: int) -> str | None:
    """Why native pixel data of `present` bytes is refused when the header describes `expected`: it is
    longer than that plus the one padding byte an odd length needs. None when it is not longer."""
    if present <= expected + expected % 2:
        return None
    return (
        f"the pixel data holds {present:,} bytes where the header describes {expected:,}:"
        " the file is inconsistent and is not read"
    )


def native_pixel_data_length(ds: Dataset) -> int | None:
    """Length in bytes of the dataset's native pixel data element, read without decoding (None when the
    dataset has no pixel data, or encapsulated pixel data of undefined length)."""
    tag = next((tag for tag in PIXEL_DATA_TAGS if tag in ds), None)
    if tag is None:
        return None
    elem = ds.get_item(tag)
    if isinstance(elem, RawDataElement):
        return None if elem.length == 0xFFFFFFFF else int(elem.length)
    if elem is None or elem.is_undefined_length:
        return None
    value = elem.value
    return len(value) if isinstance(value, bytes | bytearray) else None


def _check_native_length(ds: Dataset, path: Path, layout: ImageLayout) -> None:
    syntax = transfer_syntax(ds)
    if syntax and uid.UID(syntax).is_compressed:
        return
    tag = next(tag for tag in PIXEL_DATA_TAGS if tag in ds)
    if _is_encapsulated(ds) and tag == 0x7FE00010:
        raise CorruptPixelDataError(path, "the image data is compressed but the file says it is not")
    value = ds[tag].value
    present = len(value) if isinstance(value, bytes | bytearray) else 0
    expected = stated_pixel_bytes(
        layout.rows,
        layout.columns,
        layout.number_of_frames,
        layout.samples_per_pixel,
        layout.bits_allocated,
        layout.photometric_interpretation,
    )
    if present < expected:
        raise CorruptPixelDataError(
            path, f"the image data is truncated: {present:,} of {expected:,} bytes are present"
        )
    excess = excess_pixel_data(present, expected)
    if excess is not None:
        raise CorruptPixelDataError(path, excess)


def _check_decoder(syntax: str, path: Path, layout: ImageLayout) -> None:
    if not syntax:
        raise UnsupportedEncodingError(path, "the file does not say how its image data is encoded")
    label, package = _ENCODINGS.get(syntax, (uid.UID(syntax).name, ""))
    try:
        decoder = get_decoder(uid.UID(syntax))
    except NotImplementedError:
        raise UnsupportedEncodingError(
            path, f"{label} pixel data cannot be read by kyphoangle (not a still-image encoding it supports)"
        ) from None
    twelve_bit = syntax == uid.JPEGExtended12Bit and layout.bits_stored > 8
    if twelve_bit and not {"imagecodecs", "pylibjpeg"} & set(decoder.available_plugins):
        raise UnsupportedEncodingError(path, f"12-bit JPEG Extended pixel data needs the {_TWELVE_BIT_JPEG}")
    if not decoder.is_available:
        raise UnsupportedEncodingError(path, f"{label} pixel data needs the {package or 'matching'} package")


def decode_frame(ds: Dataset, path: Path, layout: ImageLayout, frame: int) -> npt.NDArray[Any]:
    """Decode one frame as stored: (rows, columns) grey or (rows, columns, 3) RGB, native byte order."""
    syntax = transfer_syntax(ds)
    if syntax and ("TransferSyntaxUID" not in getattr(ds, "file_meta", {})):
        ds.file_meta.TransferSyntaxUID = uid.UID(syntax)
    _check_decoder(syntax, path, layout)
    index = frame if layout.number_of_frames > 1 else None
    available = get_decoder(uid.UID(syntax)).available_plugins if syntax else ()
    plugins = [name for name in PREFERRED_PLUGINS.get(syntax, ()) if name in available] or [""]
    failures: list[str] = []
    arr = None
    for plugin in plugins:
        try:
            arr = pixel_array(ds, index=index, allow_excess_frames=False, decoding_plugin=plugin)
            break
        except MemoryError:
            raise NotAnImageError(path, "the image is too large to open") from None
        except Exception as exc:
            failures.append(f"  {plugin or 'any'}: {exc}" if plugin else str(exc))
    if arr is None:
        raise _decoding_error(path, syntax, Exception("\n".join(failures)))
    expected = (layout.rows, layout.columns) + ((3,) if layout.samples_per_pixel == 3 else ())
    if arr.shape != expected:
        raise NotAnImageError(path, f"the decoded image is {arr.shape}, not the {expected} its header states")
    if not arr.dtype.isnative:
        swapped = arr.byteswap(inplace=arr.flags.writeable)  # in place when the decoder's array is ours
        arr = swapped.view(arr.dtype.newbyteorder("="))
    return arr


def _decoding_error(path: Path, syntax: str, exc: Exception) -> RadiographError:
    message = str(exc)
    label = _ENCODINGS.get(syntax, (uid.UID(syntax).name if syntax else "the", ""))[0]
    if "less than expected" in message or "truncated" in message.lower():
        return CorruptPixelDataError(path, "the image data is truncated")
    failures = re.findall(r"^\s+[\w-]+: (.*)$", message, flags=re.MULTILINE)
    if failures and all("does not support" in failure for failure in failures):
        detail = failures[0].split("does not support", 1)[1].strip().strip(".")
        return UnsupportedEncodingError(path, f"{label} pixel data of this kind ({detail}) cannot be decoded")
    return CorruptPixelDataError(path, f"the {label} image data is damaged and cannot be decoded")


def to_grey(arr: npt.NDArray[Any], ds: Dataset, path: Path, layout: ImageLayout) -> npt.NDArray[Any]:
    """Return the luminance of a colour or palette frame; grey frames are returned unchanged."""
    if layout.photometric_interpretation == "PALETTE COLOR":
        try:
            arr = apply_color_lut(arr, ds)
        except Exception:
            raise NotAnImageError(path, "the image's colour palette is missing or damaged") from None
    if arr.ndim == 2:
        return arr
    if arr.dtype == np.uint8:  # OpenCV's fixed-point weights are exact enough for 8 bits only
        import cv2

        return np.asarray(cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_RGB2GRAY))
    weights = np.asarray(_LUMA_WEIGHTS, dtype=np.float64)
    grey = np.rint(arr.astype(np.float64) @ weights)
    return grey.astype(arr.dtype) if np.issubdtype(arr.dtype, np.integer) else grey.astype(np.float32)


def apply_modality(
    arr: npt.NDArray[Any], ds: Dataset, layout: ImageLayout, frame: int, warnings: list[str]
) -> npt.NDArray[Any]:
    """Apply the Modality LUT to grey stored values: rescale (integer arithmetic when exact) or a LUT."""
    if layout.samples_per_pixel != 1 or layout.photometric_interpretation not in _GREY:
        return arr
    if not np.issubdtype(arr.dtype, np.integer):
        return arr
    if "ModalityLUTSequence" in ds:
        try:
            return np.asarray(apply_modality_lut(arr, ds))
        except Exception:
            warnings.append("the Modality LUT Sequence is malformed; stored values used")
            return arr
    found = find_in_groups(ds, frame, "PixelValueTransformationSequence", RESCALE_SLOPE)
    if found is None:
        found = find_in_groups(ds, frame, "PixelValueTransformationSequence", RESCALE_INTERCEPT)
    if found is None:
        return arr
    slope, intercept = _rescale(found[0], warnings)
    if slope == 1.0 and intercept == 0.0:
        return arr
    if slope.is_integer() and intercept.is_integer() and arr.size:
        low, high = int(arr.min()), int(arr.max())
        scaled = (low * int(slope), high * int(slope))
        reach = (low, high, *scaled, *(v + int(intercept) for v in scaled))
        for dtype in (np.uint8, np.int8, np.uint16, np.int16, np.int32, np.int64):
            info = np.iinfo(dtype)
            if info.min <= min(reach) and max(reach) <= info.max:
                out = arr.astype(dtype)
                if slope != 1.0:
                    np.multiply(out, dtype(int(slope)), out=out)
                if intercept >= 0:
                    np.add(out, dtype(int(intercept)), out=out)
                else:  # keeps unsigned types legal: the result is known to be in range
                    np.subtract(out, dtype(-int(intercept)), out=out)
                return out
    out32 = arr.astype(np.float32)
    out32 *= np.float32(slope)
    out32 += np.float32(intercept)
    return out32


def _rescale(item: Dataset, warnings: list[str]) -> tuple[float, float]:
    values = []
    for tag, name, default in (
        (RESCALE_SLOPE, "Rescale Slope", 1.0),
        (RESCALE_INTERCEPT, "Rescale Intercept", 0.0),
    ):
        numbers = decimals(item, tag)
        if numbers is None:
            values.append(default)
        elif isinstance(numbers, str) or len(numbers) != 1 or not math.isfinite(numbers[0]):
            warnings.append(f"{name} is malformed; stored values used")
            return 1.0, 0.0
        else:
            values.append(numbers[0])
    if values[0] == 0:
        warnings.append("Rescale Slope is 0; stored values used")
        return 1.0, 0.0
    return values[0], values[1]
