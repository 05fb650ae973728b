"""Initial schema: study and visits, sites, subjects and identity, images, users, reads, audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
SPACING_SOURCES = ("pixel_spacing", "imager_pixel_spacing", "imager_pixel_spacing_ermf", "manual", "none")
APPEND_ONLY = "the audit trail is append-only"


def _enum(name: str, *values: str, length: int = 32) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=length)


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=False)


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            _enum("userrole", "site_reader", "central_reader", "adjudicator", "data_manager", "admin"),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("password_changed_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("login", name=op.f("uq_app_user_login")),
    )
    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.bulk_insert(audit_head, [{"id": 1, "last_sequence": 0, "last_hash": GENESIS_HASH}])
    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("institution_name", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
        sa.UniqueConstraint("code", name=op.f("uq_site_code")),
    )
    op.create_table(
        "study",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("default_normal_table", sa.String(length=64), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study")),
        sa.UniqueConstraint("code", name=op.f("uq_study_code")),
    )
    op.create_table(
        "audit_event",
        sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", _utc(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_login", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("old_values", sa.Text(), nullable=True),
        sa.Column("new_values", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("software_version", sa.String(length=32), nullable=False),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("event_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"], name=op.f("fk_audit_event_actor_id_app_user")),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_audit_event")),
    )
    op.create_table(
        "subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("diagnosis", _enum("diagnosis", "myeloma", "metastasis"), nullable=True),
        sa.Column("procedure_date", sa.Date(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_subject_site_id_site")),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"], name=op.f("fk_subject_study_id_study")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject")),
        sa.UniqueConstraint("code", name=op.f("uq_subject_code")),
    )
    op.create_index(op.f("ix_subject_site_id"), "subject", ["site_id"], unique=False)
    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("target_day", sa.Integer(), nullable=False),
        sa.Column("min_day", sa.Integer(), nullable=False),
        sa.Column("max_day", sa.Integer(), nullable=False),
        sa.Column("is_baseline", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"], name=op.f("fk_visit_study_id_study")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
        sa.UniqueConstraint("study_id", "code", name=op.f("uq_visit_study_id_code")),
    )
    op.create_table(
        "image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("sop_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("study_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("series_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_size_bytes", sa.Integer(), nullable=False),
        sa.Column("study_date", sa.Date(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("columns", sa.Integer(), nullable=False),
        sa.Column("spacing_row_mm", sa.Float(), nullable=True),
        sa.Column("spacing_col_mm", sa.Float(), nullable=True),
        sa.Column("spacing_source", _enum("spacingsource", *SPACING_SOURCES), nullable=False),
        sa.Column("pixel_aspect_row", sa.Integer(), nullable=True),
        sa.Column("pixel_aspect_col", sa.Integer(), nullable=True),
        sa.Column(
            "patient_position", _enum("patientposition", "standing", "supine", "unknown"), nullable=False
        ),
        sa.Column("view_position", sa.String(length=16), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column(
            "visit_assignment", _enum("visitassignment", "pending", "automatic", "manual"), nullable=False
        ),
        sa.Column("imported_at", _utc(), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_by_id"], ["app_user.id"], name=op.f("fk_image_imported_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_image_subject_id_subject")),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_image_visit_id_visit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image")),
        sa.UniqueConstraint("sop_instance_uid", name=op.f("uq_image_sop_instance_uid")),
    )
    op.create_index(op.f("ix_image_subject_id"), "image", ["subject_id"], unique=False)
    op.create_index(op.f("ix_image_visit_id"), "image", ["visit_id"], unique=False)
    op.create_table(
        "subject_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("dicom_patient_id", sa.String(length=128), nullable=False),
        sa.Column("patient_name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
            name=op.f("fk_subject_identity_subject_id_subject"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_identity")),
        sa.UniqueConstraint("dicom_patient_id", name=op.f("uq_subject_identity_dicom_patient_id")),
        sa.UniqueConstraint("subject_id", name=op.f("uq_subject_identity_subject_id")),
    )
    op.create_table(
        "treated_level",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
            name=op.f("fk_treated_level_subject_id_subject"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", "level", name=op.f("pk_treated_level")),
    )
    op.create_table(
        "read",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("reader_id", sa.Integer(), nullable=False),
        sa.Column(
            "read_type", _enum("readtype", "site", "central", "repeat", "adjudication"), nullable=False
        ),
        sa.Column("status", _enum("readstatus", "draft", "signed"), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("signed_at", _utc(), nullable=True),
        sa.Column("software_version", sa.String(length=32), nullable=False),
        sa.Column("normal_table_name", sa.String(length=64), nullable=False),
        sa.Column("normal_table_version", sa.String(length=32), nullable=False),
        sa.Column("kyphosis_endpoints", sa.String(length=64), nullable=False),
        sa.Column("lordosis_endpoints", sa.String(length=64), nullable=False),
        sa.Column("calibration_row_mm", sa.Float(), nullable=True),
        sa.Column("calibration_col_mm", sa.Float(), nullable=True),
        sa.Column("amends_read_id", sa.Integer(), nullable=True),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["amends_read_id"], ["read.id"], name=op.f("fk_read_amends_read_id_read")),
        sa.ForeignKeyConstraint(["image_id"], ["image.id"], name=op.f("fk_read_image_id_image")),
        sa.ForeignKeyConstraint(["reader_id"], ["app_user.id"], name=op.f("fk_read_reader_id_app_user")),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"], ["read.id"], name=op.f("fk_read_superseded_by_id_read")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_read")),
    )
    op.create_index(op.f("ix_read_image_id"), "read", ["image_id"], unique=False)
    op.create_index(op.f("ix_read_reader_id"), "read", ["reader_id"], unique=False)
    op.create_table(
        "landmark",
        sa.Column("read_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("column_px", sa.Float(), nullable=False),
        sa.Column("row_px", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["read_id"], ["read.id"], name=op.f("fk_landmark_read_id_read"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("read_id", "key", name=op.f("pk_landmark")),
    )
    op.create_table(
        "measurement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("read_id", sa.Integer(), nullable=False),
        sa.Column(
            "name",
            _enum(
                "measurementname",
                "thoracic_kyphosis",
                "lumbar_lordosis",
                "regional_angle",
                "traumatic_regional_angle",
                "vertebral_kyphosis",
                "anterior_height",
                "middle_height",
                "posterior_height",
                "beck_index",
                "anterior_height_loss",
                "genant_grade",
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("level", sa.String(length=8), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column(
            "unit", _enum("unit", "deg", "mm", "px", "ratio", "percent", "grade", length=16), nullable=False
        ),
        sa.Column("spacing_source", _enum("spacingsource", *SPACING_SOURCES), nullable=False),
        sa.Column("normal_table_name", sa.String(length=64), nullable=True),
        sa.Column("normal_table_version", sa.String(length=32), nullable=True),
        sa.Column("endpoints", sa.String(length=64), nullable=True),
        sa.Column("landmark_keys", sa.Text(), nullable=False),
        sa.Column("not_computed_reason", sa.Text(), nullable=True),
        sa.Column("missing_landmarks", sa.Text(), nullable=False),
        sa.Column("software_version", sa.String(length=32), nullable=False),
        sa.Column("computed_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["read_id"], ["read.id"], name=op.f("fk_measurement_read_id_read"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurement")),
    )
    op.create_index(op.f("ix_measurement_read_id"), "measurement", ["read_id"], unique=False)
    op.create_table(
        "read_level",
        sa.Column("read_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("fractured", sa.Boolean(), nullable=False),
        sa.Column(
            "not_evaluable_reason",
            _enum(
                "notevaluablereason", "obscured", "out_of_field", "double_contour", "instrumented", "other"
            ),
            nullable=True,
        ),
        sa.Column("not_evaluable_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["read_id"], ["read.id"], name=op.f("fk_read_level_read_id_read"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("read_id", "level", name=op.f("pk_read_level")),
    )
    _append_only_triggers()


def _append_only_triggers() -> None:
    """Refuse UPDATE and DELETE of audit events in the database itself (defence in depth)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{action.lower()} BEFORE {action} ON audit_event "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    for table in (
        "read_level",
        "measurement",
        "landmark",
        "read",
        "treated_level",
        "subject_identity",
        "image",
        "visit",
        "subject",
        "audit_event",
        "study",
        "site",
        "audit_head",
        "app_user",
    ):
        op.drop_table(table)
