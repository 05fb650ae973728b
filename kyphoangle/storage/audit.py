"""The audit trail (21 CFR Part 11 style): append-only, hash-chained events written with each change.

Every creation, modification and deletion of subjects, images, visit assignments, reads, landmarks
and users calls `record` inside the same transaction as the change, so both commit or neither does.
An event holds who (user id and login), when (UTC), the entity and its id, the action, the old and new
values as canonical JSON, and the reason when one is required.

Chaining: event N stores `previous_hash` (event N-1's hash, 64 zeros for the first) and `event_hash`,
the SHA-256 of its canonical content (`canonical_event_bytes`). The single `audit_head` row holds the
last sequence and hash; appending locks it (`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite every
write transaction is `BEGIN IMMEDIATE`, which already serialises writers), so the chain stays linear
when several programs write at once. Database triggers refuse UPDATE and DELETE on `audit_event`;
`verify_trail` detects what gets past them (an edited, deleted or inserted row, a cut-off tail).

What the chain cannot prove on its own: someone able to rewrite the whole table *and* recompute every
hash. Recording the head hash printed by `kyphoangle audit verify` outside the database (e.g. in the
trial master file) closes that gap.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kyphoangle import __version__
from kyphoangle.errors import AuditTrailError
from kyphoangle.storage.models import AuditEvent, AuditHead, User, utc_now

GENESIS_HASH = "0" * 64
"""The `previous_hash` of the first event."""
SYSTEM_LOGIN = "system"
"""The actor of events no user caused (creating the study when the database is made)."""
_HEAD_ID = 1


class AuditAction(enum.StrEnum):
    """What happened to the entity."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    SIGN = "sign"
    SUPERSEDE = "supersede"
    ASSIGN = "assign"
    RECOMPUTE = "recompute"
    EXPORT = "export"
    DENY = "deny"
    """An action the user's role does not allow was refused (`kyphoangle.workstation.access`)."""


class AuditEntity(enum.StrEnum):
    """The kinds of record the trail follows."""

    STUDY = "study"
    SITE = "site"
    SUBJECT = "subject"
    IDENTITY = "identity"
    IMAGE = "image"
    VISIT_ASSIGNMENT = "visit_assignment"
    READ = "read"
    LANDMARKS = "landmarks"
    MEASUREMENTS = "measurements"
    USER = "user"
    CAMPAIGN = "campaign"
    WORKLIST = "worklist"
    ADJUDICATION = "adjudication"
    ACCESS = "access"
    """What a user tried to do (entity id: the action); used for refused actions."""


def _json_default(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} cannot be recorded in the audit trail")


def canonical_json(value: object) -> str:
    """JSON with sorted keys and no spaces: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical_event_bytes(
    *,
    sequence: int,
    occurred_at: dt.datetime,
    actor_id: int | None,
    actor_login: str,
    entity: str,
    entity_id: str,
    action: str,
    old_values: str | None,
    new_values: str | None,
    reason: str | None,
    software_version: str,
    previous_hash: str,
) -> bytes:
    """The bytes an event's hash is taken over: every stored field except the hash itself."""
    content = {
        "sequence": sequence,
        "occurred_at": _timestamp(occurred_at),
        "actor_id": actor_id,
        "actor_login": actor_login,
        "entity": entity,
        "entity_id": entity_id,
        "action": action,
        "old_values": old_values,
        "new_values": new_values,
        "reason": reason,
        "software_version": software_version,
        "previous_hash": previous_hash,
    }
    return canonical_json(content).encode("utf-8")


def _hash_of(event: AuditEvent) -> str:
    return hashlib.sha256(
        canonical_event_bytes(
            sequence=event.sequence,
            occurred_at=event.occurred_at,
            actor_id=event.actor_id,
            actor_login=event.actor_login,
            entity=event.entity,
            entity_id=event.entity_id,
            action=event.action,
            old_values=event.old_values,
            new_values=event.new_values,
            reason=event.reason,
            software_version=event.software_version,
            previous_hash=event.previous_hash,
        )
    ).hexdigest()


def lock_trail(session: Session) -> None:
    """Take the audit lock now (PostgreSQL), so a long write transaction cannot deadlock on it later.

    On SQLite the write transaction already holds the database's write lock (BEGIN IMMEDIATE).
    """
    session.execute(select(AuditHead.id).where(AuditHead.id == _HEAD_ID).with_for_update())


def record(
    session: Session,
    *,
    actor: User | None,
    entity: AuditEntity,
    entity_id: object,
    action: AuditAction,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> int:
    """Append one event to the trail in the session's transaction; returns its sequence number.

    `actor` None means the system itself. Values are made canonical JSON (dates as ISO text, Enums as
    their values). Flushes pending ORM changes first so ids exist and the event follows its change.
    """
    session.flush()
    head = session.execute(
        select(AuditHead.last_sequence, AuditHead.last_hash).where(AuditHead.id == _HEAD_ID).with_for_update()
    ).one()
    sequence = int(head.last_sequence) + 1
    event = AuditEvent(
        sequence=sequence,
        occurred_at=utc_now(),
        actor_id=actor.id if actor is not None else None,
        actor_login=actor.login if actor is not None else SYSTEM_LOGIN,
        entity=AuditEntity(entity).value,
        entity_id=str(entity_id),
        action=AuditAction(action).value,
        old_values=canonical_json(dict(old)) if old is not None else None,
        new_values=canonical_json(dict(new)) if new is not None else None,
        reason=reason,
        software_version=__version__,
        previous_hash=head.last_hash,
        event_hash="",
    )
    event.event_hash = _hash_of(event)
    session.add(event)
    session.flush()
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == _HEAD_ID)
        .values(last_sequence=sequence, last_hash=event.event_hash)
    )
    return sequence


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The entries that differ between two snapshots: (old values, new values), keys in both."""
    keys = [key for key in {**old, **new} if old.get(key) != new.get(key)]
    return {key: old.get(key) for key in keys}, {key: new.get(key) for key in keys}


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One event as shown to a user (values decoded from JSON)."""

    sequence: int
    occurred_at: dt.datetime
    actor_login: str
    entity: str
    entity_id: str
    action: str
    old_values: Any
    new_values: Any
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = dataclasses.asdict(self)
        data["occurred_at"] = _timestamp(self.occurred_at)
        return data


def list_events(
    session: Session,
    *,
    entity: AuditEntity | str | None = None,
    entity_id: object | None = None,
    limit: int | None = None,
) -> list[AuditRecord]:
    """Events in order, optionally for one kind of entity (and one id); the last `limit` when given."""
    query = select(AuditEvent)
    if entity is not None:
        query = query.where(AuditEvent.entity == AuditEntity(entity).value)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == str(entity_id))
    if limit is not None:
        query = query.order_by(AuditEvent.sequence.desc()).limit(limit)
    else:
        query = query.order_by(AuditEvent.sequence)
    events = [
        AuditRecord(
            sequence=e.sequence,
            occurred_at=e.occurred_at,
            actor_login=e.actor_login,
            entity=e.entity,
            entity_id=e.entity_id,
            action=e.action,
            old_values=json.loads(e.old_values) if e.old_values is not None else None,
            new_values=json.loads(e.new_values) if e.new_values is not None else None,
            reason=e.reason,
        )
        for e in session.scalars(query)
    ]
    return sorted(events, key=lambda e: e.sequence)


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """The result of checking the chain: intact, or the first bad event and what is wrong with it."""

    events_checked: int
    head_sequence: int
    head_hash: str
    first_bad_sequence: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        """Whether every event is present, unaltered and in order."""
        return self.problem is None


def _iter_events(session: Session) -> Iterator[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.sequence).execution_options(yield_per=2000)
    for event in session.scalars(query):
        yield event
        session.expunge(event)


def verify_trail(session: Session) -> AuditVerification:
    """Recompute the chain from the first event; report the first event that breaks it."""
    head = session.execute(select(AuditHead.last_sequence, AuditHead.last_hash)).one_or_none()
    if head is None:
        return AuditVerification(0, 0, GENESIS_HASH, 0, "the audit head row is missing")
    expected_sequence, previous = 1, GENESIS_HASH
    checked = 0

    def broken(sequence: int, problem: str) -> AuditVerification:
        return AuditVerification(checked, head.last_sequence, head.last_hash, sequence, problem)

    for event in _iter_events(session):
        what = (
            f"event {event.sequence} ({event.action} {event.entity} {event.entity_id} by {event.actor_login})"
        )
        if event.sequence != expected_sequence:
            if event.sequence > expected_sequence:
                missing = (
                    f"event {expected_sequence}"
                    if event.sequence == expected_sequence + 1
                    else f"events {expected_sequence} to {event.sequence - 1}"
                )
                return broken(expected_sequence, f"{missing} deleted (the trail jumps to {what})")
            return broken(event.sequence, f"{what} is out of sequence")
        if event.previous_hash != previous:
            return broken(event.sequence, f"{what} does not follow the event before it (chain broken)")
        if _hash_of(event) != event.event_hash:
            return broken(event.sequence, f"{what} was altered after it was recorded")
        previous = event.event_hash
        expected_sequence += 1
        checked += 1
    last = expected_sequence - 1
    if head.last_sequence != last or head.last_hash != previous:
        if head.last_sequence > last:
            return broken(
                last + 1, f"events {last + 1} to {head.last_sequence} deleted (the trail ends early)"
            )
        return broken(head.last_sequence, "the audit head does not match the last event")
    return AuditVerification(checked, head.last_sequence, head.last_hash)


def require_intact(session: Session) -> AuditVerification:
    """Verify the trail; raise AuditTrailError naming the first bad event when it is damaged."""
    result = verify_trail(session)
    if not result.intact:
        raise AuditTrailError(f"the audit trail is damaged: {result.problem}")
    return result
