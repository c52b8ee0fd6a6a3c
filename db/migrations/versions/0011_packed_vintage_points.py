"""a vintage's points packed into one value on a row of their own; the row per point dropped

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 03:00:00.000000
"""

from dataclasses import asdict
from itertools import groupby

import sqlalchemy as sa
from alembic import op

from db.packing import pack, unpack

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None
BATCH = 1000

forecast = sa.table("forecast", sa.column("id", sa.Integer))
vintage_points = sa.table(
    "vintage_points", sa.column("forecast_id", sa.Integer), sa.column("points", sa.LargeBinary)
)
point_columns = ("forecast_id", "ts", "step", "value")
forecast_point = sa.table(
    "forecast_point",
    *(sa.column(c, sa.Float if c == "value" else sa.BigInteger) for c in point_columns),
    sa.column("intervals", sa.JSON),
    sa.column("quantiles", sa.JSON),
)


def upgrade() -> None:
    op.create_table(
        "vintage_points",
        sa.Column("forecast_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["forecast_id"], ["forecast.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("forecast_id"),
    )
    conn = op.get_bind()
    ids = conn.execute(sa.select(forecast.c.id).order_by(forecast.c.id)).scalars().all()
    for start in range(0, len(ids), BATCH):  # a batch of vintages at a time: a large store fits in memory
        batch = ids[start : start + BATCH]
        rows = conn.execute(
            sa.select(forecast_point)
            .where(forecast_point.c.forecast_id.in_(batch))
            .order_by(forecast_point.c.forecast_id, forecast_point.c.ts)
        ).all()
        grouped = groupby(rows, key=lambda r: r.forecast_id)
        packed = [{"forecast_id": fid, "points": _packed(list(group))} for fid, group in grouped]
        if packed:
            conn.execute(sa.insert(vintage_points), packed)
    op.drop_table("forecast_point")


def _packed(points: list) -> bytes:
    return pack(
        [p.ts for p in points],
        [p.value for p in points],
        [p.intervals or {} for p in points],
        [p.quantiles for p in points] if all(p.quantiles for p in points) else None,
    )


def downgrade() -> None:
    op.create_table(
        "forecast_point",
        sa.Column("forecast_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("intervals", sa.JSON(), nullable=True),
        sa.Column("quantiles", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["forecast_id"], ["forecast.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("forecast_id", "ts"),
    )
    conn = op.get_bind()
    for fid, blob in conn.execute(sa.select(vintage_points)).all():
        conn.execute(sa.insert(forecast_point), [asdict(p) | {"forecast_id": fid} for p in unpack(blob)])
    op.drop_table("vintage_points")
