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


class UndecodableFilmError(RadiographError):
    """The image decoder crashed, hung or ran out of memory on this film; nothing else was affected."""

    def __init__(self, path: str | Path | None, reason: str) -> None:
        super().__init__(path, reason)
        where = f" ({Path(self.path).name})" if self.path else ""
        self.args = (f"This film cannot be decoded: {reason}{where}",)


class ImportFileError(RadiographError):
    """A film was refused by the import's checks (header sanity or decode probe); others go on."""


class LandmarkSchemaError(KyphoangleError):
    """A landmark file breaks the published schema `kyphoangle.landmarks/1`."""


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


class StorageError(KyphoangleError):
    """The study database cannot be opened, migrated or written."""


class NotFoundError(StorageError):
    """A subject, image, read, visit or user named by the user does not exist."""


class ReadLockedError(StorageError):
    """A signed read cannot be changed; an amendment (a new read with a reason) is needed."""


class ReadAlreadySignedError(ReadLockedError):
    """The read (or the case) already has a current signed read; only an amendment can change it."""


class ConcurrentEditError(StorageError):
    """Someone else saved the record since it was opened; reopen it and redo the change."""


class AuthenticationError(KyphoangleError):
    """The login or the password is wrong, or the account is disabled."""


class AccountLockedError(AuthenticationError):
    """Too many failed sign-ins in a row: the account is locked for a while (an admin can unlock it)."""


class PermissionDeniedError(KyphoangleError):
    """The user's role does not allow the action."""


class ReasonRequiredError(KyphoangleError):
    """Changing a recorded value needs a reason, for the audit trail."""


class AuditTrailError(StorageError):
    """The audit trail is damaged: an event was edited, deleted or inserted outside the program."""


class ScheduleError(KyphoangleError):
    """The visit schedule file is malformed (overlapping windows, missing fields, ...)."""


class OutputFileError(KyphoangleError):
    """A file could not be written (read-only folder, full disk, ...); no partial file is left behind."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot write {self.path}: {reason}")
