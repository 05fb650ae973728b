"""Trial subjects: listing them (identity only for those allowed) and recording D0, levels, site, status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kyphoangle.errors import KyphoangleError
from kyphoangle.storage import subjects as subject_repo
from kyphoangle.vocabulary import Diagnosis, SubjectStatus
from kyphoangle.workstation.access import Action, Field, visible_fields
from kyphoangle.workstation.connection import SignedIn

__all__ = ["SubjectRow", "list_subjects", "update_subject"]


@dataclass(frozen=True, slots=True)
class SubjectRow:
    """One subject as listed; fields the role may not see are None."""

    code: str
    site: str | None
    diagnosis: Diagnosis | None
    procedure_date: dt.date | None
    treated_levels: tuple[str, ...]
    status: SubjectStatus
    films: int
    patient_id: str | None = None
    patient_name: str | None = None
    birth_date: dt.date | None = None


def list_subjects(actor: SignedIn, *, identity: bool = False) -> list[SubjectRow]:
    """The subjects the user may list; with `identity`, their patient name, ID and birth date (audited)."""
    if identity:
        actor.check(Action.SHOW_IDENTITY)
    site = actor.site_scope(actor.check(Action.LIST_SUBJECTS))
    fields = visible_fields(actor.account.role)
    show_dates = Field.DATES in fields
    with actor.reading() as (session, user):
        rows = []
        for s in subject_repo.list_subjects(session):
            if site is not None and s.site != site:
                continue
            row = SubjectRow(
                s.code,
                s.site if Field.SITE in fields else None,
                s.diagnosis,
                s.procedure_date if show_dates else None,
                s.treated_levels,
                s.status,
                s.image_count,
            )
            if identity:
                found = subject_repo.get_identity(
                    session, subject_repo.get_subject(session, s.code), actor=user
                )
                row = replace(
                    row,
                    patient_id=found.dicom_patient_id,
                    patient_name=found.patient_name,
                    birth_date=found.birth_date,
                )
            rows.append(row)
        return rows


def update_subject(
    actor: SignedIn,
    code: str,
    *,
    reason: str | None = None,
    procedure_date: dt.date | None = None,
    treated_levels: Sequence[str] | None = None,
    site: str | None = None,
    diagnosis: Diagnosis | str | None = None,
    status: SubjectStatus | str | None = None,
) -> str:
    """Record a subject's procedure date (D0), treated levels, site, diagnosis or status; its code."""
    actor.check(Action.EDIT_SUBJECTS)
    if not any((procedure_date, treated_levels, site, diagnosis, status)):
        raise KyphoangleError(
            "nothing to change: give --procedure-date, --levels, --site, --diagnosis or --status"
        )
    with actor.writing() as (session, user):
        subject = subject_repo.get_subject(session, code)
        subject_repo.update_subject(
            session,
            subject,
            actor=user,
            reason=reason,
            procedure_date=procedure_date,
            treated_levels=treated_levels,
            site=subject_repo.get_or_create_site(session, site, actor=user) if site else None,
            diagnosis=diagnosis,
            status=status,
        )
        return subject.code
