"""The study protocol row and its visit schedule, copied from `resources/visit_schedule.json` once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyphoangle.errors import NotFoundError, StorageError
from kyphoangle.storage.audit import AuditAction, AuditEntity, lock_trail, record
from kyphoangle.storage.models import Study, Visit, utc_now
from kyphoangle.storage.schedule import UNSCHEDULED, VisitSchedule, VisitWindow, load_visit_schedule


def has_study(session: Session) -> bool:
    """Whether the database's study has been set up."""
    return session.scalar(select(Study.id).limit(1)) is not None


def ensure_study(session: Session, schedule: VisitSchedule | None = None) -> Study:
    """The database's study; created with its visits from `schedule` (default: the shipped file).

    Takes the audit lock first, so two programs opening a new database at once create one study.
    """
    lock_trail(session)
    study = session.scalar(select(Study).order_by(Study.id).limit(1))
    if study is not None:
        return study
    schedule = schedule or load_visit_schedule()
    study = Study(
        code=schedule.study_code,
        title=schedule.title,
        default_normal_table=schedule.default_normal_table,
        created_at=utc_now(),
    )
    study.visits = [
        Visit(
            code=window.code,
            label=window.label,
            position=position,
            target_day=window.target_day,
            min_day=window.min_day,
            max_day=window.max_day,
            is_baseline=window.is_baseline,
        )
        for position, window in enumerate(schedule.visits)
    ]
    session.add(study)
    session.flush()
    record(
        session,
        actor=None,
        entity=AuditEntity.STUDY,
        entity_id=study.id,
        action=AuditAction.CREATE,
        new={
            "code": study.code,
            "title": study.title,
            "default_normal_table": study.default_normal_table,
            "schedule_version": schedule.version,
            "visits": [
                {"code": w.code, "min_day": w.min_day, "max_day": w.max_day, "baseline": w.is_baseline}
                for w in schedule.visits
            ],
        },
    )
    return study


def get_study(session: Session) -> Study:
    """The study of this database (StorageError when it was never set up)."""
    study = session.scalar(select(Study).order_by(Study.id).limit(1))
    if study is None:
        raise StorageError("this database has no study yet (open it with kyphoangle to set it up)")
    return study


def list_visits(session: Session) -> list[Visit]:
    """The study's visits in schedule order."""
    return list(session.scalars(select(Visit).order_by(Visit.position)))


def visit_windows(session: Session) -> list[VisitWindow]:
    """The visits as schedule windows (what visit assignment uses)."""
    return [window_of(visit) for visit in list_visits(session)]


def window_of(visit: Visit) -> VisitWindow:
    """The schedule window of a stored visit."""
    return VisitWindow(
        code=visit.code,
        label=visit.label,
        target_day=visit.target_day,
        min_day=visit.min_day,
        max_day=visit.max_day,
        is_baseline=visit.is_baseline,
    )


def get_visit(session: Session, code: str) -> Visit | None:
    """The visit with that code; None for `unscheduled`; NotFoundError for an unknown code."""
    if code == UNSCHEDULED:
        return None
    visit = session.scalar(select(Visit).where(Visit.code == code))
    if visit is None:
        known = ", ".join([v.code for v in list_visits(session)] + [UNSCHEDULED])
        raise NotFoundError(f"there is no visit {code!r} (visits: {known})")
    return visit
