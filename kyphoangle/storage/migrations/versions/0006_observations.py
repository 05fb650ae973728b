"""Reader observations per level: Genant grade (new and adjacent fractures), cement leakage, Yeom type.

Revision ID: 0006_observations
Revises: 0005_campaign_uid_key
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_observations"
down_revision = "0005_campaign_uid_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "level_observation",
        sa.Column("read_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("genant_grade", sa.Integer(), nullable=True),
        sa.Column("cement_leakage", sa.String(length=80), nullable=False),
        sa.Column("yeom_types", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["read_id"], ["read.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("read_id", "level"),
    )


def downgrade() -> None:
    op.drop_table("level_observation")
