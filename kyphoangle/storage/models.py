"""The study database schema: SQLAlchemy 2 typed models and the Enums of their value sets.

Conventions: every timestamp is UTC (`UTCDateTime` returns aware datetimes); lengths are in mm and
image coordinates in pixels, and the column names say so; value sets are Enums stored as their string
values (`VARCHAR`, no native database enum, so a new value needs no schema change). Identifying data
(patient name, DICOM patient ID, birth date) lives only in `subject_identity`.

The reading-campaign tables (`campaign`, `campaign_reader`, `campaign_case`, `worklist_item`,
`adjudication`) are defined now so that central, blinded reading with two readers, an adjudicator and
repeat reads needs no rewrite of the schema; nothing writes them yet.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from kyphoangle.protocol import MeasurementName, Unit
from kyphoangle.vocabulary import (
    CampaignRole,
    CampaignStatus,
    Diagnosis,
    NotEvaluableReason,
    PacsProtocol,
    PatientPosition,
    ReadStatus,
    ReadType,
    SignatureMeaning,
    SpacingSource,
    SubjectStatus,
    UserRole,
    VisitAssignment,
)

__all__ = [
    "CampaignRole",
    "CampaignStatus",
    "Diagnosis",
    "PacsProtocol",
    "PatientPosition",
    "ReadStatus",
    "SignatureMeaning",
    "SubjectStatus",
    "UserRole",
    "VisitAssignment",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, needed by Alembic's batch mode on SQLite."""


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A UTC timestamp: stored without zone (same on SQLite and PostgreSQL), returned aware in UTC."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Convert an aware datetime to naive UTC; naive ones are refused (their zone is unknown)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware (UTC)")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Attach UTC to the stored naive value."""
        return None if value is None else value.replace(tzinfo=dt.UTC)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], dt.datetime | None] | None:
        """On SQLite, parse the stored ISO text with `datetime.fromisoformat` (several times faster)."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: Any) -> dt.datetime | None:
            if value is None:
                return None
            if isinstance(value, str):
                return dt.datetime.fromisoformat(value + "+00:00")
            return value.replace(tzinfo=dt.UTC) if isinstance(value, dt.datetime) else None

        return process


def _enum(cls: type[enum.StrEnum], length: int = 32) -> SqlEnum:
    """An Enum column stored as its string values in a VARCHAR."""
    return SqlEnum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every model; its metadata is what the migrations must produce."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Study(Base):
    """The study protocol: a code, the default normal table, and (in `visit`) the visit schedule."""

    __tablename__ = "study"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    default_normal_table: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    visits: Mapped[list[Visit]] = relationship(back_populates="study", order_by="Visit.position")


class Visit(Base):
    """One scheduled visit with its window in days relative to the procedure (D0)."""

    __tablename__ = "visit"
    __table_args__ = (UniqueConstraint("study_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    target_day: Mapped[int] = mapped_column(Integer)
    min_day: Mapped[int] = mapped_column(Integer)
    max_day: Mapped[int] = mapped_column(Integer)
    is_baseline: Mapped[bool] = mapped_column(Boolean)

    study: Mapped[Study] = relationship(back_populates="visits")


class Site(Base):
    """A participating centre; `institution_name` matches the DICOM Institution Name on import."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    institution_name: Mapped[str | None] = mapped_column(String(200))


class Subject(Base):
    """A trial participant, known by study code only; identity is in `SubjectIdentity`."""

    __tablename__ = "subject"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    diagnosis: Mapped[Diagnosis | None] = mapped_column(_enum(Diagnosis))
    procedure_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[SubjectStatus] = mapped_column(
        _enum(SubjectStatus), default=SubjectStatus.ACTIVE, server_default=SubjectStatus.ACTIVE.value
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    site: Mapped[Site | None] = relationship()
    treated_levels: Mapped[list[TreatedLevel]] = relationship(
        cascade="all, delete-orphan", order_by="TreatedLevel.position"
    )


class SubjectIdentity(Base):
    """Identifying data of a subject, kept apart so that exports and blinded views never touch it."""

    __tablename__ = "subject_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"), unique=True)
    dicom_patient_id: Mapped[str] = mapped_column(String(128), unique=True)
    patient_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)


class TreatedLevel(Base):
    """A vertebra treated by kyphoplasty (1 to 3 per subject, T10 to L5)."""

    __tablename__ = "treated_level"

    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[str] = mapped_column(String(8), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class User(Base):
    """A person who logs in; the password is stored as an argon2 hash only."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[UserRole] = mapped_column(_enum(UserRole))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    """The site of a site reader (revision 0003_user_site): they see its subjects only."""
    site: Mapped[Site | None] = relationship()
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Failed sign-ins in a row since the last successful one (added in revision 0004_signed_records)."""
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    """No sign-in before this time after too many failures (added in revision 0004_signed_records)."""


class Image(Base):
    """One radiograph file: header facts needed to measure, the file's hash and the assigned visit."""

    __tablename__ = "image"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    sop_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    study_instance_uid: Mapped[str] = mapped_column(String(64))
    series_instance_uid: Mapped[str] = mapped_column(String(64))
    file_path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    file_size_bytes: Mapped[int] = mapped_column(Integer)
    study_date: Mapped[dt.date | None] = mapped_column(Date)
    rows: Mapped[int] = mapped_column(Integer)
    columns: Mapped[int] = mapped_column(Integer)
    spacing_row_mm: Mapped[float | None] = mapped_column(Float)
    spacing_col_mm: Mapped[float | None] = mapped_column(Float)
    spacing_source: Mapped[SpacingSource] = mapped_column(_enum(SpacingSource))
    pixel_aspect_row: Mapped[int | None] = mapped_column(Integer)
    pixel_aspect_col: Mapped[int | None] = mapped_column(Integer)
    patient_position: Mapped[PatientPosition] = mapped_column(_enum(PatientPosition))
    view_position: Mapped[str] = mapped_column(String(16))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    visit_assignment: Mapped[VisitAssignment] = mapped_column(_enum(VisitAssignment))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))

    subject: Mapped[Subject] = relationship()
    visit: Mapped[Visit | None] = relationship()


CURRENT_SIGNED = "status = 'signed' AND superseded_by_id IS NULL"
"""The reads that count: signed and not superseded by a signed amendment."""


class Read(Base):
    """One reader's landmarks on one image, with the settings its measurements were computed with.

    `version` is the optimistic-concurrency counter: an update whose version is stale fails instead of
    overwriting someone else's change. A signed read is never changed; an amendment is a new read whose
    `amends_read_id` names it, and the old one gets `superseded_by_id` when the amendment is signed.
    `read_version` counts the amendments (1 for the original read). The database itself keeps one
    current signed read per image, reader, read type and campaign case (two partial unique indexes,
    added in revision 0004_signed_records), so two programs signing at once cannot both succeed.
    """

    __tablename__ = "read"
    __table_args__ = (
        Index(
            "uq_read_current_signed",
            "image_id",
            "reader_id",
            "read_type",
            unique=True,
            sqlite_where=text(f"{CURRENT_SIGNED} AND campaign_case_id IS NULL"),
            postgresql_where=text(f"{CURRENT_SIGNED} AND campaign_case_id IS NULL"),
        ),
        Index(
            "uq_read_current_signed_case",
            "image_id",
            "reader_id",
            "read_type",
            "campaign_case_id",
            unique=True,
            sqlite_where=text(f"{CURRENT_SIGNED} AND campaign_case_id IS NOT NULL"),
            postgresql_where=text(f"{CURRENT_SIGNED} AND campaign_case_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id"), index=True)
    reader_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    read_type: Mapped[ReadType] = mapped_column(_enum(ReadType))
    status: Mapped[ReadStatus] = mapped_column(_enum(ReadStatus))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    software_version: Mapped[str] = mapped_column(String(32))
    normal_table_name: Mapped[str] = mapped_column(String(64))
    normal_table_version: Mapped[str] = mapped_column(String(32))
    kyphosis_endpoints: Mapped[str] = mapped_column(String(64))
    lordosis_endpoints: Mapped[str] = mapped_column(String(64))
    calibration_row_mm: Mapped[float | None] = mapped_column(Float)
    calibration_col_mm: Mapped[float | None] = mapped_column(Float)
    amends_read_id: Mapped[int | None] = mapped_column(ForeignKey("read.id"), unique=True)
    amendment_reason: Mapped[str | None] = mapped_column(Text)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("read.id"))
    version: Mapped[int] = mapped_column(Integer)
    campaign_case_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_case.id"), index=True)
    """The campaign case the read was made for (central, repeat and adjudication reads)."""
    read_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """1 for the original read, n + 1 for the amendment of version n."""

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    image: Mapped[Image] = relationship()
    reader: Mapped[User] = relationship()
    landmarks: Mapped[list[Landmark]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="Landmark.key"
    )
    levels: Mapped[list[ReadLevel]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="ReadLevel.position"
    )
    measurements: Mapped[list[MeasurementRow]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="MeasurementRow.id"
    )


class Signature(Base):
    """An electronic signature of one read (21 CFR 11.50 / 11.70): who, when, what it means, what it covers.

    `content_sha256` is the SHA-256 of the read's canonical content when it was signed (see
    `kyphoangle.storage.signatures`): `kyphoangle audit verify` recomputes it, so a signature cannot be
    carried over to other values.
    """

    __tablename__ = "signature"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    read_id: Mapped[int] = mapped_column(ForeignKey("read.id"), unique=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    signer_login: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    meaning: Mapped[SignatureMeaning] = mapped_column(_enum(SignatureMeaning))
    content_format: Mapped[str] = mapped_column(String(40))
    content_sha256: Mapped[str] = mapped_column(String(64))


class ReadLevel(Base):
    """A level of a read: fractured (measured) and/or marked not evaluable with a reason."""

    __tablename__ = "read_level"

    read_id: Mapped[int] = mapped_column(ForeignKey("read.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[str] = mapped_column(String(8), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    fractured: Mapped[bool] = mapped_column(Boolean)
    not_evaluable_reason: Mapped[NotEvaluableReason | None] = mapped_column(_enum(NotEvaluableReason))
    not_evaluable_note: Mapped[str] = mapped_column(Text, default="")


class Landmark(Base):
    """One clicked point of a read, `(column_px, row_px)` in DICOM image-relative pixels."""

    __tablename__ = "landmark"

    read_id: Mapped[int] = mapped_column(ForeignKey("read.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    column_px: Mapped[float] = mapped_column(Float)
    row_px: Mapped[float] = mapped_column(Float)
    # Snapping provenance (all NULL when not recorded): a proposal was shown, it was accepted, the click.
    proposed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    accepted: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    click_column_px: Mapped[float | None] = mapped_column(Float, nullable=True)
    click_row_px: Mapped[float | None] = mapped_column(Float, nullable=True)


class MeasurementRow(Base):
    """A value derived from a read's landmarks (recomputable), or why it was not computed.

    Rows whose `normal_table_name`/`normal_table_version` differ from the read's are extra ART values
    added by `kyphoangle recompute --normal-table`; they never replace the read's own.
    """

    __tablename__ = "measurement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    read_id: Mapped[int] = mapped_column(ForeignKey("read.id", ondelete="CASCADE"), index=True)
    name: Mapped[MeasurementName] = mapped_column(_enum(MeasurementName, 40))
    level: Mapped[str | None] = mapped_column(String(8))
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[Unit] = mapped_column(_enum(Unit, 16))
    spacing_source: Mapped[SpacingSource] = mapped_column(_enum(SpacingSource))
    normal_table_name: Mapped[str | None] = mapped_column(String(64))
    normal_table_version: Mapped[str | None] = mapped_column(String(32))
    endpoints: Mapped[str | None] = mapped_column(String(64))
    landmark_keys: Mapped[str] = mapped_column(Text)
    not_computed_reason: Mapped[str | None] = mapped_column(Text)
    missing_landmarks: Mapped[str] = mapped_column(Text, default="")
    software_version: Mapped[str] = mapped_column(String(32))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit trail (see `kyphoangle.storage.audit`)."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity_entity_id", "entity", "entity_id"),)

    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    actor_login: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    old_values: Mapped[str | None] = mapped_column(Text)
    new_values: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    software_version: Mapped[str] = mapped_column(String(32))
    previous_hash: Mapped[str] = mapped_column(String(64))
    event_hash: Mapped[str] = mapped_column(String(64))
    row_digests: Mapped[str | None] = mapped_column(Text)
    """JSON: digest of every table row the change wrote, by row key (null: deleted); added in revision
    0004_signed_records."""


class AuditHead(Base):
    """The single row locked to serialise audit appends; holds the last sequence and hash."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_sequence: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class Campaign(Base):
    """A central reading campaign: blinded, randomised worklists with a fixed adjudication rule."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[CampaignStatus] = mapped_column(_enum(CampaignStatus))
    random_seed: Mapped[int] = mapped_column(Integer)
    repeat_fraction: Mapped[float] = mapped_column(Float)
    adjudication_rule: Mapped[str] = mapped_column(Text)
    """JSON, e.g. {"measurement": "regional_angle", "threshold_deg": 5, "level_disagreement": true}."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CampaignReader(Base):
    """A user taking part in a campaign as one of its readers (reader 1, reader 2, ...) or adjudicator."""

    __tablename__ = "campaign_reader"
    __table_args__ = (UniqueConstraint("campaign_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    role: Mapped[CampaignRole] = mapped_column(_enum(CampaignRole))


class CampaignCase(Base):
    """An image presented under a random case code, so readers see no identity, date or visit."""

    __tablename__ = "campaign_case"
    __table_args__ = (
        UniqueConstraint("campaign_id", "case_code"),
        UniqueConstraint("campaign_id", "image_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    case_code: Mapped[str] = mapped_column(String(32))
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id"))


class WorklistItem(Base):
    """One case in one reader's randomised worklist; repeats re-present a case for reliability."""

    __tablename__ = "worklist_item"
    __table_args__ = (UniqueConstraint("campaign_reader_id", "order_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_reader_id: Mapped[int] = mapped_column(ForeignKey("campaign_reader.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("campaign_case.id"), index=True)
    order_position: Mapped[int] = mapped_column(Integer)
    is_repeat: Mapped[bool] = mapped_column(Boolean)
    read_id: Mapped[int | None] = mapped_column(ForeignKey("read.id"), unique=True)


class Adjudication(Base):
    """The adjudicator's choice of one of the readers' reads for a case, with the reason."""

    __tablename__ = "adjudication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("campaign_case.id"), unique=True)
    adjudicator_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    chosen_read_id: Mapped[int] = mapped_column(ForeignKey("read.id"))
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PacsNode(Base):
    """A PACS (or other DICOM node) kyphoangle queries, retrieves films from and sends reports to.

    DIMSE nodes have an AE title, host and port; DICOMweb nodes a base URL and, for basic
    authentication, a user name (passwords and tokens are never stored: they come from the environment
    when the node is used). Edited by admins; every change is audited.
    """

    __tablename__ = "pacs_node"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    protocol: Mapped[PacsProtocol] = mapped_column(_enum(PacsProtocol, 16))
    ae_title: Mapped[str | None] = mapped_column(String(16))
    host: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(128))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    site: Mapped[Site | None] = relationship()
