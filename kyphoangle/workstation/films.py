"""The study's films: importing them, listing them (paths only for those allowed), patient position."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kyphoangle.importer import ImportProgress, ImportSummary, import_radiographs
from kyphoangle.storage import images as image_repo
from kyphoangle.storage import subjects as subject_repo
from kyphoangle.vocabulary import PatientPosition, SpacingSource, VisitAssignment
from kyphoangle.workstation.access import Action, Field, visible_fields
from kyphoangle.workstation.connection import SignedIn

__all__ = ["FilmRow", "import_films", "list_films", "set_position"]


@dataclass(frozen=True, slots=True)
class FilmRow:
    """One film as listed (never a name or a date; the path only when asked for and allowed)."""

    sop_instance_uid: str
    subject: str
    visit: str
    visit_assignment: VisitAssignment
    study_day: int | None
    patient_position: PatientPosition
    spacing_source: SpacingSource
    reads: int
    path: str | None = None


def import_films(
    actor: SignedIn,
    paths: Sequence[str | Path],
    *,
    progress: Callable[[ImportProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> ImportSummary:
    """Import files, folders (recursively) and DICOMDIRs on behalf of the user."""
    actor.check(Action.IMPORT_IMAGES)
    with actor.reading() as (session, user):
        session.expunge(user)
    return import_radiographs(
        actor.database, [str(p) for p in paths], actor=user, progress=progress, cancel=cancel
    )


def list_films(
    actor: SignedIn, *, subject: str | None = None, visit: str | None = None, paths: bool = False
) -> list[FilmRow]:
    """The films the user may list, by subject and study day; with `paths`, where each file lies."""
    if paths:
        actor.check(Action.LIST_IMAGE_PATHS)
    site = actor.site_scope(actor.check(Action.LIST_IMAGES))
    fields = visible_fields(actor.account.role)
    with actor.reading() as (session, _user):
        allowed = (
            None if site is None else {s.code for s in subject_repo.list_subjects(session) if s.site == site}
        )
        return [
            FilmRow(
                i.sop_instance_uid,
                i.subject,
                i.visit if Field.VISIT in fields else "",
                i.visit_assignment,
                i.study_day if Field.DATES in fields else None,
                i.patient_position,
                i.spacing_source,
                i.read_count,
                i.file_path if paths else None,
            )
            for i in image_repo.list_images(session, subject_code=subject, visit_code=visit)
            if allowed is None or i.subject in allowed
        ]


def set_position(actor: SignedIn, sop_instance_uid: str, position: PatientPosition | str, reason: str) -> str:
    """Record how the patient stood on a film (audited with the reason); the position recorded."""
    actor.check(Action.EDIT_IMAGES)
    with actor.writing() as (session, user):
        image = image_repo.get_image(session, sop_instance_uid)
        image_repo.set_patient_position(session, image, position, actor=user, reason=reason)
        return str(image.patient_position)
