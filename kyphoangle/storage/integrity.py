"""`kyphoangle audit verify`: the audit chain, every table row against its digest, every signature.

Three checks, in this order, each stopping at the first record that differs and naming it:

1. the hash chain of the audit trail (an edited, inserted or deleted event, a deleted tail; with an
   anchor kept outside the database, also a tail deleted together with a rewound head);
2. every row of every table against the digest the trail recorded when kyphoangle last wrote it
   (`kyphoangle.storage.ledger`): a column edited, a row inserted or deleted by any other tool;
3. every signature against the content hash of the read as stored now (`kyphoangle.storage.signatures`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kyphoangle.storage.audit import Anchor, AuditVerification, verify_trail
from kyphoangle.storage.ledger import Digests, describe_key, ledger_tables, scan_table, table_of_key
from kyphoangle.storage.signatures import check_signatures


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
