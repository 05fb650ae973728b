"""PACS nodes: DICOM (DIMSE) and DICOMweb peers for query, retrieve and sending reports.

Revision ID: 0007_pacs_nodes
Revises: 0004_signed_records
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_pacs_nodes"
down_revision = "0004_signed_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pacs_node",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column(
            "protocol",
            sa.Enum("dimse", "dicomweb", name="pacsprotocol", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("ae_title", sa.String(length=16), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("username", sa.String(length=128), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_pacs_node_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pacs_node")),
        sa.UniqueConstraint("name", name=op.f("uq_pacs_node_name")),
    )


def downgrade() -> None:
    op.drop_table("pacs_node")
