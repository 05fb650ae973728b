"""Loading films and rendering regions of them for display: the one adapter over `kyphoangle.dicom`.

The core's `kyphoangle.dicom.load_radiograph` and `kyphoangle.dicom.display.render_8bit` are used when
they are installed; until then a small pydicom loader and an OpenCV renderer with the same contract
stand in, so the rest of the application never changes.

Display pipeline (pydicom order of operations): stored values -> Modality LUT (done by the loader) ->
resample the visible region to screen scale (`resample_region`) -> VOI window -> 8 bits, inverted for
MONOCHROME1 or on request (`render_window`). The resampling is cached by the view so a window/level drag
only repeats the last, cheap step.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import cv2
import numpy as np
import numpy.typing as npt

from kyphoangle.errors import (
    CorruptPixelDataError,
    NoPixelDataError,
    NotAnImageError,
    NotDicomError,
    RadiographError,
)
from kyphoangle.spacing import PixelSpacing
from kyphoangle.vocabulary import SpacingSource

Region = tuple[int, int, int, int]
"""An image region `(row0, col0, row1, col1)`, end-exclusive, in whole pixels."""


class PresetLike(Protocol):
    """What the application reads of a VOI preset."""

    @property
    def center(self) -> float:
        """Window centre in modality units."""

    @property
    def width(self) -> float:
        """Window width in modality units."""

    @property
    def explanation(self) -> str:
        """The file's name for the window (may be empty)."""


class FilmLike(Protocol):
    """What the application reads of a loaded radiograph (`kyphoangle.dicom.Radiograph`)."""

    @property
    def pixels(self) -> npt.NDArray[Any]:
        """Grey values after the Modality LUT, (rows, columns)."""

    @property
    def invert_display(self) -> bool:
        """True for MONOCHROME1: low values are shown white."""

    @property
    def voi_presets(self) -> Sequence[PresetLike]:
        """Windows stored in the file (or one computed window)."""

    @property
    def spacing(self) -> PixelSpacing:
        """Pixel spacing and its source."""

    @property
    def pixel_aspect_ratio(self) -> tuple[int, int] | None:
        """Pixel Aspect Ratio (row, column) when the file gives one."""

    @property
    def rows(self) -> int:
        """Number of rows."""

    @property
    def columns(self) -> int:
        """Number of columns."""

    @property
    def sop_instance_uid(self) -> str:
        """The image's SOP Instance UID (the key of every read)."""


@dataclass(frozen=True, slots=True)
class SimplePreset:
    """A window preset of the stand-in loader."""

    center: float
    width: float
    explanation: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class SimpleFilm:
    """A film loaded by the stand-in loader (same attributes as the core's Radiograph)."""

    pixels: npt.NDArray[Any]
    invert_display: bool
    spacing: PixelSpacing
    sop_instance_uid: str
    voi_presets: tuple[SimplePreset, ...] = ()
    pixel_aspect_ratio: tuple[int, int] | None = None
    path: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Number of rows."""
        return int(self.pixels.shape[0])

    @property
    def columns(self) -> int:
        """Number of columns."""
        return int(self.pixels.shape[1])


def _core_function(module: str, name: str) -> Callable[..., Any] | None:
    """A function of the core when that module exists yet, else None."""
    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    function = getattr(found, name, None)
    return cast("Callable[..., Any] | None", function)


def load_film(path: str | Path, frame: int = 0) -> FilmLike:
    """Load one frame of a radiograph; raises `RadiographError` subclasses with a readable message."""
    core = _core_function("kyphoangle.dicom", "load_radiograph")
    if core is not None:
        return cast(FilmLike, core(path, frame=frame))
    return _load_with_pydicom(Path(path), frame)


def _load_with_pydicom(path: Path, frame: int) -> SimpleFilm:
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels.processing import apply_modality_lut

    try:
        ds = pydicom.dcmread(path)
    except InvalidDicomError:
        raise NotDicomError(path, "is not a DICOM file") from None
    except OSError as exc:
        raise RadiographError(path, f"cannot be read ({exc.strerror or exc})") from None
    if "PixelData" not in ds:
        raise NoPixelDataError(path, "holds no image")
    try:
        array = ds.pixel_array
    except Exception as exc:  # decoders raise many types
        raise CorruptPixelDataError(path, f"the image cannot be decoded ({exc})") from None
    if array.ndim == 3 and int(ds.get("NumberOfFrames", 1) or 1) > 1:
        array = array[frame]
    if array.ndim != 2:
        raise NotAnImageError(path, "is not a grey-level 2-D image")
    pixels = apply_modality_lut(array, ds)
    if pixels.dtype == np.float64:
        pixels = pixels.astype(np.float32)
    pixels.setflags(write=False)
    spacing = PixelSpacing(None, None, SpacingSource.NONE)
    for keyword, source in (
        ("PixelSpacing", SpacingSource.PIXEL_SPACING),
        ("ImagerPixelSpacing", SpacingSource.IMAGER_PIXEL_SPACING),
    ):
        value = ds.get(keyword)
        if value is not None and len(value) == 2:
            try:
                spacing = PixelSpacing(float(value[0]), float(value[1]), source)
                break
            except ValueError:
                continue
    presets: list[SimplePreset] = []
    centers, widths = ds.get("WindowCenter"), ds.get("WindowWidth")
    if centers is not None and widths is not None:
        cs = list(centers) if isinstance(centers, Sequence | pydicom.multival.MultiValue) else [centers]
        ws = list(widths) if isinstance(widths, Sequence | pydicom.multival.MultiValue) else [widths]
        names = ds.get("WindowCenterWidthExplanation") or []
        names = [names] if isinstance(names, str) else list(names)
        for index, (c, w) in enumerate(zip(cs, ws, strict=False)):
            name = str(names[index]) if index < len(names) else f"Window {index + 1}"
            presets.append(SimplePreset(float(c), max(1.0, float(w)), name))
    if not presets:
        low, high = np.percentile(
            pixels[:: max(1, pixels.shape[0] // 256), :: max(1, pixels.shape[1] // 256)], (0.5, 99.5)
        )
        presets.append(SimplePreset(float(low + high) / 2, max(1.0, float(high - low)), "Automatic"))
    return SimpleFilm(
        pixels=pixels,
        invert_display=str(ds.get("PhotometricInterpretation", "")) == "MONOCHROME1",
        spacing=spacing,
        sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
        voi_presets=tuple(presets),
        path=path,
    )


def clamp_region(region: Region, rows: int, columns: int) -> Region:
    """The part of a region inside the image (possibly empty)."""
    r0, c0, r1, c1 = region
    r0, c0 = max(0, min(rows, r0)), max(0, min(columns, c0))
    return r0, c0, max(r0, min(rows, r1)), max(c0, min(columns, c1))


def output_size(region: Region, scale: float) -> tuple[int, int]:
    """Rows and columns of a region rendered at `scale` screen pixels per image pixel."""
    r0, c0, r1, c1 = region
    return max(1, round((r1 - r0) * scale)), max(1, round((c1 - c0) * scale))


_RESIZABLE = (np.uint8, np.uint16, np.int16, np.float32)


def resample_region(pixels: npt.NDArray[Any], region: Region, scale: float) -> npt.NDArray[Any]:
    """The region resampled to `scale`: area-averaged when shrinking, nearest pixels when enlarging.

    Nearest neighbour when enlarging keeps each image pixel a visible square at high zoom, which is
    what sub-pixel landmark placement needs to see.
    """
    r0, c0, r1, c1 = region
    crop = pixels[r0:r1, c0:c1]
    if crop.dtype.type not in _RESIZABLE:
        crop = crop.astype(np.float32)
    out_rows, out_cols = output_size(region, scale)
    if (out_rows, out_cols) == crop.shape:
        return crop
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST
    return cast("npt.NDArray[Any]", cv2.resize(crop, (out_cols, out_rows), interpolation=interpolation))


def _fallback_render(
    pixels: npt.NDArray[Any],
    *,
    center: float,
    width: float,
    invert: bool = False,
    region: Region | None = None,
    scale: float = 1.0,
    lut: object | None = None,
) -> npt.NDArray[np.uint8]:
    """Linear VOI window (PS3.3 C.11.2.1.2.1) of a region at a scale, as 8 bits."""
    del lut
    if region is not None or scale != 1.0:
        region = region or (0, 0, pixels.shape[0], pixels.shape[1])
        pixels = resample_region(pixels, region, scale)
    width = max(1.0, width)
    low = center - 0.5 - (width - 1) / 2
    gain = 255.0 / max(1e-9, width - 1)
    if invert:
        low, gain = low + (width - 1), -gain
    out = cv2.convertScaleAbs(np.clip((pixels.astype(np.float32) - low) * gain, 0, 255))
    return cast("npt.NDArray[np.uint8]", out)


def render_window(
    pixels: npt.NDArray[Any], *, center: float, width: float, invert: bool
) -> npt.NDArray[np.uint8]:
    """The 8-bit display of already-resampled pixels under a window (core `render_8bit` when present)."""
    core = _core_function("kyphoangle.dicom.display", "render_8bit")
    if core is not None:
        return cast("npt.NDArray[np.uint8]", core(pixels, center=center, width=width, invert=invert))
    return _fallback_render(pixels, center=center, width=width, invert=invert)


def render_region(
    pixels: npt.NDArray[Any], *, center: float, width: float, invert: bool, region: Region, scale: float
) -> npt.NDArray[np.uint8]:
    """One region rendered at a scale in one call (used by the loupe and the screenshots)."""
    core = _core_function("kyphoangle.dicom.display", "render_8bit")
    if core is not None:
        result = core(pixels, center=center, width=width, invert=invert, region=region, scale=scale)
        return cast("npt.NDArray[np.uint8]", result)
    return _fallback_render(pixels, center=center, width=width, invert=invert, region=region, scale=scale)


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
