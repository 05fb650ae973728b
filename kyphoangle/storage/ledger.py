"""Row digests: a fingerprint of every table row kyphoangle writes, kept in the audit trail.

Every session of the program notes the rows each flush inserts, updates or deletes (the ORM's own
bookkeeping, plus the children a database-side cascade deletes). When an audit event is appended, the
rows noted since the previous event are read back from the database and their digests go into the
event (`row_digests`: row key -> digest, or null for a deleted row); a transaction that changed rows
after its last event gets a closing `records`/`write` event. Because the digests are inside the hash
chain, `kyphoangle audit verify` can replay the chain into the expected digest of every row and compare
it with the tables as they are: a value edited, a row inserted or deleted with any other tool is named.

A row key is `table:primary key` (`landmark:42|T12.superior.anterior`); a digest is the first 128 bits
of the SHA-256 of the table name, its column names in order and the `repr` of the row's values in
that order. Rows are read *untyped*, as the database driver returns them (no conversion that a
malformed value could make fail), so a digest taken when kyphoangle wrote a row and one taken by
`verify` always agree, whatever was done to the row in between.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, TableClause, event, inspect, select, tuple_
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.orm import Session, UOWTransaction

from kyphoangle.storage.models import Base

EXCLUDED_TABLES = frozenset({"audit_event", "audit_head", "alembic_version"})
"""Tables not fingerprinted: the trail itself (checked by its own chain) and Alembic's bookkeeping."""
TOUCHED_ROWS = "kyphoangle_touched_rows"
"""`Session.info` key of the rows written since the last audit event: table -> set of primary keys."""
DIGEST_HEX_DIGITS = 32
_BATCH = 400


def ledger_tables() -> list[Table]:
    """The models' tables that are fingerprinted, by name."""
    return sorted(
        (table for table in Base.metadata.tables.values() if table.name not in EXCLUDED_TABLES),
        key=lambda table: table.name,
    )


def row_key(table_name: str, primary_key: Iterable[object]) -> str:
    """The key naming one row in the trail: `table:value|value` (primary keys are numbers or text)."""
    return f"{table_name}:{'|'.join(str(value) for value in primary_key)}"


def _prefix(table_name: str, names: Sequence[str]) -> str:
    return f"{table_name}\x1e{chr(0x1F).join(names)}\x1e"


def row_digest(table_name: str, names: Sequence[str], values: Sequence[object]) -> str:
    """The digest of one row; `names` are the column names in sorted order, `values` in the same order.

    The values are written by `repr` of the driver's own Python values (text, numbers, None, and on
    PostgreSQL dates and booleans): the same row read twice by the same driver gives the same text.
    """
    return _digest(_prefix(table_name, names), values)


def _digest(prefix: str, values: Sequence[object]) -> str:
    text = prefix + repr(tuple(values))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGEST_HEX_DIGITS]


def _layout(table: Table) -> tuple[list[str], list[int]]:
    names = sorted(column.name for column in table.columns)
    positions = [names.index(column.name) for column in table.primary_key.columns]
    return names, positions


def untyped(table_name: str, names: Iterable[str]) -> TableClause:
    """The table with untyped columns: values come as the driver returns them, unconverted."""
    return sql_table(table_name, *(sql_column(name) for name in names))


def scan_rows(
    connection: Connection, table_name: str, names: Sequence[str], primary_key: Sequence[str]
) -> Iterator[tuple[str, str]]:
    """(row key, digest) of every row of a table, by primary key; `names` sorted."""
    raw = untyped(table_name, names)
    positions = [list(names).index(name) for name in primary_key]
    query = select(*(raw.c[name] for name in names)).order_by(*(raw.c[name] for name in primary_key))
    prefix = _prefix(table_name, names)
    sha256 = hashlib.sha256
    cursor = connection.execute(query.execution_options(yield_per=5000))
    if len(positions) == 1:
        (position,) = positions
        for row in cursor:
            yield (
                f"{table_name}:{row[position]}",
                sha256((prefix + repr(tuple(row))).encode("utf-8")).hexdigest()[:DIGEST_HEX_DIGITS],
            )
        return
    for row in cursor:
        yield row_key(table_name, [row[p] for p in positions]), _digest(prefix, row)


def scan_table(connection: Connection, table: Table) -> Iterator[tuple[str, str]]:
    """(row key, digest) of every row of one of the models' tables, by primary key."""
    names, _ = _layout(table)
    yield from scan_rows(connection, table.name, names, [column.name for column in table.primary_key.columns])


def digest_rows(
    connection: Connection, touched: Mapping[str, Iterable[tuple[object, ...]]]
) -> dict[str, str | None]:
    """The current digest of each listed row (None for a row that no longer exists)."""
    result: dict[str, str | None] = {}
    tables = Base.metadata.tables
    for table_name in sorted(touched):
        table = tables[table_name]
        names, positions = _layout(table)
        raw = untyped(table_name, names)
        keys = sorted({tuple(key) for key in touched[table_name]}, key=repr)
        pk_columns = [raw.c[column.name] for column in table.primary_key.columns]
        for start in range(0, len(keys), _BATCH):
            batch = keys[start : start + _BATCH]
            if len(pk_columns) == 1:
                condition = pk_columns[0].in_([key[0] for key in batch])
            else:
                condition = tuple_(*pk_columns).in_(batch)
            found = {}
            for row in connection.execute(select(*(raw.c[name] for name in names)).where(condition)):
                found[row_key(table_name, [row[p] for p in positions])] = row_digest(table_name, names, row)
            for key in batch:
                text_key = row_key(table_name, key)
                result[text_key] = found.get(text_key)
    return result


def take_touched(session: Session) -> dict[str, set[tuple[object, ...]]]:
    """The rows written since the last audit event (and forget them)."""
    touched: dict[str, set[tuple[object, ...]]] = session.info.pop(TOUCHED_ROWS, {})
    return touched


def has_touched(session: Session) -> bool:
    """Whether rows were written since the last audit event."""
    return bool(session.info.get(TOUCHED_ROWS))


def note_row(session: Session, table_name: str, primary_key: tuple[object, ...]) -> None:
    """Note a row as written (for writes the ORM does not see)."""
    if table_name in EXCLUDED_TABLES:
        return
    touched = session.info.setdefault(TOUCHED_ROWS, {})
    touched.setdefault(table_name, set()).add(tuple(primary_key))


def _note_instance(session: Session, instance: object) -> None:
    state = inspect(instance)
    mapper = state.mapper
    table = mapper.local_table
    if not isinstance(table, Table) or table.name in EXCLUDED_TABLES:
        return
    identity = state.identity
    if identity is None:
        identity = tuple(
            state.dict.get(mapper.get_property_by_column(column).key) for column in mapper.primary_key
        )
        if any(value is None for value in identity):
            return
    note_row(session, table.name, tuple(identity))


def _before_flush(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    # Children removed by ON DELETE CASCADE in the database never pass through the ORM: note them now.
    with session.no_autoflush:
        for instance in list(session.deleted):
            mapper = inspect(instance).mapper
            for relationship in mapper.relationships:
                if not (relationship.cascade.delete and relationship.passive_deletes):
                    continue
                children = getattr(instance, relationship.key)
                for child in children if isinstance(children, list) else [children]:
                    if child is not None:
                        _note_instance(session, child)


def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        _note_instance(session, instance)


def install_tracking() -> None:
    """Note written rows in every ORM session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)


def table_of_key(key: str) -> str:
    """The table part of a row key."""
    return key.split(":", 1)[0]


def describe_key(key: str) -> str:
    """A row key as a person reads it: `table landmark, row 42|T12.superior.anterior`."""
    table, _, primary_key = key.partition(":")
    return f"table {table}, row {primary_key}"


Digests = dict[str, str | None]


def merge_digests(expected: Digests, recorded: Mapping[str, Any]) -> None:
    """Apply one event's row digests to the expected state."""
    for key, digest in recorded.items():
        expected[key] = digest if isinstance(digest, str) else None
