"""Images (one radiograph file each) and their visit: assigned by the schedule, or by hand with a reason.

A film's visit comes from its study day, the study date minus the subject's procedure date (D0),
looked up in the study's visit windows. Without either date the film is `pending`; outside every
window it is unscheduled. A data manager may set the visit by hand (`manual`, with a reason); manual
assignments are never changed by a later procedure date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Integer, cast, func, select
from sqlalchemy.orm import Session

from kyphoangle.errors import NotFoundError, ReasonRequiredError
from kyphoangle.spacing import PixelSpacing
from kyphoangle.storage.audit import AuditAction, AuditEntity, changes, record
from kyphoangle.storage.models import Image, Read, Subject, User, Visit, utc_now
from kyphoangle.storage.schedule import UNSCHEDULED, study_day
from kyphoangle.storage.study import get_visit, list_visits, window_of
from kyphoangle.storage.users import Permission, require_permission
from kyphoangle.vocabulary import PatientPosition, SpacingSource, VisitAssignment


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What is recorded about a film when it is imported (header facts, file path and hash)."""

    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str
    file_path: str
    sha256: str
    file_size_bytes: int
    study_date: dt.date | None
    rows: int
    columns: int
    spacing: PixelSpacing
    pixel_aspect_ratio: tuple[int, int] | None = None
    patient_position: PatientPosition = PatientPosition.UNKNOWN
    view_position: str = ""


@dataclass(frozen=True, slots=True)
class ImageSummary:
    """One film as listed: no identity and no date, only the study day relative to D0."""

    sop_instance_uid: str
    subject: str
    visit: str
    visit_assignment: VisitAssignment
    study_day: int | None
    patient_position: PatientPosition
    spacing_source: SpacingSource
    rows: int
    columns: int
    read_count: int
    file_path: str


def patient_position_from_dicom(patient_position: str, view_position: str = "") -> PatientPosition:
    """Standing, supine or unknown from Patient Position (0018,5100) and View Position (0018,5101).

    `HFS`/`FFS` (and the other `..S` codes) are supine; values naming an erect or standing patient are
    standing; anything else (including prone and decubitus) is unknown and can be set by hand.
    """
    text = f"{patient_position} {view_position}".upper()
    if any(word in text for word in ("STANDING", "ERECT", "UPRIGHT")):
        return PatientPosition.STANDING
    code = patient_position.strip().upper()
    if code in {"HFS", "FFS", "LFS", "RFS", "SUPINE"}:
        return PatientPosition.SUPINE
    return PatientPosition.UNKNOWN


def study_day_sql(session: Session) -> ColumnElement[int]:
    """SQL for the film's study day (study date minus the subject's D0; NULL when either is unknown).

    Needs `image` and `subject` in the query. Computed by the database, so long lists need no date
    conversion in Python.
    """
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(Image.study_date) - func.julianday(Subject.procedure_date), Integer)
    return cast(Image.study_date - Subject.procedure_date, Integer)


def image_spacing(image: Image) -> PixelSpacing:
    """The film's own pixel spacing (without any manual calibration of a read)."""
    source = SpacingSource(image.spacing_source)
    if source is SpacingSource.NONE:
        return PixelSpacing.none()
    return PixelSpacing(image.spacing_row_mm, image.spacing_col_mm, source)


def image_aspect_ratio(image: Image) -> tuple[int, int] | None:
    """The film's Pixel Aspect Ratio (row, column), if recorded."""
    if image.pixel_aspect_row is None or image.pixel_aspect_col is None:
        return None
    return image.pixel_aspect_row, image.pixel_aspect_col


def image_snapshot(image: Image) -> dict[str, object]:
    """The audited fields of an image."""
    return {
        "sop_instance_uid": image.sop_instance_uid,
        "subject_id": image.subject_id,
        "file_path": image.file_path,
        "sha256": image.sha256,
        "study_date": image.study_date,
        "spacing_row_mm": image.spacing_row_mm,
        "spacing_col_mm": image.spacing_col_mm,
        "spacing_source": image.spacing_source,
        "patient_position": image.patient_position,
    }


def _visit_code(visit: Visit | None, assignment: VisitAssignment) -> str:
    if visit is not None:
        return visit.code
    return "pending" if assignment is VisitAssignment.PENDING else UNSCHEDULED


def automatic_visit(
    visits: Sequence[Visit], study_date: dt.date | None, procedure_date: dt.date | None
) -> tuple[Visit | None, VisitAssignment]:
    """The visit the schedule gives a film, and whether that is final (automatic) or pending."""
    day = study_day(study_date, procedure_date)
    if day is None:
        return None, VisitAssignment.PENDING
    for visit in visits:
        if window_of(visit).contains(day):
            return visit, VisitAssignment.AUTOMATIC
    return None, VisitAssignment.AUTOMATIC


def register_image(
    session: Session,
    *,
    subject: Subject,
    facts: ImageFacts,
    actor: User,
    visits: Sequence[Visit] | None = None,
) -> Image:
    """Record a new film of `subject` and assign its visit from the schedule (audited).

    `visits` may be passed by a caller registering many films, to look the schedule up once.
    """
    require_permission(actor, Permission.IMPORT_IMAGES)
    visit, assignment = automatic_visit(
        list_visits(session) if visits is None else visits, facts.study_date, subject.procedure_date
    )
    spacing = facts.spacing
    image = Image(
        subject_id=subject.id,
        sop_instance_uid=facts.sop_instance_uid,
        study_instance_uid=facts.study_instance_uid,
        series_instance_uid=facts.series_instance_uid,
        file_path=facts.file_path,
        sha256=facts.sha256,
        file_size_bytes=facts.file_size_bytes,
        study_date=facts.study_date,
        rows=facts.rows,
        columns=facts.columns,
        spacing_row_mm=spacing.row_mm,
        spacing_col_mm=spacing.col_mm,
        spacing_source=spacing.source,
        pixel_aspect_row=facts.pixel_aspect_ratio[0] if facts.pixel_aspect_ratio else None,
        pixel_aspect_col=facts.pixel_aspect_ratio[1] if facts.pixel_aspect_ratio else None,
        patient_position=facts.patient_position,
        view_position=facts.view_position[:16],
        visit_id=visit.id if visit is not None else None,
        visit_assignment=assignment,
        imported_at=utc_now(),
        imported_by_id=actor.id,
    )
    session.add(image)
    session.flush()
    new = image_snapshot(image)
    new["visit"] = _visit_code(visit, assignment)
    record(
        session, actor=actor, entity=AuditEntity.IMAGE, entity_id=image.id, action=AuditAction.CREATE, new=new
    )
    return image


def find_image(session: Session, sop_instance_uid: str) -> Image | None:
    """The film with that SOP Instance UID, if imported."""
    return session.scalar(select(Image).where(Image.sop_instance_uid == sop_instance_uid))


def get_image(session: Session, sop_instance_uid: str) -> Image:
    """The film with that SOP Instance UID; NotFoundError otherwise."""
    image = find_image(session, sop_instance_uid)
    if image is None:
        raise NotFoundError(f"no image with SOP Instance UID {sop_instance_uid} has been imported")
    return image


def visit_label(image: Image) -> str:
    """The film's visit code, `unscheduled`, or `pending` (no D0 or study date yet)."""
    return _visit_code(image.visit, VisitAssignment(image.visit_assignment))


def assign_visit(session: Session, image: Image, visit_code: str, *, actor: User, reason: str) -> Image:
    """Set a film's visit by hand (a visit code or `unscheduled`), with a reason; audited."""
    require_permission(actor, Permission.ASSIGN_VISITS)
    if not reason.strip():
        raise ReasonRequiredError("assigning a visit by hand needs a reason (--reason)")
    visit = get_visit(session, visit_code)
    old = {"visit": visit_label(image), "assignment": image.visit_assignment}
    image.visit = visit
    image.visit_id = visit.id if visit is not None else None
    image.visit_assignment = VisitAssignment.MANUAL
    record(
        session,
        actor=actor,
        entity=AuditEntity.VISIT_ASSIGNMENT,
        entity_id=image.id,
        action=AuditAction.ASSIGN,
        old=old,
        new={"visit": visit_label(image), "assignment": image.visit_assignment},
        reason=reason,
    )
    return image


def reassign_automatic_visits(
    session: Session, subject: Subject, *, actor: User, reason: str
) -> list[tuple[Image, str, str]]:
    """Re-run the schedule for the subject's films not assigned by hand; returns (image, old, new)."""
    visits = list_visits(session)
    changed: list[tuple[Image, str, str]] = []
    images = session.scalars(
        select(Image)
        .where(Image.subject_id == subject.id, Image.visit_assignment != VisitAssignment.MANUAL)
        .order_by(Image.id)
    )
    for image in images:
        before = visit_label(image)
        old_assignment = VisitAssignment(image.visit_assignment)
        visit, assignment = automatic_visit(visits, image.study_date, subject.procedure_date)
        image.visit = visit
        image.visit_id = visit.id if visit is not None else None
        image.visit_assignment = assignment
        after = visit_label(image)
        if (before, old_assignment) == (after, assignment):
            continue
        record(
            session,
            actor=actor,
            entity=AuditEntity.VISIT_ASSIGNMENT,
            entity_id=image.id,
            action=AuditAction.ASSIGN,
            old={"visit": before, "assignment": old_assignment},
            new={"visit": after, "assignment": assignment},
            reason=reason,
        )
        changed.append((image, before, after))
    return changed


def set_patient_position(
    session: Session, image: Image, position: PatientPosition | str, *, actor: User, reason: str
) -> Image:
    """Record how the patient stood on the film (the header often does not say); audited."""
    require_permission(actor, Permission.ASSIGN_VISITS)
    if not reason.strip():
        raise ReasonRequiredError("changing a film's patient position needs a reason (--reason)")
    before = image_snapshot(image)
    image.patient_position = PatientPosition(position)
    old, new = changes(before, image_snapshot(image))
    if new:
        record(
            session,
            actor=actor,
            entity=AuditEntity.IMAGE,
            entity_id=image.id,
            action=AuditAction.UPDATE,
            old=old,
            new=new,
            reason=reason,
        )
    return image


def list_images(
    session: Session, *, subject_code: str | None = None, visit_code: str | None = None
) -> list[ImageSummary]:
    """Films by subject and study day, optionally of one subject and/or one visit (or `unscheduled`)."""
    read_counts = (
        select(Read.image_id, func.count().label("reads")).group_by(Read.image_id).subquery("read_counts")
    )
    query = (
        select(
            Image.sop_instance_uid,
            Subject.code,
            Visit.code,
            Image.visit_assignment,
            Image.study_date,
            Subject.procedure_date,
            Image.patient_position,
            Image.spacing_source,
            Image.rows,
            Image.columns,
            func.coalesce(read_counts.c.reads, 0),
            Image.file_path,
        )
        .join(Subject, Subject.id == Image.subject_id)
        .outerjoin(Visit, Visit.id == Image.visit_id)
        .outerjoin(read_counts, read_counts.c.image_id == Image.id)
        .order_by(Subject.code, Image.study_date, Image.id)
    )
    if subject_code is not None:
        query = query.where(Subject.code == subject_code)
    if visit_code is not None:
        if visit_code == UNSCHEDULED:
            query = query.where(Image.visit_id.is_(None), Image.visit_assignment != VisitAssignment.PENDING)
        elif visit_code == "pending":
            query = query.where(Image.visit_assignment == VisitAssignment.PENDING)
        else:
            get_visit(session, visit_code)
            query = query.where(Visit.code == visit_code)
    summaries = []
    for row in session.execute(query):
        uid, subject, visit, assignment, study_date, procedure_date, position, source, rows, cols, n, path = (
            row
        )
        assignment = VisitAssignment(assignment)
        summaries.append(
            ImageSummary(
                sop_instance_uid=uid,
                subject=subject,
                visit=visit
                if visit is not None
                else ("pending" if assignment is VisitAssignment.PENDING else UNSCHEDULED),
                visit_assignment=assignment,
                study_day=study_day(study_date, procedure_date),
                patient_position=PatientPosition(position),
                spacing_source=SpacingSource(source),
                rows=rows,
                columns=cols,
                read_count=int(n),
                file_path=path,
            )
        )
    return summaries
