"""CSV export of the readers' observations: Genant grade per level with new and adjacent fractures
derived against the baseline read, and cement leakage per treated level.

One row per observed level of each read. Nothing identifying is written (no name, patient ID or date;
films are placed by `visit` and `visit_day`). A level is a **new fracture** when the same reader, in
the same kind of read, graded it 0 on the baseline read (the latest signed, not superseded read on a
baseline film) and 1 or more on this read; **adjacent** when it is immediately above or below one of
the subject's treated levels. Leakage is what the lateral radiograph shows (`leakage_seen_on`), which
misses most leaks CT would show. The columns are described in the data dictionary.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kyphoangle.observations import fracture_status
from kyphoangle.output_file import output_text
from kyphoangle.storage.models import Image, Read, ReadStatus, Subject, User, Visit, VisitAssignment
from kyphoangle.storage.schedule import UNSCHEDULED
from kyphoangle.storage.users import Permission, require_permission

OBSERVATION_COLUMNS: tuple[str, ...] = (
    "subject", "site", "visit", "visit_day", "reader", "read_type", "read_id", "read_status", "level",
    "treated_level", "genant_grade", "baseline_genant_grade", "new_fracture", "adjacent_to_treated",
    "cement_leakage", "yeom_types", "leakage_seen_on", "sop_instance_uid",
)  # fmt: skip
"""Columns of the observations CSV, in order (described in the data dictionary)."""

LEAKAGE_SEEN_ON = "radiograph"
"""Leakage is recorded as seen on the lateral radiograph, never as CT-confirmed."""


@dataclass(frozen=True, slots=True)
class ObservationExportSummary:
    """What was written."""

    path: str
    rows: int
    reads: int


def _visit(read: Read) -> str:
    visit = read.image.visit
    if visit is not None:
        return visit.code
    return "pending" if read.image.visit_assignment == VisitAssignment.PENDING else UNSCHEDULED


def _yes_no(flag: bool | None) -> str:
    return "" if flag is None else ("yes" if flag else "no")


def iter_observation_rows(
    session: Session, *, signed_only: bool = False, include_superseded: bool = False
) -> Iterator[list[str]]:
    """The observation rows (without the header), ordered by subject, film date and read."""
    query = (
        select(Read)
        .join(Image, Image.id == Read.image_id)
        .join(Subject, Subject.id == Image.subject_id)
        .options(
            selectinload(Read.observations),
            selectinload(Read.reader),
            selectinload(Read.image).selectinload(Image.visit),
            selectinload(Read.image).selectinload(Image.subject).selectinload(Subject.site),
            selectinload(Read.image).selectinload(Image.subject).selectinload(Subject.treated_levels),
        )
        .order_by(Subject.code, Image.study_date, Read.id)
    )
    reads = list(session.scalars(query))
    baseline: dict[tuple[int, int, str], Read] = {}
    for read in reads:
        visit: Visit | None = read.image.visit
        if visit is None or not visit.is_baseline or read.status != ReadStatus.SIGNED:
            continue
        if read.superseded_by_id is not None:
            continue
        key = (read.image.subject_id, read.reader_id, str(read.read_type))
        current = baseline.get(key)
        if current is None or (read.signed_at, read.id) > (current.signed_at, current.id):
            baseline[key] = read
    for read in reads:
        if signed_only and read.status != ReadStatus.SIGNED:
            continue
        if read.superseded_by_id is not None and not include_superseded:
            continue
        subject = read.image.subject
        treated = [level.level for level in subject.treated_levels]
        reference = baseline.get((subject.id, read.reader_id, str(read.read_type)))
        reference_grades = (
            {row.level: row.genant_grade for row in reference.observations} if reference is not None else {}
        )
        day = (
            (read.image.study_date - subject.procedure_date).days
            if read.image.study_date is not None and subject.procedure_date is not None
            else None
        )
        is_baseline_read = reference is not None and reference.id == read.id
        for row in read.observations:
            base_grade = reference_grades.get(row.level)
            status = fracture_status(row.level, row.genant_grade, base_grade, treated)
            yield [
                subject.code,
                subject.site.code if subject.site is not None else "",
                _visit(read),
                "" if day is None else str(day),
                read.reader.login,
                str(read.read_type),
                str(read.id),
                "superseded" if read.superseded_by_id is not None else str(read.status),
                row.level,
                "yes" if row.level in treated else "no",
                "" if row.genant_grade is None else str(row.genant_grade),
                "" if base_grade is None else str(base_grade),
                "" if is_baseline_read else _yes_no(status.new),
                "yes" if status.adjacent else "no",
                row.cement_leakage.replace(",", ";"),
                row.yeom_types.replace(",", ";"),
                LEAKAGE_SEEN_ON if row.cement_leakage else "",
                read.image.sop_instance_uid,
            ]


def export_observations(
    session: Session,
    out: str | Path,
    *,
    actor: User,
    signed_only: bool = False,
    include_superseded: bool = False,
) -> ObservationExportSummary:
    """Write the observations CSV (all-or-nothing; `-` for standard output)."""
    require_permission(actor, Permission.EXPORT)
    count, reads = 0, set()
    with output_text(out, newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(OBSERVATION_COLUMNS)
        for row in iter_observation_rows(
            session, signed_only=signed_only, include_superseded=include_superseded
        ):
            writer.writerow(row)
            reads.add(row[6])
            count += 1
    return ObservationExportSummary(str(out), count, len(reads))
