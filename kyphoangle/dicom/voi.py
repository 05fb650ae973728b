"""VOI presets of a film: its windows, its VOI lookup tables, or a window computed from its pixels."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset

from kyphoangle.dicom.attributes import decimals, find_in_groups, raw_strings, tag_label, text
from kyphoangle.dicom.radiograph import VoiFunction, VoiLut, VoiPreset

WINDOW_CENTER = 0x00281050
WINDOW_WIDTH = 0x00281051
WINDOW_EXPLANATION = 0x00281055
VOI_LUT_FUNCTION = 0x00281056

DEFAULT_PERCENTILES = (0.5, 99.5)
"""The computed window spans these percentiles of the pixel values."""

_SAMPLE_PIXELS = 1 << 18
"""Percentiles of a film are taken on a regular subsample of about this many pixels (fast, and the
0.5-99.5 range of a radiograph is stable under subsampling)."""


def read_voi_presets(ds: Dataset, warnings: list[str], *, frame: int = 0) -> list[VoiPreset]:
    """Return the windows and VOI lookup tables the file holds for `frame`, windows first."""
    return _windows(ds, warnings, frame) + _luts(ds, warnings)


def _windows(ds: Dataset, warnings: list[str], frame: int) -> list[VoiPreset]:
    found = find_in_groups(ds, frame, "FrameVOILUTSequence", WINDOW_CENTER)
    if found is None:
        return []
    item = found[0]
    centers, widths = decimals(item, WINDOW_CENTER), decimals(item, WINDOW_WIDTH)
    if centers is None or widths is None or isinstance(centers, str) or isinstance(widths, str):
        problem = next((v for v in (centers, widths) if isinstance(v, str)), "center or width missing")
        warnings.append(f"Window Center/Width is malformed ({problem}); ignored")
        return []
    if len(centers) != len(widths):
        used = min(len(centers), len(widths))
        warnings.append(f"{len(centers)} window centers but {len(widths)} widths; the first {used} used")
    explanations = raw_strings(item, WINDOW_EXPLANATION) or []
    function_text = text(item, "VOILUTFunction", warnings).upper() or VoiFunction.LINEAR.value
    try:
        function = VoiFunction(function_text)
    except ValueError:
        warnings.append(f"{tag_label(VOI_LUT_FUNCTION)} {function_text[:20]!r} is unknown; LINEAR used")
        function = VoiFunction.LINEAR
    presets = []
    for index, (center, width) in enumerate(zip(centers, widths, strict=False)):
        smallest = 1.0 if function is VoiFunction.LINEAR else 0.0
        if not (math.isfinite(center) and math.isfinite(width)) or width < smallest or width == 0:
            warnings.append(f"window {index + 1} (center {center:g}, width {width:g}) is invalid; ignored")
            continue
        explanation = explanations[index] if index < len(explanations) else ""
        presets.append(VoiPreset(center, width, explanation or f"Window {index + 1}", function))
    return presets


def _luts(ds: Dataset, warnings: list[str]) -> list[VoiPreset]:
    try:
        sequence = ds.get("VOILUTSequence")
    except Exception:
        warnings.append("VOI LUT Sequence (0028,3010) could not be read; ignored")
        return []
    presets = []
    for index, item in enumerate(sequence or []):
        lut = _lut(ds, item, index, warnings)
        if lut is not None:
            center = lut.first_mapped_value + lut.entry_count / 2
            explanation = lut.explanation or f"VOI LUT {index + 1}"
            presets.append(VoiPreset(center, float(lut.entry_count), explanation, lut=lut))
    return presets


def _lut(ds: Dataset, item: Dataset, index: int, warnings: list[str]) -> VoiLut | None:
    try:
        descriptor = [int(v) for v in item.LUTDescriptor]
        count, first, bits = descriptor
        count = count or 65536
        elem = item["LUTData"]
        raw: Any = elem.value
        if isinstance(raw, bytes | bytearray):
            little = _little_endian(ds)
            data = np.frombuffer(raw, dtype="<u2" if little else ">u2")
        else:
            data = np.atleast_1d(np.asarray(raw))
        if bits == 8 and data.size * 2 == count and isinstance(raw, bytes | bytearray):
            data = np.frombuffer(raw, dtype=np.uint8)  # 8-bit entries packed two per word
        if data.size < count or not 1 <= bits <= 16:
            raise ValueError(f"{data.size} entries for a descriptor of {count}, {bits} bits")
        table = np.ascontiguousarray(data[:count], dtype=np.uint16)
        if first >= 32768 and _signed_pixels(ds):
            first -= 65536  # the descriptor's first value is SS for signed pixels, read as US
        table.flags.writeable = False
        explanation = text(item, "LUTExplanation", warnings)
        return VoiLut(first, table, bits, explanation)
    except Exception as exc:
        reason = str(exc)[:60] or exc.__class__.__name__
        warnings.append(f"VOI LUT {index + 1} is malformed ({reason}); ignored")
        return None


def _little_endian(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    return str(syntax) != "1.2.840.10008.1.2.2"


def _signed_pixels(ds: Dataset) -> bool:
    try:
        return int(ds.get("PixelRepresentation", 0)) == 1
    except Exception:
        return False


def computed_preset(pixels: npt.NDArray[Any]) -> VoiPreset:
    """Return a window spanning the 0.5-99.5 percentiles of `pixels` (for films without one)."""
    step = max(1, math.isqrt(max(1, pixels.size // _SAMPLE_PIXELS)))
    sample = pixels[::step, ::step]
    finite = sample if np.issubdtype(sample.dtype, np.integer) else sample[np.isfinite(sample)]
    if finite.size == 0:
        return VoiPreset(0.5, 1.0, "Automatic", VoiFunction.LINEAR_EXACT, computed=True)
    low, high = (float(v) for v in np.percentile(finite, DEFAULT_PERCENTILES))
    if high <= low:
        low, high = float(finite.min()), float(finite.max())
    width = high - low if high > low else 1.0
    return VoiPreset(
        (low + high) / 2, width, "Automatic (0.5-99.5 percentiles)", VoiFunction.LINEAR_EXACT, computed=True
    )
