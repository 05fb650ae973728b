"""Signed reads to DICOM files and back: writing reports and presentation states, importing a report.

Exports need the export permission (data managers, admins). Each signed read gives
`read-000042.sr.dcm` (the measurement report) and, when asked, `read-000042.gsps.dcm` (the presentation
state), written whole or not at all, readable by the owner only.

Importing a report creates a draft read of the referenced film (which must be in the study) by the
report's observer (the login it names; a blinded report names none, so the reader is given), then
checks that every value in the report equals the value recomputed from its landmarks (to
`VALUE_TOLERANCE`: coordinates travel as 32-bit floats and values as decimal strings). A mismatch
raises `ReportFileError` and, in the caller's transaction, stores nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom import Dataset
from sqlalchemy.orm import Session

from kyphoangle.errors import AuthenticationError
from kyphoangle.output_file import output_binary, private_folder
from kyphoangle.sr.presentation import presentation_state
from kyphoangle.sr.reading import ReportedRead, ReportFileError, read_measurement_report
from kyphoangle.sr.report import film_header, measurement_report
from kyphoangle.sr.signed_read import SignedRead, signed_reads
from kyphoangle.storage.images import get_image
from kyphoangle.storage.models import Read, User
from kyphoangle.storage.reads import create_read, measurements_of
from kyphoangle.storage.users import Permission, get_user, require_permission

VALUE_TOLERANCE = 1e-3
"""Largest difference (deg, mm, %, ratio) between a reported value and its recomputation."""


@dataclass(frozen=True, slots=True)
class WrittenReport:
    """The files written for one signed read."""

    read_id: int
    report: Path
    presentation: Path | None


def save_dataset(ds: Dataset, path: Path) -> None:
    """Write a DICOM dataset as a Part 10 file, whole or not at all."""
    with output_binary(path) as stream:
        ds.save_as(stream, enforce_file_format=True)


def report_datasets(read: SignedRead, *, gsps: bool) -> tuple[Dataset, Dataset | None]:
    """The measurement report and (when asked) the presentation state of one signed read."""
    film = film_header(read)
    report = measurement_report(read, film)
    return report, presentation_state(read, film) if gsps else None


def iter_report_datasets(
    session: Session, *, actor: User, read_ids: Sequence[int] | None = None, gsps: bool = True
) -> Iterator[tuple[SignedRead, Dataset, Dataset | None]]:
    """Every selected signed read with its report and presentation state (for sending to a PACS)."""
    require_permission(actor, Permission.EXPORT)
    for read in signed_reads(session, read_ids):
        report, state = report_datasets(read, gsps=gsps)
        yield read, report, state


def export_reports(
    session: Session,
    folder: str | Path,
    *,
    actor: User,
    read_ids: Sequence[int] | None = None,
    gsps: bool = True,
) -> list[WrittenReport]:
    """Write the report (and presentation state) of each selected signed read into `folder`."""
    target = private_folder(folder)
    written = []
    for read, report, state in iter_report_datasets(session, actor=actor, read_ids=read_ids, gsps=gsps):
        report_path = target / f"read-{read.read_id:06d}.sr.dcm"
        save_dataset(report, report_path)
        state_path = None
        if state is not None:
            state_path = target / f"read-{read.read_id:06d}.gsps.dcm"
            save_dataset(state, state_path)
        written.append(WrittenReport(read.read_id, report_path, state_path))
    return written


def _check_values(read: Read, reported: ReportedRead, origin: str | Path) -> None:
    stored = measurements_of(read)
    for value in reported.values:
        row = stored.get((str(value.name), value.level))
        where = f"{value.name}" + (f" at {value.level}" if value.level else "")
        if row is None or row.value is None:
            raise ReportFileError(
                origin, f"{where} is in the report but cannot be computed from its landmarks"
            )
        if abs(row.value - value.value) > VALUE_TOLERANCE:
            raise ReportFileError(
                origin,
                f"{where} is {value.value:g} in the report but {row.value:g} from its landmarks: "
                "the report was changed or made with other settings",
            )


def import_report(
    session: Session, path: str | Path, *, actor: User, reader_login: str | None = None
) -> Read:
    """Store the read a report holds as a draft by its observer (or `reader_login`); checked values."""
    reported = read_measurement_report(path)
    login = reader_login or reported.observer.login
    if login is None:
        raise AuthenticationError(
            f"{path}: the report is of a blinded read and names no reader: say whose read it is (--reader)"
        )
    reader = get_user(session, login)
    image = get_image(session, reported.content.sop_instance_uid)
    read = create_read(session, image=image, reader=reader, content=reported.content, actor=actor)
    _check_values(read, reported, path)
    return read
