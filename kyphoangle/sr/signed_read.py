"""A signed read as it leaves kyphoangle in DICOM: landmarks, values, observer, settings, the film.

`signed_reads` gathers them from the study database. The observer of a site read is the reader
(full name and login); a central, repeat or adjudication read is blinded, so its observer is the
reader's pseudonym in the campaign (`DEMO-CENTRAL reader 1`, `... the adjudicator`), never a name or
a login. A read of a blinded type made outside a campaign gets `blinded reader` and a short code
derived from the read, which identifies nobody.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyphoangle.errors import KyphoangleError
from kyphoangle.landmark_file import LandmarkFile
from kyphoangle.protocol import MeasurementName, Unit
from kyphoangle.spacing import SpacingSource
from kyphoangle.storage.models import Campaign, CampaignReader, Read, WorklistItem
from kyphoangle.storage.reads import get_read, measurements_of, read_content, spacing_source_of
from kyphoangle.vocabulary import CampaignRole, ReadStatus, ReadType

BLINDED_READ_TYPES = frozenset({ReadType.CENTRAL, ReadType.REPEAT, ReadType.ADJUDICATION})


class ReadNotSignedError(KyphoangleError):
    """Only signed reads leave kyphoangle as DICOM reports."""


@dataclass(frozen=True, slots=True)
class Observer:
    """Who made a read, as a report names them: the person, or their blinded pseudonym."""

    name: str
    login: str | None
    blinded: bool


@dataclass(frozen=True, slots=True)
class ReportedValue:
    """One measurement value of a read, as reported."""

    name: MeasurementName
    level: str | None
    value: float
    unit: Unit


@dataclass(frozen=True, slots=True)
class SignedRead:
    """Everything a DICOM report of one signed read holds."""

    read_id: int
    content: LandmarkFile
    observer: Observer
    signed_at: dt.datetime
    normal_table_version: str
    spacing_source: SpacingSource
    software_version: str
    values: tuple[ReportedValue, ...]
    film_path: Path

    @property
    def read_type(self) -> ReadType:
        """Site, central, repeat or adjudication."""
        return self.content.read_type


def _pseudonym(session: Session, read: Read) -> str:
    row = session.execute(
        select(Campaign.code, CampaignReader.role)
        .join(CampaignReader, CampaignReader.campaign_id == Campaign.id)
        .join(WorklistItem, WorklistItem.campaign_reader_id == CampaignReader.id)
        .where(WorklistItem.read_id == read.id)
    ).first()
    if row is None:
        digest = hashlib.sha256(f"kyphoangle-read-{read.id}".encode()).hexdigest()[:8].upper()
        return f"blinded reader {digest}"
    code, role = row
    if CampaignRole(role) == CampaignRole.ADJUDICATOR:
        return f"{code} adjudicator"
    return f"{code} reader {CampaignRole(role).value.rsplit('_', 1)[1]}"


def observer_of(session: Session, read: Read) -> Observer:
    """The reader, or the reader's pseudonym for a blinded read."""
    if ReadType(read.read_type) in BLINDED_READ_TYPES:
        return Observer(name=_pseudonym(session, read), login=None, blinded=True)
    return Observer(name=read.reader.full_name or read.reader.login, login=read.reader.login, blinded=False)


def signed_read(session: Session, read: Read) -> SignedRead:
    """The report content of one read; ReadNotSignedError for a draft."""
    if read.status != ReadStatus.SIGNED or read.signed_at is None:
        raise ReadNotSignedError(f"read {read.id} is a draft: only signed reads are sent as DICOM reports")
    observer = observer_of(session, read)
    content = read_content(read)
    content = replace(content, reader=observer.login or observer.name)
    values = tuple(
        ReportedValue(MeasurementName(row.name), row.level, float(row.value), Unit(row.unit))
        for row in measurements_of(read).values()
        if row.value is not None
    )
    return SignedRead(
        read_id=read.id,
        content=content,
        observer=observer,
        signed_at=read.signed_at,
        normal_table_version=read.normal_table_version,
        spacing_source=spacing_source_of(read),
        software_version=read.software_version,
        values=values,
        film_path=Path(read.image.file_path),
    )


def signed_reads(session: Session, read_ids: Sequence[int] | None = None) -> Iterable[SignedRead]:
    """The listed reads (each must be signed), else every signed read that is not superseded."""
    if read_ids:
        for read_id in read_ids:
            yield signed_read(session, get_read(session, read_id))
        return
    query = (
        select(Read)
        .where(Read.status == ReadStatus.SIGNED, Read.superseded_by_id.is_(None))
        .order_by(Read.id)
    )
    for read in session.scalars(query):
        yield signed_read(session, read)
