"""The audit trail: verifying its hash chain and listing its events (for those allowed to read it)."""

from __future__ import annotations

from kyphoangle.storage import Database
from kyphoangle.storage.audit import AuditEntity, AuditRecord, AuditVerification, list_events, verify_trail
from kyphoangle.workstation.access import Action
from kyphoangle.workstation.connection import SignedIn

__all__ = ["AuditEntity", "AuditRecord", "AuditVerification", "list_audit_events", "verify_audit_trail"]


def verify_audit_trail(database: Database) -> AuditVerification:
    """Recompute the chain from the first event (needs no sign-in: it shows no record's content)."""
    with database.reading() as session:
        return verify_trail(session)


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
