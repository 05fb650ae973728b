"""Recomputing stored measurements from stored landmarks (after a software fix, or for another table).

Measurements are derived data: the landmarks are what a reader placed and signed. `recompute`:

- recomputes every read's own measurements with the normal table recorded on the read and updates
  the rows whose value (or reason for not computing) changed, writing one audit event per read with
  the old and new values. Signed reads are included: their landmarks stay locked, and the audit event
  keeps the values they replace.
- When the recorded table has a new version since the read was saved: a draft moves to the new
  version; a signed read keeps its ART rows as recorded (they cannot be reproduced from a table
  version that no longer ships), and is listed in `kept`.
- With `normal_table`, adds (or refreshes) ART rows computed with that table, versioned by its name
  and version, *beside* the read's own rows: no signed value is overwritten, and the export tells them
  apart by the `normal_table` column.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from kyphoangle import __version__
from kyphoangle.errors import KyphoangleError
from kyphoangle.normal_table import NormalTable, load_normal_table
from kyphoangle.protocol import GlobalEndpoints, MeasurementName
from kyphoangle.storage.audit import AuditAction, AuditEntity, record
from kyphoangle.storage.images import image_spacing
from kyphoangle.storage.models import MeasurementRow, Read, User
from kyphoangle.storage.reads import compute_for, iter_reads, measurement_values, read_content
from kyphoangle.storage.users import Permission, require_permission
from kyphoangle.vocabulary import ReadStatus

_COMPARED = (
    "value",
    "unit",
    "spacing_source",
    "endpoints",
    "landmark_keys",
    "not_computed_reason",
    "missing_landmarks",
)
_ART = MeasurementName.TRAUMATIC_REGIONAL_ANGLE.value


@dataclass
class RecomputeSummary:
    """What a recompute changed."""

    reads_checked: int = 0
    reads_changed: list[int] = field(default_factory=list)
    rows_updated: int = 0
    rows_added: int = 0
    rows_removed: int = 0
    kept: list[tuple[int, str]] = field(default_factory=list)
    """(read id, why) for reads whose ART rows were left as recorded."""


def _key(values: dict[str, Any]) -> tuple[str, str, str, str]:
    return (
        str(values["name"]),
        values["level"] or "",
        values["normal_table_name"] or "",
        values["normal_table_version"] or "",
    )


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return str(a) == str(b) if a is not None and b is not None else a is b


def _row_values(row: MeasurementRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "level": row.level,
        "normal_table_name": row.normal_table_name,
        "normal_table_version": row.normal_table_version,
        **{column: getattr(row, column) for column in _COMPARED},
    }


def _label(key: tuple[str, str, str, str]) -> str:
    name, level, table, version = key
    return "@".join(part for part in (name, level, f"{table} v{version}" if table else "") if part)


def recompute_read(
    session: Session, read: Read, *, actor: User, extra_table: NormalTable | None, summary: RecomputeSummary
) -> None:
    """Recompute one read's rows (and the extra table's ART rows); audited when anything changed."""
    content = read_content(read)
    image = read.image
    endpoints = content.endpoints or GlobalEndpoints()
    own = load_normal_table(read.normal_table_name)
    keep_own_art = False
    if own.version != read.normal_table_version:
        if read.status == ReadStatus.DRAFT:
            read.normal_table_version = own.version
        else:
            keep_own_art = True
            summary.kept.append(
                (
                    read.id,
                    f"signed with {read.normal_table_name} v{read.normal_table_version}; "
                    f"v{own.version} is shipped now (use --normal-table {own.name} to add its values)",
                )
            )
    spacing = content.calibration or image_spacing(image)
    wanted = {
        _key(values): values
        for values in measurement_values(compute_for(image, content, own), spacing, own, endpoints)
        if not (keep_own_art and str(values["name"]) == _ART)
    }
    if extra_table is not None and (extra_table.name, extra_table.version) != (
        read.normal_table_name,
        read.normal_table_version,
    ):
        for values in measurement_values(
            compute_for(image, content, extra_table), spacing, extra_table, endpoints
        ):
            if str(values["name"]) == _ART:
                wanted[_key(values)] = values

    extra_key = (extra_table.name, extra_table.version) if extra_table is not None else None
    existing: dict[tuple[str, str, str, str], MeasurementRow] = {}
    for row in read.measurements:
        key = _key(_row_values(row))
        table = (key[2], key[3])
        own_row = not key[2] or table == (read.normal_table_name, read.normal_table_version)
        if own_row and keep_own_art and key[0] == _ART:
            continue  # kept as recorded
        if not own_row and table != extra_key:
            continue  # another table's rows, not asked for
        existing[key] = row

    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for key, row in existing.items():
        target = wanted.get(key)
        if target is None:
            old[_label(key)] = row.value if row.value is not None else row.not_computed_reason
            new[_label(key)] = None
            read.measurements.remove(row)
            summary.rows_removed += 1
            continue
        if all(_same(getattr(row, column), target[column]) for column in _COMPARED):
            continue
        old[_label(key)] = row.value if row.value is not None else row.not_computed_reason
        for column in (*_COMPARED, "software_version", "computed_at"):
            setattr(row, column, target[column])
        new[_label(key)] = row.value if row.value is not None else row.not_computed_reason
        summary.rows_updated += 1
    for key, values in wanted.items():
        if key in existing:
            continue
        read.measurements.append(MeasurementRow(**values))
        old[_label(key)] = None
        new[_label(key)] = values["value"] if values["value"] is not None else values["not_computed_reason"]
        summary.rows_added += 1
    summary.reads_checked += 1
    if new:
        summary.reads_changed.append(read.id)
        record(
            session,
            actor=actor,
            entity=AuditEntity.MEASUREMENTS,
            entity_id=read.id,
            action=AuditAction.RECOMPUTE,
            old=old,
            new=new,
            reason=f"recomputed from the stored landmarks by kyphoangle {__version__}"
            + (f" with normal table {extra_table.name} v{extra_table.version}" if extra_table else ""),
        )


def recompute(
    session: Session,
    *,
    actor: User,
    normal_table: str | None = None,
    read_ids: Iterable[int] | None = None,
) -> RecomputeSummary:
    """Recompute the measurements of every read (or those listed); see the module docstring."""
    require_permission(actor, Permission.RECOMPUTE)
    extra = load_normal_table(normal_table) if normal_table is not None else None
    summary = RecomputeSummary()
    for read in list(iter_reads(session, read_ids)):
        try:
            with session.begin_nested():
                recompute_read(session, read, actor=actor, extra_table=extra, summary=summary)
        except KyphoangleError as exc:
            summary.kept.append((read.id, str(exc)))
    session.flush()
    return summary
