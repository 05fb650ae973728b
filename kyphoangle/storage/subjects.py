"""Sites, subjects (study code, site, diagnosis, procedure date D0, treated levels) and their identity.

Identity (patient name, DICOM patient ID, birth date) is written only to `subject_identity` and read
only through `get_identity`, which needs the `see patient identity` permission. Changing a value that
was already recorded needs a reason; setting the procedure date re-assigns the visits of the
subject's films that were assigned by the schedule (never those set by hand), each change audited.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kyphoangle.errors import KyphoangleError, NotFoundError, ReasonRequiredError
from kyphoangle.protocol import validate_levels
from kyphoangle.storage.audit import AuditAction, AuditEntity, changes, record
from kyphoangle.storage.models import Image, Site, Subject, SubjectIdentity, TreatedLevel, User, utc_now
from kyphoangle.storage.study import get_study
from kyphoangle.storage.users import Permission, require_permission
from kyphoangle.vocabulary import FRACTURE_LEVELS, Diagnosis, SubjectStatus

STUDY_CODE_PREFIX = "S"
MAX_TREATED_LEVELS = 3
_SITE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


class SubjectError(KyphoangleError):
    """A subject's data is invalid (levels, codes)."""


@dataclass(frozen=True, slots=True)
class SubjectSummary:
    """One subject as listed (no identity)."""

    code: str
    site: str | None
    diagnosis: Diagnosis | None
    procedure_date: dt.date | None
    treated_levels: tuple[str, ...]
    status: SubjectStatus
    image_count: int


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a subject is (shown only to users allowed to see identity)."""

    dicom_patient_id: str
    patient_name: str
    birth_date: dt.date | None


def next_study_code(session: Session) -> str:
    """The next free generated study code: S001, S002, ... (more digits past S999)."""
    codes = session.scalars(select(Subject.code).where(Subject.code.like(f"{STUDY_CODE_PREFIX}%")))
    numbers = [int(code[1:]) for code in codes if code[1:].isdigit()]
    return f"{STUDY_CODE_PREFIX}{max(numbers, default=0) + 1:03d}"


def subject_snapshot(subject: Subject) -> dict[str, object]:
    """The audited fields of a subject."""
    return {
        "code": subject.code,
        "site": subject.site.code if subject.site is not None else None,
        "diagnosis": subject.diagnosis,
        "procedure_date": subject.procedure_date,
        "treated_levels": [level.level for level in subject.treated_levels],
        "status": subject.status,
    }


def create_subject(
    session: Session,
    *,
    actor: User,
    dicom_patient_id: str,
    patient_name: str = "",
    birth_date: dt.date | None = None,
    code: str | None = None,
    site: Site | None = None,
) -> Subject:
    """Create a subject (generated study code unless given) and its separate identity record."""
    require_permission(actor, Permission.IMPORT_IMAGES)
    if not dicom_patient_id.strip():
        raise SubjectError("a subject needs a DICOM patient ID")
    now = utc_now()
    subject = Subject(
        study_id=get_study(session).id,
        code=code or next_study_code(session),
        site=site,
        status=SubjectStatus.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    session.add(subject)
    session.flush()
    identity = SubjectIdentity(
        subject_id=subject.id,
        dicom_patient_id=dicom_patient_id,
        patient_name=patient_name,
        birth_date=birth_date,
    )
    session.add(identity)
    session.flush()
    record(
        session,
        actor=actor,
        entity=AuditEntity.SUBJECT,
        entity_id=subject.id,
        action=AuditAction.CREATE,
        new=subject_snapshot(subject),
    )
    record(
        session,
        actor=actor,
        entity=AuditEntity.IDENTITY,
        entity_id=subject.id,
        action=AuditAction.CREATE,
        new={"dicom_patient_id": dicom_patient_id, "patient_name": patient_name, "birth_date": birth_date},
    )
    return subject


def find_subject_by_patient_id(session: Session, dicom_patient_id: str) -> Subject | None:
    """The subject whose identity has that DICOM patient ID, if any."""
    return session.scalar(
        select(Subject)
        .join(SubjectIdentity, SubjectIdentity.subject_id == Subject.id)
        .where(SubjectIdentity.dicom_patient_id == dicom_patient_id)
    )


def get_subject(session: Session, code: str) -> Subject:
    """The subject with that study code; NotFoundError otherwise."""
    subject = session.scalar(select(Subject).where(Subject.code == code))
    if subject is None:
        raise NotFoundError(f"there is no subject {code!r}")
    return subject


def get_identity(session: Session, subject: Subject, *, actor: User) -> Identity:
    """The subject's identity, for users allowed to see it."""
    require_permission(actor, Permission.VIEW_IDENTITY)
    row = session.scalar(select(SubjectIdentity).where(SubjectIdentity.subject_id == subject.id))
    if row is None:
        raise NotFoundError(f"subject {subject.code} has no identity record")
    return Identity(row.dicom_patient_id, row.patient_name, row.birth_date)


def list_subjects(session: Session) -> list[SubjectSummary]:
    """Every subject by study code, with site, diagnosis, D0, treated levels and number of films."""
    image_counts = dict(
        session.execute(select(Image.subject_id, func.count()).group_by(Image.subject_id)).all()
    )
    levels: dict[int, list[str]] = {}
    for subject_id, level in session.execute(
        select(TreatedLevel.subject_id, TreatedLevel.level).order_by(TreatedLevel.position)
    ):
        levels.setdefault(subject_id, []).append(level)
    rows = session.execute(
        select(
            Subject.id,
            Subject.code,
            Site.code,
            Subject.diagnosis,
            Subject.procedure_date,
            Subject.status,
        )
        .outerjoin(Site, Site.id == Subject.site_id)
        .order_by(Subject.code)
    )
    return [
        SubjectSummary(
            code=code,
            site=site,
            diagnosis=diagnosis,
            procedure_date=procedure_date,
            treated_levels=tuple(levels.get(subject_id, ())),
            status=status,
            image_count=int(image_counts.get(subject_id, 0)),
        )
        for subject_id, code, site, diagnosis, procedure_date, status in rows
    ]


def get_or_create_site(session: Session, code: str, *, actor: User, name: str | None = None) -> Site:
    """The site with that code, created (audited) when new."""
    site = session.scalar(select(Site).where(Site.code == code))
    if site is not None:
        return site
    require_permission(actor, Permission.EDIT_SUBJECTS)
    if not _SITE_CODE.match(code):
        raise SubjectError(f"{code!r} is not a valid site code (letters, digits, '.', '_', '-')")
    site = Site(code=code, name=name or code, institution_name=None)
    session.add(site)
    session.flush()
    record(
        session,
        actor=actor,
        entity=AuditEntity.SITE,
        entity_id=site.id,
        action=AuditAction.CREATE,
        new={"code": site.code, "name": site.name},
    )
    return site


def find_site_for_institution(session: Session, institution_name: str) -> Site | None:
    """The site whose institution name (or name) matches a DICOM Institution Name, ignoring case."""
    wanted = institution_name.strip().lower()
    if not wanted:
        return None
    for site in session.scalars(select(Site)):
        if wanted in {(site.institution_name or "").strip().lower(), site.name.strip().lower()}:
            return site
    return None


def parse_treated_levels(levels: Sequence[str]) -> tuple[str, ...]:
    """Check 1 to 3 distinct levels from T10 to L5; returns them cranial to caudal."""
    if not 1 <= len(levels) <= MAX_TREATED_LEVELS:
        raise SubjectError(f"a subject has 1 to {MAX_TREATED_LEVELS} treated levels, not {len(levels)}")
    try:
        return validate_levels(levels)
    except KyphoangleError as exc:
        raise SubjectError(f"{exc} (levels: {', '.join(FRACTURE_LEVELS)})") from None


def update_subject(
    session: Session,
    subject: Subject,
    *,
    actor: User,
    reason: str | None = None,
    procedure_date: dt.date | None = None,
    treated_levels: Sequence[str] | None = None,
    site: Site | None = None,
    diagnosis: Diagnosis | str | None = None,
    status: SubjectStatus | str | None = None,
) -> Subject:
    """Set the given fields (None leaves a field alone); audited, with a reason to change recorded values.

    A new or changed procedure date re-assigns the visits of the subject's films that were assigned
    automatically (or were pending), each re-assignment audited with the same reason.
    """
    require_permission(actor, Permission.EDIT_SUBJECTS)
    before = subject_snapshot(subject)
    if procedure_date is not None:
        subject.procedure_date = procedure_date
    if treated_levels is not None:
        wanted = parse_treated_levels(treated_levels)
        if [level.level for level in subject.treated_levels] != list(wanted):
            subject.treated_levels.clear()
            session.flush()
            subject.treated_levels.extend(
                TreatedLevel(level=level, position=position) for position, level in enumerate(wanted)
            )
    if site is not None:
        subject.site = site
    if diagnosis is not None:
        subject.diagnosis = Diagnosis(diagnosis)
    if status is not None:
        subject.status = SubjectStatus(status)
    after = subject_snapshot(subject)
    old, new = changes(before, after)
    if not new:
        return subject
    overwritten = [key for key, value in old.items() if value not in (None, [], "")]
    if overwritten and not (reason and reason.strip()):
        raise ReasonRequiredError(
            f"changing the recorded {', '.join(overwritten)} of {subject.code} needs a reason (--reason)"
        )
    subject.updated_at = utc_now()
    record(
        session,
        actor=actor,
        entity=AuditEntity.SUBJECT,
        entity_id=subject.id,
        action=AuditAction.UPDATE,
        old=old,
        new=new,
        reason=reason,
    )
    if "procedure_date" in new:
        from kyphoangle.storage.images import reassign_automatic_visits

        reassign_automatic_visits(
            session, subject, actor=actor, reason=reason or "procedure date (D0) recorded"
        )
    return subject
