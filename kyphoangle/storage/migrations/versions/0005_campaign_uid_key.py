"""The campaign's secret for keyed blinded UIDs (one random 256-bit key per campaign).

Revision ID: 0005_campaign_uid_key
Revises: 0004_signed_records
Create Date: 2026-12-04
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005_campaign_uid_key"
down_revision = "0004_signed_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch_op:
        batch_op.add_column(sa.Column("uid_key", sa.String(64), nullable=True))
    campaign = sa.table("campaign", sa.column("id", sa.Integer), sa.column("uid_key", sa.String(64)))
    connection = op.get_bind()
    for (campaign_id,) in connection.execute(sa.select(campaign.c.id)).all():
        connection.execute(
            campaign.update().where(campaign.c.id == campaign_id).values(uid_key=secrets.token_hex(32))
        )
    with op.batch_alter_table("campaign") as batch_op:
        batch_op.alter_column("uid_key", existing_type=sa.String(64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch_op:
        batch_op.drop_column("uid_key")
