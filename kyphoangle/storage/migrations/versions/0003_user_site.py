"""A user's site: site readers see the subjects of their own site.

Revision ID: 0003_user_site
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_user_site"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.add_column(sa.Column("site_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_app_user_site_id_site", "site", ["site_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_constraint("fk_app_user_site_id_site", type_="foreignkey")
        batch_op.drop_column("site_id")
