"""Electronic signatures of reads, bound to what they sign (21 CFR 11.50 and 11.70).

A signature records the signer (login and printed name), the time, its meaning (site read, central
read, repeat read, adjudication, amendment) and the SHA-256 of the read's *canonical content* at
signing: the film's identity (SOP Instance UID and file hash), the reader, the read type, the campaign
case, the landmarks, the manual calibration, the fractured and not-evaluable levels with their
reasons, the normal table and its version, the global endpoints, the read's own computed measurements
(values, units, spacing source, landmarks used, reasons for those not computed) and, for an
amendment, the read it amends and the reason. The content is read back from the database with plain
queries (`signed_content`), in one canonical JSON form (`kyphoangle.signed-read/1`), so the hash taken
at signing and the one `kyphoangle audit verify` recomputes come from the same code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, String, select, type_coerce
from sqlalchemy.orm import Session

from kyphoangle.storage.audit import canonical_json
from kyphoangle.storage.models import (
    Image,
    Landmark,
    MeasurementRow,
    Read,
    ReadLevel,
    Signature,
    SignatureMeaning,
    User,
    utc_now,
)
from kyphoangle.vocabulary import ReadType

CONTENT_FORMAT = "kyphoangle.signed-read/1"
"""The name and version of the canonical content a signature's hash is taken over."""

MEANING_BY_READ_TYPE: Mapping[ReadType, SignatureMeaning] = {
    ReadType.SITE: SignatureMeaning.SITE_READ,
    ReadType.CENTRAL: SignatureMeaning.CENTRAL_READ,
    ReadType.REPEAT: SignatureMeaning.REPEAT_READ,
    ReadType.ADJUDICATION: SignatureMeaning.ADJUDICATION,
}
"""What signing a read of each type means (an amendment of any type means `amendment`)."""

_READ_COLUMNS = (
    Read.id, Read.read_type, Read.read_version, Read.amends_read_id, Read.amendment_reason,
    Read.campaign_case_id, Read.calibration_row_mm, Read.calibration_col_mm, Read.normal_table_name,
    Read.normal_table_version, Read.kyphosis_endpoints, Read.lordosis_endpoints, Image.sop_instance_uid,
    Image.sha256, User.login,
)  # fmt: skip
_MEASUREMENT_COLUMNS = (
    MeasurementRow.read_id, MeasurementRow.name, MeasurementRow.level, MeasurementRow.value,
    MeasurementRow.unit, MeasurementRow.spacing_source, MeasurementRow.normal_table_name,
    MeasurementRow.normal_table_version, MeasurementRow.endpoints, MeasurementRow.landmark_keys,
    MeasurementRow.not_computed_reason, MeasurementRow.missing_landmarks,
)  # fmt: skip


def meaning_of(read: Read) -> SignatureMeaning:
    """What signing this read means."""
    if read.amends_read_id is not None:
        return SignatureMeaning.AMENDMENT
    return MEANING_BY_READ_TYPE[ReadType(read.read_type)]


def _text(column: Any) -> Any:
    return type_coerce(column, String)


@dataclass
class _Content:
    read: dict[str, Any]
    landmarks: dict[str, list[float]]
    levels: list[list[Any]]
    measurements: list[list[Any]]


def _canonical(content: _Content) -> bytes:
    read = content.read
    own_table = (read["normal_table_name"], read["normal_table_version"])
    measurements = sorted(
        (row for row in content.measurements if row[5] is None or (row[5], row[6]) == own_table),
        key=lambda row: (row[0], row[1] or "", row[5] or "", row[6] or ""),
    )
    document = {
        "format": CONTENT_FORMAT,
        "read_id": read["id"],
        "read_version": read["read_version"],
        "amends_read_id": read["amends_read_id"],
        "amendment_reason": read["amendment_reason"],
        "image": {"sop_instance_uid": read["sop_instance_uid"], "sha256": read["sha256"]},
        "reader": read["login"],
        "read_type": read["read_type"],
        "campaign_case_id": read["campaign_case_id"],
        "calibration_mm": [read["calibration_row_mm"], read["calibration_col_mm"]],
        "normal_table": list(own_table),
        "endpoints": [read["kyphosis_endpoints"], read["lordosis_endpoints"]],
        "landmarks": content.landmarks,
        "levels": sorted(content.levels, key=lambda row: str(row[0])),
        "measurements": measurements,
    }
    return canonical_json(document).encode("utf-8")


def content_sha256(content: _Content) -> str:
    """The SHA-256 of the canonical content."""
    return hashlib.sha256(_canonical(content)).hexdigest()


def read_contents(connection: Connection, read_ids: list[int] | None) -> Iterator[_Content]:
    """The canonical content of the listed reads (all signed reads when None), by read id."""
    reads_query = (
        select(*(_text(c) if c is Read.read_type else c for c in _READ_COLUMNS))
        .join(Image, Image.id == Read.image_id)
        .join(User, User.id == Read.reader_id)
        .order_by(Read.id)
    )
    landmarks_query = select(Landmark.read_id, Landmark.key, Landmark.column_px, Landmark.row_px).order_by(
        Landmark.read_id, Landmark.key
    )
    levels_query = select(
        ReadLevel.read_id,
        ReadLevel.level,
        ReadLevel.fractured,
        _text(ReadLevel.not_evaluable_reason),
        ReadLevel.not_evaluable_note,
    ).order_by(ReadLevel.read_id, ReadLevel.level)
    measurements_query = select(
        *(_text(c) if c in (MeasurementRow.name, MeasurementRow.unit, MeasurementRow.spacing_source) else c
          for c in _MEASUREMENT_COLUMNS)
    ).order_by(MeasurementRow.read_id, MeasurementRow.id)  # fmt: skip
    if read_ids is not None:
        reads_query = reads_query.where(Read.id.in_(read_ids))
        landmarks_query = landmarks_query.where(Landmark.read_id.in_(read_ids))
        levels_query = levels_query.where(ReadLevel.read_id.in_(read_ids))
        measurements_query = measurements_query.where(MeasurementRow.read_id.in_(read_ids))
    else:
        signed = select(Signature.read_id)
        reads_query = reads_query.where(Read.id.in_(signed))
        landmarks_query = landmarks_query.where(Landmark.read_id.in_(signed))
        levels_query = levels_query.where(ReadLevel.read_id.in_(signed))
        measurements_query = measurements_query.where(MeasurementRow.read_id.in_(signed))
    names = [column.key for column in _READ_COLUMNS]
    landmarks = _grouped(connection.execute(landmarks_query.execution_options(yield_per=5000)))
    levels = _grouped(connection.execute(levels_query.execution_options(yield_per=5000)))
    measurements = _grouped(connection.execute(measurements_query.execution_options(yield_per=5000)))
    pending = {
        "landmarks": next(landmarks, None),
        "levels": next(levels, None),
        "m": next(measurements, None),
    }
    for row in connection.execute(reads_query.execution_options(yield_per=2000)):
        read = dict(zip(names, row, strict=True))
        read_id = read["id"]
        own_landmarks: dict[str, list[float]] = {}
        own_levels: list[list[Any]] = []
        own_measurements: list[list[Any]] = []
        pending["landmarks"] = _take(pending["landmarks"], landmarks, read_id, own_landmarks, _landmark)
        pending["levels"] = _take(pending["levels"], levels, read_id, own_levels, _level)
        pending["m"] = _take(pending["m"], measurements, read_id, own_measurements, _measurement)
        yield _Content(read, own_landmarks, own_levels, own_measurements)


def _landmark(target: Any, row: Any) -> None:
    target[row[1]] = [row[2], row[3]]


def _level(target: Any, row: Any) -> None:
    target.append([row[1], bool(row[2]), row[3], row[4]])


def _measurement(target: Any, row: Any) -> None:
    target.append(list(row[1:]))


def _grouped(result: Iterable[Any]) -> Iterator[Any]:
    yield from result


def _take(pending: Any, rows: Iterator[Any], read_id: int, target: Any, add: Any) -> Any:
    """Consume the rows of `read_id` (rows of smaller ids are skipped: they belong to no listed read)."""
    while pending is not None and pending[0] < read_id:
        pending = next(rows, None)
    while pending is not None and pending[0] == read_id:
        add(target, pending)
        pending = next(rows, None)
    return pending


def read_content_sha256(session: Session, read_id: int) -> str:
    """The SHA-256 of one read's canonical content as stored now."""
    session.flush()
    for content in read_contents(session.connection(), [read_id]):
        return content_sha256(content)
    raise ValueError(f"there is no read {read_id}")


def add_signature(session: Session, read: Read, signer: User) -> Signature:
    """Record the signature of `read` by `signer` now, bound to its stored content."""
    signature = Signature(
        read_id=read.id,
        signer_id=signer.id,
        signer_login=signer.login,
        signer_name=signer.full_name or signer.login,
        signed_at=read.signed_at or utc_now(),
        meaning=meaning_of(read),
        content_format=CONTENT_FORMAT,
        content_sha256=read_content_sha256(session, read.id),
    )
    session.add(signature)
    session.flush()
    return signature


@dataclass(frozen=True, slots=True)
class SignatureProblem:
    """A signature whose read no longer has the content it was signed with."""

    read_id: int
    signer_login: str
    description: str


def check_signatures(connection: Connection) -> tuple[int, SignatureProblem | None]:
    """Recompute every signed read's content hash: (signatures checked, the first that differs)."""
    recorded = {
        read_id: (digest, login, status)
        for read_id, digest, login, status in connection.execute(
            select(Signature.read_id, Signature.content_sha256, Signature.signer_login, _text(Read.status))
            .join(Read, Read.id == Signature.read_id)
            .order_by(Signature.read_id)
        )
    }
    checked = 0
    seen: set[int] = set()
    for content in read_contents(connection, None):
        read_id = content.read["id"]
        seen.add(read_id)
        digest, login, status = recorded[read_id]
        checked += 1
        if status != "signed":
            return checked, SignatureProblem(
                read_id, login, f"read {read_id} carries {login}'s signature but is not signed"
            )
        if content_sha256(content) != digest:
            return checked, SignatureProblem(
                read_id,
                login,
                f"read {read_id} no longer has the content {login} signed (its content hash differs)",
            )
    for read_id, (_, login, _) in recorded.items():
        if read_id not in seen:
            return checked, SignatureProblem(
                read_id, login, f"the read {read_id} signed by {login} is missing"
            )
    unsigned = connection.execute(
        select(Read.id).where(Read.status == "signed", Read.id.not_in(select(Signature.read_id))).limit(1)
    ).scalar()
    if unsigned is not None:
        return checked, SignatureProblem(
            unsigned, "", f"read {unsigned} is marked signed but has no signature"
        )
    return checked, None
