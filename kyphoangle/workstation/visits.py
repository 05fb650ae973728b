"""The visit schedule (windows in days from the procedure, D0) and assigning a film's visit by hand."""

from __future__ import annotations

from dataclasses import dataclass

from kyphoangle.storage import images as image_repo
from kyphoangle.storage import study as study_repo
from kyphoangle.workstation.access import Action
from kyphoangle.workstation.connection import SignedIn

__all__ = ["VisitWindowRow", "assign_visit", "list_visits"]


@dataclass(frozen=True, slots=True)
class VisitWindowRow:
    """One visit of the schedule: its code, label, target day and window."""

    code: str
    label: str
    target_day: int
    min_day: int
    max_day: int
    baseline: bool


def list_visits(actor: SignedIn) -> list[VisitWindowRow]:
    """The study's visit windows."""
    actor.check(Action.LIST_VISITS)
    with actor.reading() as (session, _user):
        return [
            VisitWindowRow(v.code, v.label, v.target_day, v.min_day, v.max_day, v.is_baseline)
            for v in study_repo.list_visits(session)
        ]


def assign_visit(actor: SignedIn, sop_instance_uid: str, visit: str, reason: str) -> str:
    """Set a film's visit by hand (kept when D0 changes; audited); the visit's label."""
    actor.check(Action.ASSIGN_VISITS)
    with actor.writing() as (session, user):
        image = image_repo.get_image(session, sop_instance_uid)
        image_repo.assign_visit(session, image, visit, actor=user, reason=reason)
        return image_repo.visit_label(image)
