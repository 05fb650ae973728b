"""The plain records the workstation's services take and return (no database object, no Qt)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kyphoangle.landmark_file import LandmarkFile
from kyphoangle.vocabulary import UserRole

__all__ = ["Account", "ImageEntry", "ImportReport", "ProgressCallback", "ReadService", "StoredRead"]


@dataclass(frozen=True, slots=True)
class Account:
    """A signed-in user: login, the name shown, and the role that decides what they may do."""

    login: str
    display_name: str
    role: UserRole = UserRole.SITE_READER


@dataclass(frozen=True, slots=True)
class StoredRead:
    """A reader's stored read: its landmark content and whether it is signed (locked)."""

    content: LandmarkFile
    signed: bool


@dataclass(frozen=True, slots=True)
class ImageEntry:
    """One film of the catalogue, with each reader's read status (`draft` or `signed`)."""

    path: str
    sop_instance_uid: str
    site: str
    subject: str
    visit: str
    """The visit's label, as the study's schedule names it."""
    fractured_levels: tuple[str, ...] = ()
    statuses: dict[str, str] = field(default_factory=dict)
    visit_code: str = ""
    """The visit's code (`VisitCode`), which orders the visits."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did."""

    added: int
    skipped: int
    errors: tuple[str, ...]
    canceled: bool = False


ProgressCallback = Callable[[int, int, str], None]
"""Called as `(done, total, current file name)` during an import."""


class ReadService(Protocol):
    """What a reading window needs: sign-in, its reader's reads, the catalogue and importing."""

    def authenticate(self, login: str, password: str) -> Account:
        """Check a password; raises AuthenticationError."""

    def load_read(self, sop_instance_uid: str, reader: str) -> StoredRead | None:
        """The reader's read of an image, or None when there is none yet."""

    def save_draft(self, content: LandmarkFile) -> None:
        """Save a draft; raises ReadLockedError when the stored read is signed."""

    def sign(self, content: LandmarkFile, password: str) -> None:
        """Save and lock the read after checking the reader's password."""

    def images(self) -> Sequence[ImageEntry]:
        """Every film of the catalogue the signed-in user may see, with read statuses."""

    def import_paths(
        self, paths: Iterable[str | Path], progress: ProgressCallback, canceled: Callable[[], bool]
    ) -> ImportReport:
        """Add DICOM files, folders (recursively) or DICOMDIRs to the catalogue."""
