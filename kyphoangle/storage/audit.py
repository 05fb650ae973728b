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

Each event also carries the digests of the table rows written since the previous event
(`kyphoangle.storage.ledger`), so the trail vouches for every table, not only for itself
(`kyphoangle.storage.integrity` checks both).

What the chain cannot prove on its own: someone able to rewrite the whole table *and* recompute every
hash, or who deletes the newest events and rewinds the head with them. The anchor (`Anchor`: the head's
sequence and hash, printed by `kyphoangle audit anchor`) kept outside the database, e.g. in the trial
master file, closes that gap; on PostgreSQL the program's own role can also be refused UPDATE and
DELETE on the trail (`postgres_writer_grants`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, event, insert, select, update
from sqlalchemy.orm import Session

from kyphoangle import __version__
from kyphoangle.errors import AuditTrailError
from kyphoangle.storage.ledger import digest_rows, has_touched, install_tracking, merge_digests, take_touched
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
    WRITE = "write"
    BASELINE = "baseline"
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCK = "lock"
    UNLOCK = "unlock"


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
    PACS_NODE = "pacs_node"
    ACCESS = "access"
    """What a user tried to do (entity id: the action); used for refused actions."""
    SIGNATURE = "signature"
    RECORDS = "records"
    """Row digests of writes made after a transaction's last event, or taken when a schema was upgraded."""


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
    row_digests: str | None = None,
) -> bytes:
    """The bytes an event's hash is taken over: every stored field except the hash itself.

    `row_digests` (revision 0004_signed_records) is left out when empty, so the hashes of older events
    stay valid.
    """
    # The keys in sorted order, so the encoder need not sort them: the same text as `canonical_json`.
    content: dict[str, object] = {
        "action": action,
        "actor_id": actor_id,
        "actor_login": actor_login,
        "entity": entity,
        "entity_id": entity_id,
        "new_values": new_values,
        "occurred_at": _timestamp(occurred_at),
        "old_values": old_values,
        "previous_hash": previous_hash,
        "reason": reason,
    }
    if row_digests is not None:
        content["row_digests"] = row_digests
    content["sequence"] = sequence
    content["software_version"] = software_version
    return _EVENT_ENCODER.encode(content).encode("utf-8")


_EVENT_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


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
            row_digests=event.row_digests,
        )
    ).hexdigest()


_EVENT: Table = AuditEvent.__table__  # type: ignore[assignment]
_HEAD: Table = AuditHead.__table__  # type: ignore[assignment]
_ACTOR = "kyphoangle_audit_actor"
_PENDING = "kyphoangle_audit_pending"


def lock_trail(session: Session) -> None:
    """Take the audit lock now (PostgreSQL), so a long write transaction cannot deadlock on it later.

    On SQLite the write transaction already holds the database's write lock (BEGIN IMMEDIATE).
    """
    session.execute(select(AuditHead.id).where(AuditHead.id == _HEAD_ID).with_for_update())


def _append(connection: Connection, events: list[dict[str, Any]]) -> int:
    """Append events: lock the head row, chain and insert them; returns the last sequence number."""
    head = connection.execute(
        select(_HEAD.c.last_sequence, _HEAD.c.last_hash).where(_HEAD.c.id == _HEAD_ID).with_for_update()
    ).one()
    sequence, previous = int(head.last_sequence), str(head.last_hash)
    rows = []
    for values in events:
        sequence += 1
        chained = {**values, "sequence": sequence, "previous_hash": previous}
        previous = hashlib.sha256(canonical_event_bytes(**chained)).hexdigest()
        rows.append({**chained, "event_hash": previous})
    connection.execute(insert(_EVENT), rows)
    connection.execute(
        update(_HEAD).where(_HEAD.c.id == _HEAD_ID).values(last_sequence=sequence, last_hash=previous)
    )
    return sequence


def _event_values(
    *,
    actor_id: int | None,
    actor_login: str,
    entity: str,
    entity_id: str,
    action: str,
    old_values: str | None,
    new_values: str | None,
    reason: str | None,
    row_digests: str | None,
) -> dict[str, Any]:
    return {
        "occurred_at": utc_now(),
        "actor_id": actor_id,
        "actor_login": actor_login,
        "entity": entity,
        "entity_id": entity_id,
        "action": action,
        "old_values": old_values,
        "new_values": new_values,
        "reason": reason,
        "software_version": __version__,
        "row_digests": row_digests,
    }


def append_event(
    connection: Connection,
    *,
    actor_id: int | None,
    actor_login: str,
    entity: str,
    entity_id: str,
    action: str,
    old_values: str | None = None,
    new_values: str | None = None,
    reason: str | None = None,
    row_digests: str | None = None,
) -> int:
    """Append one event on `connection` now (locking the head row); returns its sequence number."""
    values = _event_values(
        actor_id=actor_id,
        actor_login=actor_login,
        entity=entity,
        entity_id=entity_id,
        action=action,
        old_values=old_values,
        new_values=new_values,
        reason=reason,
        row_digests=row_digests,
    )
    return _append(connection, [values])


def _row_digests_since_last_event(session: Session) -> str | None:
    touched = take_touched(session)
    if not touched:
        return None
    return canonical_json(digest_rows(session.connection(), touched))


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
    """Add one event to the trail in the session's transaction; returns how many it holds so far.

    `actor` None means the system itself. Values are made canonical JSON (dates as ISO text, Enums as
    their values). Flushes pending ORM changes first so ids exist and the event follows its change;
    the digests of the rows written since the previous event go into the event (`ledger`). The
    events of a transaction are chained and inserted when it commits: the trail's lock (the head
    row) is held only for that last moment, so programs writing at once wait for each other briefly.
    """
    session.flush()
    actor_id = actor.id if actor is not None else None
    actor_login = actor.login if actor is not None else SYSTEM_LOGIN
    session.info[_ACTOR] = (actor_id, actor_login)
    pending: list[dict[str, Any]] = session.info.setdefault(_PENDING, [])
    pending.append(
        _event_values(
            actor_id=actor_id,
            actor_login=actor_login,
            entity=AuditEntity(entity).value,
            entity_id=str(entity_id),
            action=AuditAction(action).value,
            old_values=canonical_json(dict(old)) if old is not None else None,
            new_values=canonical_json(dict(new)) if new is not None else None,
            reason=reason,
            row_digests=_row_digests_since_last_event(session),
        )
    )
    return len(pending)


def _close_transaction(session: Session) -> None:
    """Before a commit: a closing event for rows written after the last one; then the events go in."""
    session.flush()
    if has_touched(session):
        actor_id, actor_login = session.info.get(_ACTOR, (None, SYSTEM_LOGIN))
        session.info.setdefault(_PENDING, []).append(
            _event_values(
                actor_id=actor_id,
                actor_login=actor_login,
                entity=AuditEntity.RECORDS.value,
                entity_id="-",
                action=AuditAction.WRITE.value,
                old_values=None,
                new_values=None,
                reason=None,
                row_digests=_row_digests_since_last_event(session),
            )
        )
    pending = session.info.pop(_PENDING, None)
    if pending:
        _append(session.connection(), pending)


def _forget_actor(session: Session, *args: object) -> None:
    session.info.pop(_ACTOR, None)
    session.info.pop(_PENDING, None)
    take_touched(session)


def install_audit_hooks() -> None:
    """Fingerprint written rows and close every committing transaction with their digests (idempotent)."""
    install_tracking()
    if not event.contains(Session, "before_commit", _close_transaction):
        event.listen(Session, "before_commit", _close_transaction)
        event.listen(Session, "after_commit", _forget_actor)
        event.listen(Session, "after_rollback", _forget_actor)


install_audit_hooks()


def postgres_writer_grants(role: str) -> list[str]:
    """The statements giving a PostgreSQL role what the program needs, except changing the trail.

    Run them as the database's owner (who runs the migrations). The role may read and write every
    table and append to `audit_event`, but not UPDATE, DELETE or TRUNCATE it: on top of the triggers,
    an edit of the trail by the program's own account is refused by the server's permissions.
    """
    if not role.replace("_", "").isalnum():
        raise ValueError(f"{role!r} is not a plain role name")
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM {role}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}",
    ]


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
    """Events in order, optionally for one kind of entity (and one id); the last `limit` when given.

    The events the session's own transaction has recorded but not committed yet are included, numbered
    after the head as it stands (their final numbers are given at the commit).
    """
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
    pending: list[dict[str, Any]] = session.info.get(_PENDING, [])
    if pending:
        head = int(session.scalar(select(AuditHead.last_sequence).where(AuditHead.id == _HEAD_ID)) or 0)
        for n, values in enumerate(pending, start=1):
            if entity is not None and values["entity"] != AuditEntity(entity).value:
                continue
            if entity_id is not None and values["entity_id"] != str(entity_id):
                continue
            events.append(
                AuditRecord(
                    sequence=head + n,
                    occurred_at=values["occurred_at"],
                    actor_login=values["actor_login"],
                    entity=values["entity"],
                    entity_id=values["entity_id"],
                    action=values["action"],
                    old_values=json.loads(values["old_values"]) if values["old_values"] is not None else None,
                    new_values=json.loads(values["new_values"]) if values["new_values"] is not None else None,
                    reason=values["reason"],
                )
            )
    events.sort(key=lambda e: e.sequence)
    return events[-limit:] if limit is not None and limit > 0 else events


@dataclass(frozen=True, slots=True)
class Anchor:
    """The head of the trail written down outside the database: last sequence number and its hash."""

    sequence: int
    event_hash: str

    def __str__(self) -> str:
        return f"{self.sequence}:{self.event_hash}"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """Read `SEQUENCE:HASH` as `kyphoangle audit anchor` prints it."""
        sequence, _, event_hash = text.strip().partition(":")
        event_hash = event_hash.strip().lower()
        if not sequence.strip().isdigit() or len(event_hash) != 64 or any(c not in HEX for c in event_hash):
            raise AuditTrailError(
                f"{text!r} is not an audit anchor "
                "(expected SEQUENCE:HASH as 'kyphoangle audit anchor' prints it)"
            )
        return cls(int(sequence), event_hash)


HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """The result of checking the chain: intact, or the first bad event and what is wrong with it."""

    events_checked: int
    head_sequence: int
    head_hash: str
    first_bad_sequence: int | None = None
    problem: str | None = None
    rows_checked: int = 0
    signatures_checked: int = 0

    @property
    def intact(self) -> bool:
        """Whether every event is present, unaltered and in order."""
        return self.problem is None

    @property
    def anchor(self) -> Anchor:
        """The head as an anchor to keep outside the database."""
        return Anchor(self.head_sequence, self.head_hash)


_CHAIN_COLUMNS = (
    "sequence", "occurred_at", "actor_id", "actor_login", "entity", "entity_id", "action", "old_values",
    "new_values", "reason", "software_version", "previous_hash", "row_digests",
)  # fmt: skip


def verify_trail(
    session: Session, *, anchor: Anchor | None = None, expected_rows: dict[str, str | None] | None = None
) -> AuditVerification:
    """Recompute the chain from the first event; report the first event that breaks it.

    With `anchor`, the trail must still hold that event with that hash (a deleted tail is caught even
    when the head row was rewound with it). With `expected_rows`, the row digests of the events are
    replayed into it (row key -> digest expected now, None for a deleted row).
    """
    head = session.execute(select(AuditHead.last_sequence, AuditHead.last_hash)).one_or_none()
    if head is None:
        return AuditVerification(0, 0, GENESIS_HASH, 0, "the audit head row is missing")
    expected_sequence, previous = 1, GENESIS_HASH
    checked = 0

    def broken(sequence: int, problem: str) -> AuditVerification:
        return AuditVerification(checked, head.last_sequence, head.last_hash, sequence, problem)

    query = select(*(_EVENT.c[name] for name in _CHAIN_COLUMNS), _EVENT.c.event_hash).order_by(
        _EVENT.c.sequence
    )
    anchor_seen = anchor is None
    for row in session.connection().execute(query.execution_options(yield_per=5000)):
        values = dict(zip(_CHAIN_COLUMNS, row, strict=False))
        sequence = values["sequence"]
        what = (
            f"event {sequence} ({values['action']} {values['entity']} {values['entity_id']} "
            f"by {values['actor_login']})"
        )
        if sequence != expected_sequence:
            if sequence > expected_sequence:
                missing = (
                    f"event {expected_sequence}"
                    if sequence == expected_sequence + 1
                    else f"events {expected_sequence} to {sequence - 1}"
                )
                return broken(expected_sequence, f"{missing} deleted (the trail jumps to {what})")
            return broken(sequence, f"{what} is out of sequence")
        if values["previous_hash"] != previous:
            return broken(sequence, f"{what} does not follow the event before it (chain broken)")
        event_hash = row[-1]
        if hashlib.sha256(canonical_event_bytes(**values)).hexdigest() != event_hash:
            return broken(sequence, f"{what} was altered after it was recorded")
        if anchor is not None and sequence == anchor.sequence:
            if event_hash != anchor.event_hash:
                return broken(sequence, f"{what} is not the event of the anchor (its hash differs)")
            anchor_seen = True
        if expected_rows is not None and values["row_digests"] is not None:
            merge_digests(expected_rows, json.loads(values["row_digests"]))
        previous = event_hash
        expected_sequence += 1
        checked += 1
    last = expected_sequence - 1
    if not anchor_seen and anchor is not None:
        return broken(
            last + 1,
            f"events {last + 1} to {anchor.sequence} deleted: the anchor names event {anchor.sequence}, "
            f"the trail ends at event {last}",
        )
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
