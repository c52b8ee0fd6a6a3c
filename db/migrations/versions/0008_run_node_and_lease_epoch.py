"""where each run executed, and the lease epoch that fences a stale scheduler

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 22:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("node", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("epoch", sa.Integer(), nullable=True))
    with op.batch_alter_table("scheduler_lease", schema=None) as batch_op:
        batch_op.add_column(sa.Column("epoch", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("scheduler_lease", schema=None) as batch_op:
        batch_op.drop_column("epoch")
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.drop_column("epoch")
        batch_op.drop_column("node")
