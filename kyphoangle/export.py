"""CSV export of the stored measurements for the statisticians: long (one row per value) or wide.

Nothing identifying is written: no patient name, no DICOM patient ID, no date of a film or visit (the
only time written is when a read was signed). Films are
placed in time by `visit` and `visit_day` (days from the procedure, D0). Every column is described in
`resources/data_dictionary.csv`, which `export_csv` copies next to the CSV (`OUT.dictionary.csv`).

Which reads: by default every current read (drafts and signed reads; superseded reads are left out
since their amendment replaces them); `signed_only` keeps signed reads; `include_superseded` (the
command's `--history`) adds the superseded ones (status `superseded`). Every row carries its read's
version (`read_version`, `amends_read_id`) and signature (`signed_by`, `signed_at_utc`,
`signature_meaning`). Text cells that a spreadsheet could run as formulas are neutralised.
A not-evaluable level gives rows with an empty value and the reason in `not_evaluable`; a value that
could not be computed has an empty value and the reason in `not_computed`.

Change from baseline: the value minus the value of the same measurement, level, endpoints and normal
table from the *baseline read* of the same subject, reader and read type. The baseline read is the
latest signed (by signing time), not superseded read of that reader and read type on a film assigned
to the baseline visit; drafts never serve as baseline. `baseline_read_id` names it. Without such a
read the change is empty.

Rows are streamed from one Core query (no ORM objects), so exports of any size run in constant memory.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Select, String, and_, select, type_coerce
from sqlalchemy.orm import Session

from kyphoangle.normal_table import load_normal_table
from kyphoangle.output_file import STANDARD_OUTPUT, output_text, write_bytes
from kyphoangle.protocol import MEASUREMENT_DEFINITIONS, MeasurementName
from kyphoangle.resources import resource_path
from kyphoangle.storage.engine import bulk_results
from kyphoangle.storage.images import study_day_sql
from kyphoangle.storage.models import (
    Image,
    Landmark,
    MeasurementRow,
    Read,
    ReadLevel,
    Signature,
    Site,
    Subject,
    TreatedLevel,
    User,
    Visit,
)
from kyphoangle.storage.schedule import UNSCHEDULED
from kyphoangle.storage.users import Permission, require_permission
from kyphoangle.text_safety import csv_row
from kyphoangle.vocabulary import FRACTURE_LEVELS, ReadStatus, VisitAssignment

LONG_COLUMNS: tuple[str, ...] = (
    "subject", "site", "diagnosis", "visit", "visit_day", "reader", "read_type", "read_id", "read_status",
    "level", "treated_level", "measurement", "value", "unit", "change_from_baseline", "baseline_read_id",
    "spacing_source", "normal_table", "normal_table_version", "endpoints", "patient_position",
    "not_evaluable", "not_computed", "sop_instance_uid", "read_version", "amends_read_id", "signed_by",
    "signed_at_utc", "signature_meaning", "snapped_landmarks",
)  # fmt: skip
"""Columns of the long format, in order (described in resources/data_dictionary.csv)."""

WIDE_ID_COLUMNS: tuple[str, ...] = (
    "subject", "site", "diagnosis", "visit", "visit_day", "reader", "read_type", "read_id", "read_status",
    "patient_position", "spacing_source", "normal_table", "normal_table_version", "kyphosis_endpoints",
    "lordosis_endpoints", "sop_instance_uid", "read_version", "amends_read_id", "signed_by", "signed_at_utc",
    "signature_meaning",
)  # fmt: skip
"""The columns identifying a row of the wide format, before the value columns."""

DICTIONARY_FILENAME = "data_dictionary.csv"


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What was written."""

    path: Path
    dictionary_path: Path | None
    """None when the CSV went to standard output (`-`): the dictionary ships in the package."""
    rows: int
    reads: int


def wide_value_columns() -> list[str]:
    """The value columns of the wide format: global measurements, then `<measurement>_<level>`."""
    columns = [str(d.name) for d in MEASUREMENT_DEFINITIONS.values() if not d.per_level]
    per_level = [str(d.name) for d in MEASUREMENT_DEFINITIONS.values() if d.per_level]
    for level in FRACTURE_LEVELS:
        columns += [f"{name}_{level}" for name in per_level]
    columns += [f"not_evaluable_{level}" for level in FRACTURE_LEVELS]
    return columns


def dictionary_path_for(out: Path) -> Path:
    """`OUT.dictionary.csv` beside `OUT.csv`."""
    stem = out.name[: -len(out.suffix)] if out.suffix else out.name
    return out.with_name(f"{stem}.dictionary.csv")


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return repr(float(value))


_SelectT = TypeVar("_SelectT", bound=Select[*tuple[Any, ...]])


def _read_filters(query: _SelectT, *, signed_only: bool, include_superseded: bool) -> _SelectT:
    if signed_only:
        query = query.where(Read.status == ReadStatus.SIGNED)
    if not include_superseded:
        query = query.where(Read.superseded_by_id.is_(None))
    return query


def _baselines(session: Session) -> tuple[dict[tuple[int, int, str], int], dict[tuple[Any, ...], float]]:
    """Baseline read per (subject, reader, read type), and its values by measurement key."""
    candidates = (
        session.connection()
        .execute(
            select(Image.subject_id, Read.reader_id, Read.read_type, Read.id, Read.signed_at)
            .join(Image, Image.id == Read.image_id)
            .join(Visit, Visit.id == Image.visit_id)
            .where(
                Visit.is_baseline.is_(True),
                Read.status == ReadStatus.SIGNED,
                Read.superseded_by_id.is_(None),
            )
        )
        .all()
    )
    chosen: dict[tuple[int, int, str], tuple[Any, int]] = {}
    for subject_id, reader_id, read_type, read_id, signed_at in candidates:
        key = (subject_id, reader_id, str(read_type))
        if key not in chosen or (signed_at, read_id) > chosen[key]:
            chosen[key] = (signed_at, read_id)
    baseline_reads = {key: read_id for key, (_, read_id) in chosen.items()}
    wanted = set(baseline_reads.values())
    values: dict[tuple[Any, ...], float] = {}
    if not wanted:
        return baseline_reads, values
    rows = session.connection().execute(
        select(
            MeasurementRow.read_id,
            _text(MeasurementRow.name),
            MeasurementRow.level,
            MeasurementRow.endpoints,
            MeasurementRow.normal_table_name,
            MeasurementRow.normal_table_version,
            MeasurementRow.value,
        )
        .join(Read, Read.id == MeasurementRow.read_id)
        .join(Image, Image.id == Read.image_id)
        .join(Visit, Visit.id == Image.visit_id)
        .where(
            Visit.is_baseline.is_(True), Read.status == ReadStatus.SIGNED, MeasurementRow.value.is_not(None)
        )
    )
    for read_id, name, level, endpoints, table, version, value in rows:
        if read_id in wanted and value is not None:
            values[(read_id, str(name), level, endpoints, table, version)] = value
    return baseline_reads, values


def _visit_label(code: str | None, assignment: str) -> str:
    if code is not None:
        return code
    return "pending" if assignment == VisitAssignment.PENDING.value else UNSCHEDULED


def _status(status: str, superseded_by: int | None) -> str:
    return "superseded" if superseded_by is not None else str(status)


def _read_cells(
    subject: str,
    site: str | None,
    diagnosis: Any,
    visit: str | None,
    assignment: Any,
    day: int | None,
    reader: str,
    read_type: Any,
    read_id: int,
    status: Any,
    superseded_by: int | None,
) -> list[str]:
    """The leading columns shared by long and wide rows: subject, site, diagnosis, visit, day, read."""
    return [
        subject,
        site or "",
        str(diagnosis) if diagnosis is not None else "",
        _visit_label(visit, str(assignment)),
        "" if day is None else str(day),
        reader,
        str(read_type),
        str(read_id),
        _status(str(status), superseded_by),
    ]


def _version_cells(
    read_version: int, amends: int | None, signed_by: str | None, signed_at: Any, meaning: str | None
) -> list[str]:
    """The read's version, what it amends, and its signature: signer, time (UTC) and meaning."""
    return [
        str(read_version),
        "" if amends is None else str(amends),
        signed_by or "",
        signed_at.strftime("%Y-%m-%dT%H:%M:%SZ") if signed_at is not None else "",
        meaning.replace("_", " ") if meaning else "",
    ]


def _text(column: Any) -> Any:
    """The column as plain text (no Enum conversion per row: exports stream 100,000s of rows)."""
    return type_coerce(column, String)


def _treated(session: Session) -> set[tuple[int, str]]:
    return {
        (s, level)
        for s, level in session.connection().execute(select(TreatedLevel.subject_id, TreatedLevel.level))
    }


def _snapped(session: Session) -> dict[int, set[str]]:
    """Per read, the landmarks placed by accepting a snapping proposal."""
    snapped: dict[int, set[str]] = {}
    query = select(Landmark.read_id, Landmark.key).where(Landmark.accepted.is_(True))
    for read_id, key in session.connection().execute(query):
        snapped.setdefault(read_id, set()).add(key)
    return snapped


def iter_long_rows(
    session: Session,
    *,
    signed_only: bool = False,
    include_superseded: bool = False,
    normal_table: str | None = None,
) -> Iterator[list[str]]:
    """The long-format rows (without the header), streamed, ordered by subject, film date and read."""
    baseline_reads, baseline_values = _baselines(session)
    treated = _treated(session)
    snapped = _snapped(session)
    query = (
        select(
            Subject.id,
            Subject.code,
            Site.code,
            _text(Subject.diagnosis),
            Visit.code,
            _text(Image.visit_assignment),
            study_day_sql(session),
            User.id,
            User.login,
            _text(Read.read_type),
            Read.id,
            _text(Read.status),
            Read.superseded_by_id,
            MeasurementRow.level,
            _text(MeasurementRow.name),
            MeasurementRow.value,
            _text(MeasurementRow.unit),
            _text(MeasurementRow.spacing_source),
            MeasurementRow.normal_table_name,
            MeasurementRow.normal_table_version,
            MeasurementRow.endpoints,
            _text(Image.patient_position),
            _text(ReadLevel.not_evaluable_reason),
            MeasurementRow.not_computed_reason,
            MeasurementRow.missing_landmarks,
            Image.sop_instance_uid,
            Read.read_version,
            Read.amends_read_id,
            Signature.signer_login,
            Signature.signed_at,
            _text(Signature.meaning),
            MeasurementRow.landmark_keys,
        )
        .select_from(MeasurementRow)
        .join(Read, Read.id == MeasurementRow.read_id)
        .outerjoin(Signature, Signature.read_id == Read.id)
        .join(Image, Image.id == Read.image_id)
        .join(Subject, Subject.id == Image.subject_id)
        .join(User, User.id == Read.reader_id)
        .outerjoin(Site, Site.id == Subject.site_id)
        .outerjoin(Visit, Visit.id == Image.visit_id)
        .outerjoin(
            ReadLevel,
            and_(ReadLevel.read_id == MeasurementRow.read_id, ReadLevel.level == MeasurementRow.level),
        )
        .order_by(Subject.code, Image.study_date, Read.id, MeasurementRow.id)
    )
    query = _read_filters(query, signed_only=signed_only, include_superseded=include_superseded)
    if normal_table is not None:
        query = query.where(
            (MeasurementRow.name != MeasurementName.TRAUMATIC_REGIONAL_ANGLE)
            | (MeasurementRow.normal_table_name == normal_table)
        )
    result = session.connection().execute(query.execution_options(yield_per=5000))
    for (
        subject_id,
        subject,
        site,
        diagnosis,
        visit,
        assignment,
        day,
        reader_id,
        reader,
        read_type,
        read_id,
        status,
        superseded_by,
        level,
        name,
        value,
        unit,
        spacing_source,
        table,
        table_version,
        endpoints,
        position,
        not_evaluable,
        not_computed,
        missing,
        uid,
        read_version,
        amends,
        signed_by,
        signed_at,
        meaning,
        keys,
    ) in result:
        baseline_read = baseline_reads.get((subject_id, reader_id, str(read_type)))
        change = ""
        if baseline_read is not None and value is not None:
            base = baseline_values.get((baseline_read, str(name), level, endpoints, table, table_version))
            if base is not None:
                change = repr(round(value - base, 10))
        if not_evaluable is not None and value is None:
            not_computed_text = ""
        elif not_computed is not None:
            not_computed_text = f"{not_computed}: {missing}" if missing else str(not_computed)
        else:
            not_computed_text = ""
        yield [
            *_read_cells(
                subject,
                site,
                diagnosis,
                visit,
                assignment,
                day,
                reader,
                read_type,
                read_id,
                status,
                superseded_by,
            ),
            level or "",
            ("yes" if (subject_id, level) in treated else "no") if level else "",
            str(name),
            _number(value),
            str(unit),
            change,
            str(baseline_read) if baseline_read is not None and change else "",
            str(spacing_source),
            table or "",
            table_version or "",
            endpoints or "",
            str(position),
            str(not_evaluable) if not_evaluable is not None and value is None else "",
            not_computed_text,
            uid,
            *_version_cells(read_version, amends, signed_by, signed_at, meaning),
            " ".join(key for key in (keys or "").split() if key in snapped.get(read_id, ())),
        ]


def iter_wide_rows(
    session: Session,
    *,
    signed_only: bool = False,
    include_superseded: bool = False,
    normal_table: str | None = None,
) -> Iterator[list[str]]:
    """The wide-format rows: one per read (subject, visit, reader), a column per measurement and level.

    ART columns hold the read's own normal table's values, or `normal_table`'s when given. Reads and
    values are streamed by two queries in the same order and merged.
    """
    value_columns = wide_value_columns()
    index = {column: n for n, column in enumerate(value_columns)}
    art = MeasurementName.TRAUMATIC_REGIONAL_ANGLE.value
    extra_version = load_normal_table(normal_table).version if normal_table is not None else None
    order = (Subject.code, Image.study_date, Read.id)
    reads_query = (
        select(
            Read.id,
            Subject.code,
            Site.code,
            _text(Subject.diagnosis),
            Visit.code,
            _text(Image.visit_assignment),
            study_day_sql(session),
            User.login,
            _text(Read.read_type),
            _text(Read.status),
            Read.superseded_by_id,
            _text(Image.patient_position),
            Read.calibration_row_mm,
            _text(Image.spacing_source),
            Read.normal_table_name,
            Read.normal_table_version,
            Read.kyphosis_endpoints,
            Read.lordosis_endpoints,
            Image.sop_instance_uid,
            Read.read_version,
            Read.amends_read_id,
            Signature.signer_login,
            Signature.signed_at,
            _text(Signature.meaning),
        )
        .outerjoin(Signature, Signature.read_id == Read.id)
        .join(Image, Image.id == Read.image_id)
        .join(Subject, Subject.id == Image.subject_id)
        .join(User, User.id == Read.reader_id)
        .outerjoin(Site, Site.id == Subject.site_id)
        .outerjoin(Visit, Visit.id == Image.visit_id)
        .order_by(*order)
    )
    values_query = (
        select(
            MeasurementRow.read_id,
            _text(MeasurementRow.name),
            MeasurementRow.level,
            MeasurementRow.value,
            MeasurementRow.normal_table_name,
            MeasurementRow.normal_table_version,
        )
        .join(Read, Read.id == MeasurementRow.read_id)
        .join(Image, Image.id == Read.image_id)
        .join(Subject, Subject.id == Image.subject_id)
        .where(MeasurementRow.value.is_not(None))
        .order_by(*order)
    )
    levels_query = (
        select(ReadLevel.read_id, ReadLevel.level, ReadLevel.not_evaluable_reason)
        .join(Read, Read.id == ReadLevel.read_id)
        .where(ReadLevel.not_evaluable_reason.is_not(None), ReadLevel.fractured.is_(True))
    )
    filters = {"signed_only": signed_only, "include_superseded": include_superseded}
    skipped: dict[int, list[tuple[str, str]]] = {}
    for level_read_id, level_name, level_reason in session.connection().execute(
        _read_filters(levels_query, **filters)
    ):
        skipped.setdefault(level_read_id, []).append((level_name, str(level_reason)))
    values = iter(
        session.connection().execute(_read_filters(values_query, **filters).execution_options(yield_per=5000))
    )
    pending = next(values, None)
    reads = session.connection().execute(
        _read_filters(reads_query, **filters).execution_options(yield_per=2000)
    )
    for (
        read_id,
        subject,
        site,
        diagnosis,
        visit,
        assignment,
        day,
        reader,
        read_type,
        status,
        superseded_by,
        position,
        calibration_row_mm,
        spacing_source,
        own_table,
        own_version,
        kyphosis,
        lordosis,
        uid,
        read_version,
        amends,
        signed_by,
        signed_at,
        meaning,
    ) in reads:
        wanted_table = (normal_table, extra_version) if normal_table is not None else (own_table, own_version)
        cells = [""] * len(value_columns)
        while pending is not None and pending[0] == read_id:
            _, value_name, value_level, value, value_table, value_version = pending
            pending = next(values, None)
            if str(value_name) == art and (value_table, value_version) != wanted_table:
                continue
            column = f"{value_name}_{value_level}" if value_level else str(value_name)
            if column in index:
                cells[index[column]] = _number(value)
        for skipped_level, skipped_reason in skipped.get(read_id, ()):
            cells[index[f"not_evaluable_{skipped_level}"]] = skipped_reason
        yield [
            *_read_cells(
                subject,
                site,
                diagnosis,
                visit,
                assignment,
                day,
                reader,
                read_type,
                read_id,
                status,
                superseded_by,
            ),
            str(position),
            "manual" if calibration_row_mm is not None else str(spacing_source),
            wanted_table[0] or "",
            wanted_table[1] or "",
            kyphosis,
            lordosis,
            uid,
            *_version_cells(read_version, amends, signed_by, signed_at, meaning),
            *cells,
        ]


def export_csv(
    session: Session,
    out: str | os.PathLike[str],
    *,
    actor: User,
    wide: bool = False,
    signed_only: bool = False,
    include_superseded: bool = False,
    normal_table: str | None = None,
) -> ExportSummary:
    """Write the measurements to `out` (long format, or wide) and the data dictionary beside it.

    Written privately (0600) to a temporary file renamed over `out` at the end, so a failed export
    leaves no half file; text cells that a spreadsheet could run as formulas are neutralised.
    """
    require_permission(actor, Permission.EXPORT)
    target = Path(out)
    header: Sequence[str]
    if wide:
        header = (*WIDE_ID_COLUMNS, *wide_value_columns())
        rows = iter_wide_rows(
            session, signed_only=signed_only, include_superseded=include_superseded, normal_table=normal_table
        )
    else:
        header = LONG_COLUMNS
        rows = iter_long_rows(
            session, signed_only=signed_only, include_superseded=include_superseded, normal_table=normal_table
        )
    count = 0
    reads: set[str] = set()
    read_column = header.index("read_id")
    to_stdout = str(out) == STANDARD_OUTPUT
    with bulk_results(), output_text(STANDARD_OUTPUT if to_stdout else target, newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(csv_row(row))
            reads.add(row[read_column])
            count += 1
    dictionary = None
    if not to_stdout:
        dictionary = dictionary_path_for(target)
        write_bytes(dictionary, resource_path(DICTIONARY_FILENAME).read_bytes())
    return ExportSummary(path=target, dictionary_path=dictionary, rows=count, reads=len(reads))
