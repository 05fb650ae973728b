"""Importing radiographs into the study database: files, folders (recursive) and DICOMDIRs.

Each file is checked on its own: its header is read and hashed (SHA-256) here, then a worker process
of the decoder pool checks the header's sanity (`dicom.sanity`: size, bits, photometric
interpretation, samples, encoding, spacings 0.01-10 mm, magnification 1-3) and decodes the first
frame (a decode probe), so a film that would crash, hang or exhaust a decoder is refused without
harming the import. Idempotent: a film already imported (same SOP Instance UID, same hash) is counted
as already known and not probed again; the same UID with another hash is a conflict, reported and
left alone. A film of an unknown DICOM patient ID creates a subject with the next study code (S001,
S002, ...) and a separate identity record. The visit comes from the study date minus the procedure
date when the subject has one (see `storage.images`). Refused files (not DICOM, damaged, undecodable,
insane header, no patient ID) are listed with the reason, recorded in the audit trail (action
`refuse`) and never stop the import nor change what was imported before.

Files are read in batches outside any transaction; each batch is written in one transaction, so an
interrupted import keeps whole batches and a rerun imports the rest. `progress` is called after every
file and `cancel` checked before each one (the GUI runs the import in a worker thread).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from kyphoangle.errors import KyphoangleError, RadiographError, UndecodableFilmError
from kyphoangle.storage import audit
from kyphoangle.storage.audit import lock_trail
from kyphoangle.storage.engine import Database
from kyphoangle.storage.images import ImageFacts, find_image, patient_position_from_dicom, register_image
from kyphoangle.storage.models import User, Visit
from kyphoangle.storage.study import list_visits
from kyphoangle.storage.subjects import create_subject, find_site_for_institution, find_subject_by_patient_id
from kyphoangle.storage.users import Permission, require_permission

if TYPE_CHECKING:
    from kyphoangle.dicom.radiograph import RadiographHeader

BATCH_SIZE = 200
"""Files written per transaction."""
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A file that was not imported, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """A file whose SOP Instance UID is already imported with different content."""

    path: str
    sop_instance_uid: str
    stored_path: str
    stored_sha256: str
    file_sha256: str


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """Counts so far, and the file just handled (for a progress bar)."""

    files_done: int
    new: int
    already_known: int
    conflicts: int
    unreadable: int
    current_path: str


@dataclass
class ImportSummary:
    """What an import did: films new and already known, conflicts, unreadable files, new subjects."""

    new: list[str] = field(default_factory=list)
    """SOP Instance UIDs imported now."""
    already_known: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    """Files refused by the checks (the CSV of skipped files lists them with conflicts)."""
    new_subjects: list[str] = field(default_factory=list)
    """Study codes of the subjects created."""
    burned_in: list[str] = field(default_factory=list)
    """Films imported now whose header says text is burned into the pixels (not removed by blinding)."""
    cancelled: bool = False

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """Every file not imported and why: (path, reason), conflicts included."""
        found = [(u.path, u.reason) for u in self.unreadable]
        found += [
            (
                c.path,
                f"SOP Instance UID {c.sop_instance_uid} is already imported from {c.stored_path}"
                " with different content",
            )
            for c in self.conflicts
        ]
        return found

    @property
    def files_done(self) -> int:
        """Files handled (in any way)."""
        return len(self.new) + len(self.already_known) + len(self.conflicts) + len(self.unreadable)

    def progress(self, path: str) -> ImportProgress:
        """The current counts as a progress report."""
        return ImportProgress(
            self.files_done,
            len(self.new),
            len(self.already_known),
            len(self.conflicts),
            len(self.unreadable),
            path,
        )

    def lines(self) -> list[str]:
        """A human-readable report, one line per fact, then one per problem."""
        lines = [
            f"new films: {len(self.new)}"
            + (f" (new subjects: {', '.join(self.new_subjects)})" if self.new_subjects else ""),
            f"already imported: {len(self.already_known)}",
            f"conflicts: {len(self.conflicts)}",
            f"unreadable: {len(self.unreadable)}",
        ]
        if self.burned_in:
            lines.append(
                f"burned-in annotation: {len(self.burned_in)} film(s) have text in their pixels, which"
                " blinded copies cannot remove; check them before a reading campaign"
            )
        if self.cancelled:
            lines.append("the import was cancelled; run it again to import the rest")
        lines += [
            f"conflict: {c.path}: SOP Instance UID {c.sop_instance_uid} is already imported "
            f"from {c.stored_path} with different content "
            f"(SHA-256 {c.stored_sha256[:12]}..., here {c.file_sha256[:12]}...)"
            for c in self.conflicts
        ]
        lines += [f"unreadable: {u.path}: {u.reason}" for u in self.unreadable]
        lines += [f"burned-in annotation: {path}" for path in self.burned_in]
        return lines


@dataclass(frozen=True, slots=True)
class _Scanned:
    path: str
    header: RadiographHeader
    sha256: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class _Refusal:
    """A refused file still to be written to the audit trail."""

    path: str
    reason: str
    sha256: str


def _record_refusal(session: Session, user: User, refusal: _Refusal) -> None:
    """The audit event of a file the import refused (its hash, path and the reason)."""
    audit.record(
        session,
        actor=user,
        entity=audit.AuditEntity.IMAGE,
        entity_id=refusal.sha256,
        action=audit.AuditAction.REFUSE,
        new={"path": refusal.path, "reason": refusal.reason},
    )


def file_sha256(path: str | os.PathLike[str]) -> tuple[str, int]:
    """SHA-256 (hex) and size in bytes of a file."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def import_radiographs(
    database: Database,
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    actor: User,
    progress: Callable[[ImportProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Import every DICOM film under `paths` on behalf of `actor` (a data manager or admin).

    Opens its own transactions (one per batch): the import is one user action made of many batches.
    """
    from kyphoangle.dicom.index import iter_dicom_files

    require_permission(actor, Permission.IMPORT_IMAGES)
    summary = ImportSummary()
    refusals: list[_Refusal] = []
    batch: list[_Scanned] = []
    for path, result in iter_dicom_files(paths):
        if cancel is not None and cancel():
            summary.cancelled = True
            break
        scanned = _scan(path, result, summary, refusals)
        if scanned is not None:
            batch.append(scanned)
        elif progress is not None:
            progress(summary.progress(str(path)))
        if len(batch) >= batch_size:
            _write_batch(
                database, _probed(database, batch, summary, refusals), actor, summary, refusals, progress
            )
            batch = []
    if batch or refusals:
        _write_batch(
            database, _probed(database, batch, summary, refusals), actor, summary, refusals, progress
        )
    return summary


def _probed(
    database: Database, batch: list[_Scanned], summary: ImportSummary, refusals: list[_Refusal]
) -> list[_Scanned]:
    """The files of a batch that pass the decode probe; films already imported are not probed again."""
    from kyphoangle.dicom.decoder_pool import shared_pool

    with database.reading() as session:
        known = {
            item.path
            for item in batch
            if (image := find_image(session, item.header.sop_instance_uid)) is not None
            and image.sha256 == item.sha256
        }
    pool = shared_pool()

    def probe(item: _Scanned) -> RadiographError | None:
        if item.path in known:
            return None
        try:
            pool.probe(item.path)
        except RadiographError as exc:
            return exc
        return None

    with ThreadPoolExecutor(max_workers=pool.workers, thread_name_prefix="import-probe") as threads:
        outcomes = list(threads.map(probe, batch))
    passed = []
    for item, error in zip(batch, outcomes, strict=True):
        if error is None:
            passed.append(item)
        else:
            _refuse(summary, refusals, item.path, _reason(error), item.sha256)
    return passed


def _reason(error: RadiographError) -> str:
    text = str(error)
    return text if isinstance(error, UndecodableFilmError) else error.reason


def _refuse(
    summary: ImportSummary, refusals: list[_Refusal], path: str, reason: str, sha256: str | None = None
) -> None:
    summary.unreadable.append(Unreadable(path, reason))
    digest = sha256 or hashlib.sha256(os.fsencode(path)).hexdigest()
    refusals.append(_Refusal(path, reason, digest))


def _scan(
    path: Path, result: RadiographHeader | RadiographError, summary: ImportSummary, refusals: list[_Refusal]
) -> _Scanned | None:
    where = str(path)
    if isinstance(result, RadiographError):
        _refuse(summary, refusals, where, result.reason)
        return None
    if not result.has_pixel_data or result.rows <= 0 or result.columns <= 0:
        what = result.sop_class_name or result.sop_class_uid or "unknown kind"
        _refuse(summary, refusals, where, f"holds no image ({what})")
        return None
    if not result.sop_instance_uid:
        _refuse(summary, refusals, where, "has no SOP Instance UID")
        return None
    if not result.identity.patient_id.strip():
        _refuse(summary, refusals, where, "has no Patient ID, so its subject cannot be told")
        return None
    try:
        digest, size = file_sha256(path)
    except OSError as exc:
        _refuse(summary, refusals, where, f"cannot be read ({exc.strerror or exc})")
        return None
    return _Scanned(str(path.resolve()), result, digest, size)


def _write_batch(
    database: Database,
    batch: list[_Scanned],
    actor: User,
    summary: ImportSummary,
    refusals: list[_Refusal],
    progress: Callable[[ImportProgress], None] | None,
) -> None:
    with database.transaction() as session:
        lock_trail(session)
        user = session.get_one(User, actor.id)
        for refusal in refusals:
            _record_refusal(session, user, refusal)
        refusals.clear()
        visits = list_visits(session)
        for item in batch:
            header = item.header
            try:
                with session.begin_nested():
                    _import_one(session, item, header, user, visits, summary)
            except KyphoangleError as exc:
                summary.unreadable.append(Unreadable(item.path, str(exc)))
                _record_refusal(session, user, _Refusal(item.path, str(exc), item.sha256))
            if progress is not None:
                progress(summary.progress(item.path))


def _import_one(
    session: Session,
    item: _Scanned,
    header: RadiographHeader,
    user: User,
    visits: list[Visit],
    summary: ImportSummary,
) -> None:
    known = find_image(session, header.sop_instance_uid)
    if known is not None:
        if known.sha256 == item.sha256:
            summary.already_known.append(header.sop_instance_uid)
        else:
            summary.conflicts.append(
                Conflict(item.path, header.sop_instance_uid, known.file_path, known.sha256, item.sha256)
            )
        return
    identity = header.identity
    subject = find_subject_by_patient_id(session, identity.patient_id)
    if subject is None:
        subject = create_subject(
            session,
            actor=user,
            dicom_patient_id=identity.patient_id,
            patient_name=identity.patient_name,
            birth_date=identity.patient_birth_date,
            site=find_site_for_institution(session, identity.institution_name),
        )
        summary.new_subjects.append(subject.code)
    facts = ImageFacts(
        sop_instance_uid=header.sop_instance_uid,
        study_instance_uid=header.study_instance_uid,
        series_instance_uid=header.series_instance_uid,
        file_path=item.path,
        sha256=item.sha256,
        file_size_bytes=item.size_bytes,
        study_date=header.study_date,
        rows=header.rows,
        columns=header.columns,
        spacing=header.spacing,
        pixel_aspect_ratio=header.pixel_aspect_ratio,
        patient_position=patient_position_from_dicom(header.patient_position, header.view_position),
        view_position=header.view_position,
    )
    register_image(session, subject=subject, facts=facts, actor=user, visits=visits)
    summary.new.append(header.sop_instance_uid)
    if header.burned_in_annotation:
        summary.burned_in.append(item.path)
