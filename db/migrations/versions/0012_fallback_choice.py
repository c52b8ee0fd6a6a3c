"""a vintage issued without a model keeps when, and with which season, its method was chosen

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 11:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("forecast", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chosen_ts", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("chosen_season", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("forecast", schema=None) as batch_op:
        batch_op.drop_column("chosen_season")
        batch_op.drop_column("chosen_ts")
