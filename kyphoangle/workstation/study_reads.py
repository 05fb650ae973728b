"""A reader's reads of the study's films (the site reading workstation), over the study database.

Each method is one user action and one session (repository functions take the session). The read id
and version opened are remembered so that saving a draft is an optimistic update of that version. The
catalogue lists only what the access policy lets the signed-in role see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from kyphoangle.errors import PermissionDeniedError
from kyphoangle.landmark_file import LandmarkFile
from kyphoangle.storage import Database
from kyphoangle.storage import reads as read_repo
from kyphoangle.storage import users as user_repo
from kyphoangle.storage.images import get_image, list_images
from kyphoangle.storage.study import list_visits
from kyphoangle.storage.subjects import list_subjects
from kyphoangle.vocabulary import ReadStatus
from kyphoangle.workstation.access import Action, Scope
from kyphoangle.workstation.connection import DatabaseService, user_site
from kyphoangle.workstation.records import ImageEntry, ImportReport, ProgressCallback, StoredRead


class StudyReadService(DatabaseService):
    """A reader's reads of the study's films, and the catalogue of films, from the study database."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self._opened: dict[tuple[str, str], tuple[int, int]] = {}

    def load_read(self, sop_instance_uid: str, reader: str) -> StoredRead | None:
        """The reader's current (not superseded) read of the image, or None."""
        if reader != self.login:
            raise PermissionDeniedError("Only your own reads can be opened.")

        def run() -> StoredRead | None:
            with self.database.reading() as session:
                found = read_repo.list_reads(
                    session, reader_login=reader, sop_instance_uid=sop_instance_uid, include_superseded=False
                )
                if not found:
                    return None
                summary = max(found, key=lambda r: r.read_id)
                read = read_repo.get_read(session, summary.read_id)
                self._opened[(sop_instance_uid, reader)] = (summary.read_id, summary.version)
                return StoredRead(read_repo.read_content(read), summary.status == ReadStatus.SIGNED)

        return self._guard(run)

    def save_draft(self, content: LandmarkFile) -> None:
        """Create the draft, or update the version opened (one transaction)."""
        reader = self._own(content)

        def run() -> None:
            key = (content.sop_instance_uid, reader)
            with self.database.transaction() as session:
                opened = self._opened.get(key)
                if opened is None:
                    image = get_image(session, content.sop_instance_uid)
                    user = user_repo.get_user(session, reader)
                    read = read_repo.create_read(session, image=image, reader=user, content=content)
                else:
                    read = read_repo.get_read(session, opened[0])
                    read = read_repo.update_draft(session, read, content=content, expected_version=opened[1])
                session.flush()
                self._opened[key] = (read.id, read.version)

        self._guard(run)

    def sign(self, content: LandmarkFile, password: str) -> None:
        """Save, then sign with the reader's password; the read is locked afterwards."""
        self.check(Action.SIGN)
        self.save_draft(content)

        def run() -> None:
            key = (content.sop_instance_uid, self._own(content))
            read_id, version = self._opened[key]
            with self.database.transaction() as session:
                read = read_repo.get_read(session, read_id)
                signed = read_repo.sign_read(session, read, password=password, expected_version=version)
                session.flush()
                self._opened[key] = (signed.id, signed.version)

        self._guard(run)

    def _own(self, content: LandmarkFile) -> str:
        """The signed-in reader, who must be the read's reader (a read is personal)."""
        if content.reader not in (None, self.login):
            raise PermissionDeniedError("Only your own reads can be saved.")
        return self.login

    def images(self) -> list[ImageEntry]:
        """Every film the role may list, with its subject's site and levels, the visit and read statuses."""
        scope = self.check(Action.LIST_IMAGES)
        self.check(Action.LIST_IMAGE_PATHS)
        site = user_site(self.database, self.login) if scope is Scope.OWN_SITE else None

        def run() -> list[ImageEntry]:
            with self.database.reading() as session:
                statuses: dict[str, dict[str, str]] = {}
                for summary in read_repo.list_reads(session, include_superseded=False):
                    statuses.setdefault(summary.sop_instance_uid, {})[summary.reader] = summary.display_status
                subjects = {subject.code: subject for subject in list_subjects(session)}
                labels = {visit.code: visit.label for visit in list_visits(session)}
                entries = []
                for image in list_images(session):
                    subject = subjects.get(image.subject)
                    if site is not None and (subject is None or subject.site != site):
                        continue
                    entries.append(
                        ImageEntry(
                            path=image.file_path,
                            sop_instance_uid=image.sop_instance_uid,
                            site=(subject.site if subject and subject.site else "No site yet"),
                            subject=image.subject,
                            visit=labels.get(image.visit, image.visit),
                            fractured_levels=subject.treated_levels if subject else (),
                            statuses=statuses.get(image.sop_instance_uid, {}),
                            visit_code=image.visit or "",
                        )
                    )
                return entries

        return self._guard(run)

    def import_paths(
        self, paths: Iterable[str | Path], progress: ProgressCallback, canceled: Callable[[], bool]
    ) -> ImportReport:
        """Import with the core importer on behalf of the signed-in user."""
        from kyphoangle.importer import import_radiographs

        self.check(Action.IMPORT_IMAGES)
        login = self.login

        def run() -> ImportReport:
            with self.database.reading() as session:
                actor = user_repo.get_user(session, login)
                session.expunge(actor)
            summary = import_radiographs(
                self.database,
                [str(p) for p in paths],
                actor=actor,
                progress=lambda p: progress(p.files_done, 0, Path(p.current_path).name),
                cancel=canceled,
            )
            errors = tuple(str(u) for u in summary.unreadable)
            return ImportReport(
                added=len(summary.new),
                skipped=len(summary.already_known) + len(summary.conflicts),
                errors=errors,
                canceled=summary.cancelled,
            )

        return self._guard(run)
