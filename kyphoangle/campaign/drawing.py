"""Drawing a campaign's cases: which films, and each reader's worklist items."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyphoangle.errors import (
    NotFoundError,
)
from kyphoangle.storage.models import (
    CampaignCase,
    CampaignReader,
    Image,
    Site,
    Subject,
    Visit,
)
from kyphoangle.storage.models import WorklistItem as WorklistItemRow


def select_images(
    session: Session,
    subjects: Sequence[str] | None,
    visits: Sequence[str] | None,
    sites: Sequence[str] | None,
) -> list[Image]:
    """The films of the campaign: of every subject, or of the subjects, visits and sites given."""
    query = select(Image).join(Subject, Subject.id == Image.subject_id).order_by(Image.id)
    if subjects:
        known = set(session.scalars(select(Subject.code).where(Subject.code.in_(subjects))))
        if missing := sorted(set(subjects) - known):
            raise NotFoundError(f"there is no subject {', '.join(missing)}")
        query = query.where(Subject.code.in_(subjects))
    if visits:
        known = set(session.scalars(select(Visit.code).where(Visit.code.in_(visits))))
        if missing := sorted(set(visits) - known):
            raise NotFoundError(f"there is no visit {', '.join(missing)}")
        query = query.join(Visit, Visit.id == Image.visit_id).where(Visit.code.in_(visits))
    if sites:
        known = set(session.scalars(select(Site.code).where(Site.code.in_(sites))))
        if missing := sorted(set(sites) - known):
            raise NotFoundError(f"there is no site {', '.join(missing)}")
        query = query.join(Site, Site.id == Subject.site_id).where(Site.code.in_(sites))
    return list(session.scalars(query))


def worklist_item(
    member: CampaignReader, case: CampaignCase, position: int, is_repeat: bool
) -> WorklistItemRow:
    """One reader's worklist item: a case at a place in their order, first reading or hidden repeat."""
    return WorklistItemRow(
        campaign_reader_id=member.id, case_id=case.id, order_position=position, is_repeat=is_repeat
    )
