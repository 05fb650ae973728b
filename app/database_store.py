"""`ReadStore` over the study database (`kyphoangle.storage`): the adapter that replaces the JSON store.

Each method is one user action and one session (repository functions take the session). The read id
and version opened are remembered so that saving a draft is an optimistic update of that version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from app.read_model import ReadSnapshot
from app.read_store import ImageEntry, ImportReport, ProgressCallback, ReaderAccount, StoreUnavailableError
from kyphoangle.errors import KyphoangleError, StorageError
from kyphoangle.storage import Database
from kyphoangle.storage import reads as read_repo
from kyphoangle.storage import users as user_repo
from kyphoangle.storage.images import get_image, list_images
from kyphoangle.storage.study import list_visits
from kyphoangle.storage.subjects import list_subjects


class DatabaseStoreBase:
    """What every store over the study database shares: the connection guard and sign-in."""

    name_database_in_errors = True
    """Whether an unreachable database is named in the message (blinded stores say less)."""
    kept_when_unavailable = "your landmarks are kept."
    """What the message about an unreachable database reassures the user of."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._account: ReaderAccount | None = None

    def _guard(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except KyphoangleError:
            raise
        except Exception as exc:  # driver errors: the database went away
            where = f" ({self.database.display_name})" if self.name_database_in_errors else ""
            raise StoreUnavailableError(
                f"The study database{where} cannot be reached ({exc.__class__.__name__}); "
                f"{self.kept_when_unavailable}"
            ) from None

    def authenticate(self, login: str, password: str) -> ReaderAccount:
        """Check a password against the users table."""

        def run() -> ReaderAccount:
            with self.database.reading() as session:
                user = user_repo.authenticate(session, login, password)
                return ReaderAccount(user.login, user.full_name or user.login, str(user.role))

        account: ReaderAccount = self._guard(run)
        self._account = account
        return account


class DatabaseReadStore(DatabaseStoreBase):
    """Reads, readers and films from the study database."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self._opened: dict[tuple[str, str], tuple[int, int]] = {}

    def load_read(self, sop_instance_uid: str, reader: str) -> ReadSnapshot | None:
        """The reader's current (not superseded) read of the image, or None."""

        def run() -> ReadSnapshot | None:
            with self.database.reading() as session:
                found = read_repo.list_reads(
                    session, reader_login=reader, sop_instance_uid=sop_instance_uid, include_superseded=False
                )
                if not found:
                    return None
                summary = max(found, key=lambda r: r.read_id)
                read = read_repo.get_read(session, summary.read_id)
                self._opened[(sop_instance_uid, reader)] = (summary.read_id, summary.version)
                return ReadSnapshot.from_landmark_file(
                    read_repo.read_content(read), reader=reader, signed=str(summary.status) == "signed"
                )

        result: ReadSnapshot | None = self._guard(run)
        return result

    def save_draft(self, snapshot: ReadSnapshot) -> None:
        """Create the draft, or update the version opened (one transaction)."""

        def run() -> None:
            key = (snapshot.sop_instance_uid, snapshot.reader)
            content = snapshot.to_landmark_file()
            with self.database.transaction() as session:
                opened = self._opened.get(key)
                if opened is None:
                    image = get_image(session, snapshot.sop_instance_uid)
                    user = user_repo.get_user(session, snapshot.reader)
                    read = read_repo.create_read(session, image=image, reader=user, content=content)
                else:
                    read = read_repo.get_read(session, opened[0])
                    read = read_repo.update_draft(session, read, content=content, expected_version=opened[1])
                session.flush()
                self._opened[key] = (read.id, read.version)

        self._guard(run)

    def sign(self, snapshot: ReadSnapshot, password: str) -> ReadSnapshot:
        """Save, then sign with the reader's password; the read is locked afterwards."""
        self.save_draft(snapshot)

        def run() -> None:
            key = (snapshot.sop_instance_uid, snapshot.reader)
            read_id, version = self._opened[key]
            with self.database.transaction() as session:
                read = read_repo.get_read(session, read_id)
                signed = read_repo.sign_read(session, read, password=password, expected_version=version)
                session.flush()
                self._opened[key] = (signed.id, signed.version)

        self._guard(run)
        return ReadSnapshot.from_landmark_file(
            snapshot.to_landmark_file(), reader=snapshot.reader, signed=True
        )

    def images(self) -> list[ImageEntry]:
        """Every film with its subject's site and levels, the visit's label and each reader's status."""

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
                    entries.append(
                        ImageEntry(
                            path=image.file_path,
                            sop_instance_uid=image.sop_instance_uid,
                            site=(subject.site if subject and subject.site else "No site yet"),
                            subject=image.subject,
                            visit=labels.get(image.visit, image.visit),
                            fractured_levels=subject.treated_levels if subject else (),
                            statuses=statuses.get(image.sop_instance_uid, {}),
                        )
                    )
                return entries

        result: list[ImageEntry] = self._guard(run)
        return result

    def import_paths(
        self, paths: Iterable[str | Path], progress: ProgressCallback, canceled: Callable[[], bool]
    ) -> ImportReport:
        """Import with the core importer on behalf of the signed-in user."""
        from kyphoangle.importer import import_radiographs

        if self._account is None:
            raise StorageError("Sign in before importing.")

        def run() -> ImportReport:
            with self.database.reading() as session:
                actor = user_repo.get_user(session, self._account.login)  # type: ignore[union-attr]
                session.expunge(actor)
            summary = import_radiographs(
                self.database,
                [str(p) for p in paths],
                actor=actor,
                progress=lambda p: progress(p.files_done, 0, Path(p.current_path).name),
                cancel=canceled,
            )
            errors = tuple(f"{Path(u.path).name}: {u.reason}" for u in summary.unreadable)
            return ImportReport(
                added=len(summary.new),
                skipped=len(summary.already_known) + len(summary.conflicts),
                errors=errors,
                canceled=summary.cancelled,
            )

        report: ImportReport = self._guard(run)
        return report
