"""Where reads, readers and the study catalogue live, behind one small protocol (`ReadStore`).

`LocalReadStore` keeps everything as JSON files under a folder (by default the platformdirs user data
dir): drafts are written atomically (temporary file, fsync, rename) so a killed application loses
nothing. When `kyphoangle.storage` offers its repository, an adapter with the same methods replaces
this class and the window does not change.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.read_model import ReadLockedError, ReadSnapshot

__all__ = ["AuthenticationError", "LocalReadStore", "ReadStore", "ReaderAccount", "StoreUnavailableError"]
from kyphoangle.errors import AuthenticationError, KyphoangleError
from kyphoangle.landmark_file import parse_landmark_document


class StoreUnavailableError(KyphoangleError):
    """The database or folder holding the reads cannot be reached; edits are kept locally."""


@dataclass(frozen=True, slots=True)
class ReaderAccount:
    """A signed-in user."""

    login: str
    display_name: str
    role: str = "site_radiologist"


@dataclass(frozen=True, slots=True)
class ImageEntry:
    """One film of the catalogue, with each reader's read status (`draft` or `signed`)."""

    path: str
    sop_instance_uid: str
    site: str
    subject: str
    visit: str
    fractured_levels: tuple[str, ...] = ()
    statuses: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did."""

    added: int
    skipped: int
    errors: tuple[str, ...]
    canceled: bool = False


ProgressCallback = Callable[[int, int, str], None]
"""Called as `(done, total, current file name)` during an import."""


class ReadStore(Protocol):
    """What the workstation needs from storage."""

    def authenticate(self, login: str, password: str) -> ReaderAccount:
        """Check a password; raises AuthenticationError."""

    def load_read(self, sop_instance_uid: str, reader: str) -> ReadSnapshot | None:
        """The reader's read of an image, or None when there is none yet."""

    def save_draft(self, snapshot: ReadSnapshot) -> None:
        """Save a draft; raises ReadLockedError when the stored read is signed."""

    def sign(self, snapshot: ReadSnapshot, password: str) -> ReadSnapshot:
        """Save and lock the read after checking the reader's password; returns the signed read."""

    def images(self) -> Sequence[ImageEntry]:
        """Every film of the catalogue with read statuses."""

    def import_paths(
        self, paths: Iterable[str | Path], progress: ProgressCallback, canceled: Callable[[], bool]
    ) -> ImportReport:
        """Add DICOM files, folders (recursively) or DICOMDIRs to the catalogue."""


VISIT_ORDER: tuple[str, ...] = ("D-8..D-1", "D2-D5", "D15", "D90", "D180", "D360")
"""The study's visits in chronological order."""


def visit_sort_key(label: str) -> tuple[int, str]:
    """Chronological order of visit labels (D-8..D-1 first, D360 last, unknown labels after)."""
    if label in VISIT_ORDER:
        return VISIT_ORDER.index(label), label
    match = re.search(r"D(-?\d+)", label)
    if match:
        day = int(match.group(1))
        position = sum(1 for known in (-1, 5, 15, 90, 180, 360) if day > known)
        return position, label
    return len(VISIT_ORDER), label


def atomic_write_json(path: Path, document: object) -> None:
    """Write JSON so that the file is either the old or the new one, even if the process is killed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=2)
            stream.write("\n")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


_HASHER = PasswordHasher()


class LocalReadStore:
    """Reads, readers and the catalogue as JSON files under one folder (no database needed)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._users_path = self.folder / "users.json"
        self._catalog_path = self.folder / "catalog.json"
        if not self._users_path.exists():
            self.add_user("demo", "demo", display_name="Demo reader")

    # ---------------------------------------------------------------------------------------- users
    def _users(self) -> dict[str, dict[str, str]]:
        if not self._users_path.exists():
            return {}
        data: dict[str, dict[str, str]] = json.loads(self._users_path.read_text(encoding="utf-8"))
        return data

    def add_user(
        self, login: str, password: str, *, display_name: str = "", role: str = "site_radiologist"
    ) -> None:
        """Create or replace a reader account."""
        users = self._users()
        users[login] = {"hash": _HASHER.hash(password), "display_name": display_name or login, "role": role}
        atomic_write_json(self._users_path, users)

    def authenticate(self, login: str, password: str) -> ReaderAccount:
        """Check a password; raises AuthenticationError."""
        user = self._users().get(login)
        try:
            if user is None or not _HASHER.verify(user["hash"], password):
                raise AuthenticationError("Unknown user name or wrong password.")
        except (VerificationError, InvalidHashError):
            raise AuthenticationError("Unknown user name or wrong password.") from None
        return ReaderAccount(login, user.get("display_name", login), user.get("role", "site_radiologist"))

    # ---------------------------------------------------------------------------------------- reads
    def _read_path(self, sop_instance_uid: str, reader: str) -> Path:
        return self.folder / "reads" / _safe(sop_instance_uid) / f"{_safe(reader)}.json"

    def _load_document(self, path: Path) -> dict[str, Any] | None:
        if not path.exists():
            return None
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreUnavailableError(f"The saved read {path.name} cannot be read ({exc}).") from None
        return data

    def load_read(self, sop_instance_uid: str, reader: str) -> ReadSnapshot | None:
        """The reader's read of an image, or None."""
        document = self._load_document(self._read_path(sop_instance_uid, reader))
        if document is None:
            return None
        landmarks = parse_landmark_document(document["landmarks"])
        return ReadSnapshot.from_landmark_file(
            landmarks, reader=reader, signed=document["status"] == "signed"
        )

    def _write(self, snapshot: ReadSnapshot, status: str, extra: dict[str, Any] | None = None) -> None:
        path = self._read_path(snapshot.sop_instance_uid, snapshot.reader)
        existing = self._load_document(path)
        if existing is not None and existing.get("status") == "signed":
            raise ReadLockedError(f"The read of {snapshot.reader} on this image")
        document: dict[str, Any] = {
            "status": status,
            "saved_at": dt.datetime.now(dt.UTC).isoformat(),
            "landmarks": snapshot.to_landmark_file().to_document(),
        }
        document.update(extra or {})
        try:
            atomic_write_json(path, document)
        except OSError as exc:
            raise StoreUnavailableError(
                f"The read cannot be saved to {path.parent} ({exc.strerror})."
            ) from None

    def save_draft(self, snapshot: ReadSnapshot) -> None:
        """Save a draft (atomic)."""
        self._write(snapshot, "draft")

    def sign(self, snapshot: ReadSnapshot, password: str) -> ReadSnapshot:
        """Check the password, then save the read as signed (locked)."""
        self.authenticate(snapshot.reader, password)
        self._write(snapshot, "signed", {"signed_at": dt.datetime.now(dt.UTC).isoformat()})
        return ReadSnapshot.from_landmark_file(
            snapshot.to_landmark_file(), reader=snapshot.reader, signed=True
        )

    def statuses(self, sop_instance_uid: str) -> dict[str, str]:
        """Reader login -> read status for one image."""
        folder = self.folder / "reads" / _safe(sop_instance_uid)
        result: dict[str, str] = {}
        for path in sorted(folder.glob("*.json")) if folder.exists() else []:
            document = self._load_document(path)
            if document is not None:
                result[path.stem] = str(document.get("status", "draft"))
        return result

    # ------------------------------------------------------------------------------------ catalogue
    def _catalog(self) -> list[dict[str, Any]]:
        if not self._catalog_path.exists():
            return []
        data: list[dict[str, Any]] = json.loads(self._catalog_path.read_text(encoding="utf-8"))
        return data

    def images(self) -> list[ImageEntry]:
        """Every film of the catalogue with read statuses."""
        return [
            ImageEntry(
                path=entry["path"],
                sop_instance_uid=entry["sop_instance_uid"],
                site=entry.get("site", "Unknown site"),
                subject=entry.get("subject", "Unknown subject"),
                visit=entry.get("visit", "Unassigned"),
                fractured_levels=tuple(entry.get("fractured_levels", ())),
                statuses=self.statuses(entry["sop_instance_uid"]),
            )
            for entry in self._catalog()
        ]

    def import_paths(
        self, paths: Iterable[str | Path], progress: ProgressCallback, canceled: Callable[[], bool]
    ) -> ImportReport:
        """Add DICOM files, folders (recursively) and DICOMDIRs; already known images are skipped."""
        files = _expand(paths)
        catalog = self._catalog()
        known = {entry["sop_instance_uid"] for entry in catalog}
        added = skipped = 0
        errors: list[str] = []
        for index, file in enumerate(files):
            if canceled():
                atomic_write_json(self._catalog_path, catalog)
                return ImportReport(added, skipped, tuple(errors), canceled=True)
            progress(index, len(files), file.name)
            try:
                entry = _catalog_entry(file)
            except KyphoangleError as exc:
                errors.append(str(exc))
                continue
            if entry["sop_instance_uid"] in known:
                skipped += 1
                continue
            known.add(entry["sop_instance_uid"])
            catalog.append(entry)
            added += 1
        progress(len(files), len(files), "")
        atomic_write_json(self._catalog_path, catalog)
        return ImportReport(added, skipped, tuple(errors))


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files to import: folders walked recursively, DICOMDIRs replaced by the files they reference."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for candidate in sorted(path.rglob("*")):
                if candidate.is_file() and candidate.name.upper() != "DICOMDIR":
                    files.append(candidate)
        elif path.name.upper() == "DICOMDIR":
            files.extend(_dicomdir_files(path))
        else:
            files.append(path)
    return files


def _dicomdir_files(path: Path) -> list[Path]:
    import pydicom

    try:
        ds = pydicom.dcmread(path)
    except Exception as exc:
        raise KyphoangleError(f"{path.name}: not a readable DICOMDIR ({exc})") from None
    found: list[Path] = []
    for record in ds.get("DirectoryRecordSequence", []):
        parts = record.get("ReferencedFileID")
        if parts:
            parts = [parts] if isinstance(parts, str) else list(parts)
            found.append(path.parent.joinpath(*parts))
    return found


def _catalog_entry(file: Path) -> dict[str, Any]:
    """Site, subject and visit of a file from the Clinical Trial attributes, else the patient ID."""
    import pydicom

    from kyphoangle.dicom.decoder_pool import probe_film
    from kyphoangle.errors import NotDicomError

    probe_film(file)  # header sanity and a decode probe in a worker process; raises our errors
    try:
        ds = pydicom.dcmread(file, stop_before_pixels=True)
    except Exception:
        raise NotDicomError(file, "is not a DICOM file") from None
    uid = str(ds.get("SOPInstanceUID", ""))
    if not uid:
        raise NotDicomError(file, "has no SOP Instance UID")
    return {
        "path": str(file.resolve()),
        "sop_instance_uid": uid,
        "site": str(
            ds.get("ClinicalTrialSiteName", "") or ds.get("ClinicalTrialSiteID", "") or "Unknown site"
        ),
        "subject": str(ds.get("ClinicalTrialSubjectID", "") or ds.get("PatientID", "") or "Unknown subject"),
        "visit": str(ds.get("ClinicalTrialTimePointID", "") or "Unassigned"),
        "fractured_levels": [],
    }
