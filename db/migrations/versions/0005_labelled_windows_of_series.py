"""labelled windows of series

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 04:15:22.966130
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("labelled_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("series_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("start_ts", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("end_ts", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_labelled_item_series_id"), ["series_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_labelled_item_series_id", "series", ["series_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("labelled_item", schema=None) as batch_op:
        batch_op.drop_constraint("fk_labelled_item_series_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_labelled_item_series_id"))
        batch_op.drop_column("end_ts")
        batch_op.drop_column("start_ts")
        batch_op.drop_column("series_id")
