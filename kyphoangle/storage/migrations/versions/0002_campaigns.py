"""Central reading campaigns (blinded worklists, adjudication), subject status, audit index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str, length: int = 32) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=length)


def upgrade() -> None:
    with op.batch_alter_table("subject") as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                _enum("subjectstatus", "active", "completed", "withdrawn", "deceased"),
                server_default="active",
                nullable=False,
            )
        )
    op.create_index("ix_audit_event_entity_entity_id", "audit_event", ["entity", "entity_id"], unique=False)
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", _enum("campaignstatus", "planned", "open", "closed"), nullable=False),
        sa.Column("random_seed", sa.Integer(), nullable=False),
        sa.Column("repeat_fraction", sa.Float(), nullable=False),
        sa.Column("adjudication_rule", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"], name=op.f("fk_campaign_study_id_study")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("code", name=op.f("uq_campaign_code")),
    )
    op.create_table(
        "campaign_reader",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", _enum("campaignrole", "reader_1", "reader_2", "adjudicator"), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_reader_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_campaign_reader_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_reader")),
        sa.UniqueConstraint("campaign_id", "user_id", name=op.f("uq_campaign_reader_campaign_id_user_id")),
    )
    op.create_table(
        "campaign_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("case_code", sa.String(length=32), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_case_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(["image_id"], ["image.id"], name=op.f("fk_campaign_case_image_id_image")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_case")),
        sa.UniqueConstraint("campaign_id", "case_code", name=op.f("uq_campaign_case_campaign_id_case_code")),
        sa.UniqueConstraint("campaign_id", "image_id", name=op.f("uq_campaign_case_campaign_id_image_id")),
    )
    op.create_table(
        "adjudication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("adjudicator_id", sa.Integer(), nullable=False),
        sa.Column("chosen_read_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["adjudicator_id"], ["app_user.id"], name=op.f("fk_adjudication_adjudicator_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["campaign_case.id"], name=op.f("fk_adjudication_case_id_campaign_case")
        ),
        sa.ForeignKeyConstraint(
            ["chosen_read_id"], ["read.id"], name=op.f("fk_adjudication_chosen_read_id_read")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjudication")),
        sa.UniqueConstraint("case_id", name=op.f("uq_adjudication_case_id")),
    )
    op.create_table(
        "worklist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_reader_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("order_position", sa.Integer(), nullable=False),
        sa.Column("is_repeat", sa.Boolean(), nullable=False),
        sa.Column("read_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_reader_id"],
            ["campaign_reader.id"],
            name=op.f("fk_worklist_item_campaign_reader_id_campaign_reader"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["campaign_case.id"], name=op.f("fk_worklist_item_case_id_campaign_case")
        ),
        sa.ForeignKeyConstraint(["read_id"], ["read.id"], name=op.f("fk_worklist_item_read_id_read")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worklist_item")),
        sa.UniqueConstraint(
            "campaign_reader_id",
            "order_position",
            name=op.f("uq_worklist_item_campaign_reader_id_order_position"),
        ),
        sa.UniqueConstraint("read_id", name=op.f("uq_worklist_item_read_id")),
    )
    op.create_index(op.f("ix_worklist_item_case_id"), "worklist_item", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_worklist_item_case_id"), table_name="worklist_item")
    for table in ("worklist_item", "adjudication", "campaign_case", "campaign_reader", "campaign"):
        op.drop_table(table)
    op.drop_index("ix_audit_event_entity_entity_id", table_name="audit_event")
    with op.batch_alter_table("subject") as batch_op:
        batch_op.drop_column("status")
