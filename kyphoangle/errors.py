"""Exceptions a user can meet, each with a message a radiologist understands."""

from __future__ import annotations

from pathlib import Path


class KyphoangleError(Exception):
    """Base class of every error kyphoangle reports to a user."""


class RadiographError(KyphoangleError):
    """A file could not be read as a radiograph; names the file and the reason."""

    def __init__(self, path: str | Path | None, reason: str) -> None:
        self.path = str(path) if path is not None else None
        self.reason = reason
        where = f"{Path(self.path).name}: " if self.path else ""
        super().__init__(f"{where}{reason}")


class NotDicomError(RadiographError):
    """The file is not a DICOM file at all."""


class NoPixelDataError(RadiographError):
    """The DICOM object holds no image (a report, a presentation state, ...)."""


class UnsupportedEncodingError(RadiographError):
    """The pixel data is compressed in a way no installed decoder handles."""


class CorruptPixelDataError(RadiographError):
    """The pixel data is truncated or damaged and cannot be decoded."""


class NotAnImageError(RadiographError):
    """The pixel data is not a 2-D image that can be shown in grey levels."""


class LandmarkError(KyphoangleError):
    """Landmarks are malformed, unknown or inconsistent."""


class LandmarkFileError(LandmarkError):
    """A landmark file could not be read; names the file and the reason."""

    def __init__(self, path: str | Path | None, reason: str) -> None:
        self.path = str(path) if path is not None else None
        self.reason = reason
        where = f"{Path(self.path).name}: " if self.path else ""
        super().__init__(f"{where}{reason}")


class NormalTableError(KyphoangleError):
    """A normal table is unknown or its resource file is malformed."""
