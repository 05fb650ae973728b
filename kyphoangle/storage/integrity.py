"""`kyphoangle audit verify`: the audit chain, every table row against its digest, every signature.

Three checks, in this order, each stopping at the first record that differs and naming it:

1. the hash chain of the audit trail (an edited, inserted or deleted event, a deleted tail; with an
   anchor kept outside the database, also a tail deleted together with a rewound head);
2. every row of every table against the digest the trail recorded when kyphoangle last wrote it
   (`kyphoangle.storage.ledger`): a column edited, a row inserted or deleted by any other tool;
3. every signature against the content hash of the read as stored now (`kyphoangle.storage.signatures`).
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect
from sqlalchemy.orm import Session

from kyphoangle.storage.audit import (
    SYSTEM_LOGIN,
    Anchor,
    AuditAction,
    AuditEntity,
    AuditVerification,
    append_event,
    canonical_json,
    verify_trail,
)
from kyphoangle.storage.ledger import (
    EXCLUDED_TABLES,
    Digests,
    describe_key,
    ledger_tables,
    scan_rows,
    scan_table,
    table_of_key,
)
from kyphoangle.storage.signatures import check_signatures

BASELINE_CHUNK_ROWS = 5000
"""Row digests per baseline event."""


def _compare_rows(session: Session, expected: Digests) -> tuple[int, str | None]:
    by_table: dict[str, Digests] = {}
    for key, digest in expected.items():
        by_table.setdefault(table_of_key(key), {})[key] = digest
    checked = 0
    connection = session.connection()
    for table in ledger_tables():
        wanted_rows = by_table.pop(table.name, {})
        for key, digest in scan_table(connection, table):
            checked += 1
            wanted = wanted_rows.pop(key, None)
            if wanted is None:
                return (
                    checked,
                    f"{describe_key(key)} was inserted outside kyphoangle (the trail never recorded it)",
                )
            if wanted != digest:
                return (
                    checked,
                    f"{describe_key(key)} was changed outside kyphoangle (it differs from the trail)",
                )
        for key, digest in sorted(wanted_rows.items()):
            if digest is not None:
                return checked, f"{describe_key(key)} was deleted outside kyphoangle (the trail recorded it)"
    return checked, None


def verify_database(session: Session, *, anchor: Anchor | None = None) -> AuditVerification:
    """Run the three checks; the result names the first record that differs, if any."""
    expected: Digests = {}
    chain = verify_trail(session, anchor=anchor, expected_rows=expected)
    if not chain.intact:
        return chain
    rows_checked, row_problem = _compare_rows(session, expected)
    if row_problem is not None:
        return AuditVerification(
            chain.events_checked,
            chain.head_sequence,
            chain.head_hash,
            None,
            row_problem,
            rows_checked=rows_checked,
        )
    signatures_checked, signature_problem = check_signatures(session.connection())
    return AuditVerification(
        chain.events_checked,
        chain.head_sequence,
        chain.head_hash,
        None,
        signature_problem.description if signature_problem is not None else None,
        rows_checked=rows_checked,
        signatures_checked=signatures_checked,
    )


def record_baseline(connection: Connection, *, reason: str) -> int:
    """Record the digest of every row as it is now, in events of 5,000 rows; returns the rows recorded.

    Used by the schema upgrade that introduced row digests (the rows written before it) and by tools
    that fill a database in bulk. The tables are read by reflection, so the columns are those the
    database has at that point of its migrations.
    """
    inspector = inspect(connection)
    digests: dict[str, str] = {}
    for table_name in sorted(inspector.get_table_names()):
        if table_name in EXCLUDED_TABLES:
            continue
        names = sorted(column["name"] for column in inspector.get_columns(table_name))
        primary_key = inspector.get_pk_constraint(table_name)["constrained_columns"]
        digests.update(scan_rows(connection, table_name, names, primary_key))
    items = sorted(digests.items())
    for start in range(0, len(items), BASELINE_CHUNK_ROWS):
        chunk = dict(items[start : start + BASELINE_CHUNK_ROWS])
        append_event(
            connection,
            actor_id=None,
            actor_login=SYSTEM_LOGIN,
            entity=AuditEntity.RECORDS.value,
            entity_id=f"{start + 1}-{start + len(chunk)}",
            action=AuditAction.BASELINE.value,
            new_values=canonical_json({"rows": len(chunk)}),
            reason=reason,
            row_digests=canonical_json(chunk),
        )
    return len(items)
