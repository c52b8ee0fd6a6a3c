"""inference weights

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 01:39:16.944173
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inference", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("inference_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_version", schema=None) as batch_op:
        batch_op.drop_column("inference_sha256")
        batch_op.drop_column("inference")
