"""The audit trail: verifying its hash chain, the records and the signatures, and listing its events."""

from __future__ import annotations

from kyphoangle.storage import Database
from kyphoangle.storage.audit import (
    Anchor,
    AuditEntity,
    AuditRecord,
    AuditVerification,
    list_events,
    verify_trail,
)
from kyphoangle.storage.integrity import verify_database
from kyphoangle.workstation.access import Action
from kyphoangle.workstation.connection import SignedIn

__all__ = [
    "Anchor",
    "AuditEntity",
    "AuditRecord",
    "AuditVerification",
    "list_audit_events",
    "verify_audit_trail",
    "verify_records",
]


def verify_audit_trail(database: Database) -> AuditVerification:
    """Recompute the chain from the first event (needs no sign-in: it shows no record's content)."""
    with database.reading() as session:
        return verify_trail(session)


def verify_records(database: Database, *, anchor: Anchor | None = None) -> AuditVerification:
    """Check the chain, every row of every table against its recorded digest and every signature against
    its read's content (needs no sign-in: names the first record that differs, shows no content)."""
    with database.reading() as session:
        return verify_database(session, anchor=anchor)


def list_audit_events(
    actor: SignedIn,
    *,
    entity: AuditEntity | str | None = None,
    entity_id: str | None = None,
    last: int | None = None,
) -> list[AuditRecord]:
    """Events in order, optionally of one kind of entity (and one id), the last `last` when given."""
    actor.check(Action.LIST_AUDIT)
    with actor.reading() as (session, _user):
        return list_events(session, entity=entity, entity_id=entity_id, limit=last)
