"""Snapping provenance of each landmark: proposed, accepted, the reader's click (nullable: not recorded).

Revision ID: 0008_landmark_provenance
Revises: 0007_pacs_nodes
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_landmark_provenance"
down_revision = "0007_pacs_nodes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("landmark") as batch_op:
        batch_op.add_column(sa.Column("proposed", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("accepted", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("click_column_px", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("click_row_px", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("landmark") as batch_op:
        batch_op.drop_column("click_row_px")
        batch_op.drop_column("click_column_px")
        batch_op.drop_column("accepted")
        batch_op.drop_column("proposed")
