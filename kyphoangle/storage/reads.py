"""Reads: one reader's landmarks on one film, their computed measurements, signing and amendments.

Saving a read writes its landmarks, levels and every measurement (with the ones not computed and
why) in the caller's transaction, so a read is stored whole or not at all. The life cycle:

- `create_read` makes a draft; `update_draft` replaces its content, given the `version` the editor
  started from (a stale version raises `ConcurrentEditError` instead of losing someone's change);
- `sign_read` locks it, given the reader's own password; a signed read raises `ReadLockedError` on any
  edit or deletion;
- `amend_read` makes a new draft linked to a signed read, with a reason; when the amendment is signed,
  the old read is marked superseded (`superseded_by_id`) and stays in the database.

Every step writes audit events: the read's fields, and the landmarks that were added, moved or removed.
`read_content` turns a stored read back into a `LandmarkFile`, which is what the GUI edits and what
`kyphoangle reads export` writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from sqlalchemy import String, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from kyphoangle import __version__
from kyphoangle.errors import (
    ConcurrentEditError,
    LandmarkError,
    NotFoundError,
    PermissionDeniedError,
    ReadAlreadySignedError,
    ReadLockedError,
    ReasonRequiredError,
)
from kyphoangle.landmark_file import LandmarkFile, PointProvenance
from kyphoangle.normal_table import NormalTable, load_normal_table
from kyphoangle.protocol import (
    MEASUREMENT_DEFINITIONS,
    GlobalEndpoints,
    MeasurementName,
    MeasurementSet,
    NotEvaluable,
    Unit,
    compute_measurements,
)
from kyphoangle.spacing import PixelSpacing
from kyphoangle.storage.audit import AuditAction, AuditEntity, changes, record
from kyphoangle.storage.engine import DATABASE_INFO, bulk_results
from kyphoangle.storage.images import image_aspect_ratio, image_spacing, study_day_sql
from kyphoangle.storage.models import (
    Image,
    Landmark,
    MeasurementRow,
    Read,
    ReadLevel,
    Signature,
    Subject,
    User,
    Visit,
    utc_now,
)
from kyphoangle.storage.schedule import UNSCHEDULED
from kyphoangle.storage.signatures import add_signature
from kyphoangle.storage.study import get_study
from kyphoangle.storage.users import (
    READ_TYPES_BY_ROLE,
    Permission,
    has_permission,
    require_permission,
    verify_signature,
)
from kyphoangle.vocabulary import FRACTURE_LEVELS, ReadStatus, ReadType, SpacingSource, VisitAssignment


class ReadSummary(NamedTuple):
    """One read as listed: who, which film, which visit, its status (no identity, no dates of films).

    A named tuple, so that listing tens of thousands of reads stays fast.
    """

    read_id: int
    subject: str
    visit: str
    study_day: int | None
    sop_instance_uid: str
    reader: str
    read_type: ReadType
    status: ReadStatus
    superseded_by_id: int | None
    amends_read_id: int | None
    version: int
    updated_at: dt.datetime
    signed_at: dt.datetime | None
    read_version: int = 1
    signed_by: str | None = None
    """The signer's login (signed reads)."""
    signature_meaning: str | None = None
    """What the signature means: `site_read`, `central_read`, `repeat_read`, `adjudication`, `amendment`."""

    @property
    def display_status(self) -> str:
        """`draft`, `signed` or `superseded`."""
        return "superseded" if self.superseded_by_id is not None else str(self.status)


def get_read(session: Session, read_id: int) -> Read:
    """The read with that id; NotFoundError otherwise."""
    read = session.get(Read, read_id)
    if read is None:
        raise NotFoundError(f"there is no read {read_id}")
    return read


def read_content(read: Read) -> LandmarkFile:
    """The read's content as a landmark file (what the reader placed and chose)."""
    calibration = None
    if read.calibration_row_mm is not None and read.calibration_col_mm is not None:
        calibration = PixelSpacing.manual(read.calibration_row_mm, read.calibration_col_mm)
    return LandmarkFile(
        sop_instance_uid=read.image.sop_instance_uid,
        points={mark.key: (mark.column_px, mark.row_px) for mark in read.landmarks},
        reader=read.reader.login,
        read_type=ReadType(read.read_type),
        fractured_levels=tuple(level.level for level in read.levels if level.fractured),
        not_evaluable={
            level.level: NotEvaluable(level.not_evaluable_reason, level.not_evaluable_note)
            for level in read.levels
            if level.not_evaluable_reason is not None
        },
        normal_table=read.normal_table_name,
        endpoints=GlobalEndpoints.parse(read.kyphosis_endpoints, read.lordosis_endpoints),
        calibration=calibration,
        provenance={
            mark.key: provenance for mark in read.landmarks if (provenance := _provenance(mark)) is not None
        },
    )


def _check_reader(reader: User, read_type: ReadType, actor: User) -> None:
    if actor.id != reader.id:
        require_permission(actor, Permission.IMPORT_READS_FOR_OTHERS)
    if not reader.active:
        raise PermissionDeniedError(f"{reader.login}'s account is disabled")
    if read_type not in READ_TYPES_BY_ROLE[reader.role]:
        raise PermissionDeniedError(f"{reader.login} ({reader.role}) does not make {read_type} reads")


def _check_content(image: Image, content: LandmarkFile) -> None:
    if content.sop_instance_uid != image.sop_instance_uid:
        raise LandmarkError(
            f"the landmarks are for image {content.sop_instance_uid}, not {image.sop_instance_uid}"
        )
    if image.rows > 0 and image.columns > 0:
        for key, (column, row) in content.points.items():
            if not (0 <= column <= image.columns and 0 <= row <= image.rows):
                raise LandmarkError(
                    f"landmark {key} at ({column}, {row}) lies outside the image "
                    f"({image.columns} columns x {image.rows} rows)"
                )


def _check_editable(read: Read, expected_version: int | None) -> None:
    if read.superseded_by_id is not None:
        raise ReadLockedError(f"read {read.id} has been superseded by read {read.superseded_by_id}")
    if read.status == ReadStatus.SIGNED:
        signed = read.signed_at.strftime("%Y-%m-%d %H:%M UTC") if read.signed_at else "earlier"
        raise ReadLockedError(
            f"read {read.id} was signed by {read.reader.login} on {signed} and is locked; "
            "amend it (a new read with a reason) to change it"
        )
    if expected_version is not None and read.version != expected_version:
        raise ConcurrentEditError(
            f"read {read.id} was changed by someone else since it was opened "
            f"(version {read.version}, not {expected_version}); reopen it and redo the change"
        )


def _flush(session: Session, read: Read) -> None:
    read_id = read.id if read.id is not None else "(new)"
    try:
        session.flush()
    except StaleDataError:
        raise ConcurrentEditError(
            f"read {read_id} was changed by someone else while it was being saved; "
            "reopen it and redo the change"
        ) from None


def _spacing_for(image: Image, content: LandmarkFile) -> PixelSpacing:
    return content.calibration or image_spacing(image)


def _table_for(session: Session, content: LandmarkFile) -> NormalTable:
    return load_normal_table(content.normal_table or get_study(session).default_normal_table)


def compute_for(image: Image, content: LandmarkFile, table: NormalTable) -> MeasurementSet:
    """Every measurement the content allows on the film (calibration of the read, else the film's)."""
    return compute_measurements(
        content.points,
        spacing=_spacing_for(image, content),
        fractured_levels=content.fractured_levels,
        normal_table=table,
        endpoints=content.endpoints,
        not_evaluable=content.not_evaluable,
        pixel_aspect_ratio=image_aspect_ratio(image),
    )


def measurement_values(
    result: MeasurementSet, spacing: PixelSpacing, table: NormalTable, endpoints: GlobalEndpoints
) -> list[dict[str, Any]]:
    """Column values of the measurement rows of a computation: values, and those not computed."""
    now = utc_now()
    rows: list[dict[str, Any]] = []
    common = {"software_version": __version__, "computed_at": now, "spacing_source": spacing.source}
    for m in result.measurements:
        rows.append(
            {
                **common,
                "name": m.name,
                "level": m.level,
                "value": m.value,
                "unit": m.unit,
                "spacing_source": m.spacing_source,
                "normal_table_name": m.normal_table,
                "normal_table_version": m.normal_table_version,
                "endpoints": m.endpoints,
                "landmark_keys": " ".join(m.landmarks),
                "not_computed_reason": None,
                "missing_landmarks": "",
            }
        )
    endpoint_labels = {
        MeasurementName.THORACIC_KYPHOSIS: GlobalEndpoints.label(endpoints.kyphosis),
        MeasurementName.LUMBAR_LORDOSIS: GlobalEndpoints.label(endpoints.lordosis),
    }
    for n in result.not_computed:
        unit = MEASUREMENT_DEFINITIONS[n.name].unit
        if unit is Unit.MM and not spacing.is_known:
            unit = Unit.PX
        art = n.name is MeasurementName.TRAUMATIC_REGIONAL_ANGLE
        rows.append(
            {
                **common,
                "name": n.name,
                "level": n.level,
                "value": None,
                "unit": unit,
                "normal_table_name": table.name if art else None,
                "normal_table_version": table.version if art else None,
                "endpoints": endpoint_labels.get(n.name),
                "landmark_keys": "",
                "not_computed_reason": n.reason,
                "missing_landmarks": " ".join(n.missing),
            }
        )
    return rows


def _read_snapshot(read: Read) -> dict[str, object]:
    return {
        "image": read.image.sop_instance_uid,
        "reader": read.reader.login,
        "read_type": read.read_type,
        "status": read.status,
        "normal_table": f"{read.normal_table_name} v{read.normal_table_version}",
        "endpoints": [read.kyphosis_endpoints, read.lordosis_endpoints],
        "fractured_levels": [level.level for level in read.levels if level.fractured],
        "not_evaluable": {
            level.level: [level.not_evaluable_reason, level.not_evaluable_note]
            for level in read.levels
            if level.not_evaluable_reason is not None
        },
        "calibration_mm": (
            [read.calibration_row_mm, read.calibration_col_mm]
            if read.calibration_row_mm is not None
            else None
        ),
        "amends_read_id": read.amends_read_id,
        "superseded_by_id": read.superseded_by_id,
    }


def _store_provenance(mark: Landmark, provenance: PointProvenance | None) -> None:
    """Record how a point was placed on its row (all NULL when the read does not say)."""
    click = provenance.click if provenance is not None else None
    mark.proposed = provenance.proposed if provenance is not None else None
    mark.accepted = provenance.accepted if provenance is not None else None
    mark.click_column_px = click[0] if click is not None else None
    mark.click_row_px = click[1] if click is not None else None


def _provenance(mark: Landmark) -> PointProvenance | None:
    if mark.proposed is None or mark.accepted is None:
        return None
    click = None
    if mark.click_column_px is not None and mark.click_row_px is not None:
        click = (mark.click_column_px, mark.click_row_px)
    return PointProvenance(mark.proposed, mark.accepted, click)


def _apply_content(session: Session, read: Read, image: Image, content: LandmarkFile) -> dict[str, Any]:
    """Write the content and its measurements into `read`; returns the landmark changes (old, new)."""
    table = _table_for(session, content)
    endpoints = content.endpoints or GlobalEndpoints()
    spacing = _spacing_for(image, content)
    result = compute_for(image, content, table)

    read.normal_table_name, read.normal_table_version = table.name, table.version
    read.kyphosis_endpoints = GlobalEndpoints.label(endpoints.kyphosis)
    read.lordosis_endpoints = GlobalEndpoints.label(endpoints.lordosis)
    manual = content.calibration
    read.calibration_row_mm = manual.row_mm if manual is not None else None
    read.calibration_col_mm = manual.col_mm if manual is not None else None
    read.software_version = __version__

    existing = {mark.key: mark for mark in read.landmarks}
    old_points = {key: [mark.column_px, mark.row_px] for key, mark in existing.items()}
    new_points = {key: [float(c), float(r)] for key, (c, r) in content.points.items()}
    for key, mark in existing.items():
        if key not in new_points:
            read.landmarks.remove(mark)
    for key, (column, row) in new_points.items():
        found = existing.get(key)
        if found is None:
            found = Landmark(key=key, column_px=column, row_px=row)
            read.landmarks.append(found)
        elif (found.column_px, found.row_px) != (column, row):
            found.column_px, found.row_px = column, row
        _store_provenance(found, content.provenance.get(key))

    levels = sorted(set(content.fractured_levels) | set(content.not_evaluable))
    wanted_levels = {
        level: (level in content.fractured_levels, content.not_evaluable.get(level)) for level in levels
    }
    current_levels = {level.level: level for level in read.levels}
    for level_name, stale in current_levels.items():
        if level_name not in wanted_levels:
            read.levels.remove(stale)
    for level_name, (fractured, skipped) in wanted_levels.items():
        level_row = current_levels.get(level_name)
        if level_row is None:
            level_row = ReadLevel(level=level_name)
            read.levels.append(level_row)
        level_row.position = FRACTURE_LEVELS.index(level_name)
        level_row.fractured = fractured
        level_row.not_evaluable_reason = skipped.reason if skipped is not None else None
        level_row.not_evaluable_note = skipped.note if skipped is not None else ""

    read.measurements.clear()
    read.measurements.extend(
        MeasurementRow(**values) for values in measurement_values(result, spacing, table, endpoints)
    )
    return dict(zip(("old", "new"), changes(old_points, new_points), strict=True))


def create_read(
    session: Session,
    *,
    image: Image,
    reader: User,
    content: LandmarkFile,
    read_type: ReadType | str | None = None,
    actor: User | None = None,
    campaign_case_id: int | None = None,
) -> Read:
    """Save a new draft read of `image` by `reader`; `actor` (default the reader) is who saves it.

    A data manager may save reads on behalf of readers (importing files); the reader's role must make
    reads of that type. `campaign_case_id` names the campaign case a central, repeat or adjudication
    read is made for.
    """
    kind = ReadType(read_type if read_type is not None else content.read_type)
    return _create(session, image, reader, content, kind, actor or reader, campaign_case_id=campaign_case_id)


def _create(
    session: Session,
    image: Image,
    reader: User,
    content: LandmarkFile,
    kind: ReadType,
    actor: User,
    amends: Read | None = None,
    reason: str | None = None,
    campaign_case_id: int | None = None,
) -> Read:
    _check_reader(reader, kind, actor)
    _check_content(image, content)
    now = utc_now()
    read = Read(
        image=image,
        reader=reader,
        read_type=kind,
        status=ReadStatus.DRAFT,
        created_at=now,
        updated_at=now,
        software_version=__version__,
        amends_read_id=amends.id if amends is not None else None,
        amendment_reason=reason,
        campaign_case_id=amends.campaign_case_id if amends is not None else campaign_case_id,
        read_version=amends.read_version + 1 if amends is not None else 1,
    )
    _apply_content(session, read, image, content)
    session.add(read)
    _flush(session, read)
    record(
        session,
        actor=actor,
        entity=AuditEntity.READ,
        entity_id=read.id,
        action=AuditAction.CREATE,
        new=_read_snapshot(read),
        reason=reason,
    )
    record(
        session,
        actor=actor,
        entity=AuditEntity.LANDMARKS,
        entity_id=read.id,
        action=AuditAction.CREATE,
        new={mark.key: [mark.column_px, mark.row_px] for mark in read.landmarks},
    )
    return read


def update_draft(
    session: Session,
    read: Read,
    *,
    content: LandmarkFile,
    expected_version: int,
    actor: User | None = None,
) -> Read:
    """Replace a draft's content and measurements; `expected_version` is the version the editor opened."""
    actor = actor or read.reader
    _check_editable(read, expected_version)
    _check_reader(read.reader, ReadType(read.read_type), actor)
    _check_content(read.image, content)
    before = _read_snapshot(read)
    landmark_changes = _apply_content(session, read, read.image, content)
    read.updated_at = utc_now()
    _flush(session, read)
    old, new = changes(before, _read_snapshot(read))
    record(
        session,
        actor=actor,
        entity=AuditEntity.READ,
        entity_id=read.id,
        action=AuditAction.UPDATE,
        old={**old, "version": expected_version},
        new={**new, "version": read.version},
    )
    if landmark_changes["new"] or landmark_changes["old"]:
        record(
            session,
            actor=actor,
            entity=AuditEntity.LANDMARKS,
            entity_id=read.id,
            action=AuditAction.UPDATE,
            old=landmark_changes["old"],
            new=landmark_changes["new"],
        )
    return read


def current_signed_read(session: Session, read: Read) -> Read | None:
    """The current signed read of the same image, reader, read type and campaign case, if any."""
    query = select(Read).where(
        Read.image_id == read.image_id,
        Read.reader_id == read.reader_id,
        Read.read_type == read.read_type,
        Read.status == ReadStatus.SIGNED,
        Read.superseded_by_id.is_(None),
        Read.id != read.id,
    )
    if read.campaign_case_id is None:
        query = query.where(Read.campaign_case_id.is_(None))
    else:
        query = query.where(Read.campaign_case_id == read.campaign_case_id)
    return session.scalars(query.limit(1)).first()


def already_signed_message(signed: Read) -> str:
    """Why a second signature is refused, and what to do instead (`reads amend`)."""
    when = signed.signed_at.strftime("%Y-%m-%d %H:%M UTC") if signed.signed_at else "earlier"
    return (
        f"already signed: read {signed.id} of this film by {signed.reader.login} ({signed.read_type} read) "
        f"was signed on {when}; a signed read is changed only by an amendment with a reason: "
        f"kyphoangle reads amend {signed.id} FILE.json --reason TEXT"
    )


def _signed_conflict(session: Session, read: Read) -> ReadAlreadySignedError:
    """The refusal when the unique index caught a signature made at the same moment elsewhere.

    This transaction can no longer query (PostgreSQL aborts it), so the read signed first, committed by
    now, is looked up in a session of its own.
    """
    key = (read.image_id, read.reader_id, read.read_type, read.campaign_case_id)
    database = session.info.get(DATABASE_INFO)
    if database is not None:
        with database.reading() as other:
            probe = Read(image_id=key[0], reader_id=key[1], read_type=key[2], campaign_case_id=key[3])
            signed = current_signed_read(other, probe)
            if signed is not None:
                return ReadAlreadySignedError(already_signed_message(signed))
    return ReadAlreadySignedError(
        "already signed: this film already has a current signed read of this reader and read type, "
        "signed at the same moment elsewhere; change it with kyphoangle reads amend READ_ID"
    )


def sign_read(session: Session, read: Read, *, password: str, expected_version: int | None = None) -> Read:
    """Sign a draft with its reader's own password; the read is locked from then on.

    The signature (`Signature`) records the signer, the time, its meaning and the hash of the content
    signed. A read whose image, reader, read type and campaign case already have a current signed read
    is refused (`ReadAlreadySignedError`, naming `reads amend`), by this check and, for two programs
    signing at the same moment, by the database's unique index. Signing an amendment marks the read it
    amends as superseded.
    """
    _check_editable(read, expected_version)
    reader = read.reader
    verify_signature(reader, password)
    previous: Read | None = None
    if read.amends_read_id is not None:
        previous = get_read(session, read.amends_read_id)
        if previous.superseded_by_id is not None:
            raise ReadLockedError(
                f"read {previous.id} has already been superseded by read {previous.superseded_by_id}"
            )
    elif (signed := current_signed_read(session, read)) is not None:
        raise ReadAlreadySignedError(already_signed_message(signed))
    now = utc_now()
    try:
        if previous is not None:
            # The amended read steps aside first: the index sees one current signed read at a time.
            previous.superseded_by_id = read.id
            _flush(session, previous)
        read.status = ReadStatus.SIGNED
        read.signed_at = now
        read.updated_at = now
        _flush(session, read)
    except IntegrityError as exc:
        if "uq_read_current_signed" in str(exc.orig) or "UNIQUE constraint failed: read." in str(exc.orig):
            raise _signed_conflict(session, read) from None
        raise
    signature = add_signature(session, read, reader)
    record(
        session,
        actor=reader,
        entity=AuditEntity.READ,
        entity_id=read.id,
        action=AuditAction.SIGN,
        old={"status": ReadStatus.DRAFT},
        new={
            "status": ReadStatus.SIGNED,
            "signed_at": now,
            "signed_by": reader.login,
            "meaning": signature.meaning,
            "content_sha256": signature.content_sha256,
            "version": read.version,
            "read_version": read.read_version,
        },
    )
    if previous is not None:
        record(
            session,
            actor=reader,
            entity=AuditEntity.READ,
            entity_id=previous.id,
            action=AuditAction.SUPERSEDE,
            old={"superseded_by_id": None},
            new={"superseded_by_id": read.id},
            reason=read.amendment_reason,
        )
    return read


def signature_of(session: Session, read: Read) -> Signature | None:
    """The signature of a signed read (None for a draft)."""
    return session.scalar(select(Signature).where(Signature.read_id == read.id))


def amend_read(
    session: Session,
    read: Read,
    *,
    content: LandmarkFile,
    reason: str,
    actor: User | None = None,
) -> Read:
    """Start an amendment of a signed read: a new draft by the same reader, linked, with a reason."""
    if not reason.strip():
        raise ReasonRequiredError("amending a signed read needs a reason")
    if read.status != ReadStatus.SIGNED:
        raise ReadLockedError(f"read {read.id} is a draft: edit it instead of amending it")
    if read.superseded_by_id is not None:
        raise ReadLockedError(
            f"read {read.id} has been superseded by read {read.superseded_by_id}; amend that"
        )
    pending = session.scalar(
        select(Read.id).where(Read.amends_read_id == read.id, Read.status == ReadStatus.DRAFT)
    )
    if pending is not None:
        raise ConcurrentEditError(
            f"read {read.id} already has an amendment in progress (draft read {pending})"
        )
    return _create(
        session,
        read.image,
        read.reader,
        content,
        ReadType(read.read_type),
        actor or read.reader,
        amends=read,
        reason=reason,
    )


def delete_draft(
    session: Session,
    read: Read,
    *,
    actor: User,
    expected_version: int | None = None,
    reason: str | None = None,
) -> None:
    """Delete a draft (never a signed read); its content is kept in the audit trail."""
    _check_editable(read, expected_version)
    if actor.id != read.reader_id and not has_permission(actor, Permission.IMPORT_READS_FOR_OTHERS):
        raise PermissionDeniedError(f"only {read.reader.login} can delete their draft read {read.id}")
    snapshot = _read_snapshot(read)
    points = {mark.key: [mark.column_px, mark.row_px] for mark in read.landmarks}
    read_id = read.id
    record(
        session,
        actor=actor,
        entity=AuditEntity.LANDMARKS,
        entity_id=read_id,
        action=AuditAction.DELETE,
        old=points,
        reason=reason,
    )
    session.delete(read)
    _flush(session, read)
    record(
        session,
        actor=actor,
        entity=AuditEntity.READ,
        entity_id=read_id,
        action=AuditAction.DELETE,
        old=snapshot,
        reason=reason,
    )


def list_reads(
    session: Session,
    *,
    subject_code: str | None = None,
    reader_login: str | None = None,
    sop_instance_uid: str | None = None,
    status: ReadStatus | str | None = None,
    include_superseded: bool = True,
) -> list[ReadSummary]:
    """Reads by subject, study day and id (one Core query; no ORM objects are built)."""
    reader = aliased(User)
    query = (
        select(
            Read.id,
            Subject.code,
            Visit.code,
            type_coerce(Image.visit_assignment, String),
            study_day_sql(session),
            Image.sop_instance_uid,
            reader.login,
            type_coerce(Read.read_type, String),
            type_coerce(Read.status, String),
            Read.superseded_by_id,
            Read.amends_read_id,
            Read.version,
            Read.updated_at,
            Read.signed_at,
            Read.read_version,
            Signature.signer_login,
            type_coerce(Signature.meaning, String),
        )
        .join(Image, Image.id == Read.image_id)
        .join(Subject, Subject.id == Image.subject_id)
        .join(reader, reader.id == Read.reader_id)
        .outerjoin(Visit, Visit.id == Image.visit_id)
        .outerjoin(Signature, Signature.read_id == Read.id)
        .order_by(Subject.code, Image.study_date, Read.id)
    )
    if subject_code is not None:
        query = query.where(Subject.code == subject_code)
    if reader_login is not None:
        query = query.where(reader.login == reader_login)
    if sop_instance_uid is not None:
        query = query.where(Image.sop_instance_uid == sop_instance_uid)
    if status is not None:
        query = query.where(Read.status == ReadStatus(status))
    if not include_superseded:
        query = query.where(Read.superseded_by_id.is_(None))
    read_types = {member.value: member for member in ReadType}
    statuses = {member.value: member for member in ReadStatus}
    with bulk_results():
        return _read_summaries(session, query, read_types, statuses)


def _read_summaries(
    session: Session, query: Any, read_types: dict[str, ReadType], statuses: dict[str, ReadStatus]
) -> list[ReadSummary]:
    pending = VisitAssignment.PENDING.value
    return [
        ReadSummary(
            read_id,
            subject,
            visit if visit is not None else ("pending" if assignment == pending else UNSCHEDULED),
            day,
            uid,
            login,
            read_types[read_type],
            statuses[read_status],
            superseded_by,
            amends,
            version,
            updated_at,
            signed_at,
            read_version,
            signed_by,
            meaning,
        )
        for (
            read_id,
            subject,
            visit,
            assignment,
            day,
            uid,
            login,
            read_type,
            read_status,
            superseded_by,
            amends,
            version,
            updated_at,
            signed_at,
            read_version,
            signed_by,
            meaning,
        ) in session.connection().execute(query).all()
    ]


def reads_of_image(session: Session, image: Image) -> list[Read]:
    """Every read of a film, oldest first."""
    return list(session.scalars(select(Read).where(Read.image_id == image.id).order_by(Read.id)))


def measurements_of(read: Read) -> Mapping[tuple[str, str | None], MeasurementRow]:
    """The read's own measurement rows (its recorded normal table), by (name, level)."""
    own: dict[tuple[str, str | None], MeasurementRow] = {}
    for row in read.measurements:
        if row.normal_table_name is None or (
            row.normal_table_name,
            row.normal_table_version,
        ) == (read.normal_table_name, read.normal_table_version):
            own[(str(row.name), row.level)] = row
    return own


def spacing_source_of(read: Read) -> SpacingSource:
    """Where the spacing of the read's measurements came from."""
    if read.calibration_row_mm is not None:
        return SpacingSource.MANUAL
    return SpacingSource(read.image.spacing_source)


def iter_reads(session: Session, read_ids: Iterable[int] | None = None) -> Iterable[Read]:
    """Reads in id order (all, or those listed), loaded in batches."""
    query = select(Read).order_by(Read.id)
    if read_ids is not None:
        query = query.where(Read.id.in_(list(read_ids)))
    return session.scalars(query.execution_options(yield_per=200))
